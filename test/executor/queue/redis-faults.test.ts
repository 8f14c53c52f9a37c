/**
 * Fault injection on Redis and the scheduler side: a Redis restarted with its data lost
 * (a second `redis-server` of this test's own, never the shared one), a scheduler that
 * restarts while workers keep running (`detach` + `reconcile`), forged and stale
 * reports, and a Redis whose eviction policy would drop queue keys.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttemptRequest } from '../../../src/executor/executor.ts';
import { QueueExecutor } from '../../../src/executor/queue/queue-executor.ts';
import { jobIdOf, QueueKeys, signDispatch } from '../../../src/executor/queue/queue-protocol.ts';
import { QueueWorker } from '../../../src/executor/queue/queue-worker.ts';
import { attemptRequest, EventRecorder, tempDir, waitUntil } from '../support.ts';
import {
  expectLedgerConsistent,
  readLedger,
  runWithRetries,
  writeLedgerPipeline,
} from './faults.ts';
import {
  deleteKeys,
  requireRedis,
  TEST_SECRET,
  testExecutorOptions,
  testWorkerOptions,
  uniquePrefix,
} from './support.ts';

/** A free TCP port on 127.0.0.1. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** A `redis-server` of this test on `port`, keeping nothing on disk. */
async function startRedis(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
    ],
    { stdio: 'ignore' },
  );
  const failed = new Promise<never>((_resolve, reject) =>
    child.once('error', (error) =>
      reject(
        new Error(
          `this test runs a Redis of its own and needs redis-server on the PATH (apt-get install redis-server): ${error.message}`,
        ),
      ),
    ),
  );
  await Promise.race([requireRedisSoon(`redis://127.0.0.1:${port}`), failed]);
  return child;
}

