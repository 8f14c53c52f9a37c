/**
 * `QualityOperations`: what the CLI (`updraft quality results`, `history`, `replay`), the
 * REST API and the UI can ask of the quality layer, and `StoreQualityOperations`, its
 * implementation over the metadata store and the dataset storage.
 *
 * A quality run is one attempt of a `quality` task on one dataset version: its results
 * share the version, the run, the task, the try and `checkedAt`.
 */

import { sql } from 'kysely';
import type { Json } from '../core/dag-spec.ts';
import { NotFoundError } from '../core/errors.ts';
import { assertDatasetName } from '../data/names.ts';
import { assertDatasetExists } from '../data/registry.ts';
import { dataDb } from '../data/schema.ts';
import { type DatasetStorage, datasetsRootForHome, LocalDatasetStorage } from '../data/storage.ts';
import { getDagVersion } from '../store/queries/dags.ts';
import type { Store } from '../store/store.ts';
import type { MetricPoint } from './anomaly.ts';
import type { CheckStatus } from './check-runner.ts';
import { type CheckSpec, type QualityConfig, ROW_LEVEL_TYPES } from './check-spec.ts';
import { defaultId } from './check-validation.ts';
import { qualityDb } from './quality-store.ts';
import type { ReplayReport, ReplayRequest } from './quarantine-replay.ts';

/** One stored result: a check on a version in a run. */
export interface QualityResultRow {
  dataset: string;
  version: number;
  checkId: string;
  type: string;
  severity: 'warn' | 'error';
  blocking: boolean;
  status: CheckStatus;
  value: number | null;
  failingRows: number | null;
  quarantined: boolean;
  message: string;
  details: Json | null;
  dagId: string;
  runId: string;
  taskId: string;
  tryNumber: number;
  checkedAt: string;
}

export interface QualityResultsQuery {
  /** Only this version (default: every version). */
  version?: number;
  /** Only results of this DAG run (default: every run). */
  runId?: string;
  /** Only results with these statuses. */
  statuses?: CheckStatus[];
  /** Most rows, newest first (default 200). */
  limit?: number;
}

/** Counts of results by status. */
export type StatusCounts = Record<CheckStatus, number>;

/** One quality run on a version, summarised. */
export interface QualityRunSummary {
  dataset: string;
  version: number;
  dagId: string;
  runId: string;
  taskId: string;
  tryNumber: number;
  checkedAt: string;
  counts: StatusCounts;
  /** Whether every blocking check passed; null when the run had no blocking check. */
  blockingPassed: boolean | null;
}

/** A stored result with what it was checked against and where its failing rows went. */
export interface QualityResultDetail extends QualityResultRow {
  /**
   * The check as declared in the DAG version the run used (its thresholds and bounds);
   * null when that version is no longer in the store.
   */
  check: CheckSpec | null;
  /** The quarantine version holding this check's failing rows, if any were written. */
  quarantine: { dataset: string; version: number } | null;
}

/** One quality run on a version with every result, by check id. */
export interface QualityRunDetail extends QualityRunSummary {
  results: QualityResultDetail[];
}

/** A metric recorded in `dataset`'s history. */
export interface MetricSummary {
  metric: string;
  /** Versions with a value. */
  points: number;
  /** Points judged anomalous. */
  anomalies: number;
  /** The newest version with a value. */
  latestVersion: number;
}

export interface QualityOperations {
  /** Stored results of `dataset`'s checks, newest first. */
  results(dataset: string, query?: QualityResultsQuery): Promise<QualityResultRow[]>;
  /** The results of the latest quality run on a version (default: the newest version checked). */
  latestResults(dataset: string, version?: number): Promise<QualityResultRow[]>;
  /** Quality runs on `dataset` (or one version), newest first (default at most 200). */
  runs(dataset: string, query?: { version?: number; limit?: number }): Promise<QualityRunSummary[]>;
  /**
   * One quality run with its check definitions and quarantine versions: the latest on
   * `version` (default: the newest version checked), or the latest of DAG run `runId`.
   */
  run(dataset: string, query?: { version?: number; runId?: string }): Promise<QualityRunDetail>;
  /** A metric's history for `dataset`, oldest first. */
  metricHistory(dataset: string, metric: string, limit?: number): Promise<MetricPoint[]>;
  /** The metrics with a history for `dataset`, by name. */
  metrics(dataset: string): Promise<MetricSummary[]>;
  /** Replays a quarantine version (ADR 17); see `quarantine-replay.ts`. */
  replay(request: ReplayRequest): Promise<ReplayReport>;
}

/** `QualityOperations` over the metadata store and the dataset storage. */
export class StoreQualityOperations implements QualityOperations {
  constructor(
    private readonly store: Store,
    private readonly storage: DatasetStorage,
  ) {}

  async replay(request: ReplayRequest): Promise<ReplayReport> {
    const { replayQuarantine } = await import('./quarantine-replay.ts');
    return replayQuarantine(this.store, this.storage, request);
  }

