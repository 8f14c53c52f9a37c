/**
 * The quality layer's tables (SQL in `src/store/migrations/0007-quality.ts`) and the
 * store-side operations on them: recording a committed quality run (results, metric
 * history, the version's blocking flag and manifest summary) and reading history.
 */
import type { ColumnType, Generated, Kysely, Transaction } from 'kysely';
import type { Json } from '../core/dag-spec.ts';
import type { ManifestQuality } from '../data/manifest.ts';
import { syncManifestFile } from '../data/manifest-file.ts';
import type { DataDatabase } from '../data/schema.ts';
import { dataDb } from '../data/schema.ts';
import type { DatasetStorage } from '../data/storage.ts';
import { bindToActiveSpan, traceStep } from '../observability/tracing.ts';
import type { HookTarget } from '../scheduler/attempt-hooks.ts';
import { afterCommit } from '../store/after-commit.ts';
import type { Db } from '../store/store.ts';
import type { MetricPoint } from './anomaly.ts';
import type { QualityRun } from './effects.ts';

type Timestamp = ColumnType<Date, Date | string, Date | string>;

export interface QualityResultsTable {
  id: Generated<number>;
  dataset: string;
  version: number;
  run_pk: number | null;
  dag_id: string;
  run_id: string;
  task_id: string;
  try_number: number;
  check_id: string;
  check_type: string;
  severity: 'warn' | 'error';
  blocking: boolean;
  status: 'pass' | 'warn' | 'error' | 'skipped';
  value: number | null;
  failing_rows: ColumnType<number | null, number | null, number | null>;
  quarantined: boolean;
  message: string;
  details: ColumnType<Json | null, string | null, string | null>;
  checked_at: Timestamp;
}

export interface QualityMetricsTable {
  dataset: string;
  metric: string;
  version: number;
  value: number | null;
  anomaly: boolean;
  observed_at: Timestamp;
  run_pk: number | null;
}

/** A replayed quarantine version (`src/quality/quarantine-replay.ts`, migration 0008). */
export interface QualityReplaysTable {
  id: Generated<number>;
  /** The checked dataset. */
  dataset: string;
  quarantine_dataset: string;
  /** The replayed quarantine version (replayed once: unique with the dataset). */
  quarantine_version: number;
  /** The checked version the rows failed in. */
  checked_version: number | null;
  /** The clean output (`<dataset>.clean`). */
  output_dataset: string;
  /** The clean version the released rows were added to. */
  base_version: number;
  /** The clean version written: base rows plus released rows. */
  output_version: number;
  /** The quarantine version written with the rows still failing (null: none). */
  remainder_version: number | null;
  /** The quality task (and run) whose quarantine this is, through any earlier replays. */
  source_run_pk: number | null;
  source_dag_id: string;
  source_run_id: string;
  source_task_id: string;
  source_version_hash: string | null;
  /** `--check` ids (null: every row). */
  check_ids: ColumnType<string[] | null, string | null, string | null>;
  fix: string | null;
  rows_quarantined: ColumnType<number, number, number>;
  rows_replayed: ColumnType<number, number, number>;
  rows_released: ColumnType<number, number, number>;
  rows_kept: ColumnType<number, number, number>;
  replayed_by: string;
  replayed_at: Timestamp;
}

export interface QualityTables {
  quality_results: QualityResultsTable;
  quality_metrics: QualityMetricsTable;
  quality_replays: QualityReplaysTable;
}

export type QualityDb =
  | Kysely<DataDatabase & QualityTables>
  | Transaction<DataDatabase & QualityTables>;

/** Views a store handle (or transaction) with the quality tables. */
export function qualityDb(db: Db): QualityDb {
  return db as unknown as QualityDb;
}

/**
 * Records a committed quality run: a result row per check, the metric values (replacing
 * those of an earlier check of the same version), the version's
 * `blocking_checks_passed`, and the summary in its manifest: the registry row in the
 * transaction, `manifest.json` from the committed row once the transaction commits
 * (`afterCommit`), so a rollback leaves both as they were.
 */
