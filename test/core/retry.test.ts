import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_RETRY_DELAY_MS, retryDelayMs } from '../../src/core/retry.ts';

const MINUTE = 60_000;
const backoff = { retryDelayMs: MINUTE, retryExponentialBackoff: true, maxRetryDelayMs: null };
const plain = { retryDelayMs: 5 * MINUTE, retryExponentialBackoff: false, maxRetryDelayMs: null };

describe('retryDelayMs', () => {
  it('without backoff is the base delay for every try', () => {
    for (const n of [1, 2, 3, 10, 1000])
      expect(retryDelayMs(plain, n, `seed/${n}`)).toBe(5 * MINUTE);
  });

  it('without backoff is still capped by maxRetryDelayMs', () => {
    expect(retryDelayMs({ ...plain, maxRetryDelayMs: MINUTE }, 1, 's')).toBe(MINUTE);
    expect(retryDelayMs({ ...plain, retryDelayMs: 2 * DEFAULT_MAX_RETRY_DELAY_MS }, 1, 's')).toBe(
      DEFAULT_MAX_RETRY_DELAY_MS,
    );
  });

  it('with backoff lies in [base·2^(n−1), base·2^n) for each try', () => {
    for (let n = 1; n <= 10; n++) {
      const low = MINUTE * 2 ** (n - 1);
      for (let s = 0; s < 50; s++) {
        const delay = retryDelayMs(backoff, n, `dag/run-${s}/task/${n}`);
        expect(delay).toBeGreaterThanOrEqual(low);
        expect(delay).toBeLessThan(2 * low);
        expect(Number.isInteger(delay)).toBe(true);
      }
    }
  });

  it('pins the jitter: a change of hash would move every scheduled retry', () => {
    // 240 000 (base·2²) + floor(0.2000… · 240 000) from the SHA-256 of the seed.
    expect(retryDelayMs(backoff, 3, 'etl/run/load/3')).toBe(288_013);
  });

  it('spreads the jitter across seeds', () => {
    const delays = new Set(Array.from({ length: 50 }, (_, s) => retryDelayMs(backoff, 3, `t${s}`)));
    expect(delays.size).toBeGreaterThan(40);
  });

  it('is deterministic: same inputs, same delay', () => {
    const seed = 'etl/scheduled__2026-01-01T00:00:00Z/load/2';
    const first = retryDelayMs(backoff, 2, seed);
    expect(retryDelayMs(backoff, 2, seed)).toBe(first);
    expect(retryDelayMs({ ...backoff }, 2, `${seed}`)).toBe(first);
  });

  it('is capped by maxRetryDelayMs, and by 24 h when it is null', () => {
    const capped = { ...backoff, maxRetryDelayMs: 10 * MINUTE };
    expect(retryDelayMs(capped, 5, 'x')).toBe(10 * MINUTE); // base·16 > cap
    for (let s = 0; s < 20; s++)
      expect(retryDelayMs(capped, 4, `x${s}`)).toBeLessThanOrEqual(10 * MINUTE);
    expect(retryDelayMs(backoff, 12, 'x')).toBe(DEFAULT_MAX_RETRY_DELAY_MS); // 2^11 min > 24 h
  });

  it('stays finite and capped for huge try numbers', () => {
    expect(retryDelayMs(backoff, 1_000_000_000, 'x')).toBe(DEFAULT_MAX_RETRY_DELAY_MS);
    expect(retryDelayMs({ ...backoff, maxRetryDelayMs: Number.MAX_VALUE }, 5000, 'x')).toBe(
      Math.floor(Number.MAX_VALUE),
    );
    expect(retryDelayMs({ ...backoff, retryDelayMs: 0 }, 1_000_000_000, 'x')).toBe(0);
  });

  it('rejects nonsense settings with a RangeError naming them', () => {
    expect(() => retryDelayMs({ ...backoff, retryDelayMs: -1 }, 1, 'x')).toThrow('retryDelayMs');
    expect(() => retryDelayMs({ ...backoff, maxRetryDelayMs: Number.NaN }, 1, 'x')).toThrow(
      'maxRetryDelayMs',
    );
    expect(() => retryDelayMs(backoff, 0, 'x')).toThrow('failedTryNumber must be an integer >= 1');
    expect(() => retryDelayMs(backoff, 1.5, 'x')).toThrow(RangeError);
  });
});
