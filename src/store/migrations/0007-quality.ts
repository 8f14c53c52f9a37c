import { type Kysely, sql } from 'kysely';

const statements = [
  // One row per check, checked version and run (a re-run adds rows: history).
  `create table quality_results (
  id bigserial primary key,
  dataset text not null,
  version integer not null,
  run_pk integer references dag_runs (id) on delete set null,
  dag_id text not null,
  run_id text not null,
  task_id text not null,
  try_number integer not null,
  check_id text not null,
  check_type text not null,
  severity text not null check (severity in ('warn', 'error')),
  blocking boolean not null,
  status text not null check (status in ('pass', 'warn', 'error', 'skipped')),
  value double precision,
  failing_rows bigint,
  quarantined boolean not null default false,
  message text not null,
  details jsonb,
  checked_at timestamptz not null
)`,
  `create index quality_results_version on quality_results (dataset, version, checked_at desc)`,
  `create index quality_results_recent on quality_results (dataset, checked_at desc)`,
  // Metric history: one value per dataset, metric and version (the last check's).
  `create table quality_metrics (
  dataset text not null,
  metric text not null,
  version integer not null,
  value double precision,
  anomaly boolean not null default false,
  observed_at timestamptz not null,
  run_pk integer references dag_runs (id) on delete set null,
  primary key (dataset, metric, version)
)`,
];

/** Data quality: results per check, version and run, and metric history. */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}
