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
  isAlive,
  type StartedExecutor,
  type SubmitOptions,
  startExecutor,
  tempDir,
  waitUntil,
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

/** Runs `body` with a started `localExecutor(options)` on a fresh home, then stops it. */
async function withLocalExecutor(
  options: LocalExecutorOptions,
  body: (started: StartedExecutor<LocalExecutor>) => Promise<void>,
): Promise<void> {
  const started = await startExecutor((home) => localExecutor({ home, ...options }));
  try {
    await body(started);
  } finally {
    await started.executor.stop();
  }
}

runExecutorConformance('LocalExecutor', (home) => localExecutor({ home }));

describe('LocalExecutor', () => {
  it('rejects a worker count that is not a positive integer', () => {
    expect(() => new LocalExecutor({ workers: 0 })).toThrow(/workers must be a positive integer/);
  });

  it('reuses a warm worker for shell attempts and recycles one that imported too many pipeline versions', async () => {
    await withLocalExecutor({ workers: 1, maxPipelineVersions: 1 }, async ({ events, submit }) => {
      const pids: number[] = [];
      const run = async (options: SubmitOptions) => {
        const { key } = submit(options);
        pids.push((await events.started(key)).pid);
        expect((await events.finished(key)).outcome).toBe('success');
      };
      const shell = { taskId: 'echo', operator: 'shell', config: { command: 'true' } };
      await run(shell);
      await run(shell);
      await run({ taskId: 'ok' });
      await run(shell);
      expect(pids[1]).toBe(pids[0]);
      expect(pids[2]).toBe(pids[0]);
      expect(pids[3]).not.toBe(pids[0]);
    });
  });

  it('kills the worker of a task that ignores the timeout, on its own clock', async () => {
    const clock = new ManualClock('2024-05-01T00:00:00Z');
    await withLocalExecutor(
      { workers: 1, clock, killGraceMs: 60_000 },
      async ({ events, submit }) => {
        const { key } = submit({ taskId: 'spin', task: { executionTimeoutMs: 1000 } });
        const { pid } = await events.started(key);
        clock.advance(61_000);
        const finished = await events.finished(key);
        expect(finished).toMatchObject({ outcome: 'failed', exitReason: 'timeout' });
        expect(finished.error?.message).toContain('did not stop within 60000 ms');
        expect(finished.at).toBe(clock.now());
        await waitUntil(() => !isAlive(pid), `worker ${pid} is gone`);
      },
    );
  });

  it('kills the worker of a cancelled task that does not stop within the grace period', async () => {
    const clock = new ManualClock('2024-05-01T00:00:00Z');
    await withLocalExecutor(
      { workers: 1, clock, killGraceMs: 60_000 },
      async ({ executor, events, submit }) => {
        const { key } = submit({ taskId: 'spin' });
        await events.started(key);
        executor.cancel(key);
        clock.advance(60_000);
        const finished = await events.finished(key);
        expect(finished).toMatchObject({ outcome: 'failed', exitReason: 'cancelled' });
        expect(finished.error?.message).toContain('its worker was killed');
        const next = submit({ taskId: 'ok' });
        expect((await events.finished(next.key)).outcome).toBe('success');
      },
    );
  });

  it('stops all worker processes', async () => {
    const { executor, events, submit } = await startExecutor((home) => localExecutor({ home }));
    const requests = [0, 1].map(() =>
      submit({ taskId: 'echo', operator: 'shell', config: { command: 'sleep 30' } }),
    );
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
