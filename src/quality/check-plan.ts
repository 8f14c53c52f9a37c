/**
 * Compiles the checks of one dataset version into as few DuckDB scans as possible:
 *
 * - one main scan computes every aggregate of every check and metric at once (null
 *   counts, distinct counts, filtered counts of rows out of range or off a pattern,
 *   the newest timestamp, missing time buckets, vector faults, references missing from
 *   another dataset as an `IN (subquery)` filter, ...);
 * - `schema` reads the Parquet metadata only; `row_count.equal_to` reads the other
 *   version's row count from its metadata;
 * - `distribution` needs the previous version: one scan of it for all such checks;
 * - `custom_sql` runs its own query (one per check).
 *
 * Row-level checks also give a predicate (true when a row fails it), used to write the
 * failing rows to quarantine and the clean rows to the output, only when they failed.
 */

import type { Json } from '../core/dag-spec.ts';
import { parseDuration } from '../core/duration.ts';
import { sqlIdentifier, sqlString } from '../data/duckdb-session.ts';
import { parseRef } from '../data/names.ts';
import { CHECK_DEFAULTS } from './check-defaults.ts';
import { DISTRIBUTION_METRICS, type DistributionMetric, type REGEX_FORMATS } from './check-spec.ts';
import type { Check, ColumnInfo } from './check-validation.ts';
import { type Metric, metricSql, parseMetric } from './metrics.ts';

/** The checked version's view in every query. */
export const DATA_VIEW = 'data';
/** The previous version's view (distribution checks). */
export const PREVIOUS_VIEW = 'previous_data';

/** What a check measured, before thresholds turn it into a status. */
export interface Measured {
  /** The measured value (failing rows, a row count, an age in seconds, a change, a score). */
  value: number | null;
  /** Whether the check's own condition failed (used when no threshold is given). */
  failed: boolean;
  /** Failing rows, for row-level checks. */
  failingRows: number | null;
  message: string;
  details: Json | null;
  /** True when the check could not judge (an anomaly check without enough history). */
  skipped?: boolean;
}

/** What the runner hands a check's judge. */
export interface JudgeInput {
  /** The main scan's row (aggregates by alias). */
  scan: Record<string, unknown>;
  /** Values of the check's extra query, if it has one. */
  extra: Record<string, unknown> | null;
  /** Aggregates over the previous version (distribution), or null without one. */
  previous: Record<string, unknown> | null;
  /** Row count of the checked version. */
  rows: number;
  /** Columns of the checked version. */
  columns: readonly ColumnInfo[];
  /** Evaluation time (freshness), ms since epoch. */
  now: number;
}

/** One check, compiled. */
export interface CompiledCheck {
  check: Check;
  /** Aggregates for the main scan: alias → SQL over `data`. */
  aggregates: Record<string, string>;
  /** Aggregates for the previous version's scan: alias → SQL over `previous_data`. */
  previousAggregates: Record<string, string>;
  /** A query of its own, returning one row. */
  extraQuery: string | null;
  /** SQL true for a failing row (window functions allowed); null for dataset-level checks. */
  rowPredicate: string | null;
  /** Human reason for a quarantined row. */
  reason: string;
  judge(input: JudgeInput): Measured;
}

/** A compiled set of checks. */
export interface CheckPlan {
  checks: CompiledCheck[];
  /** The main scan: every aggregate of every check and metric, in one SELECT. */
  mainScan: string;
  /** The previous version's scan, or null when no check needs it. */
  previousScan: string | null;
  /** Metrics recorded for the history, by name → alias in the main scan. */
  metrics: Map<string, string>;
}

const ROWS_ALIAS = 'q_rows';

/** Patterns of the named regex formats. */
const FORMATS: Record<(typeof REGEX_FORMATS)[number], string> = {
  email: '[^@\\s]+@[^@\\s]+\\.[^@\\s]+',
  uuid: '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}',
  iso_date: '\\d{4}-\\d{2}-\\d{2}',
  iso_timestamp:
    '\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}(:?\\d{2})?)?',
};

