/**
 * Queues and their limits: a task runs only on workers of its queue; a cluster-wide
 * limit per queue (`queueConcurrency`, BullMQ global concurrency) and a worker's own
 * limit per queue (`--queues gpu=1`) are never exceeded, counted in a ledger of the
 * attempts' start and effect times. Also the settings read from the environment.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UpdraftError } from '../../../src/core/errors.ts';
import type { AttemptRequest } from '../../../src/executor/executor.ts';
import { QueueExecutor } from '../../../src/executor/queue/queue-executor.ts';
import {
  executorKindFromEnv,
  parseQueueList,
  queueExecutorSettingsFromEnv,
} from '../../../src/executor/queue/queue-settings.ts';
import { QueueWorker } from '../../../src/executor/queue/queue-worker.ts';
import { attemptRequest, EventRecorder, tempDir } from '../support.ts';
import { maxOverlap, readLedger, writeLedgerPipeline } from './faults.ts';
import {
  deleteKeys,
  requireRedis,
  testExecutorOptions,
  testWorkerOptions,
  uniquePrefix,
} from './support.ts';

async function runOnQueues(options: {
  executorLimits?: { [queue: string]: number };
  workers: { queues: { name: string; concurrency?: number }[]; concurrency: number }[];
  tasks: { queue: string; count: number }[];
}): Promise<{
  ledger: string;
  requests: AttemptRequest[];
  events: EventRecorder;
  pids: Map<string, number[]>;
}> {
  await requireRedis();
  const dir = tempDir('updraft-queue-routing-');
  const pipeline = await writeLedgerPipeline(dir);
  const ledger = path.join(dir, 'ledger.jsonl');
  const prefix = uniquePrefix();
  const workers = options.workers.map(
    (w) =>
      new QueueWorker(
        testWorkerOptions(prefix, dir, { queues: w.queues, concurrency: w.concurrency }),
      ),
  );
  const executor = new QueueExecutor(
    testExecutorOptions(
      prefix,
      dir,
      options.executorLimits ? { queueConcurrency: options.executorLimits } : {},
    ),
  );
  const events = new EventRecorder(executor);
  await executor.start();
  await Promise.all(workers.map((w) => w.start()));
  try {
    const requests = options.tasks.flatMap(({ queue, count }) =>
      Array.from({ length: count }, (_, i) =>
        attemptRequest({
          dir,
          ...pipeline,
          taskId: 'effect',
          runId: `manual__${queue}_${randomBytes(4).toString('hex')}_${i}`,
          task: { queue },
          params: { ledger, ms: 300 },
        }),
      ),
    );
    for (const request of requests) executor.submit(request);
    const finished = await Promise.all(requests.map((r) => events.finished(r.key)));
    expect(finished.every((f) => f.outcome === 'success')).toBe(true);
    const pids = new Map<string, number[]>();
    for (const request of requests) {
      const started = events.of(request.key).find((e) => e.type === 'started');
      const list = pids.get(request.task.queue) ?? [];
      if (started?.type === 'started') list.push(started.pid);
      pids.set(request.task.queue, list);
    }
    return { ledger, requests, events, pids };
  } finally {
    await executor.stop();
    await Promise.all(workers.map((w) => w.stop()));
    await deleteKeys(prefix);
  }
}

/** Most attempts of `queue` running at once, from the ledger. */
function overlapOf(ledger: string, requests: AttemptRequest[], queue: string): number {
  const runs = new Set(requests.filter((r) => r.task.queue === queue).map((r) => r.key.runId));
  return maxOverlap(
    readLedger(ledger).filter((entry) => runs.has(entry.key.split('/')[0] ?? '')),
    [],
  );
}

describe('queue executor: queues and their limits', () => {
  it('never exceeds a cluster-wide limit per queue, and runs each queue on its own workers', async () => {
    const { ledger, requests, pids } = await runOnQueues({
      executorLimits: { gpu: 1 },
      workers: [
        { queues: [{ name: 'gpu' }], concurrency: 2 },
        { queues: [{ name: 'gpu' }], concurrency: 2 },
        { queues: [{ name: 'cpu' }], concurrency: 2 },
      ],
      tasks: [
        { queue: 'gpu', count: 4 },
        { queue: 'cpu', count: 4 },
      ],
    });
    expect(overlapOf(ledger, requests, 'gpu')).toBe(1);
    expect(overlapOf(ledger, requests, 'cpu')).toBe(2);
    const gpuPids = new Set(pids.get('gpu'));
    for (const pid of pids.get('cpu') ?? []) expect(gpuPids.has(pid)).toBe(false);
  });

  it("never exceeds a worker's own limit for a queue (--queues cpu,gpu=1)", async () => {
    const { ledger, requests } = await runOnQueues({
      workers: [{ queues: [{ name: 'cpu' }, { name: 'gpu', concurrency: 1 }], concurrency: 3 }],
      tasks: [
        { queue: 'gpu', count: 4 },
        { queue: 'cpu', count: 3 },
      ],
    });
    expect(overlapOf(ledger, requests, 'gpu')).toBe(1);
    expect(maxOverlap(readLedger(ledger), [])).toBeLessThanOrEqual(3);
  });

  it('fails an attempt whose queue name is not valid, without retry', async () => {
    await requireRedis();
    const dir = tempDir('updraft-queue-routing-');
    const pipeline = await writeLedgerPipeline(dir);
    const prefix = uniquePrefix();
    const executor = new QueueExecutor(testExecutorOptions(prefix, dir));
    const events = new EventRecorder(executor);
    await executor.start();
    try {
      const request = attemptRequest({
        dir,
        ...pipeline,
        taskId: 'effect',
        task: { queue: 'gpu:a' },
      });
      executor.submit(request);
      const finished = await events.finished(request.key);
      expect(finished).toMatchObject({ outcome: 'failed', exitReason: 'error_no_retry' });
      expect(finished.error?.message).toContain('queue name "gpu:a" is not valid');
    } finally {
      await executor.stop();
      await deleteKeys(prefix);
    }
  });
});

