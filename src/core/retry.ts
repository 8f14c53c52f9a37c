/**
 * How long to wait before retrying a failed attempt.
 *
 * With `retryExponentialBackoff`, the delay before try n+1, after try n failed, is
 *
 *     delay(n) = min(maxRetryDelay, base · 2^(n−1) + jitter),  jitter ∈ [0, base · 2^(n−1))
 *
 * where `base` is `retryDelayMs` and the jitter is derived from a SHA-256 hash of a
 * seed string (e.g. `${dagId}/${runId}/${taskId}/${tryNumber}`): the same inputs always
 * give the same delay, while tasks failing together spread their retries out. Without
 * backoff the delay is `min(maxRetryDelay, base)`. `maxRetryDelayMs` null means 24 hours.
 */
import { createHash } from 'node:crypto';
import type { TaskSpec } from './dag-spec.ts';

/** The cap used when a task sets no `maxRetryDelayMs`: 24 hours. */
export const DEFAULT_MAX_RETRY_DELAY_MS = 86_400_000;

/**
 * Delay in whole milliseconds before the try after `failedTryNumber` (1 for the first
 * try): `min(maxRetryDelay, base·2^(n−1) + jitter(seed))` with backoff, else
 * `min(maxRetryDelay, base)`. Throws a `RangeError` on a negative or non-finite delay
 * setting or a try number below 1.
 */
export function retryDelayMs(
  policy: Pick<TaskSpec, 'retryDelayMs' | 'retryExponentialBackoff' | 'maxRetryDelayMs'>,
  failedTryNumber: number,
  seed: string,
): number {
  const base = nonNegative(policy.retryDelayMs, 'retryDelayMs');
  const cap = nonNegative(policy.maxRetryDelayMs ?? DEFAULT_MAX_RETRY_DELAY_MS, 'maxRetryDelayMs');
  if (!Number.isInteger(failedTryNumber) || failedTryNumber < 1) {
    throw new RangeError(`failedTryNumber must be an integer >= 1, got ${failedTryNumber}`);
  }
  if (!policy.retryExponentialBackoff || base === 0) return Math.floor(Math.min(cap, base));
  // base·2^(n−1) ≥ cap already once the exponent passes log2(cap / base): stop doubling there,
  // so large try numbers never reach Infinity.
  let backoff = base;
  for (let i = 1; i < failedTryNumber && backoff < cap; i++) backoff *= 2;
  if (backoff >= cap) return Math.floor(cap);
  const jitter = Math.floor(unitHash(seed) * backoff);
  return Math.floor(Math.min(cap, backoff + jitter));
}

/** A number in [0, 1) from the first 48 bits of the SHA-256 of `seed`. */
function unitHash(seed: string): number {
  return createHash('sha256').update(seed).digest().readUIntBE(0, 6) / 2 ** 48;
}

function nonNegative(value: number, name: string): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative number of ms, got ${value}`);
  }
  return value;
}
