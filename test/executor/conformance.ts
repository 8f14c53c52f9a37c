/**
 * The executor conformance suite: what every `Executor` must do, run once per
 * implementation —
 *
 *   runExecutorConformance('LocalExecutor', () => new LocalExecutor({ workers: 2, ... }));
 *
 * `makeExecutor(home)` returns a new, unstarted executor with at least 2 slots, whose
 * workers use `home` as Updraft home (where the pipelines' bundles are cached),
 * configured for tests: a kill grace of at most 1 s, heartbeats at most 200 ms apart.
 * Attempts run real processes; every wait is on an event (or on a process being gone).
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskSpec } from '../../src/core/dag-spec.ts';
import type { Executor, ExecutorEvent } from '../../src/executor/executor.ts';
import {
  type EventRecorder,
  isAlive,
  readLog,
  readPidFile,
  type StartedExecutor,
  sleeperCommand,
  startExecutor,
  waitUntil,
} from './support.ts';

const withoutHeartbeats = (events: ExecutorEvent[]) => events.filter((e) => e.type !== 'heartbeat');

export function runExecutorConformance(
  name: string,
  makeExecutor: (home: string) => Executor,
): void {
  describe(`executor conformance: ${name}`, () => {
    let dir: string;
    let executor: Executor;
    let events: EventRecorder;
    let submit: StartedExecutor<Executor>['submit'];

    beforeAll(async () => {
      ({ dir, executor, events, submit } = await startExecutor(makeExecutor));
    });

    afterAll(async () => {
      await executor?.stop();
    });

    /** Submits a shell attempt that waits for a background `sleep`, whose pid it returns. */
    const submitSleeper = async (taskId: string, task: Partial<TaskSpec> = {}) => {
      const pidFile = path.join(dir, `${taskId}.pid`);
      const command = sleeperCommand(pidFile);
      const { key } = submit({ taskId, operator: 'shell', config: { command }, task });
      return { key, pid: await readPidFile(pidFile) };
    };

    it('runs a ts task: started, then finished with its result', async () => {
      const { key } = submit({ taskId: 'ok', params: { greeting: 'hi' } });
      const finished = await events.finished(key);
      expect(finished).toMatchObject({
        outcome: 'success',
        exitReason: 'success',
        result: { rows: 3, ds: '2024-05-01', param: 'hi' },
      });
      const [started, last] = withoutHeartbeats(events.of(key));
      expect(started).toMatchObject({ type: 'started', key });
      expect(started?.type === 'started' && started.pid > 0 && started.hostname !== '').toBe(true);
      expect(last).toBe(finished);
    });

    it('reports success without a result when the task returns nothing', async () => {
      const { key } = submit({ taskId: 'nothing' });
      const finished = await events.finished(key);
      expect(finished.outcome).toBe('success');
      expect('result' in finished).toBe(false);
    });

    it('fails with the message and stack of what the task threw', async () => {
      const { key } = submit({ taskId: 'boom' });
      const finished = await events.finished(key);
      expect(finished).toMatchObject({
        outcome: 'failed',
        exitReason: 'error',
        error: { message: 'boom', name: 'Error' },
      });
      expect(finished.error?.stack).toContain('boom');
    });

    it('fails without retry on TaskFailure with retry: false', async () => {
      const { key } = submit({ taskId: 'no_retry' });
      expect(await events.finished(key)).toMatchObject({
        outcome: 'failed',
        exitReason: 'error_no_retry',
        error: { message: 'bad input', name: 'TaskFailure' },
      });
    });

    it('skips on SkipTask', async () => {
      const { key } = submit({ taskId: 'skip' });
      expect(await events.finished(key)).toMatchObject({
        outcome: 'skipped',
        error: { message: 'nothing to do today' },
      });
    });

    it('runs a shell command and returns its last line', async () => {
      const { key } = submit({
        taskId: 'shell_ok',
        operator: 'shell',
        config: { command: 'echo one; echo "{{ ds }}"', returnOutput: 'last_line' },
      });
      expect(await events.finished(key)).toMatchObject({
        outcome: 'success',
        result: '2024-05-01',
      });
    });

    it('fails a shell command that exits non-zero, naming the exit code', async () => {
      const { key } = submit({
        taskId: 'shell_fail',
        operator: 'shell',
        config: { command: 'echo "disk full" >&2; exit 3' },
      });
      const finished = await events.finished(key);
      expect(finished).toMatchObject({ outcome: 'failed', exitReason: 'error' });
      expect(finished.error?.message).toContain('exited with code 3');
      expect(finished.error?.message).toContain('disk full');
    });

    it('fails an attempt whose result is too large, naming size and limit', async () => {
      const { key } = submit({ taskId: 'big' });
      const finished = await events.finished(key);
      expect(finished).toMatchObject({ outcome: 'failed', exitReason: 'result_too_large' });
      expect(finished.error?.message).toContain('100002 bytes');
      expect(finished.error?.message).toContain('65536 bytes');
    });

    it('fails an attempt whose result is not JSON', async () => {
      const { key } = submit({ taskId: 'date' });
      const finished = await events.finished(key);
      expect(finished).toMatchObject({ outcome: 'failed', exitReason: 'error_no_retry' });
      expect(finished.error?.message).toContain('result.at is a Date');
    });

    it('writes the attempt log as JSON lines with correlation ids', async () => {
      const ts = submit({ taskId: 'ok', tryNumber: 2 });
      const shell = submit({
        taskId: 'shell_log',
        operator: 'shell',
        config: { command: 'echo to-stdout; echo to-stderr >&2' },
      });
      const printed = submit({ taskId: 'console' });
      await Promise.all([ts, shell, printed].map((r) => events.finished(r.key)));

      const tsLog = readLog(ts.logPath);
      for (const record of tsLog) {
        expect(record).toMatchObject({
          dag_id: ts.key.dagId,
          run_id: ts.key.runId,
          task_id: 'ok',
          map_index: -1,
          try_number: 2,
        });
        expect(Number.isNaN(Date.parse(record.time))).toBe(false);
      }
      expect(tsLog).toContainEqual(
        expect.objectContaining({ level: 'info', msg: 'hello from ok', n: 1 }),
      );
      expect(tsLog.at(-1)).toMatchObject({ msg: 'attempt finished', outcome: 'success' });

      const shellLog = readLog(shell.logPath);
      expect(shellLog).toContainEqual(
        expect.objectContaining({ msg: 'to-stdout', stream: 'stdout', task_id: 'shell_log' }),
      );
      expect(shellLog).toContainEqual(
        expect.objectContaining({ msg: 'to-stderr', stream: 'stderr' }),
      );

      const consoleLog = readLog(printed.logPath);
      expect(consoleLog).toContainEqual(
        expect.objectContaining({ msg: 'printed by console.log', stream: 'stdout' }),
      );
      expect(consoleLog).toContainEqual(
        expect.objectContaining({ msg: 'printed by console.error', stream: 'stderr' }),
      );
    });

    it('sends heartbeats while an attempt runs', async () => {
      const { key } = submit({ taskId: 'wait' });
      expect(await events.heartbeat(key)).toMatchObject({ type: 'heartbeat', key });
      executor.cancel(key);
      expect(await events.finished(key)).toMatchObject({ exitReason: 'cancelled' });
    });

    it('times out a task that honours its abort signal', async () => {
      const { key } = submit({ taskId: 'wait', task: { executionTimeoutMs: 200 } });
      const finished = await events.finished(key);
      expect(finished).toMatchObject({ outcome: 'failed', exitReason: 'timeout' });
      expect(finished.error?.message).toContain('200 ms');
    });

    it('times out a task that never yields, by killing its process', async () => {
      const { key } = submit({ taskId: 'spin', task: { executionTimeoutMs: 200 } });
      expect(await events.finished(key)).toMatchObject({
        outcome: 'failed',
        exitReason: 'timeout',
      });
    });

    it('times out a shell command and kills its whole process group', async () => {
      const { key, pid } = await submitSleeper('shell_timeout', { executionTimeoutMs: 300 });
      expect(await events.finished(key)).toMatchObject({
        outcome: 'failed',
        exitReason: 'timeout',
      });
      await waitUntil(() => !isAlive(pid), `the background sleep (pid ${pid}) is gone`);
    });

    it('cancels a running attempt', async () => {
      const { key } = submit({ taskId: 'wait' });
      await events.started(key);
      executor.cancel(key);
      expect(await events.finished(key)).toMatchObject({
        outcome: 'failed',
        exitReason: 'cancelled',
      });
    });

    it('cancels a running shell command and kills its process group', async () => {
      const { key, pid } = await submitSleeper('shell_cancel');
      executor.cancel(key);
      expect(await events.finished(key)).toMatchObject({ exitReason: 'cancelled' });
      await waitUntil(() => !isAlive(pid), `the background sleep (pid ${pid}) is gone`);
    });

    it('drops a waiting attempt on cancel, without a started event', async () => {
      const { slots } = executor.capacity();
      const blockers = Array.from({ length: slots }, () => submit({ taskId: 'wait' }));
      await Promise.all(blockers.map((r) => events.started(r.key)));
      const waiting = submit({ taskId: 'ok' });
      expect(executor.capacity().inFlight).toBe(slots + 1);
      executor.cancel(waiting.key);
      expect(await events.finished(waiting.key)).toMatchObject({
        outcome: 'failed',
        exitReason: 'cancelled',
      });
      expect(events.of(waiting.key).map((e) => e.type)).toEqual(['finished']);
      for (const blocker of blockers) executor.cancel(blocker.key);
      await Promise.all(blockers.map((r) => events.finished(r.key)));
    });

    it('fails only the attempt of a worker killed with SIGKILL, and recovers', async () => {
      const victim = submit({ taskId: 'wait' });
      const bystander = submit({ taskId: 'wait' });
      const started = await events.started(victim.key);
      await events.started(bystander.key);
      process.kill(started.pid, 'SIGKILL');
      expect(await events.finished(victim.key)).toMatchObject({
        outcome: 'failed',
        exitReason: 'worker_lost',
      });
      expect(events.of(bystander.key).some((e) => e.type === 'finished')).toBe(false);
      executor.cancel(bystander.key);
      expect(await events.finished(bystander.key)).toMatchObject({ exitReason: 'cancelled' });
      const after = submit({ taskId: 'ok' });
      expect(await events.finished(after.key)).toMatchObject({ outcome: 'success' });
    });

    it('fails the attempt of a worker that crashes, with the crash in the message', async () => {
      const { key } = submit({ taskId: 'crash' });
      const finished = await events.finished(key);
      expect(finished).toMatchObject({ outcome: 'failed', exitReason: 'worker_lost' });
      expect(finished.error?.message).toContain('thrown from a timer');
    });

    it('runs many attempts in parallel, each finishing exactly once', async () => {
      const requests = Array.from({ length: 40 }, (_, i) =>
        i % 2 === 0
          ? submit({ taskId: 'ok' })
          : submit({ taskId: 'shell_many', operator: 'shell', config: { command: 'true' } }),
      );
      const finished = await Promise.all(requests.map((r) => events.finished(r.key)));
      expect(finished.every((e) => e.outcome === 'success')).toBe(true);
      for (const request of requests) {
        const types = withoutHeartbeats(events.of(request.key)).map((e) => e.type);
        expect(types).toEqual(['started', 'finished']);
      }
      expect(executor.capacity().inFlight).toBe(0);
    });
  });

  describe(`executor conformance: ${name} stop()`, () => {
    it('cancels waiting and running attempts, reporting each as finished once', async () => {
      const { executor, events, submit } = await startExecutor(makeExecutor);
      const { slots } = executor.capacity();
      const running = Array.from({ length: slots }, () => submit({ taskId: 'wait' }));
      await Promise.all(running.map((r) => events.started(r.key)));
      const waiting = submit({ taskId: 'ok' });
      await executor.stop();

      for (const request of [...running, waiting]) {
        const finished = withoutHeartbeats(events.of(request.key)).filter(
          (e) => e.type === 'finished',
        );
        expect(finished).toEqual([expect.objectContaining({ exitReason: 'cancelled' })]);
      }
      expect(events.of(waiting.key).map((e) => e.type)).toEqual(['finished']);

      const late = submit({ taskId: 'ok' });
      expect(await events.finished(late.key)).toMatchObject({ exitReason: 'cancelled' });
    });
  });
}