describe('queue settings from the environment', () => {
  const secret = { UPDRAFT_QUEUE_SECRET: 'x'.repeat(32) };

  it('reads the executor kind, Redis, prefix, lease and per-queue limits', () => {
    expect(executorKindFromEnv({})).toBe('local');
    expect(executorKindFromEnv({ UPDRAFT_EXECUTOR: 'queue' })).toBe('queue');
    expect(
      queueExecutorSettingsFromEnv({
        ...secret,
        UPDRAFT_REDIS_URL: 'redis://redis:6379/2',
        UPDRAFT_QUEUE_PREFIX: 'prod',
        UPDRAFT_QUEUE_LEASE_MS: '15000',
        UPDRAFT_QUEUE_CONCURRENCY: 'gpu=2, cpu=16',
        UPDRAFT_SCHEDULER_ID: 'scheduler-1',
      }),
    ).toEqual({
      redisUrl: 'redis://redis:6379/2',
      prefix: 'prod',
      secret: secret.UPDRAFT_QUEUE_SECRET,
      instanceId: 'scheduler-1',
      leaseMs: 15000,
      queueConcurrency: { gpu: 2, cpu: 16 },
    });
    expect(parseQueueList('--queues', 'cpu,gpu=1')).toEqual([
      { name: 'cpu' },
      { name: 'gpu', concurrency: 1 },
    ]);
  });

  it('names the variable and what it expects for each bad value', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ UPDRAFT_EXECUTOR: 'celery' }, /UPDRAFT_EXECUTOR must be 'local' or 'queue', got "celery"/],
      [{}, /UPDRAFT_QUEUE_SECRET must be set to a secret of at least 16 characters/],
      [
        { ...secret, UPDRAFT_QUEUE_LEASE_MS: '20s' },
        /UPDRAFT_QUEUE_LEASE_MS must be a whole number of milliseconds >= 100, got "20s"/,
      ],
      [
        { ...secret, UPDRAFT_QUEUE_CONCURRENCY: 'gpu' },
        /UPDRAFT_QUEUE_CONCURRENCY: queue gpu needs a limit, as in gpu=4/,
      ],
      [{ ...secret, UPDRAFT_QUEUE_PREFIX: 'a b' }, /UPDRAFT_QUEUE_PREFIX "a b" is not valid/],
    ];
    for (const [env, message] of cases) {
      const read = () =>
        env.UPDRAFT_EXECUTOR ? executorKindFromEnv(env) : queueExecutorSettingsFromEnv(env);
      expect(read).toThrow(UpdraftError);
      expect(read).toThrow(message);
    }
    expect(() => parseQueueList('--queues', 'cpu,,gpu')).toThrow(/--queues: "" is not a queue/);
    expect(() => parseQueueList('--queues', 'cpu,cpu=2')).toThrow(/queue cpu is listed twice/);
    expect(() => parseQueueList('--queues', 'gpu=0')).toThrow(
      /the limit of gpu must be at least 1/,
    );
  });

  it('refuses an unreachable Redis at start, naming it', async () => {
    const executor = new QueueExecutor({
      redisUrl: 'redis://127.0.0.1:1',
      secret: secret.UPDRAFT_QUEUE_SECRET,
    });
    await expect(executor.start()).rejects.toThrow(
      /cannot reach Redis at redis:\/\/127\.0\.0\.1:1.*UPDRAFT_REDIS_URL/,
    );
    expect(() => new QueueExecutor({ redisUrl: 'redis://x', secret: 'short' })).toThrow(
      /at least 16 characters/,
    );
  });
});

describe('queue worker: graceful stop', () => {
  it('lets short attempts finish, then reports the rest lost so the scheduler retries them', async () => {
    await requireRedis();
    const dir = tempDir('updraft-queue-drain-');
    const pipeline = await writeLedgerPipeline(dir);
    const ledger = path.join(dir, 'ledger.jsonl');
    const prefix = uniquePrefix();
    const worker = new QueueWorker(testWorkerOptions(prefix, dir, { drainMs: 1500 }));
    const executor = new QueueExecutor(testExecutorOptions(prefix, dir));
    const events = new EventRecorder(executor);
    await executor.start();
    await worker.start();
    try {
      const [short, long] = [500, 60_000].map((ms, i) =>
        attemptRequest({
          dir,
          ...pipeline,
          taskId: 'effect',
          runId: `manual__drain_${randomBytes(4).toString('hex')}_${i}`,
          params: { ledger, ms },
        }),
      );
      for (const request of [short!, long!]) executor.submit(request);
      await Promise.all([short!, long!].map((r) => events.started(r.key)));
      await worker.stop();
      expect(await events.finished(short!.key)).toMatchObject({ outcome: 'success' });
      const lost = await events.finished(long!.key);
      expect(lost).toMatchObject({ outcome: 'failed', exitReason: 'worker_lost' });
      expect(lost.error?.message).toContain('stopped before the attempt finished');
    } finally {
      await executor.stop();
      await worker.stop();
      await deleteKeys(prefix);
    }
  });
});
