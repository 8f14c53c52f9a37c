/**
 * The environment variables of distributed execution, read in one place for the
 * scheduler (`UPDRAFT_EXECUTOR=queue`) and for `updraft worker`. A bad value is an
 * `UpdraftError` naming the variable and what it expects.
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | `UPDRAFT_EXECUTOR` | `local` | `queue` runs attempts on `updraft worker` processes |
 * | `UPDRAFT_REDIS_URL` | `redis://127.0.0.1:6379` | the Redis of the queues |
 * | `UPDRAFT_QUEUE_PREFIX` | `updraft` | prefix of every Redis key (one deployment each) |
 * | `UPDRAFT_QUEUE_SECRET` | (required for `queue`) | HMAC secret of attempt tokens, >= 16 characters, same on every scheduler |
 * | `UPDRAFT_SCHEDULER_ID` | host name | stable name of a scheduler's report stream |
 * | `UPDRAFT_QUEUE_LEASE_MS` | `20000` | a claimed attempt without report for this long is lost |
 * | `UPDRAFT_QUEUE_HEARTBEAT_MS` | `5000` | workers' heartbeat interval |
 * | `UPDRAFT_QUEUE_CONCURRENCY` | none | cluster-wide limits per queue, e.g. `gpu=2,cpu=16` |
 */
import { UpdraftError } from '../../core/errors.ts';
import type { QueueExecutorOptions } from './queue-executor.ts';
import { QUEUE_NAME } from './queue-protocol.ts';
import type { WorkerQueue } from './queue-worker.ts';

export type ExecutorKind = 'local' | 'queue';

/** Default Redis of a development machine. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

type Env = { [name: string]: string | undefined };

/** `UPDRAFT_EXECUTOR`: `local` (default) or `queue`. */
export function executorKindFromEnv(env: Env = process.env): ExecutorKind {
  const value = env.UPDRAFT_EXECUTOR || 'local';
  if (value !== 'local' && value !== 'queue') {
    throw new UpdraftError(
      'config_invalid',
      `UPDRAFT_EXECUTOR must be 'local' or 'queue', got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** Redis URL and key prefix, shared by executors and workers. */
export function redisSettingsFromEnv(env: Env = process.env): {
  redisUrl: string;
  prefix: string;
} {
  const prefix = env.UPDRAFT_QUEUE_PREFIX || 'updraft';
  if (!QUEUE_NAME.test(prefix)) {
    throw new UpdraftError(
      'config_invalid',
      `UPDRAFT_QUEUE_PREFIX ${JSON.stringify(prefix)} is not valid: use letters, digits, '_', '.' or '-'`,
    );
  }
  return { redisUrl: env.UPDRAFT_REDIS_URL || DEFAULT_REDIS_URL, prefix };
}

/** The options of a scheduler's `QueueExecutor` from the environment (without clock/logger). */
export function queueExecutorSettingsFromEnv(
  env: Env = process.env,
): Omit<QueueExecutorOptions, 'clock' | 'logger' | 'pipelinesDir'> {
  const secret = env.UPDRAFT_QUEUE_SECRET ?? '';
  if (secret.length < 16) {
    throw new UpdraftError(
      'config_invalid',
      'UPDRAFT_QUEUE_SECRET must be set to a secret of at least 16 characters (the same on every ' +
        'scheduler) when UPDRAFT_EXECUTOR=queue; e.g. `openssl rand -hex 32`',
    );
  }
  const concurrency = env.UPDRAFT_QUEUE_CONCURRENCY
    ? Object.fromEntries(
        parseQueueList('UPDRAFT_QUEUE_CONCURRENCY', env.UPDRAFT_QUEUE_CONCURRENCY).map((q) => {
          if (q.concurrency === undefined) {
            throw new UpdraftError(
              'config_invalid',
              `UPDRAFT_QUEUE_CONCURRENCY: queue ${q.name} needs a limit, as in ${q.name}=4`,
            );
          }
          return [q.name, q.concurrency];
        }),
      )
    : undefined;
  return {
    ...redisSettingsFromEnv(env),
    secret,
    ...(env.UPDRAFT_SCHEDULER_ID ? { instanceId: env.UPDRAFT_SCHEDULER_ID } : {}),
    ...optionalInteger(env, 'UPDRAFT_QUEUE_LEASE_MS', 'leaseMs', 100),
    ...(concurrency ? { queueConcurrency: concurrency } : {}),
  };
}

/** `UPDRAFT_QUEUE_HEARTBEAT_MS` for workers. */
export function heartbeatFromEnv(env: Env = process.env): { heartbeatIntervalMs?: number } {
  return optionalInteger(env, 'UPDRAFT_QUEUE_HEARTBEAT_MS', 'heartbeatIntervalMs', 10);
}

/**
 * Parses `cpu,gpu=1`: queue names, each with an optional limit of attempts at once.
 * `what` names the flag or variable in errors.
 */
export function parseQueueList(what: string, text: string): WorkerQueue[] {
  const queues: WorkerQueue[] = [];
  for (const part of text.split(',')) {
    const item = part.trim();
    const match = /^([^=\s]+)(?:=(\d+))?$/.exec(item);
    const name = match?.[1];
    if (match === null || name === undefined || !QUEUE_NAME.test(name)) {
      throw new UpdraftError(
        'config_invalid',
        `${what}: ${JSON.stringify(item)} is not a queue: expected names of letters, digits, ` +
          `'_', '.' or '-', each optionally with a limit, as in cpu,gpu=1`,
      );
    }
    if (queues.some((q) => q.name === name)) {
      throw new UpdraftError('config_invalid', `${what}: queue ${name} is listed twice`);
    }
    const limit = match[2] === undefined ? undefined : Number(match[2]);
    if (limit !== undefined && limit < 1) {
      throw new UpdraftError('config_invalid', `${what}: the limit of ${name} must be at least 1`);
    }
    queues.push(limit === undefined ? { name } : { name, concurrency: limit });
  }
  return queues;
}

function optionalInteger<K extends string>(
  env: Env,
  variable: string,
  key: K,
  min: number,
): { [P in K]?: number } {
  const text = env[variable];
  if (!text) return {};
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min) {
    throw new UpdraftError(
      'config_invalid',
      `${variable} must be a whole number of milliseconds >= ${min}, got ${JSON.stringify(text)}`,
    );
  }
  return { [key]: value } as { [P in K]?: number };
}
