/**
 * `QualityOperations`: what the CLI (`updraft quality results`), the REST API and the UI
 * can ask of the quality layer, and `StoreQualityOperations`, its implementation over
 * the metadata store.
 */

import type { Json } from '../core/dag-spec.ts';
import { NotFoundError } from '../core/errors.ts';
import { assertDatasetName } from '../data/names.ts';
import type { Store } from '../store/store.ts';
import type { MetricPoint } from './anomaly.ts';
import type { CheckStatus } from './check-runner.ts';
import { qualityDb } from './quality-store.ts';

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
  /** Only results with these statuses. */
  statuses?: CheckStatus[];
  /** Most rows, newest first (default 200). */
  limit?: number;
}

export interface QualityOperations {
  /** Stored results of `dataset`'s checks, newest first. */
  results(dataset: string, query?: QualityResultsQuery): Promise<QualityResultRow[]>;
  /** The results of the latest quality run on a version (default: the newest version checked). */
  latestResults(dataset: string, version?: number): Promise<QualityResultRow[]>;
  /** A metric's history for `dataset`, oldest first. */
  metricHistory(dataset: string, metric: string, limit?: number): Promise<MetricPoint[]>;
}

/** `QualityOperations` over the metadata store. */
export class StoreQualityOperations implements QualityOperations {
  constructor(private readonly store: Store) {}

  async results(dataset: string, query: QualityResultsQuery = {}): Promise<QualityResultRow[]> {
    assertDatasetName(dataset);
    let q = qualityDb(this.store.db)
      .selectFrom('quality_results')
      .selectAll()
      .where('dataset', '=', dataset);
    if (query.version !== undefined) q = q.where('version', '=', query.version);
    if (query.statuses !== undefined && query.statuses.length > 0)
      q = q.where('status', 'in', query.statuses);
    const rows = await q
      .orderBy('checked_at', 'desc')
      .orderBy('id')
      .limit(query.limit ?? 200)
      .execute();
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
    assertDatasetName(dataset);
    const latest = await qualityDb(this.store.db)
      .selectFrom('quality_results')
      .select(['version', 'checked_at'])
      .where('dataset', '=', dataset)
      .$if(version !== undefined, (q) => q.where('version', '=', version as number))
      .orderBy('checked_at', 'desc')
      .orderBy('version', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (latest === undefined) {
      throw new NotFoundError(
        `no quality results for dataset '${dataset}'${version === undefined ? '' : ` v${version}`}: run a 'quality' task on it`,
      );
    }
    const rows = await this.results(dataset, { version: latest.version, limit: 10_000 });
    const at = new Date(latest.checked_at).toISOString();
    return rows
      .filter((r) => r.checkedAt === at)
      .sort((a, b) => a.checkId.localeCompare(b.checkId));
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
}
