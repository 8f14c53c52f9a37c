/**
 * Dataset-triggered runs. A DAG with `schedule: { datasets: [a, b] }` runs once each of
 * `a` and `b` has a new version since its previous dataset run (as Airflow's dataset
 * schedules do). New versions are queued per consuming DAG as they commit; a run is
 * created, and the DAG's queue emptied, as soon as every dataset it lists is queued and
 * the DAG is active and not paused. Updates that arrive while a DAG is paused stay queued
 * and trigger a run when it is unpaused.
 */
import { sql } from 'kysely';
import { resolveParams } from '../core/params.ts';
import { manualRunInterval } from '../schedule/timetable.ts';
import { createRun, type SpecLookup, type Tx } from './transitions.ts';

/** Queues new versions of `datasets` for every active DAG scheduled on them. */
export async function queueDatasetUpdates(
  tx: Tx,
  datasets: readonly string[],
  now: Date,
): Promise<void> {
  if (!datasets.length) return;
  const names = sql.join(datasets.map((d) => sql`(${d}::text)`));
  await sql`
    insert into dataset_trigger_queue (dag_id, dataset, first_event_at)
    select d.dag_id, u.name, ${now}::timestamptz
      from dags as d
      join (values ${names}) as u(name)
        on jsonb_exists(d.spec -> 'datasetSchedule', u.name)
     where d.is_active
    on conflict (dag_id, dataset) do nothing`.execute(tx);
}

/**
 * Creates a `dataset` run for every unpaused DAG whose listed datasets are all queued.
 * Returns the DAG ids that got a run.
 */
export async function createDatasetRuns(tx: Tx, specs: SpecLookup, now: Date): Promise<string[]> {
  const rows = await tx
    .selectFrom('dataset_trigger_queue as q')
    .innerJoin('dags as d', 'd.dag_id', 'q.dag_id')
    .select([
      'q.dag_id',
      'd.version_hash',
      'd.spec',
      sql<string[]>`array_agg(q.dataset)`.as('queued'),
    ])
    .where('d.is_active', '=', true)
    .where('d.is_paused', '=', false)
    .groupBy(['q.dag_id', 'd.version_hash', 'd.spec'])
    .execute();
  const created: string[] = [];
  for (const row of rows) {
    const queued = new Set(row.queued);
    const wanted = row.spec.datasetSchedule ?? [];
    if (!wanted.length || !wanted.every((name) => queued.has(name))) continue;
    const version = await specs(tx, row.dag_id, row.version_hash);
    const pk = await createRun(
      tx,
      {
        version,
        runId: `dataset__${now.toISOString()}`,
        runType: 'dataset',
        planned: manualRunInterval(now),
        params: resolveParams(row.dag_id, row.spec.params, {}),
      },
      now,
    );
    if (pk === null) continue; // a run with that id exists: try again on a later tick
    await tx.deleteFrom('dataset_trigger_queue').where('dag_id', '=', row.dag_id).execute();
    created.push(row.dag_id);
  }
  return created;
}
