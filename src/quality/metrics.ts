/**
 * Metrics kept as history for each checked version: `row_count`, `null_rate(col)`,
 * `sum(col)`, `mean(col)`, `distinct_count(col)`, `min(col)`, `max(col)`. Each is one
 * aggregate, computed in the same scan as the checks; anomaly checks judge them against
 * earlier versions (`anomaly.ts`).
 */
import { sqlIdentifier } from '../data/duckdb-session.ts';

export const METRIC_FUNCTIONS = [
  'null_rate',
  'sum',
  'mean',
  'distinct_count',
  'min',
  'max',
] as const;
export type MetricFunction = (typeof METRIC_FUNCTIONS)[number];

export interface Metric {
  /** As written, and the history key: `row_count`, `sum(amount)`. */
  name: string;
  fn: MetricFunction | 'row_count';
  column: string | null;
}

/** Parses a metric name; throws saying which names exist. */
export function parseMetric(text: string): Metric {
  const name = text.replace(/\s+/g, '');
  if (name === 'row_count') return { name, fn: 'row_count', column: null };
  const match = /^([a-z_]+)\(([A-Za-z0-9_]+)\)$/.exec(name);
  const fn = match?.[1] as MetricFunction | undefined;
  if (match === null || fn === undefined || !METRIC_FUNCTIONS.includes(fn)) {
    throw new Error(
      `'${text}' is not a metric: use row_count or ${METRIC_FUNCTIONS.map((f) => `${f}(column)`).join(', ')}`,
    );
  }
  return { name: `${fn}(${match[2]})`, fn, column: match[2] ?? null };
}

/** The aggregate computing `metric` as a DOUBLE. */
export function metricSql(metric: Metric): string {
  const col = metric.column === null ? '' : sqlIdentifier(metric.column);
  switch (metric.fn) {
    case 'row_count':
      return 'count(*)::double';
    case 'null_rate':
      return `(count(*) - count(${col}))::double / greatest(count(*), 1)`;
    case 'sum':
      return `sum(${col})::double`;
    case 'mean':
      return `avg(${col})::double`;
    case 'distinct_count':
      return `count(distinct ${col})::double`;
    case 'min':
      return `min(${col})::double`;
    case 'max':
      return `max(${col})::double`;
  }
}
