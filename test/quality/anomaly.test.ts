/**
 * Anomaly detection on a synthetic daily metric with weekly seasonality (busy weekdays,
 * quiet weekends) and one spike: judged one day at a time against the history so far,
 * earlier anomalies left out, as the quality hooks do.
 */
import { describe, expect, it } from 'vitest';
import {
  type AnomalyOptions,
  judgeAnomaly,
  type MetricPoint,
  median,
} from '../../src/quality/anomaly.ts';

const DAYS = 140;
const SPIKE = 101;
const START = Date.parse('2026-01-05T00:00:00Z'); // a Monday

/** Weekdays ~1000, weekends ~400, deterministic noise of ±3%, one spike. */
function series(): { at: string; value: number }[] {
  return Array.from({ length: DAYS }, (_, day) => {
    const at = new Date(START + day * 86_400_000);
    const weekend = at.getUTCDay() === 0 || at.getUTCDay() === 6;
    const noise = 1 + 0.03 * Math.sin(day * 12.9898);
    const value = (weekend ? 400 : 1000) * noise * (day === SPIKE ? 1.6 : 1);
    return { at: at.toISOString(), value };
  });
}

/** Days judged anomalous, judging each against the points before it. */
function flagged(options: AnomalyOptions): number[] {
  const history: MetricPoint[] = [];
  const days: number[] = [];
  series().forEach(({ at, value }, day) => {
    const judgement = judgeAnomaly(value, at, history, options);
    const anomaly = judgement.judged && judgement.anomaly;
    if (anomaly) days.push(day);
    history.push({ version: day + 1, value, at, anomaly });
  });
  return days;
}

describe('anomaly detection (median and MAD)', () => {
  it('with weekly seasonality flags the spike and nothing else', () => {
    expect(flagged({ minPoints: 8, threshold: 3.5, seasonality: 'weekly', lookback: 90 })).toEqual([
      SPIKE,
    ]);
  });

  it('without seasonality the weekly pattern itself looks anomalous', () => {
    const days = flagged({ minPoints: 4, threshold: 3.5, seasonality: 'none', lookback: 90 });
    expect(days).toContain(SPIKE);
    expect(days.length).toBeGreaterThan(1);
  });

  it('needs the minimum number of points before it judges', () => {
    const history: MetricPoint[] = [1, 2, 3].map((v) => ({
      version: v,
      value: 100,
      at: '2026-01-01T00:00:00Z',
      anomaly: false,
    }));
    expect(
      judgeAnomaly(1e6, '2026-01-04T00:00:00Z', history, {
        minPoints: 4,
        threshold: 3.5,
        seasonality: 'none',
        lookback: 90,
      }),
    ).toEqual({ judged: false, points: 3, needed: 4 });
  });

  it('leaves earlier anomalies out of the baseline, and copes with a zero MAD', () => {
    const flat = (value: number, anomaly = false, version = 1): MetricPoint => ({
      version,
      value,
      at: '2026-01-01T00:00:00Z',
      anomaly,
    });
    const history = [
      flat(100, false, 1),
      flat(100, false, 2),
      flat(100, false, 3),
      flat(5000, true, 4),
      flat(101, false, 5),
    ];
    const options = { minPoints: 4, threshold: 3.5, seasonality: 'none' as const, lookback: 90 };
    const same = judgeAnomaly(100, '2026-01-02T00:00:00Z', history, options);
    expect(same).toMatchObject({ judged: true, anomaly: false, median: 100, points: 4 });
    expect(judgeAnomaly(150, '2026-01-02T00:00:00Z', history, options)).toMatchObject({
      anomaly: true,
    });
    expect(median([3, 1, 2, 10])).toBe(2.5);
  });
});
