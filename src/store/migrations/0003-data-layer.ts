import { type Kysely, sql } from 'kysely';

const statements = [
  `create table datasets (
  name text primary key,
  description text,
  created_at timestamptz not null default now()
)`,
  `create table dataset_versions (
  dataset text not null references datasets (name),
  version integer not null,
  path text not null,
  manifest jsonb not null,
  row_count bigint not null,
  bytes bigint not null,
  file_count integer not null,
  run_pk integer references dag_runs (id) on delete set null,
  dag_id text,
  run_id text,
  task_id text,
  try_number integer,
  blocking_checks_passed boolean,
  created_at timestamptz not null default now(),
  deleted_at timestamptz,
  primary key (dataset, version)
)`,
  `create table dataset_aliases (
  dataset text not null references datasets (name),
  alias text not null,
  version integer not null,
  moved_at timestamptz not null,
  moved_by text not null,
  reason text,
  primary key (dataset, alias),
  foreign key (dataset, version) references dataset_versions (dataset, version)
)`,
  `create table dataset_alias_events (
  id bigserial primary key,
  dataset text not null,
  alias text not null,
  action text not null,
  from_version integer,
  to_version integer not null,
  actor text not null,
  actor_role text,
  reason text,
  at timestamptz not null
)`,
  `create index dataset_alias_events_by_alias on dataset_alias_events (dataset, alias, id desc)`,
  `create table dataset_alias_policies (
  dataset text not null,
  alias text not null,
  roles jsonb not null,
  require_checks boolean not null,
  require_approval boolean not null,
  primary key (dataset, alias)
)`,
  `create table dataset_approvals (
  id bigserial primary key,
  dataset text not null,
  version integer not null,
  alias text not null,
  approved_by text not null,
  approver_role text not null,
  reason text,
  at timestamptz not null
)`,
  `create index dataset_approvals_by_version on dataset_approvals (dataset, version, alias)`,
  `create table dataset_run_inputs (
  run_pk integer not null references dag_runs (id) on delete cascade,
  task_id text not null,
  ref text not null,
  dataset text not null,
  version integer,
  pinned_at timestamptz not null,
  primary key (run_pk, task_id, ref)
)`,
  `create table dataset_lineage (
  id bigserial primary key,
  run_pk integer references dag_runs (id) on delete set null,
  dag_id text not null,
  run_id text not null,
  task_id text not null,
  direction text not null check (direction in ('read', 'write')),
  dataset text not null,
  version integer,
  at timestamptz not null
)`,
  `create index dataset_lineage_by_dataset on dataset_lineage (dataset, direction)`,
  `create index dataset_lineage_by_task on dataset_lineage (dag_id, task_id)`,
  `create index dataset_lineage_by_run on dataset_lineage (run_pk)`,
  `create table dataset_watermarks (
  dag_id text not null,
  task_id text not null,
  dataset text not null,
  value text not null,
  column_name text not null,
  version integer not null,
  updated_at timestamptz not null,
  primary key (dag_id, task_id, dataset)
)`,
  `create table connections (
  name text primary key,
  type text not null,
  secret text not null,
  key_id text not null,
  description text,
  created_at timestamptz not null,
  updated_at timestamptz not null
)`,
  `create view etl_runs as
select r.id as run_pk, r.dag_id, r.run_id, r.run_type, r.state as status,
  r.logical_date, r.started_at, r.ended_at,
  extract(epoch from (r.ended_at - r.started_at)) * 1000 as duration_ms,
  coalesce((select sum(v.row_count) from dataset_versions v where v.run_pk = r.id), 0) as rows_written,
  coalesce((select sum(v.bytes) from dataset_versions v where v.run_pk = r.id), 0) as bytes_written,
  coalesce((select jsonb_agg(jsonb_build_object('dataset', l.dataset, 'version', l.version, 'task', l.task_id) order by l.id)
    from dataset_lineage l where l.run_pk = r.id and l.direction = 'write'), '[]'::jsonb) as produced,
  coalesce((select jsonb_agg(jsonb_build_object('dataset', i.dataset, 'version', i.version, 'task', i.task_id, 'ref', i.ref) order by i.task_id, i.ref)
    from dataset_run_inputs i where i.run_pk = r.id), '[]'::jsonb) as consumed
from dag_runs r
where exists (select 1 from dataset_lineage l where l.run_pk = r.id)
   or exists (select 1 from dataset_run_inputs i where i.run_pk = r.id)`,
];

/**
 * The data layer: datasets and their versions, aliases with their history and promotion
 * policies, approvals, the versions each run read (pinned), lineage, extract watermarks,
 * stored (encrypted) connections, and the `etl_runs` view.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}
