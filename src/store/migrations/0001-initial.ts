import { type Kysely, sql } from 'kysely';

const statements = [
  `create table dags (
  dag_id text primary key,
  fileloc text not null,
  code_hash text not null,
  version_hash text not null,
  spec jsonb not null,
  is_paused boolean not null,
  is_active boolean not null default true,
  next_run_after timestamptz,
  last_parsed_at timestamptz not null,
  created_at timestamptz not null default now()
)`,
  `create table dag_versions (
  dag_id text not null,
  version_hash text not null,
  code_hash text not null,
  fileloc text not null,
  spec jsonb not null,
  created_at timestamptz not null default now(),
  primary key (dag_id, version_hash)
)`,
  `create table import_errors (
  fileloc text primary key,
  issues jsonb not null,
  created_at timestamptz not null
)`,
  `create table dag_runs (
  id serial primary key,
  dag_id text not null,
  run_id text not null,
  run_type text not null,
  state text not null,
  logical_date timestamptz not null,
  data_interval_start timestamptz not null,
  data_interval_end timestamptz not null,
  run_after timestamptz not null,
  params jsonb not null,
  version_hash text not null,
  backfill_id integer,
  queued_at timestamptz not null,
  started_at timestamptz,
  ended_at timestamptz,
  unique (dag_id, run_id)
)`,
  `create unique index dag_runs_interval_uq on dag_runs (dag_id, logical_date)
  where run_type in ('scheduled', 'backfill')`,
  `create index dag_runs_unfinished on dag_runs (dag_id, state) where state in ('queued', 'running')`,
  `create index dag_runs_dag_logical on dag_runs (dag_id, logical_date desc)`,
  `create table task_instances (
  run_pk integer not null references dag_runs (id) on delete cascade,
  dag_id text not null,
  run_id text not null,
  task_id text not null,
  map_index integer not null default -1,
  state text not null,
  try_number integer not null default 0,
  max_tries integer not null,
  operator text not null,
  pool text not null,
  pool_slots integer not null,
  priority_weight integer not null,
  queue text not null,
  queued_at timestamptz,
  started_at timestamptz,
  ended_at timestamptz,
  next_retry_at timestamptz,
  updated_at timestamptz not null,
  primary key (run_pk, task_id, map_index)
)`,
  `create index task_instances_live on task_instances (state, dag_id)
  where state in ('scheduled', 'queued', 'running', 'up_for_retry')`,
  `create table task_attempts (
  run_pk integer not null references dag_runs (id) on delete cascade,
  task_id text not null,
  map_index integer not null,
  try_number integer not null,
  dag_id text not null,
  run_id text not null,
  state text not null,
  exit_reason text,
  error text,
  queued_at timestamptz not null,
  started_at timestamptz,
  ended_at timestamptz,
  hostname text,
  pid integer,
  log_path text not null,
  primary key (run_pk, task_id, map_index, try_number)
)`,
  `create table task_results (
  run_pk integer not null references dag_runs (id) on delete cascade,
  task_id text not null,
  map_index integer not null,
  value jsonb not null,
  size_bytes integer not null,
  primary key (run_pk, task_id, map_index)
)`,
  `create table pools (
  name text primary key,
  slots integer not null check (slots >= 0),
  description text
)`,
  `insert into pools (name, slots, description) values ('default_pool', 128, 'Default pool')`,
  `create table backfills (
  id serial primary key,
  dag_id text not null,
  from_date timestamptz not null,
  to_date timestamptz not null,
  reprocess text not null,
  max_active_runs integer not null,
  state text not null,
  created_at timestamptz not null,
  ended_at timestamptz
)`,
];

/** The engine core's tables: DAGs and versions, runs, task instances, attempts, results, pools, backfills. */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}