/** What compiling needs to know of the checked version. */
export interface PlanContext {
  /** Columns of the checked version. */
  columns: readonly ColumnInfo[];
  /** Per custom_sql check (by index): the data columns its query returns. */
  customColumns: ReadonlyMap<number, readonly string[]>;
  /**
   * ORDER BY of the window that decides which copy of a duplicated row is "the first"
   * (`duplicate_rows`); default none (any copy). A quarantine replay orders the
   * published rows first, so the copies that fail are the replayed ones.
   */
  windowOrder?: string;
}

/** Compiles `checks` (validated) plus the history `metrics` into a plan. */
export function compileChecks(
  checks: readonly Check[],
  metricNames: readonly string[],
  context: PlanContext,
): CheckPlan {
  const compiled = checks.map((check) => compileCheck(check, context));
  const metrics = new Map<string, string>();
  const metricAggregates: Record<string, string> = {};
  const addMetric = (metric: Metric) => {
    if (metrics.has(metric.name)) return;
    const alias = `m_${metrics.size}`;
    metrics.set(metric.name, alias);
    metricAggregates[alias] = metricSql(metric);
  };
  addMetric(parseMetric('row_count'));
  for (const name of metricNames) addMetric(parseMetric(name));
  for (const check of checks) if (check.metric !== undefined) addMetric(parseMetric(check.metric));
  const selects = [
    `count(*) as ${ROWS_ALIAS}`,
    ...Object.entries(metricAggregates).map(([alias, expr]) => `${expr} as ${alias}`),
    ...compiled.flatMap((c) =>
      Object.entries(c.aggregates).map(([alias, expr]) => `${expr} as ${alias}`),
    ),
  ];
  const previous = compiled.flatMap((c) =>
    Object.entries(c.previousAggregates).map(([alias, expr]) => `${expr} as ${alias}`),
  );
  return {
    checks: compiled,
    mainScan: `select ${selects.join(',\n  ')}\nfrom ${DATA_VIEW}`,
    previousScan:
      previous.length > 0 ? `select ${previous.join(', ')} from ${PREVIOUS_VIEW}` : null,
    metrics,
  };
}

/** The row count alias of the main scan. */
export function rowsOf(scan: Record<string, unknown>): number {
  return Number(scan[ROWS_ALIAS] ?? 0);
}

function num(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const n = Number(value);
  return Number.isNaN(n) ? null : n;
}

