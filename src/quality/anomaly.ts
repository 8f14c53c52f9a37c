/**
 * Anomaly detection on a metric's history, robust to outliers (median and MAD):
 *
 * 1. Baseline: the metric's values for earlier versions of the dataset, newest first,
 *    at most `lookback` of them, leaving out values that were themselves judged
 *    anomalous (so one spike does not widen the bounds for the next).
 * 2. With `seasonality: 'weekly'`, only the points observed on the same UTC weekday
 *    as the judged value are the baseline (a Monday is compared with Mondays).
 * 3. Fewer than `minPoints` baseline points: no judgement (`insufficient`).
 * 4. Robust z-score: `|x − median| / (1.4826 · MAD)`, where MAD is the median of the
 *    absolute deviations from the median (1.4826 makes it the standard deviation for
 *    normal data). When MAD is 0 (more than half the points are equal), the mean
 *    absolute deviation × 1.2533 is the scale instead; when that is 0 too, any value
 *    other than the median is an anomaly (score ∞).
 * 5. Anomaly when the score exceeds `threshold` (default 3.5, Iglewicz and Hoaglin's
 *    cut-off); the bounds are `median ± threshold · scale`.
 */

export interface MetricPoint {
  version: number;
  value: number;
  /** When the value was observed (the data interval start of the checking run), ISO. */
  at: string;
  /** Whether the point was judged anomalous (excluded from baselines). */
  anomaly: boolean;
}

export interface AnomalyOptions {
  minPoints: number;
  threshold: number;
  seasonality: 'none' | 'weekly';
  lookback: number;
}

export const ANOMALY_DEFAULTS: AnomalyOptions = {
  minPoints: 7,
  threshold: 3.5,
  seasonality: 'none',
  lookback: 90,
};

export type AnomalyJudgement =
  | { judged: false; points: number; needed: number }
  | {
      judged: true;
      anomaly: boolean;
      score: number;
      median: number;
      scale: number;
      lower: number;
      upper: number;
      points: number;
    };

/** Judges `value` (observed at `at`) against `history` (earlier versions, any order). */
export function judgeAnomaly(
  value: number,
  at: string,
  history: readonly MetricPoint[],
  options: AnomalyOptions,
): AnomalyJudgement {
  const weekday = new Date(at).getUTCDay();
  const baseline = [...history]
    .filter((p) => !p.anomaly && Number.isFinite(p.value))
    .sort((a, b) => b.version - a.version)
    .slice(0, options.lookback)
    .filter((p) => options.seasonality === 'none' || new Date(p.at).getUTCDay() === weekday)
    .map((p) => p.value);
  if (baseline.length < options.minPoints) {
    return { judged: false, points: baseline.length, needed: options.minPoints };
  }
  const center = median(baseline);
  const deviations = baseline.map((x) => Math.abs(x - center));
  let scale = 1.4826 * median(deviations);
  if (scale === 0) scale = 1.2533 * (deviations.reduce((a, b) => a + b, 0) / deviations.length);
  const distance = Math.abs(value - center);
  const score = scale === 0 ? (distance === 0 ? 0 : Number.POSITIVE_INFINITY) : distance / scale;
  return {
    judged: true,
    anomaly: score > options.threshold,
    score,
    median: center,
    scale,
    lower: center - options.threshold * scale,
    upper: center + options.threshold * scale,
    points: baseline.length,
  };
}

/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
