/**
 * Runs a dataset version's checks in a DuckDB session where the version is the view
 * `data` (and the previous version, when there is one, `previous_data`; inlets are
 * views named after their datasets): validates the checks against the version's
 * columns, compiles them (`check-plan.ts`), runs the scans, and turns what each check
 * measured into a status with its thresholds. Anomaly checks are judged against the
 * metric history handed in (`anomaly.ts`).
 */
import type { Json } from '../core/dag-spec.ts';
import { TaskFailure } from '../core/errors.ts';
import type { DuckDbSession } from '../data/duckdb-session.ts';
import { ANOMALY_DEFAULTS, judgeAnomaly, type MetricPoint } from './anomaly.ts';
import { type CheckPlan, compileChecks, DATA_VIEW, type Measured, rowsOf } from './check-plan.ts';
import type { CheckSpec, CheckType, Severity } from './check-spec.ts';
import { type Check, type ColumnInfo, validateChecks } from './check-validation.ts';
import { parseMetric } from './metrics.ts';
import { matches } from './thresholds.ts';

export const CHECK_STATUSES = ['pass', 'warn', 'error', 'skipped'] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

/** The outcome of one check on one version. */
export interface CheckResult {
  checkId: string;
  type: CheckType;
  severity: Severity;
  blocking: boolean;
  status: CheckStatus;
  /** The measured value (see docs/quality.md per type). */
  value: number | null;
  /** Failing rows of a row-level check. */
  failingRows: number | null;
  message: string;
  details: Json | null;
  /** Its failing rows went to quarantine and left the clean output (`quarantine: true`). */
  quarantined: boolean;
}

/** A metric value of the checked version, for the history. */
export interface MetricValue {
  metric: string;
  value: number | null;
  /** Judged anomalous by an anomaly check (then left out of later baselines). */
  anomaly: boolean;
}

export interface CheckRunInput {
  session: DuckDbSession;
  /** The checked dataset's name (for messages). */
  dataset: string;
  checks: readonly CheckSpec[];
  /** Extra metrics for the history. */
  metrics?: readonly string[];
  /** References of the task's inlets (for `to` and `equal_to`). */
  inlets: readonly string[];
  /** Metric history of earlier versions, by metric name. */
  history?: Readonly<Record<string, readonly MetricPoint[]>>;
  /** Whether the view `previous_data` exists. */
  hasPrevious: boolean;
  /** When the values are observed (for weekly seasonality), ISO. */
  observedAt: string;
  /** Evaluation time, ms since epoch (freshness). */
  now: number;
}

export interface CheckRunReport {
  checks: Check[];
  plan: CheckPlan;
  results: CheckResult[];
  metrics: MetricValue[];
  rows: number;
  /** Queries that read rows (the main scan, the previous version, custom SQL, ...). */
  scans: number;
}

/** Validates, compiles and runs `input.checks`; see the module doc. */
export async function runChecks(input: CheckRunInput): Promise<CheckRunReport> {
  const { session, dataset } = input;
  const what = `quality checks of dataset '${dataset}'`;
  const { columns, checks, plan } = await planChecks(input);
  let scans = 1;
  const [scan = {}] = await session.rows(plan.mainScan, what);
  let previous: Record<string, unknown> | null = null;
  if (plan.previousScan !== null && input.hasPrevious) {
    scans++;
    [previous = {}] = await session.rows(plan.previousScan, `${what} (previous version)`);
  }
  const rows = rowsOf(scan);
  const results: CheckResult[] = [];
  const anomalies = new Map<string, boolean>();
  for (const compiled of plan.checks) {
    const { check } = compiled;
    let extra: Record<string, unknown> | null = null;
    if (compiled.extraQuery !== null) {
      if (check.type === 'custom_sql') scans++;
      [extra = {}] = await session.rows(compiled.extraQuery, `${what}, check '${check.id}'`);
    }
    const measured =
      check.type === 'anomaly'
        ? judgeMetric(check, plan, scan, input, anomalies)
        : compiled.judge({ scan, extra, previous, rows, columns, now: input.now });
    results.push({
      checkId: check.id,
      type: check.type,
      severity: check.severity,
      blocking: check.blocking,
      status: statusOf(check, measured, rows),
      value: measured.value,
      failingRows: measured.failingRows,
      message: measured.message,
      details: measured.details,
      quarantined: false,
    });
  }
  const metrics: MetricValue[] = [...plan.metrics].map(([metric, alias]) => {
    const value = scan[alias];
    return {
      metric,
      value: value === null || value === undefined ? null : Number(value),
      anomaly: anomalies.get(metric) ?? false,
    };
  });
  return { checks, plan, results, metrics, rows, scans };
}

