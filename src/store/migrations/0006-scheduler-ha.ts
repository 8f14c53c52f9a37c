import { type Kysely, sql } from 'kysely';

const statements = [
  `create table schedulers (
  id text primary key,
  hostname text not null,
  pid integer not null,
  started_at timestamptz not null,
  heartbeat_at timestamptz not null
)`,
  `alter table task_attempts add column scheduler_id text`,
  `create index task_attempts_open on task_attempts (scheduler_id)
  where state in ('queued', 'running')`,
];

/**
 * Several schedulers on one store: each registers itself and beats a heartbeat; each
 * attempt records the scheduler that queued it, so that a scheduler that dies has its
 * attempts reset by the others, and only its own.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}
