/**
 * Test support for the queue executor: the real Redis (UPDRAFT_TEST_REDIS_URL, default
 * redis://127.0.0.1:6379; a missing server fails the suite with how to start one), a
 * unique key prefix per executor so test files never see each other's keys, and an
 * executor bundled with in-process `QueueWorker`s so the conformance suite can treat
 * them as one `Executor`.
 */
import { Redis } from 'ioredis';
import { pino } from 'pino';
import type {
  AttemptKey,
  AttemptRequest,
  Executor,
  ExecutorListener,
} from '../../../src/executor/executor.ts';
import {
  QueueExecutor,
  type QueueExecutorOptions,
} from '../../../src/executor/queue/queue-executor.ts';
import { QueueWorker, type QueueWorkerOptions } from '../../../src/executor/queue/queue-worker.ts';

export const TEST_REDIS_URL = process.env.UPDRAFT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const TEST_SECRET = 'test-secret-0123456789';
export const silent = pino({ level: 'silent' });

/** Fails with instructions when the test Redis does not answer. */
export async function requireRedis(url = TEST_REDIS_URL): Promise<void> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw new Error(
      `the queue executor tests need Redis at ${url} (${(error as Error).message}): start it with ` +
        `'redis-server --daemonize yes --port 6379 --save "" --appendonly no' or set UPDRAFT_TEST_REDIS_URL`,
    );
  } finally {
    redis.disconnect();
  }
}

let prefixCounter = 0;

/** A key prefix no other test (file, run) uses. */
export function uniquePrefix(): string {
  return `updraft-test-${process.pid}-${Date.now().toString(36)}-${++prefixCounter}`;
}

/** Deletes every key under `prefix`. */
export async function deleteKeys(prefix: string, url = TEST_REDIS_URL): Promise<void> {
  const redis = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/**
 * Options of a test executor: a short grace, quiet, and a lease of 5 s — long enough
 * that a busy machine never takes a live worker for lost (fault tests set their own).
 */
export function testExecutorOptions(
  prefix: string,
  home: string,
  options: Partial<QueueExecutorOptions> = {},
): QueueExecutorOptions {
  return {
    redisUrl: TEST_REDIS_URL,
    secret: TEST_SECRET,
    prefix,
    instanceId: 'scheduler-a',
    pipelinesDir: home,
    leaseMs: 5000,
    killGraceMs: 500,
    logger: silent,
    ...options,
  };
}

/** Options of a test worker: fast heartbeats, quiet. */
export function testWorkerOptions(
  prefix: string,
  home: string,
  options: Partial<QueueWorkerOptions> = {},
): QueueWorkerOptions {
  return {
    redisUrl: TEST_REDIS_URL,
    prefix,
    home,
    pipelinesDir: home,
    concurrency: 2,
    heartbeatIntervalMs: 100,
    logFlushMs: 50,
    killGraceMs: 500,
    drainMs: 1000,
    logger: silent,
    ...options,
  };
}

/**
 * A `QueueExecutor` and its workers as one `Executor`: `start()` starts the workers,
 * then the executor; `stop()` stops the executor (which cancels everything), then the
 * workers, then deletes the prefix's keys.
 */
export class ExecutorWithWorkers implements Executor {
  readonly name = 'queue';
  readonly executor: QueueExecutor;
  readonly workers: QueueWorker[];

  constructor(
    readonly prefix: string,
    executorOptions: QueueExecutorOptions,
    workerOptions: QueueWorkerOptions[],
  ) {
    this.executor = new QueueExecutor(executorOptions);
    this.workers = workerOptions.map((options) => new QueueWorker(options));
  }

  async start(): Promise<void> {
    await requireRedis();
    await Promise.all(this.workers.map((worker) => worker.start()));
    await this.executor.start();
  }

  submit(request: AttemptRequest): void {
    this.executor.submit(request);
  }

  cancel(key: AttemptKey): void {
    this.executor.cancel(key);
  }

  onEvent(listener: ExecutorListener): void {
    this.executor.onEvent(listener);
  }

  capacity(): { slots: number; inFlight: number } {
    return this.executor.capacity();
  }

  async stop(): Promise<void> {
    await this.executor.stop();
    await Promise.all(this.workers.map((worker) => worker.stop()));
    await deleteKeys(this.prefix);
  }
}
