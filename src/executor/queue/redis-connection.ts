/**
 * Redis connections of the queue executor and its workers: opening one with a clear
 * error when Redis cannot be reached, refusing a Redis that may evict keys, and the two
 * Lua scripts that fence a worker's reports (see `queue-protocol.ts`).
 */
import { Redis, type RedisOptions } from 'ioredis';
import { UpdraftError } from '../../core/errors.ts';

/** Policies under which Redis never drops a key to free memory (the only one is noeviction). */
const SAFE_EVICTION_POLICIES = new Set(['noeviction']);

/** Result of the pickup and report scripts. */
export type FenceResult = 'ok' | 'cancel' | 'revoke' | 'claimed';

/**
 * A fencing script: runs on the stop mark, the claim and the report stream of one
 * dispatch, for one worker; marks live `ttlSeconds`, the stream keeps about `maxLen`
 * entries; `report` is the JSON report envelope to append.
 */
export type FenceScript = (
  stopKey: string,
  claimKey: string,
  stream: string,
  worker: string,
  ttlSeconds: number,
  maxLen: number,
  report: string,
) => Promise<FenceResult>;

/** A Redis client with the fencing scripts defined. */
export interface FencedRedis extends Redis {
  /**
   * Claims a dispatch for a worker and appends its `accepted` report. Returns `revoke`
   * (the executor gave the dispatch up), `claimed` (another worker has it), `cancel`
   * (claimed, but the executor asks to cancel it) or `ok`.
   */
  updraftPickup: FenceScript;
  /**
   * Appends a report of a claimed dispatch unless it was revoked or claimed by another
   * worker; re-claims a dispatch whose claim Redis lost. Returns `cancel` when the
   * executor asks to cancel (the report is still appended).
   */
  updraftReport: FenceScript;
}

const PICKUP = `
local stop = redis.call('GET', KEYS[1])
if stop == 'revoke' then return 'revoke' end
if not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'EX', ARGV[2]) then return 'claimed' end
if stop then return stop end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 'r', ARGV[4])
return 'ok'`;

const REPORT = `
local stop = redis.call('GET', KEYS[1])
if stop == 'revoke' then return 'revoke' end
local claim = redis.call('GET', KEYS[2])
if claim == false then
  redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2])
elseif claim ~= ARGV[1] then
  return 'claimed'
end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 'r', ARGV[4])
if stop then return stop end
return 'ok'`;

/** Where a Redis is, for error messages (without a password). */
export function redisLabel(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}

/**
 * Opens a Redis connection for BullMQ and the executor (commands wait while Redis is
 * away, as BullMQ requires; with `commandTimeoutMs`, a command without an answer fails
 * after that long instead) and waits until it is ready. Rejects with an `UpdraftError`
 * naming the URL when Redis cannot be reached within `connectTimeoutMs`.
 */
export async function openRedis(
  url: string,
  options: { name: string; connectTimeoutMs?: number; commandTimeoutMs?: number },
): Promise<FencedRedis> {
  const extra: RedisOptions = {
    maxRetriesPerRequest: null,
    connectionName: options.name,
    ...(options.commandTimeoutMs === undefined ? {} : { commandTimeout: options.commandTimeoutMs }),
  };
  let redis: Redis;
  try {
    redis = new Redis(url, { ...extra, lazyConnect: true });
  } catch (error) {
    throw new UpdraftError(
      'redis_url_invalid',
      `invalid Redis URL ${redisLabel(url)}: ${(error as Error).message}; expected redis://host:port[/db]`,
      { cause: error },
    );
  }
  redis.defineCommand('updraftPickup', { numberOfKeys: 3, lua: PICKUP });
  redis.defineCommand('updraftReport', { numberOfKeys: 3, lua: REPORT });
  // Errors are retried by ioredis; without a listener each would print a warning.
  redis.on('error', () => {});
  const timeoutMs = options.connectTimeoutMs ?? 10_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.connect(),
      new Promise((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (error) {
    redis.disconnect();
    throw new UpdraftError(
      'redis_unreachable',
      `cannot reach Redis at ${redisLabel(url)}: ${(error as Error).message.replace(/\.$/, '')}. ` +
        'Start Redis or point UPDRAFT_REDIS_URL at it.',
      { cause: error },
    );
  } finally {
    clearTimeout(timer);
  }
  return redis as FencedRedis;
}

/**
 * Refuses a Redis that may evict keys to free memory: an evicted job or claim would
 * lose an attempt silently. Reads `INFO memory` (managed Redis services that disable
 * `CONFIG` still answer it).
 */
export async function assertNoEviction(redis: Redis, url: string): Promise<void> {
  const info = await redis.info('memory');
  const policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
  if (policy === undefined) {
    throw new UpdraftError(
      'redis_policy_unknown',
      `Redis at ${redisLabel(url)} did not report its maxmemory-policy (INFO memory); ` +
        'Updraft needs maxmemory-policy noeviction',
    );
  }
  if (!SAFE_EVICTION_POLICIES.has(policy)) {
    throw new UpdraftError(
      'redis_evicts_keys',
      `Redis at ${redisLabel(url)} has maxmemory-policy ${policy}, which evicts keys when ` +
        'memory is full: queued attempts could vanish. Set maxmemory-policy noeviction ' +
        '(redis.conf, CONFIG SET, or the parameter group of a managed Redis).',
    );
  }
}
