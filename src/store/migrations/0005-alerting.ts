import { type Kysely, sql } from 'kysely';

const statements = [
  // One row per missed deadline (a run's, or a task's within a run); the unique index
  // makes raising a miss idempotent across restarts.
  `create table deadline_misses (
  id bigserial primary key,
  run_pk integer not null references dag_runs (id) on delete cascade,
  dag_id text not null,
  run_id text not null,
  task_id text,
  measured_from text not null check (measured_from in ('start', 'logical_date')),
  after_ms bigint not null,
  due_at timestamptz not null,
  detected_at timestamptz not null
)`,
  `create unique index deadline_misses_once on deadline_misses (run_pk, coalesce(task_id, ''))`,
  `create index deadline_misses_dag on deadline_misses (dag_id, detected_at desc)`,
];

/** Alerting: missed deadlines (the mark the API and UI show). */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}
