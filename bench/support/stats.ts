/** Summaries of timing samples. */

/** Percentiles and extremes of a sample, in the sample's unit. */
export interface Summary {
  count: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentiles of `values` (which must not be empty). */
export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new Error('summarize: no samples');
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
  return {
    count: sorted.length,
    min: sorted[0]!,
    p50: rank(0.5),
    p90: rank(0.9),
    p99: rank(0.99),
    max: sorted[sorted.length - 1]!,
    mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
  };
}

/** The median of `values`. */
export function median(values: readonly number[]): number {
  return summarize(values).p50;
}

/** Milliseconds with a precision that suits their size (`0.42 ms`, `12.3 ms`, `1,234 ms`). */
export function ms(value: number): string {
  const digits = value < 10 ? 2 : value < 100 ? 1 : 0;
  return `${value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })} ms`;
}

/** `p50 1.23 ms · p90 … · p99 … · max … (n=300)`. */
export function describeLatency(s: Summary): string {
  return `p50 ${ms(s.p50)} · p90 ${ms(s.p90)} · p99 ${ms(s.p99)} · max ${ms(s.max)} (n=${s.count})`;
}

/** A monotonic timestamp in milliseconds, comparable across processes on this machine. */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint() / 1000n) / 1000;
}