async function requireRedisSoon(url: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await requireRedis(url);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

async function killRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

const runIds = (n: number) =>
  Array.from({ length: n }, (_, i) => `manual__redis_${randomBytes(4).toString('hex')}_${i}`);

describe('queue executor: Redis restarted with its data lost', () => {
  let port: number;
  let redisDir: string;
  let redis: ChildProcess;

  beforeAll(async () => {
    port = await freePort();
    redisDir = tempDir('updraft-redis-');
    redis = await startRedis(port, redisDir);
  });

  afterAll(async () => {
    if (redis) await killRedis(redis);
  });

  it('dispatches waiting attempts again, lets running ones finish, and loses no completion', async () => {
    const url = `redis://127.0.0.1:${port}`;
    const dir = tempDir('updraft-queue-restart-');
    const pipeline = await writeLedgerPipeline(dir);
    const ledger = path.join(dir, 'ledger.jsonl');
    const prefix = uniquePrefix();
    const worker = new QueueWorker(
      testWorkerOptions(prefix, dir, { redisUrl: url, concurrency: 2 }),
    );
    // A lease long enough for the running attempts to outlive the restart.
    const executor = new QueueExecutor(
      testExecutorOptions(prefix, dir, { redisUrl: url, leaseMs: 6000 }),
    );
    const events = new EventRecorder(executor);
    await worker.start();
    await executor.start();
    try {
      const running = runWithRetries({
        dir,
        pipeline,
        submit: (request) => executor.submit(request),
        events,
        runIds: runIds(6),
        ledger,
        ms: 1500,
      });
      await waitUntil(
        () => events.events.filter((e) => e.type === 'started').length === 2,
        'two attempts run, four wait in Redis',
      );
      await killRedis(redis);
      redis = await startRedis(port, redisDir);
      const histories = await running;
      // Nothing was lost: every task succeeded on its first try.
      for (const history of histories) {
        expect(history.tries.map((t) => t.finished.exitReason)).toEqual(['success']);
      }
      expectLedgerConsistent(histories, events, ledger, 2);
    } finally {
      await executor.stop();
      await worker.stop();
    }
  });

  it('refuses a Redis whose maxmemory-policy would evict keys, naming the policy', async () => {
    const url = `redis://127.0.0.1:${port}`;
    const admin = new Redis(url);
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    try {
      const dir = tempDir('updraft-queue-policy-');
      const executor = new QueueExecutor(
        testExecutorOptions(uniquePrefix(), dir, { redisUrl: url }),
      );
      await expect(executor.start()).rejects.toThrow(
        /maxmemory-policy allkeys-lru, which evicts keys.*noeviction/,
      );
      const worker = new QueueWorker(testWorkerOptions(uniquePrefix(), dir, { redisUrl: url }));
      await expect(worker.start()).rejects.toThrow(/maxmemory-policy allkeys-lru/);
    } finally {
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
      admin.disconnect();
    }
  });
});

describe('queue executor: scheduler side', () => {
  let dir: string;

  beforeAll(async () => {
    await requireRedis();
    dir = tempDir('updraft-queue-scheduler-');
  });

  it.each([
    ['a restarted scheduler (same instance id)', 'sched'],
    ['another scheduler (the first one died)', 'other'],
  ])(
    '%s takes over in-flight attempts with reconcile(), finished ones included',
    async (_who, successor) => {
      const pipeline = await writeLedgerPipeline(dir);
      const ledger = path.join(dir, `ledger-reconcile-${successor}.jsonl`);
      const prefix = uniquePrefix();
      const worker = new QueueWorker(testWorkerOptions(prefix, dir, { concurrency: 2 }));
      await worker.start();
      const first = new QueueExecutor(testExecutorOptions(prefix, dir, { instanceId: 'sched' }));
      const firstEvents = new EventRecorder(first);
      await first.start();
      const requests: AttemptRequest[] = runIds(4).map((runId) =>
        attemptRequest({
          dir,
          ...pipeline,
          taskId: 'effect',
          runId,
          params: { ledger, ms: 700 },
        }),
      );
      for (const request of requests) first.submit(request);
      await waitUntil(
        () => firstEvents.events.filter((e) => e.type === 'started').length === 2,
        'two attempts run',
      );
      await first.detach();
      // While no scheduler listens, the first two finish and the other two start.
      await waitUntil(
        () => readEffects(ledger) >= 2,
        'two attempts finish while no scheduler listens',
      );

      const second = new QueueExecutor(testExecutorOptions(prefix, dir, { instanceId: successor }));
      const events = new EventRecorder(second);
      await second.start();
      try {
        const summary = await second.reconcile(requests);
        expect(summary.tracked).toBe(0);
        expect(summary.resubmitted).toBe(0);
        expect(summary.finished + summary.adopted).toBe(4);
        expect(summary.finished).toBeGreaterThanOrEqual(2);
        const finished = await Promise.all(requests.map((r) => events.finished(r.key)));
        for (const [i, event] of finished.entries()) {
          const key = `${requests[i]!.key.runId}/effect/1`;
          expect(event).toMatchObject({ outcome: 'success', result: { key } });
          expect(events.of(requests[i]!.key).filter((e) => e.type === 'finished')).toHaveLength(1);
        }
        expect(readEffects(ledger)).toBe(4);
        // Reconciling again (the scheduler crashed before recording them) replays the
        // outcomes instead of running the attempts again.
        expect(await second.reconcile(requests)).toEqual({
          tracked: 0,
          adopted: 0,
          finished: 4,
          resubmitted: 0,
        });
        await waitUntil(
          () => events.events.filter((e) => e.type === 'finished').length === 8,
          'the outcomes are replayed',
        );
        expect(readEffects(ledger)).toBe(4);
      } finally {
        await second.stop();
        await worker.stop();
        await deleteKeys(prefix);
      }
    },
  );

  it('re-dispatches an attempt whose job vanished before any worker took it', async () => {
    const pipeline = await writeLedgerPipeline(dir);
    const ledger = path.join(dir, 'ledger-vanished.jsonl');
    const prefix = uniquePrefix();
    const executor = new QueueExecutor(testExecutorOptions(prefix, dir, { leaseMs: 1000 }));
    const events = new EventRecorder(executor);
    await executor.start();
    const worker = new QueueWorker(testWorkerOptions(prefix, dir));
    const admin = new Redis(process.env.UPDRAFT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
    try {
      const request = attemptRequest({
        dir,
        ...pipeline,
        taskId: 'effect',
        runId: runIds(1)[0],
        params: { ledger, ms: 0 },
      });
      executor.submit(request);
      const keys = new QueueKeys(prefix);
      const jobKey = keys.job('default', jobIdOf(request.key));
      await waitUntilAsync(async () => (await admin.exists(jobKey)) === 1, 'the job is in Redis');
      // The job disappears without a worker having claimed it (an operator's mistake).
      await admin.eval(
        `for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end`,
        0,
        `${keys.bullPrefix}:default:*`,
      );
      await worker.start();
      const finished = await events.finished(request.key);
      expect(finished).toMatchObject({ outcome: 'success' });
      expect(readEffects(ledger)).toBe(1);
    } finally {
      admin.disconnect();
      await executor.stop();
      await worker.stop();
      await deleteKeys(prefix);
    }
  });

  it('rejects a report without the attempt token, or of an older dispatch, and counts it', async () => {
    const pipeline = await writeLedgerPipeline(dir);
    const prefix = uniquePrefix();
    const executor = new QueueExecutor(testExecutorOptions(prefix, dir, { instanceId: 'sched' }));
    const events = new EventRecorder(executor);
    await executor.start();
    const admin = new Redis(process.env.UPDRAFT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
    try {
      // No worker: the attempt waits in its queue.
      const request = attemptRequest({ dir, ...pipeline, taskId: 'effect', params: {} });
      executor.submit(request);
      const keys = new QueueKeys(prefix);
      const forged = (dispatch: string, token: string) =>
        admin.xadd(
          keys.reports('sched'),
          '*',
          'r',
          JSON.stringify({
            type: 'finished',
            outcome: { outcome: 'success', exitReason: 'success', result: 'forged' },
            jobId: jobIdOf(request.key),
            dispatch,
            token,
            worker: 'intruder',
            at: Date.now(),
          }),
        );
      await forged('made-up', 'not-a-token');
      await forged('older', signDispatch(TEST_SECRET, request.key, 'older'));
      await admin.xadd(keys.reports('sched'), '*', 'r', '{"not":"a report"');
      await waitUntil(() => executor.rejectedReports === 3, 'three reports are rejected');
      expect(events.of(request.key)).toEqual([]);
      executor.cancel(request.key);
      expect(await events.finished(request.key)).toMatchObject({ exitReason: 'cancelled' });
    } finally {
      admin.disconnect();
      await executor.stop();
      await deleteKeys(prefix);
    }
  });
});

function readEffects(ledger: string): number {
  return readLedger(ledger).filter((entry) => entry.event === 'effect').length;
}

async function waitUntilAsync(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
