import { type Kysely, sql } from 'kysely';

const statements = [
  `create table dataset_trigger_queue (
  dag_id text not null references dags (dag_id) on delete cascade,
  dataset text not null,
  first_event_at timestamptz not null,
  primary key (dag_id, dataset)
)`,
];

/**
 * The queue of dataset updates that dataset-scheduled DAGs have not yet consumed: one row
 * per DAG and dataset with a new version since the DAG's last dataset run.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}
