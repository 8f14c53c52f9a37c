import { spawn } from 'node:child_process';
import path from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import {
  LocalExecutor,
  type LocalExecutorOptions,
} from '../../src/executor/local/local-executor.ts';
import { runExecutorConformance } from './conformance.ts';
import {
  attemptRequest,
  EventRecorder,
  isAlive,
  tempDir,
  waitUntil,
  writeTestPipeline,
} from './support.ts';

const silent = pino({ level: 'silent' });

function localExecutor(options: LocalExecutorOptions = {}): LocalExecutor {
  return new LocalExecutor({
    workers: 2,
    killGraceMs: 500,
    heartbeatIntervalMs: 100,
    logger: silent,
    ...options,
  });
}

runExecutorConformance('LocalExecutor', (home) => localExecutor({ home }));

describe('LocalExecutor', () => {
  it('rejects a worker count that is not a positive integer', () => {
    expect(() => new LocalExecutor({ workers: 0 })).toThrow(/workers must be a positive integer/);
  });

  it('reuses a warm worker for shell attempts and recycles one that imported too many pipeline versions', async () => {
    const dir = tempDir();
    const pipeline = await writeTestPipeline(dir);
    const executor = localExecutor({ home: dir, workers: 1, maxPipelineVersions: 1 });
    const events = new EventRecorder(executor);
    await executor.start();
    try {
      const pids: number[] = [];
      const run = async (request: ReturnType<typeof attemptRequest>) => {
        executor.submit(request);
        pids.push((await events.started(request.key)).pid);
        expect((await events.finished(request.key)).outcome).toBe('success');
      };
      const shell = () =>
        attemptRequest({
          dir,
          ...pipeline,
          taskId: 'echo',
          operator: 'shell',
          config: { command: 'true' },
        });
      await run(shell());
      await run(shell());
      await run(attemptRequest({ dir, ...pipeline, taskId: 'ok' }));
      await run(shell());
      expect(pids[1]).toBe(pids[0]);
      expect(pids[2]).toBe(pids[0]);
      expect(pids[3]).not.toBe(pids[0]);
    } finally {
      await executor.stop();
    }
  });

  it('kills the worker of a task that ignores the timeout, on its own clock', async () => {
    const clock = new ManualClock('2024-05-01T00:00:00Z');
    const dir = tempDir();
    const pipeline = await writeTestPipeline(dir);
    const executor = localExecutor({ home: dir, workers: 1, clock, killGraceMs: 60_000 });
    const events = new EventRecorder(executor);
    await executor.start();
    try {
      const request = attemptRequest({
        dir,
        ...pipeline,
        taskId: 'spin',
        task: { executionTimeoutMs: 1000 },
      });
      executor.submit(request);
      const { pid } = await events.started(request.key);
      clock.advance(61_000);
      const finished = await events.finished(request.key);
      expect(finished).toMatchObject({ outcome: 'failed', exitReason: 'timeout' });
      expect(finished.error?.message).toContain('did not stop within 60000 ms');
      expect(finished.at).toBe(clock.now());
      await waitUntil(() => !isAlive(pid), `worker ${pid} is gone`);
    } finally {
      await executor.stop();
    }
  });

  it('kills the worker of a cancelled task that does not stop within the grace period', async () => {
    const clock = new ManualClock('2024-05-01T00:00:00Z');
    const dir = tempDir();
    const pipeline = await writeTestPipeline(dir);
    const executor = localExecutor({ home: dir, workers: 1, clock, killGraceMs: 60_000 });
    const events = new EventRecorder(executor);
    await executor.start();
    try {
      const request = attemptRequest({ dir, ...pipeline, taskId: 'spin' });
      executor.submit(request);
      await events.started(request.key);
      executor.cancel(request.key);
      clock.advance(60_000);
      const finished = await events.finished(request.key);
      expect(finished).toMatchObject({ outcome: 'failed', exitReason: 'cancelled' });
      expect(finished.error?.message).toContain('its worker was killed');
      const next = attemptRequest({ dir, ...pipeline, taskId: 'ok' });
      executor.submit(next);
      expect((await events.finished(next.key)).outcome).toBe('success');
    } finally {
      await executor.stop();
    }
  });

  it('stops all worker processes', async () => {
    const dir = tempDir();
    const pipeline = await writeTestPipeline(dir);
    const executor = localExecutor({ home: dir });
    const events = new EventRecorder(executor);
    await executor.start();
    const requests = [0, 1].map(() =>
      attemptRequest({
        dir,
        ...pipeline,
        taskId: 'echo',
        operator: 'shell',
        config: { command: 'sleep 30' },
      }),
    );
    for (const request of requests) executor.submit(request);
    const pids = await Promise.all(requests.map(async (r) => (await events.started(r.key)).pid));
    await executor.stop();
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
  });

  it('leaves no worker or shell process behind when its parent process is killed', async () => {
    const dir = tempDir();
    const parent = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(import.meta.dirname, 'fixtures', 'orphan-parent.ts'), dir],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const line = await new Promise<string>((resolve, reject) => {
      let output = '';
      parent.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('\n')) resolve(output.trim());
      });
      parent.once('exit', (code) => reject(new Error(`orphan-parent exited with ${code}`)));
    });
    const { workerPid, sleepPid } = JSON.parse(line) as { workerPid: number; sleepPid: number };
    expect(isAlive(workerPid) && isAlive(sleepPid)).toBe(true);
    parent.kill('SIGKILL');
    await waitUntil(() => !isAlive(workerPid), `worker ${workerPid} exits`);
    await waitUntil(() => !isAlive(sleepPid), `shell sleep ${sleepPid} is killed`);
  });
});
