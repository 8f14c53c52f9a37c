/**
 * Table types of the data layer, for Kysely (the SQL is in
 * `src/store/migrations/0003-data-layer.ts`). Kept here rather than in
 * `src/store/schema.ts` so the data layer owns its tables; `dataDb` views a store
 * handle with these tables.
 *
 * Vocabulary:
 * - dataset: a named, versioned table (`orders`); its versions are immutable folders of
 *   Parquet files plus a `manifest.json`.
 * - version: `v1`, `v2`, ... of a dataset; created only by a committed attempt.
 * - alias: a named pointer to a version (`latest` moves on every commit; `staging`,
 *   `prod`, ... move only by promotion or rollback, each move recorded).
 * - inlet / outlet: a dataset a task reads / writes.
 * - watermark: the high-water mark of an incremental extract, per DAG, task and dataset.
 */
import type { ColumnType, Generated, Kysely, Transaction } from 'kysely';
import type { Database } from '../store/schema.ts';
import type { Manifest } from './manifest.ts';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type JsonColumn<T> = ColumnType<T, string, string>;
/** `bigint` read back as a number by both drivers (see `src/store/store.ts`). */
type BigIntColumn = ColumnType<number, number, number>;

export interface DatasetsTable {
  name: string;
  description: string | null;
  created_at: Generated<Date>;
}

export interface DatasetVersionsTable {
  dataset: string;
  version: number;
  /** Folder of the version, relative to the datasets root (`orders/v3`). */
  path: string;
  manifest: JsonColumn<Manifest>;
  row_count: BigIntColumn;
  bytes: BigIntColumn;
  file_count: number;
  run_pk: number | null;
  dag_id: string | null;
  run_id: string | null;
  task_id: string | null;
  try_number: number | null;
  /**
   * Whether the blocking quality checks of this version passed: null when none ran.
   * Written by the quality layer; read by promotion gates.
   */
  blocking_checks_passed: boolean | null;
  created_at: Generated<Date>;
  /** Set when vacuum removed the files; the row stays for lineage and history. */
  deleted_at: Timestamp | null;
}

export interface DatasetAliasesTable {
  dataset: string;
  alias: string;
  version: number;
  moved_at: Timestamp;
  moved_by: string;
  reason: string | null;
}

export interface DatasetAliasEventsTable {
  id: Generated<number>;
  dataset: string;
  alias: string;
  action: 'commit' | 'promote' | 'rollback';
  from_version: number | null;
  to_version: number;
  actor: string;
  actor_role: string | null;
  reason: string | null;
  at: Timestamp;
}

export interface DatasetAliasPoliciesTable {
  /** A dataset name, or `*` for every dataset without a policy of its own. */
  dataset: string;
  alias: string;
  roles: JsonColumn<string[]>;
  require_checks: boolean;
  require_approval: boolean;
}

export interface DatasetApprovalsTable {
  id: Generated<number>;
  dataset: string;
  version: number;
  alias: string;
  approved_by: string;
  approver_role: string;
  reason: string | null;
  at: Timestamp;
}

export interface DatasetRunInputsTable {
  run_pk: number;
  task_id: string;
  /** The reference as the task wrote it (`orders@prod`), or `$watermark:<dataset>`. */
  ref: string;
  dataset: string;
  /** The pinned version; null for a watermark pin with no watermark yet. */
  version: number | null;
  pinned_at: Timestamp;
}

export interface DatasetLineageTable {
  id: Generated<number>;
  run_pk: number | null;
  dag_id: string;
  run_id: string;
  task_id: string;
  direction: 'read' | 'write';
  dataset: string;
  version: number | null;
  at: Timestamp;
}

export interface DatasetWatermarksTable {
  dag_id: string;
  task_id: string;
  dataset: string;
  value: string;
  column_name: string;
  version: number;
  updated_at: Timestamp;
}

export interface ConnectionsTable {
  name: string;
  type: string;
  /** The URL, encrypted (see `src/data/secret-box.ts`). */
  secret: string;
  key_id: string;
  description: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface EtlRunsView {
  run_pk: number;
  dag_id: string;
  run_id: string;
  run_type: string;
  status: string;
  logical_date: Date;
  started_at: Date | null;
  ended_at: Date | null;
  duration_ms: number | null;
  rows_written: number;
  bytes_written: number;
  produced: { dataset: string; version: number; task: string }[];
  consumed: { dataset: string; version: number | null; task: string; ref: string }[];
}

export interface DataTables {
  datasets: DatasetsTable;
  dataset_versions: DatasetVersionsTable;
  dataset_aliases: DatasetAliasesTable;
  dataset_alias_events: DatasetAliasEventsTable;
  dataset_alias_policies: DatasetAliasPoliciesTable;
  dataset_approvals: DatasetApprovalsTable;
  dataset_run_inputs: DatasetRunInputsTable;
  dataset_lineage: DatasetLineageTable;
  dataset_watermarks: DatasetWatermarksTable;
  connections: ConnectionsTable;
  etl_runs: EtlRunsView;
}

/** The engine's tables and the data layer's. */
export type DataDatabase = Database & DataTables;

export type DataDb = Kysely<DataDatabase> | Transaction<DataDatabase>;

/** Views a store handle (or transaction) with the data layer's tables. */
export function dataDb(db: Kysely<Database> | Transaction<Database>): DataDb {
  return db as unknown as DataDb;
}
