/**
 * The engine through the distributed executor: scheduler + store + `QueueExecutor` on
 * Redis + 1, 2 and 4 `updraft worker` processes (each `--concurrency 1`, started from
 * the CLI as in production). For each worker count:
 * - throughput: one run of 500 independent no-op `ts` tasks, tasks ÷ (trigger → the
 *   run's recorded end);
 * - hand-off latency: upstream success → downstream running along a 51-task chain of
 *   no-op tasks (2 runs after a warm-up run: 100 hand-offs), from the monotonic times
 *   the tasks return.
 *
 * Baseline (same run): raw BullMQ on the same Redis, the ceiling: the same number of
 * `Worker`s (concurrency 1 each) with an empty processor — jobs per second for 500 jobs
 * added at once, and the round trip of one job (add → completed) one after the other.
 *
 * The store is PostgreSQL when reachable (as in a distributed deployment), else PGlite.
 * Redis: `UPDRAFT_BENCH_REDIS_URL` (default redis://127.0.0.1:6379), under a key prefix
 * of this run that is deleted afterwards.
 *
 *     node --import tsx bench/queue-throughput.ts
 */
import path from 'node:path';
import { type Job, Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import {
  type Backend,
  createBenchDatabase,
  ServerUnavailable,
  startEngine,
} from './support/engine.ts';
import { runMain } from './support/main.ts';
import {
  chainPipeline,
  fanPipeline,
  handoffs,
  readChainTimes,
  WARM_UP_DAG,
} from './support/pipelines.ts';
import { type Figure, progress } from './support/report.ts';
import { type Scope, withScope } from './support/scope.ts';
import { startService, waitUntil } from './support/service.ts';
import { describeLatency, monotonicMs, ms, type Summary, summarize } from './support/stats.ts';

const NAME = 'queue executor';
const WORKER_COUNTS = [1, 2, 4];
const TASKS = 500;
const CHAIN = 51;
const CHAIN_RUNS = 2;
const ROUND_TRIPS = 200;
const REDIS_URL = process.env.UPDRAFT_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const ROOT = path.resolve(import.meta.dirname, '..');
const MAIN = path.join(ROOT, 'src/cli/main.ts');

/** Runs the benchmark; returns its figures. */
export async function queueThroughput(): Promise<Figure[]> {
  const backend = await storeBackend();
  const figures: Figure[] = [];
  for (const workers of WORKER_COUNTS) {
    const raw = await rawBullmq(workers);
    const engine = await engineThroughWorkers(backend, workers);
    figures.push(
      {
        benchmark: NAME,
        metric: `${TASKS} no-op tasks, ${workers} worker(s), ${backend}`,
        value: rate(engine.perSecond),
        target: '—',
        met: null,
        baseline: `raw BullMQ, ${workers} worker(s), empty processor: ${rate(raw.perSecond, 'jobs')}`,
      },
      {
        benchmark: NAME,
        metric: `hand-off p50 / p99, ${workers} worker(s) (n=${engine.handoff.count})`,
        value: `${ms(engine.handoff.p50)} / ${ms(engine.handoff.p99)}`,
        target: '—',
        met: null,
        baseline: `raw BullMQ job round trip p50 ${ms(raw.roundTrip.p50)}, p99 ${ms(raw.roundTrip.p99)}`,
      },
    );
  }
  return figures;
}

function rate(perSecond: number, what = 'tasks'): string {
  return `${Math.round(perSecond).toLocaleString('en-US')} ${what}/s`;
}

/** PostgreSQL when reachable, else PGlite (said in the progress output). */
async function storeBackend(): Promise<Backend> {
  try {
    await withScope((scope) => createBenchDatabase(scope));
    return 'postgres';
  } catch (error) {
    if (!(error instanceof ServerUnavailable)) throw error;
    progress(NAME, `PostgreSQL unavailable (${error.message}); using PGlite`);
    return 'pglite';
  }
}

/** A key prefix of this run, whose keys are deleted when `scope` closes. */
function benchPrefix(scope: Scope, label: string): string {
  const prefix = `updraft-bench-${process.pid}-${label}`;
  scope.defer(`delete Redis keys ${prefix}:*`, () => deleteKeys(prefix));
  return prefix;
}

async function deleteKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** Raw BullMQ with `workers` empty processors: jobs/s and the round trip of one job. */
async function rawBullmq(workers: number): Promise<{ perSecond: number; roundTrip: Summary }> {
  return withScope(async (scope) => {
    const prefix = benchPrefix(scope, `raw${workers}`);
    const connection = { url: REDIS_URL, maxRetriesPerRequest: null };
    const queue = new Queue('raw', { connection, prefix });
    scope.defer('close the raw queue', () => queue.close());
    const events = new QueueEvents('raw', { connection, prefix });
    scope.defer('close the raw queue events', () => events.close());
    await events.waitUntilReady();
    let completed = 0;
    let onCompleted = () => {};
    for (let i = 0; i < workers; i++) {
      const worker = new Worker('raw', async (_job: Job) => {}, {
        connection,
        prefix,
        concurrency: 1,
      });
      worker.on('completed', () => {
        completed++;
        onCompleted();
      });
      scope.defer('close a raw worker', () => worker.close());
      await worker.waitUntilReady();
    }
    const until = (count: number) =>
      new Promise<void>((resolve) => {
        onCompleted = () => {
          if (completed >= count) resolve();
        };
        onCompleted();
      });
    const opts = { removeOnComplete: true, removeOnFail: true };

    const roundTrips: number[] = [];
    for (let i = 0; i < ROUND_TRIPS; i++) {
      const t0 = monotonicMs();
      const done = until(completed + 1);
      await queue.add('job', { i }, opts);
      await done;
      roundTrips.push(monotonicMs() - t0);
    }
    const start = completed;
    const t0 = monotonicMs();
    const done = until(start + TASKS);
    await queue.addBulk(
      Array.from({ length: TASKS }, (_, i) => ({ name: 'job', data: { i }, opts })),
    );
    await done;
    const perSecond = (TASKS / (monotonicMs() - t0)) * 1000;
    const roundTrip = summarize(roundTrips);
    progress(
      NAME,
      `raw BullMQ, ${workers} worker(s): ${rate(perSecond, 'jobs')}; round trip ${describeLatency(roundTrip)}`,
    );
    return { perSecond, roundTrip };
  });
}

/** The engine on `backend` with the queue executor and `workers` `updraft worker` processes. */
async function engineThroughWorkers(
  backend: Backend,
  workers: number,
): Promise<{ perSecond: number; handoff: Summary }> {
  return withScope(async (scope) => {
    const prefix = benchPrefix(scope, `engine${workers}`);
    const env = {
      ...process.env,
      UPDRAFT_REDIS_URL: REDIS_URL,
      UPDRAFT_QUEUE_PREFIX: prefix,
      UPDRAFT_QUEUE_SECRET: 'bench-secret-0123456789',
      UPDRAFT_QUEUE_HEARTBEAT_MS: '1000',
      UPDRAFT_QUEUE_LEASE_MS: '10000',
      UPDRAFT_LOG_LEVEL: 'warn',
    };
    // The runtime reads the queue settings from this process's environment.
    const saved = { ...process.env };
    Object.assign(process.env, env);
    scope.defer('restore the environment', () => {
      for (const key of Object.keys(env)) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    });
    progress(NAME, `${workers} worker(s): starting the engine on ${backend}`);
    const engine = await startEngine(scope, {
      backend,
      executor: 'queue',
      parallelism: 128,
      files: {
        'fan.ts': fanPipeline('fan', TASKS, 1),
        'chain.ts': chainPipeline('chain', CHAIN, 0),
      },
    });
    for (let i = 0; i < workers; i++) {
      // Same home as the scheduler, so the bundles (and their code hashes) are shared.
      const args = [
        '--import',
        'tsx',
        MAIN,
        '--home',
        engine.home,
        '--pipelines',
        engine.pipelinesDir,
      ];
      const service = startService(
        scope,
        process.execPath,
        [...args, 'worker', '--concurrency', '1', '--id', `bench-${i}`],
        { cwd: ROOT, env },
      );
      await waitUntil(service, `worker ${i}`, () => service.output().includes('running'));
    }
    const { ops } = engine.runtime;
    await ops.triggerRun(WARM_UP_DAG, { runId: 'warmup' });
    await engine.waitForRuns(WARM_UP_DAG, 1);

    const offset = Date.now() - monotonicMs();
    const t0 = monotonicMs();
    await ops.triggerRun('fan', { runId: 'measured' });
    const [fan] = await engine.waitForRuns('fan', 1, 600_000);
    if (fan?.state !== 'success') throw new Error(`the fan run ended ${fan?.state}`);
    const perSecond = (TASKS / (Date.parse(fan.endedAt ?? '') - offset - t0)) * 1000;
    progress(NAME, `${workers} worker(s): ${rate(perSecond)}`);

    const gaps: number[] = [];
    for (let run = 0; run <= CHAIN_RUNS; run++) {
      const runId = `chain${run}`;
      await ops.triggerRun('chain', { runId });
      const [done] = await engine.waitForRuns('chain', run + 1, 600_000);
      if (done?.state !== 'success') throw new Error(`chain run ${runId} ended ${done?.state}`);
      if (run > 0) gaps.push(...handoffs(await readChainTimes(ops, 'chain', runId, CHAIN)));
    }
    const handoff = summarize(gaps);
    progress(NAME, `${workers} worker(s): hand-off ${describeLatency(handoff)}`);
    return { perSecond, handoff };
  });
}

runMain(import.meta.url, queueThroughput);