  async results(dataset: string, query: QualityResultsQuery = {}): Promise<QualityResultRow[]> {
    assertDatasetName(dataset);
    let q = qualityDb(this.store.db)
      .selectFrom('quality_results')
      .selectAll()
      .where('dataset', '=', dataset);
    if (query.version !== undefined) q = q.where('version', '=', query.version);
    if (query.runId !== undefined) q = q.where('run_id', '=', query.runId);
    if (query.statuses !== undefined && query.statuses.length > 0)
      q = q.where('status', 'in', query.statuses);
    const rows = await q
      .orderBy('checked_at', 'desc')
      .orderBy('id')
      .limit(query.limit ?? 200)
      .execute();
    if (rows.length === 0) await assertDatasetExists(this.store.db, dataset);
    return rows.map((r) => ({
      dataset: r.dataset,
      version: r.version,
      checkId: r.check_id,
      type: r.check_type,
      severity: r.severity,
      blocking: r.blocking,
      status: r.status,
      value: r.value === null ? null : Number(r.value),
      failingRows: r.failing_rows === null ? null : Number(r.failing_rows),
      quarantined: r.quarantined,
      message: r.message,
      details: typeof r.details === 'string' ? (JSON.parse(r.details) as Json) : r.details,
      dagId: r.dag_id,
      runId: r.run_id,
      taskId: r.task_id,
      tryNumber: r.try_number,
      checkedAt: new Date(r.checked_at).toISOString(),
    }));
  }

  async latestResults(dataset: string, version?: number): Promise<QualityResultRow[]> {
    return (await this.latestRun(dataset, { version })).rows;
  }

  async runs(
    dataset: string,
    query: { version?: number; limit?: number } = {},
  ): Promise<QualityRunSummary[]> {
    assertDatasetName(dataset);
    const count = (status: CheckStatus) =>
      sql<number>`(count(*) filter (where status = ${status}))::int`.as(status);
    const rows = await qualityDb(this.store.db)
      .selectFrom('quality_results')
      .select([
        'version',
        'dag_id',
        'run_id',
        'task_id',
        'try_number',
        'checked_at',
        count('pass'),
        count('warn'),
        count('error'),
        count('skipped'),
        sql<boolean>`bool_or(blocking)`.as('has_blocking'),
        sql<boolean>`bool_or(blocking and status = 'error')`.as('blocking_failed'),
      ])
      .where('dataset', '=', dataset)
      .$if(query.version !== undefined, (q) => q.where('version', '=', query.version as number))
      .groupBy(['version', 'dag_id', 'run_id', 'task_id', 'try_number', 'checked_at'])
      .orderBy('checked_at', 'desc')
      .orderBy('version', 'desc')
      .limit(query.limit ?? 200)
      .execute();
    if (rows.length === 0) await assertDatasetExists(this.store.db, dataset);
    return rows.map((r) => ({
      dataset,
      version: r.version,
      dagId: r.dag_id,
      runId: r.run_id,
      taskId: r.task_id,
      tryNumber: r.try_number,
      checkedAt: new Date(r.checked_at).toISOString(),
      counts: { pass: r.pass, warn: r.warn, error: r.error, skipped: r.skipped },
      blockingPassed: r.has_blocking ? !r.blocking_failed : null,
    }));
  }

  async run(
    dataset: string,
    query: { version?: number; runId?: string } = {},
  ): Promise<QualityRunDetail> {
    const { summary, rows } = await this.latestRun(dataset, query);
    const { checks, quarantineDataset } = await this.checkDefinitions(summary, dataset);
    const quarantined = rows.filter(
      (r) =>
        (r.status === 'warn' || r.status === 'error') &&
        (r.failingRows ?? 0) > 0 &&
        ROW_LEVEL_TYPES.has(r.type as CheckSpec['type']),
    );
    const quarantineVersion =
      quarantined.length === 0
        ? undefined
        : await dataDb(this.store.db)
            .selectFrom('dataset_versions')
            .select('version')
            .where('dataset', '=', quarantineDataset)
            .where('dag_id', '=', summary.dagId)
            .where('run_id', '=', summary.runId)
            .where('task_id', '=', summary.taskId)
            .where('try_number', '=', summary.tryNumber)
            .orderBy('version', 'desc')
            .executeTakeFirst();
    return {
      ...summary,
      results: rows.map((r) => ({
        ...r,
        check: checks.get(r.checkId) ?? null,
        quarantine:
          quarantineVersion !== undefined && quarantined.includes(r)
            ? { dataset: quarantineDataset, version: quarantineVersion.version }
            : null,
      })),
    };
  }