/**
 * Validates `input.checks` against the columns of the view `data` (all problems at once,
 * naming dataset, check and field) and compiles them; custom SQL is described to learn
 * the data columns it returns. What `runChecks` scans with, and what a quarantine replay
 * flags rows with.
 */
export async function planChecks(
  input: Pick<CheckRunInput, 'session' | 'dataset' | 'checks' | 'metrics' | 'inlets'> & {
    /** See `PlanContext.windowOrder`. */
    windowOrder?: string;
  },
): Promise<{ columns: ColumnInfo[]; checks: Check[]; plan: CheckPlan }> {
  const { session, dataset } = input;
  const what = `quality checks of dataset '${dataset}'`;
  const columns: ColumnInfo[] = (
    await session.rows(`describe select * from ${DATA_VIEW}`, what)
  ).map((row) => ({ name: String(row.column_name), type: String(row.column_type) }));
  const checks = validateChecks(dataset, input.checks, columns, input.inlets);
  const customColumns = new Map<number, string[]>();
  for (const check of checks) {
    if (check.type !== 'custom_sql') continue;
    const described = await session.rows(`describe ${check.sql}`, what).catch((error: Error) => {
      throw new TaskFailure(
        `dataset '${dataset}': invalid quality checks:\n  check '${check.id}' (checks[${check.index}]) field 'sql': ${error.message.replace(`${what}: `, '')}`,
        { retry: false, cause: error },
      );
    });
    const names = new Set(columns.map((c) => c.name));
    customColumns.set(
      check.index,
      described.map((r) => String(r.column_name)).filter((n) => names.has(n)),
    );
  }
  return {
    columns,
    checks,
    plan: compileChecks(checks, input.metrics ?? [], {
      columns,
      customColumns,
      ...(input.windowOrder === undefined ? {} : { windowOrder: input.windowOrder }),
    }),
  };
}

/** The status of a measured check: thresholds when given, else its severity on failure. */
export function statusOf(check: Check, measured: Measured, rows: number): CheckStatus {
  if (measured.skipped) return 'skipped';
  const value = measured.value;
  if ((check.errorIf !== null || check.warnIf !== null) && value !== null) {
    if (check.errorIf !== null && matches(check.errorIf, value, rows)) return 'error';
    if (check.warnIf !== null && matches(check.warnIf, value, rows)) return 'warn';
    return 'pass';
  }
  return measured.failed ? check.severity : 'pass';
}

function judgeMetric(
  check: Check,
  plan: CheckPlan,
  scan: Record<string, unknown>,
  input: CheckRunInput,
  anomalies: Map<string, boolean>,
): Measured {
  const metric = parseMetric(check.metric as string).name;
  const raw = scan[plan.metrics.get(metric) as string];
  const value = raw === null || raw === undefined ? null : Number(raw);
  if (value === null) {
    return {
      value: null,
      failed: true,
      failingRows: null,
      message: `${metric} has no value`,
      details: null,
    };
  }
  const options = {
    minPoints: check.min_points ?? ANOMALY_DEFAULTS.minPoints,
    threshold: check.threshold ?? ANOMALY_DEFAULTS.threshold,
    seasonality: check.seasonality ?? ANOMALY_DEFAULTS.seasonality,
    lookback: check.lookback ?? ANOMALY_DEFAULTS.lookback,
  };
  const judgement = judgeAnomaly(value, input.observedAt, input.history?.[metric] ?? [], options);
  if (!judgement.judged) {
    return {
      value: null,
      failed: false,
      failingRows: null,
      message: `${metric} = ${value}: ${judgement.points} of ${judgement.needed} history points needed`,
      details: { value, points: judgement.points },
      skipped: true,
    };
  }
  anomalies.set(metric, (anomalies.get(metric) ?? false) || judgement.anomaly);
  const round = (n: number) => Number(n.toPrecision(6));
  return {
    value: Number.isFinite(judgement.score) ? round(judgement.score) : null,
    failed: judgement.anomaly,
    failingRows: null,
    message: `${metric} = ${round(value)}, ${judgement.anomaly ? 'outside' : 'within'} [${round(judgement.lower)}, ${round(judgement.upper)}] (median ${round(judgement.median)} of ${judgement.points} points, score ${Number.isFinite(judgement.score) ? round(judgement.score) : '∞'})`,
    details: {
      value,
      median: judgement.median,
      lower: judgement.lower,
      upper: judgement.upper,
      points: judgement.points,
    },
  };
}