export async function recordQualityRun(
  db: Db,
  target: HookTarget,
  run: QualityRun,
  storage: DatasetStorage,
  now: Date,
): Promise<{ blockingPassed: boolean | null }> {
  const q = qualityDb(db);
  if (run.results.length > 0) {
    await q
      .insertInto('quality_results')
      .values(
        run.results.map((r) => ({
          dataset: run.dataset,
          version: run.version,
          run_pk: target.runPk,
          dag_id: target.dagId,
          run_id: target.runId,
          task_id: target.task.taskId,
          try_number: target.tryNumber,
          check_id: r.checkId,
          check_type: r.type,
          severity: r.severity,
          blocking: r.blocking,
          status: r.status,
          value: r.value !== null && Number.isFinite(r.value) ? r.value : null,
          failing_rows: r.failingRows,
          quarantined: r.quarantined,
          message: r.message,
          details: r.details === null ? null : JSON.stringify(r.details),
          checked_at: now,
        })),
      )
      .execute();
  }
  for (const m of run.metrics) {
    const value = m.value !== null && Number.isFinite(m.value) ? m.value : null;
    await q
      .insertInto('quality_metrics')
      .values({
        dataset: run.dataset,
        metric: m.metric,
        version: run.version,
        value,
        anomaly: m.anomaly,
        observed_at: run.observedAt,
        run_pk: target.runPk,
      })
      .onConflict((oc) =>
        oc.columns(['dataset', 'metric', 'version']).doUpdateSet({
          value,
          anomaly: m.anomaly,
          observed_at: run.observedAt,
          run_pk: target.runPk,
        }),
      )
      .execute();
  }
  const blocking = run.results.filter((r) => r.blocking);
  // The checked version keeps its failing rows, quarantined or not.
  const blockingPassed = blocking.length === 0 ? null : !blocking.some((r) => r.status === 'error');
  const data = dataDb(db);
  const version = await data
    .selectFrom('dataset_versions')
    .select(['manifest', 'path', 'blocking_checks_passed'])
    .where('dataset', '=', run.dataset)
    .where('version', '=', run.version)
    .executeTakeFirst();
  if (version === undefined) return { blockingPassed };
  const manifest =
    typeof version.manifest === 'string' ? JSON.parse(version.manifest) : version.manifest;
  const counts = { pass: 0, warn: 0, error: 0, skipped: 0 };
  for (const r of run.results) counts[r.status]++;
  const summary: ManifestQuality = {
    checkedAt: now.toISOString(),
    dagId: target.dagId,
    runId: target.runId,
    taskId: target.task.taskId,
    counts,
    blockingPassed,
    checks: run.results.map((r) => ({
      id: r.checkId,
      type: r.type,
      status: r.status,
      message: r.message,
    })),
  };
  const updated = { ...manifest, quality: summary };
  await data
    .updateTable('dataset_versions')
    .set({
      manifest: JSON.stringify(updated),
      ...(blockingPassed === null ? {} : { blocking_checks_passed: blockingPassed }),
    })
    .where('dataset', '=', run.dataset)
    .where('version', '=', run.version)
    .execute();
  // The file follows the committed row: written now, a rollback would leave it ahead.
  await afterCommit(
    db,
    bindToActiveSpan((store) =>
      traceStep(
        `manifest write ${run.dataset} v${run.version}`,
        { 'updraft.dataset': run.dataset, 'updraft.version': run.version },
        () => syncManifestFile(store, storage, run.dataset, run.version),
      ),
    ),
  );
  return { blockingPassed };
}

/** Marks the blocking flag of a version written by a quality task (its clean output). */
export async function markCleanOutput(db: Db, dataset: string, passed: boolean): Promise<void> {
  const data = dataDb(db);
  const latest = await data
    .selectFrom('dataset_versions')
    .select((eb) => eb.fn.max('version').as('version'))
    .where('dataset', '=', dataset)
    .executeTakeFirst();
  if (latest?.version == null) return;
  await data
    .updateTable('dataset_versions')
    .set({ blocking_checks_passed: passed })
    .where('dataset', '=', dataset)
    .where('version', '=', latest.version)
    .execute();
}

/** Values of `metrics` for versions of `dataset` before `version`, newest first. */
export async function metricHistory(
  db: Db,
  dataset: string,
  version: number,
  metrics: readonly string[],
  limit: number,
): Promise<{ [metric: string]: MetricPoint[] }> {
  const history: { [metric: string]: MetricPoint[] } = {};
  for (const metric of metrics) {
    const rows = await qualityDb(db)
      .selectFrom('quality_metrics')
      .select(['version', 'value', 'anomaly', 'observed_at'])
      .where('dataset', '=', dataset)
      .where('metric', '=', metric)
      .where('version', '<', version)
      .where('value', 'is not', null)
      .orderBy('version', 'desc')
      .limit(limit)
      .execute();
    history[metric] = rows.map((r) => ({
      version: r.version,
      value: Number(r.value),
      anomaly: r.anomaly,
      at: new Date(r.observed_at).toISOString(),
    }));
  }
  return history;
}