  async metricHistory(dataset: string, metric: string, limit = 200): Promise<MetricPoint[]> {
    assertDatasetName(dataset);
    const rows = await qualityDb(this.store.db)
      .selectFrom('quality_metrics')
      .select(['version', 'value', 'anomaly', 'observed_at'])
      .where('dataset', '=', dataset)
      .where('metric', '=', metric)
      .orderBy('version', 'desc')
      .limit(limit)
      .execute();
    return rows
      .map((r) => ({
        version: r.version,
        value: Number(r.value),
        anomaly: r.anomaly,
        at: new Date(r.observed_at).toISOString(),
      }))
      .reverse();
  }
  async metrics(dataset: string): Promise<MetricSummary[]> {
    assertDatasetName(dataset);
    const rows = await qualityDb(this.store.db)
      .selectFrom('quality_metrics')
      .select([
        'metric',
        sql<number>`(count(value))::int`.as('points'),
        sql<number>`(count(*) filter (where anomaly))::int`.as('anomalies'),
        sql<number>`max(version) filter (where value is not null)`.as('latest_version'),
      ])
      .where('dataset', '=', dataset)
      .groupBy('metric')
      .orderBy('metric')
      .execute();
    if (rows.length === 0) await assertDatasetExists(this.store.db, dataset);
    return rows
      .filter((r) => r.points > 0)
      .map((r) => ({
        metric: r.metric,
        points: r.points,
        anomalies: r.anomalies,
        latestVersion: Number(r.latest_version),
      }));
  }

  /** The latest quality run matching `query`, summarised, with its results by check id. */
  private async latestRun(
    dataset: string,
    query: { version?: number | undefined; runId?: string | undefined },
  ): Promise<{ summary: QualityRunSummary; rows: QualityResultRow[] }> {
    assertDatasetName(dataset);
    const { version, runId } = query;
    const latest = await qualityDb(this.store.db)
      .selectFrom('quality_results')
      .select(['version', 'dag_id', 'run_id', 'task_id', 'try_number', 'checked_at'])
      .where('dataset', '=', dataset)
      .$if(version !== undefined, (q) => q.where('version', '=', version as number))
      .$if(runId !== undefined, (q) => q.where('run_id', '=', runId as string))
      .orderBy('checked_at', 'desc')
      .orderBy('version', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (latest === undefined) {
      const which = [
        version === undefined ? '' : ` v${version}`,
        runId === undefined ? '' : ` in run '${runId}'`,
      ].join('');
      throw new NotFoundError(
        `no quality results for dataset '${dataset}'${which}: run a 'quality' task on it`,
      );
    }
    const at = new Date(latest.checked_at).toISOString();
    const rows = (
      await this.results(dataset, { version: latest.version, runId: latest.run_id, limit: 10_000 })
    )
      .filter(
        (r) =>
          r.checkedAt === at &&
          r.dagId === latest.dag_id &&
          r.taskId === latest.task_id &&
          r.tryNumber === latest.try_number,
      )
      .sort((a, b) => a.checkId.localeCompare(b.checkId));
    const counts: StatusCounts = { pass: 0, warn: 0, error: 0, skipped: 0 };
    for (const r of rows) counts[r.status]++;
    const blocking = rows.filter((r) => r.blocking);
    return {
      summary: {
        dataset,
        version: latest.version,
        dagId: latest.dag_id,
        runId: latest.run_id,
        taskId: latest.task_id,
        tryNumber: latest.try_number,
        checkedAt: at,
        counts,
        blockingPassed: blocking.length === 0 ? null : blocking.every((r) => r.status !== 'error'),
      },
      rows,
    };
  }

  /**
   * The checks of the quality task that made `run`, by id, as declared in the DAG
   * version the run used, and the dataset its failing rows go to.
   */
  private async checkDefinitions(
    run: QualityRunSummary,
    dataset: string,
  ): Promise<{ checks: Map<string, CheckSpec>; quarantineDataset: string }> {
    const dagRun = await this.store.db
      .selectFrom('dag_runs')
      .select('version_hash')
      .where('dag_id', '=', run.dagId)
      .where('run_id', '=', run.runId)
      .executeTakeFirst();
    const dagVersion =
      dagRun && (await getDagVersion(this.store.db, run.dagId, dagRun.version_hash));
    const task = dagVersion?.spec.tasks.find((t) => t.taskId === run.taskId);
    const config = (task?.operator === 'quality' ? task.config : {}) as Partial<QualityConfig>;
    const checks = new Map<string, CheckSpec>();
    if (Array.isArray(config.checks))
      for (const check of config.checks) checks.set(check.id ?? defaultId(check), check);
    const quarantineDataset =
      typeof config.quarantineDataset === 'string'
        ? config.quarantineDataset
        : `${dataset}.quarantine`;
    return { checks, quarantineDataset };
  }
}

/** `QualityOperations` for a store and home folder (datasets in the home, as the runtime has them). */
export function createQualityOperations(store: Store, home: string): StoreQualityOperations {
  return new StoreQualityOperations(store, new LocalDatasetStorage(datasetsRootForHome(home)));
}
