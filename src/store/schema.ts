/**
 * Table types of the metadata store, for Kysely. The SQL that creates them is in
 * `src/store/migrations/`. Timestamps are `timestamptz` (JS `Date`); JSON is `jsonb`.
 */
import type { ColumnType, Generated } from 'kysely';
import type { DagSpec, Json } from '../core/dag-spec.ts';
import type { SpecIssue } from '../core/errors.ts';
import type { ExitReason, RunState, RunType, TaskState } from '../core/states.ts';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type JsonColumn<T> = ColumnType<T, string, string>;

export interface DagsTable {
  dag_id: string;
  fileloc: string;
  code_hash: string;
  version_hash: string;
  spec: JsonColumn<DagSpec>;
  is_paused: boolean;
  is_active: boolean;
  /** runAfter of the next scheduled interval, kept by the scheduler for listings. */
  next_run_after: Timestamp | null;
  last_parsed_at: Timestamp;
  created_at: Generated<Date>;
}

export interface DagVersionsTable {
  dag_id: string;
  version_hash: string;
  code_hash: string;
  fileloc: string;
  spec: JsonColumn<DagSpec>;
  created_at: Generated<Date>;
}

export interface ImportErrorsTable {
  fileloc: string;
  issues: JsonColumn<SpecIssue[]>;
  created_at: Timestamp;
}

export interface DagRunsTable {
  id: Generated<number>;
  dag_id: string;
  run_id: string;
  run_type: RunType;
  state: RunState;
  logical_date: Timestamp;
  data_interval_start: Timestamp;
  data_interval_end: Timestamp;
  run_after: Timestamp;
  params: JsonColumn<{ [key: string]: Json }>;
  version_hash: string;
  backfill_id: number | null;
  queued_at: Timestamp;
  started_at: Timestamp | null;
  ended_at: Timestamp | null;
}

export interface TaskInstancesTable {
  run_pk: number;
  dag_id: string;
  run_id: string;
  task_id: string;
  map_index: Generated<number>;
  state: TaskState;
  /** Number of the latest attempt; 0 before the first. */
  try_number: number;
  /** Attempts allowed before the task fails for good (1 + retries, raised by clear). */
  max_tries: number;
  operator: string;
  pool: string;
  pool_slots: number;
  priority_weight: number;
  queue: string;
  queued_at: Timestamp | null;
  started_at: Timestamp | null;
  ended_at: Timestamp | null;
  next_retry_at: Timestamp | null;
  updated_at: Timestamp;
}

export interface TaskAttemptsTable {
  run_pk: number;
  task_id: string;
  map_index: number;
  try_number: number;
  dag_id: string;
  run_id: string;
  state: TaskState;
  exit_reason: ExitReason | null;
  error: string | null;
  queued_at: Timestamp;
  started_at: Timestamp | null;
  ended_at: Timestamp | null;
  hostname: string | null;
  pid: number | null;
  log_path: string;
  /** The scheduler that queued the attempt (reset by the others if it dies). */
  scheduler_id: string | null;
}

export interface TaskResultsTable {
  run_pk: number;
  task_id: string;
  map_index: number;
  value: JsonColumn<Json>;
  size_bytes: number;
}

export interface PoolsTable {
  name: string;
  slots: number;
  description: string | null;
}

export interface BackfillsTable {
  id: Generated<number>;
  dag_id: string;
  from_date: Timestamp;
  to_date: Timestamp;
  reprocess: 'none' | 'failed' | 'all';
  max_active_runs: number;
  state: 'running' | 'completed' | 'cancelled';
  created_at: Timestamp;
  ended_at: Timestamp | null;
}

export interface DatasetTriggerQueueTable {
  dag_id: string;
  dataset: string;
  first_event_at: Timestamp;
}

export interface SchedulersTable {
  id: string;
  hostname: string;
  pid: number;
  started_at: Timestamp;
  heartbeat_at: Timestamp;
}

export interface Database {
  dags: DagsTable;
  dag_versions: DagVersionsTable;
  import_errors: ImportErrorsTable;
  dag_runs: DagRunsTable;
  task_instances: TaskInstancesTable;
  task_attempts: TaskAttemptsTable;
  task_results: TaskResultsTable;
  pools: PoolsTable;
  backfills: BackfillsTable;
  dataset_trigger_queue: DatasetTriggerQueueTable;
  schedulers: SchedulersTable;
}
