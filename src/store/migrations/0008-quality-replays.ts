import { type Kysely, sql } from 'kysely';

const statements = [
  // One row per replayed quarantine version: a version is replayed at most once (the
  // unique key), and its rows end up in exactly one of the new clean version and the new
  // quarantine version (the remainder), which a later replay may take up in turn.
  `create table quality_replays (
  id bigserial primary key,
  dataset text not null,
  quarantine_dataset text not null,
  quarantine_version integer not null,
  checked_version integer,
  output_dataset text not null,
  base_version integer not null,
  output_version integer not null,
  remainder_version integer,
  source_run_pk integer references dag_runs (id) on delete set null,
  source_dag_id text not null,
  source_run_id text not null,
  source_task_id text not null,
  source_version_hash text,
  check_ids jsonb,
  fix text,
  rows_quarantined bigint not null,
  rows_replayed bigint not null,
  rows_released bigint not null,
  rows_kept bigint not null,
  replayed_by text not null,
  replayed_at timestamptz not null,
  unique (quarantine_dataset, quarantine_version)
)`,
  `create index quality_replays_remainder on quality_replays (quarantine_dataset, remainder_version)`,
];

/** Quarantine replays (ADR 17): which quarantine version went where, by whom, with which fix. */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}
