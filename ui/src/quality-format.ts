/**
 * How quality results read: a check's threshold (its `warn_if` / `error_if`, else the
 * rule its type applies, with the defaults the check plan uses), measured values and
 * the colour class of a status.
 */
import { ANOMALY_DEFAULTS } from '../../src/quality/anomaly.ts';
import { CHECK_DEFAULTS } from '../../src/quality/check-defaults.ts';
import type { CheckSpec } from './api.ts';
import { formatDuration } from './format.ts';

/** "error if > 5%; warn if > 0", or the type's rule ("amount ≥ 0", "score ≤ 3.5"). */
export function thresholdText(check: CheckSpec | null): string {
  if (check === null) return '—';
  const given = [
    check.error_if === undefined ? null : `error if ${check.error_if.trim()}`,
    check.warn_if === undefined ? null : `warn if ${check.warn_if.trim()}`,
  ].filter((t) => t !== null);
  return given.length > 0 ? given.join('; ') : ruleText(check);
}

function ruleText(c: CheckSpec): string {
  switch (c.type) {
    case 'schema':
      return `${c.mode ?? 'subset'} of ${Object.keys(c.columns ?? {}).length} columns`;
    case 'row_count':
      return c.equal_to !== undefined
        ? `rows = rows of ${c.equal_to}`
        : bounds('rows', c.min, c.max);
    case 'not_null':
      return `≤ ${c.max_missing_percent ?? CHECK_DEFAULTS.maxMissingPercent}% null`;
    case 'unique':
      return 'no duplicate keys';
    case 'accepted_values':
      return `in ${shorten((c.values ?? []).map(String).join(', '), 60)}`;
    case 'range':
      return bounds(c.column ?? 'value', c.min, c.max);
    case 'regex':
      return c.format !== undefined
        ? `format ${c.format}`
        : `matches ${shorten(c.pattern ?? '', 60)}`;
    case 'referential':
      return `in ${c.to}.${c.to_column ?? c.column}`;
    case 'freshness':
      return `age ≤ ${typeof c.max_age === 'number' ? formatDuration(c.max_age) : c.max_age}`;
    case 'continuity':
      return `no gap (per ${c.grain})`;
    case 'duplicate_rows':
      return 'no duplicate rows';
    case 'distribution':
      return `change ≤ ${c.max_change ?? CHECK_DEFAULTS.maxChange}`;
    case 'custom_sql':
      return 'no rows returned';
    case 'vector_dimension':
      return `dimension = ${c.dimension}`;
    case 'vector_finite':
      return 'no NaN or ±Inf';
    case 'vector_norm':
      return bounds('norm', c.min, c.max);
    case 'anomaly':
      return `score ≤ ${c.threshold ?? ANOMALY_DEFAULTS.threshold} (after ${c.min_points ?? ANOMALY_DEFAULTS.minPoints} points)`;
  }
}

function bounds(what: string, min: number | string | undefined, max: number | string | undefined) {
  if (min !== undefined && max !== undefined) return `${min} ≤ ${what} ≤ ${max}`;
  if (min !== undefined) return `${what} ≥ ${min}`;
  if (max !== undefined) return `${what} ≤ ${max}`;
  return what;
}

function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A measured value with at most 6 significant digits, grouped ("1,234.57"). */
export function formatValue(value: number | null): string {
  if (value === null) return '—';
  return Number(value.toPrecision(6)).toLocaleString('en-US', { maximumFractionDigits: 6 });
}

/** The badge class of a check status (the state colours: pass green, warn amber, ...). */
export function statusClass(status: string): string {
  const state: Record<string, string> = {
    pass: 'success',
    warn: 'up_for_retry',
    error: 'failed',
    skipped: 'none',
  };
  return `badge state-${state[status] ?? 'none'}`;
}