function literal(value: string | number | boolean): string {
  return typeof value === 'string' ? sqlString(value) : String(value);
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * The measure of a check that fails when `n` problems were found; `countsRows` when the
 * problems are rows (then they are the failing rows).
 */
function countMeasure(n: number, countsRows: boolean, ok: string, bad: string): Measured {
  return {
    value: n,
    failed: n > 0,
    failingRows: countsRows ? n : null,
    message: n === 0 ? ok : bad,
    details: null,
  };
}

/** A row-level check whose aggregate is the count of rows matching its predicate. */
function rowCheck(
  check: Check,
  predicate: string,
  reason: string,
  describe: (n: number) => string,
): CompiledCheck {
  const alias = `c${check.index}`;
  return {
    check,
    aggregates: { [alias]: `count(*) filter (where ${predicate})` },
    previousAggregates: {},
    extraQuery: null,
    rowPredicate: predicate,
    reason,
    judge: ({ scan }) => {
      const n = num(scan[alias]) ?? 0;
      return countMeasure(n, true, 'no failing rows', describe(n));
    },
  };
}

function compileCheck(check: Check, context: PlanContext): CompiledCheck {
  const col = check.column === undefined ? '' : sqlIdentifier(check.column);
  const a = (name: string) => `c${check.index}_${name}`;
  const base = {
    check,
    aggregates: {},
    previousAggregates: {},
    extraQuery: null,
    rowPredicate: null,
  };
  switch (check.type) {
    case 'schema':
      return { ...base, reason: 'schema', judge: ({ columns }) => judgeSchema(check, columns) };
    case 'row_count': {
      const other = check.equal_to;
      return {
        ...base,
        extraQuery:
          other === undefined
            ? null
            : `select count(*) as n from ${sqlIdentifier(parseRef(other).name)}`,
        reason: 'row count',
        judge: ({ rows, extra }) => {
          const problems: string[] = [];
          if (typeof check.min === 'number' && rows < check.min)
            problems.push(`fewer than ${check.min}`);
          if (typeof check.max === 'number' && rows > check.max)
            problems.push(`more than ${check.max}`);
          const otherRows = extra === null ? null : (num(extra.n) ?? 0);
          if (otherRows !== null && otherRows !== rows)
            problems.push(`not equal to ${other}'s ${otherRows}`);
          return {
            value: rows,
            failed: problems.length > 0,
            failingRows: null,
            message: `${plural(rows, 'row')}${problems.length ? `: ${problems.join(', ')}` : ''}`,
            details: otherRows === null ? null : { other: other ?? null, otherRows },
          };
        },
      };
    }
    case 'not_null': {
      const alias = a('nulls');
      const allowed = check.max_missing_percent ?? CHECK_DEFAULTS.maxMissingPercent;
      return {
        ...base,
        aggregates: { [alias]: `count(*) - count(${col})` },
        rowPredicate: `${col} is null`,
        reason: `'${check.column}' is null`,
        judge: ({ scan, rows }) => {
          const n = num(scan[alias]) ?? 0;
          const percent = rows === 0 ? 0 : (100 * n) / rows;
          return {
            value: n,
            failed: percent > allowed,
            failingRows: n,
            message: `${plural(n, 'null')} in '${check.column}' (${percent.toFixed(2)}%, at most ${allowed}% allowed)`,
            details: { percent },
          };
        },
      };
    }
    case 'unique': {
      const keys = (Array.isArray(check.columns) ? check.columns : [check.column as string]).map(
        sqlIdentifier,
      );
      const key = keys.length === 1 ? (keys[0] as string) : `row(${keys.join(', ')})`;
      const notNull = keys.map((k) => `${k} is not null`).join(' and ');
      const alias = a('dups');
      return {
        ...base,
        aggregates: {
          [alias]: `count(${key}) filter (where ${notNull}) - count(distinct ${key}) filter (where ${notNull})`,
        },
        rowPredicate: `${notNull} and count(*) over (partition by ${keys.join(', ')}) > 1`,
        reason: `duplicate key (${keys.join(', ')})`,
        judge: ({ scan }) => {
          const n = num(scan[alias]) ?? 0;
          const bad = `${plural(n, 'extra row')} with a duplicated key`;
          return countMeasure(n, true, 'every key is unique', bad);
        },
      };
    }
    case 'accepted_values': {
      const values = (check.values ?? []).map(literal).join(', ');
      return rowCheck(
        check,
        `${col} is not null and ${col} not in (${values})`,
        `'${check.column}' not an accepted value`,
        (n) => `${plural(n, 'row')} with a '${check.column}' outside the accepted values`,
      );
    }
    case 'range': {
      const parts: string[] = [];
      if (check.min !== undefined) parts.push(`${col} < ${literal(check.min)}`);
      if (check.max !== undefined) parts.push(`${col} > ${literal(check.max)}`);
      const bounds = `[${check.min ?? '-∞'}, ${check.max ?? '∞'}]`;
      return rowCheck(
        check,
        `(${parts.join(' or ')})`,
        `'${check.column}' outside ${bounds}`,
        (n) => `${plural(n, 'row')} with '${check.column}' outside ${bounds}`,
      );
    }
    case 'regex': {
      const pattern = check.pattern ?? FORMATS[check.format ?? 'email'];
      return rowCheck(
        check,
        `${col} is not null and not regexp_full_match(${col}::varchar, ${sqlString(pattern)})`,
        `'${check.column}' does not match ${check.format ?? 'the pattern'}`,
        (n) =>
          `${plural(n, 'row')} whose '${check.column}' does not match ${check.format ?? `/${pattern}/`}`,
      );
    }
    case 'referential': {
      const to = parseRef(check.to as string).name;
      const toColumn = sqlIdentifier(check.to_column ?? (check.column as string));
      return rowCheck(
        check,
        `${col} is not null and ${col} not in (select ${toColumn} from ${sqlIdentifier(to)} where ${toColumn} is not null)`,
        `'${check.column}' not found in ${to}`,
        (n) =>
          `${plural(n, 'row')} whose '${check.column}' is missing from ${to}.${check.to_column ?? check.column}`,
      );
    }
    case 'freshness': {
      const alias = a('newest');
      const maxAgeMs = parseDuration(check.max_age as string | number);
      return {
        ...base,
        aggregates: { [alias]: `epoch(max(${col}))` },
        reason: 'stale',
        judge: ({ scan, now }) => {
          const newest = num(scan[alias]);
          if (newest === null) {
            return {
              value: null,
              failed: true,
              failingRows: null,
              message: `'${check.column}' has no values`,
              details: null,
            };
          }
          const age = (now - newest * 1000) / 1000;
          return {
            value: age,
            failed: age * 1000 > maxAgeMs,
            failingRows: null,
            message: `newest '${check.column}' is ${formatAge(age)} old (at most ${formatAge(maxAgeMs / 1000)} allowed)`,
            details: { newest: new Date(newest * 1000).toISOString() },
          };
        },
      };
    }
    case 'continuity': {
      const grain = sqlString(check.grain as string);
      const bucket = `date_trunc(${grain}, ${col})`;
      const alias = a('gaps');
      return {
        ...base,
        aggregates: {
          [alias]: `coalesce(date_diff(${grain}, min(${bucket}), max(${bucket})) + 1 - count(distinct ${bucket}), 0)`,
        },
        reason: 'gap',
        judge: ({ scan }) => {
          const n = num(scan[alias]) ?? 0;
          const bad = `${plural(n, `missing ${check.grain}`)} in '${check.column}'`;
          return countMeasure(n, false, `no missing ${check.grain}`, bad);
        },
      };
    }
    case 'duplicate_rows': {
      const alias = a('dups');
      return {
        ...base,
        aggregates: { [alias]: `count(*) - count(distinct ${DATA_VIEW})` },
        // Every copy after the first fails.
        rowPredicate: `row_number() over (partition by ${context.columns.map((c) => sqlIdentifier(c.name)).join(', ')}${context.windowOrder === undefined ? '' : ` order by ${context.windowOrder}`}) > 1`,
        reason: 'duplicate row',
        judge: ({ scan }) => {
          const n = num(scan[alias]) ?? 0;
          return countMeasure(n, true, 'no duplicate rows', plural(n, 'duplicate row'));
        },
      };
    }
    case 'distribution':
      return compileDistribution(check, col, a);
    case 'custom_sql': {
      // Failing rows are the data rows equal to a returned row on the data columns it has.
      const returned = (context.customColumns.get(check.index) ?? []).map(sqlIdentifier);
      return {
        ...base,
        extraQuery: `select count(*) as n from (${check.sql})`,
        rowPredicate:
          returned.length === 0
            ? null
            : `row(${returned.join(', ')}) in (select row(${returned.join(', ')}) from (${check.sql}))`,
        reason: check.description ?? 'custom check',
        judge: ({ extra }) => {
          const n = num(extra?.n) ?? 0;
          return countMeasure(n, true, 'no failing rows', plural(n, 'failing row'));
        },
      };
    }
    case 'vector_dimension':
      return rowCheck(
        check,
        `${col} is not null and len(${col}) <> ${check.dimension}`,
        `'${check.column}' has not ${check.dimension} elements`,
        (n) => `${plural(n, 'vector')} in '${check.column}' without ${check.dimension} elements`,
      );
    case 'vector_finite':
      return rowCheck(
        check,
        `len(list_filter(${col}, x -> isnan(x) or isinf(x))) > 0`,
        `'${check.column}' has NaN or Inf`,
        (n) => `${plural(n, 'vector')} in '${check.column}' with NaN or Inf`,
      );
    case 'vector_norm': {
      const norm = `sqrt(list_sum(list_transform(${col}, x -> x * x)))`;
      const parts: string[] = [];
      if (check.min !== undefined) parts.push(`${norm} < ${literal(check.min)}`);
      if (check.max !== undefined) parts.push(`${norm} > ${literal(check.max)}`);
      const bounds = `[${check.min ?? 0}, ${check.max ?? '∞'}]`;
      return rowCheck(
        check,
        `isfinite(${norm}) and (${parts.join(' or ')})`,
        `norm of '${check.column}' outside ${bounds}`,
        (n) => `${plural(n, 'vector')} in '${check.column}' with a norm outside ${bounds}`,
      );
    }
    case 'anomaly':
      // Judged by the runner against the metric history (`anomaly.ts`).
      return {
        ...base,
        reason: 'anomaly',
        judge: () => ({
          value: null,
          failed: false,
          failingRows: null,
          message: '',
          details: null,
        }),
      };
  }
}

function compileDistribution(
  check: Check,
  col: string,
  a: (name: string) => string,
): CompiledCheck {
  const metrics: readonly DistributionMetric[] = check.metrics ?? DISTRIBUTION_METRICS;
  const maxChange = check.max_change ?? CHECK_DEFAULTS.maxChange;
  const exprs: Record<DistributionMetric, string> = {
    mean: `avg(${col})::double`,
    stddev: `stddev_samp(${col})::double`,
    null_rate: `(count(*) - count(${col}))::double / greatest(count(*), 1)`,
    distinct_count: `count(distinct ${col})::double`,
  };
  const aggregates: Record<string, string> = {};
  const previousAggregates: Record<string, string> = {};
  for (const metric of metrics) {
    aggregates[a(metric)] = exprs[metric];
    previousAggregates[a(metric)] = exprs[metric];
  }
  return {
    check,
    aggregates,
    previousAggregates,
    extraQuery: null,
    rowPredicate: null,
    reason: 'distribution change',
    judge: ({ scan, previous }) => {
      if (previous === null) {
        return {
          value: null,
          failed: false,
          failingRows: null,
          message: 'no previous version to compare with',
          details: null,
          skipped: true,
        };
      }
      const changes: { [metric: string]: Json } = {};
      let worst = 0;
      const over: string[] = [];
      for (const metric of metrics) {
        const now = num(scan[a(metric)]) ?? 0;
        const before = num(previous[a(metric)]) ?? 0;
        // The null rate is a fraction already: its change is absolute; the rest relative.
        const change =
          metric === 'null_rate'
            ? Math.abs(now - before)
            : before === 0
              ? now === 0
                ? 0
                : Number.POSITIVE_INFINITY
              : Math.abs(now - before) / Math.abs(before);
        changes[metric] = {
          previous: before,
          current: now,
          change: Number.isFinite(change) ? change : null,
        };
        worst = Math.max(worst, change);
        if (change > maxChange)
          over.push(`${metric} ${before.toPrecision(4)} → ${now.toPrecision(4)}`);
      }
      return {
        value: Number.isFinite(worst) ? worst : null,
        failed: over.length > 0,
        failingRows: null,
        message:
          over.length === 0
            ? `'${check.column}' within ${maxChange} of the previous version`
            : `'${check.column}' changed beyond ${maxChange}: ${over.join(', ')}`,
        details: changes,
      };
    },
  };
}

function judgeSchema(check: Check, columns: readonly ColumnInfo[]): Measured {
  const expected = (check.columns ?? {}) as Record<string, string>;
  const actual = new Map(columns.map((c) => [c.name, c.type]));
  const missing: string[] = [];
  const retyped: string[] = [];
  for (const [name, type] of Object.entries(expected)) {
    const found = actual.get(name);
    if (found === undefined) missing.push(name);
    else if (type !== '*' && normalizeType(type) !== normalizeType(found))
      retyped.push(`${name} is ${found}, expected ${type}`);
  }
  const extra =
    check.mode === 'exact' ? columns.map((c) => c.name).filter((n) => !(n in expected)) : [];
  const problems = [
    ...(missing.length ? [`missing ${missing.join(', ')}`] : []),
    ...retyped,
    ...(extra.length ? [`unexpected ${extra.join(', ')}`] : []),
  ];
  const n = missing.length + retyped.length + extra.length;
  return {
    value: n,
    failed: n > 0,
    failingRows: null,
    message: n === 0 ? 'schema as expected' : problems.join('; '),
    details: { missing, retyped, extra },
  };
}

/** DuckDB type names compared without case and with the common aliases folded. */
function normalizeType(type: string): string {
  const t = type.trim().toUpperCase();
  const aliases: Record<string, string> = {
    INT: 'INTEGER',
    INT4: 'INTEGER',
    INT8: 'BIGINT',
    LONG: 'BIGINT',
    STRING: 'VARCHAR',
    TEXT: 'VARCHAR',
    FLOAT8: 'DOUBLE',
    FLOAT4: 'FLOAT',
    REAL: 'FLOAT',
    BOOL: 'BOOLEAN',
    TIMESTAMPTZ: 'TIMESTAMP WITH TIME ZONE',
  };
  return aliases[t] ?? t;
}

function formatAge(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} days`;
}
