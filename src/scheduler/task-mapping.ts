/**
 * Run-time task mapping in the store: reading what a mapped task maps over, expanding it
 * into one task instance per item, and failing it when it cannot expand. Called by
 * `evaluateRuns` (when the mapped task's trigger rule says "run") and by
 * `enqueueScheduled` (to hand each instance its item).
 *
 * A mapped task starts as one placeholder task instance (map index -1, state `none`).
 * Expanding replaces it with instances 0..n-1 in `scheduled`; an empty list skips the
 * placeholder, and a value that is not a list (or is longer than `maxItems`) fails it,
 * with the reason recorded as a failed attempt so `updraft tasks attempts` shows it.
 * Clearing the task deletes the instances and brings the placeholder back.
 */
import { sql } from 'kysely';
import type { Json, TaskSpec } from '../core/dag-spec.ts';
import type { Tx } from './transitions.ts';

/**
 * Results of mapped tasks, each as the list of its instances' results by map index
 * (null where an instance returned nothing), keyed `${runPk}/${taskId}`.
 */
export async function mappedResults(
  tx: Tx,
  pairs: readonly { runPk: number; taskId: string }[],
): Promise<Map<string, Json[]>> {
  const out = new Map<string, Json[]>();
  if (!pairs.length) return out;
  const values = sql.join(pairs.map((p) => sql`(${p.runPk}::int, ${p.taskId}::text)`));
  const rows = await sql<{ run_pk: number; task_id: string; map_index: number; value: Json }>`
    select ti.run_pk, ti.task_id, ti.map_index, r.value
      from task_instances as ti
      join (values ${values}) as v(run_pk, task_id)
        on ti.run_pk = v.run_pk and ti.task_id = v.task_id
      left join task_results as r
        on r.run_pk = ti.run_pk and r.task_id = ti.task_id and r.map_index = ti.map_index
     where ti.map_index >= 0
     order by ti.run_pk, ti.task_id, ti.map_index`.execute(tx);
  for (const row of rows.rows) {
    const key = `${row.run_pk}/${row.task_id}`;
    const list = out.get(key) ?? [];
    list.push(row.value ?? null);
    out.set(key, list);
  }
  for (const p of pairs)
    if (!out.has(`${p.runPk}/${p.taskId}`)) out.set(`${p.runPk}/${p.taskId}`, []);
  return out;
}

/** The result of `upstream` in a run: its own, or the list of a mapped task's results. */
export async function upstreamValue(
  tx: Tx,
  runPk: number,
  upstream: TaskSpec,
): Promise<Json | undefined> {
  if (upstream.mapOver !== null) {
    return (await mappedResults(tx, [{ runPk, taskId: upstream.taskId }])).get(
      `${runPk}/${upstream.taskId}`,
    );
  }
  const row = await tx
    .selectFrom('task_results')
    .select('value')
    .where('run_pk', '=', runPk)
    .where('task_id', '=', upstream.taskId)
    .where('map_index', '=', -1)
    .executeTakeFirst();
  return row?.value;
}

/**
 * Replaces the placeholder of mapped `task` with `count` instances in `scheduled`. An
 * instance that ran before (the task was cleared) continues its try numbers, so its
 * earlier attempts stay in the history.
 */
export async function expandMappedTask(
  tx: Tx,
  run: { runPk: number; dagId: string; runId: string },
  task: TaskSpec,
  count: number,
  now: Date,
): Promise<void> {
  await tx
    .deleteFrom('task_instances')
    .where('run_pk', '=', run.runPk)
    .where('task_id', '=', task.taskId)
    .where('map_index', '=', -1)
    .execute();
  const previous = await tx
    .selectFrom('task_attempts')
    .select(['map_index', (eb) => eb.fn.max('try_number').as('tries')])
    .where('run_pk', '=', run.runPk)
    .where('task_id', '=', task.taskId)
    .where('map_index', '>=', 0)
    .groupBy('map_index')
    .execute();
  const tries = new Map(previous.map((p) => [p.map_index, Number(p.tries)]));
  const rows = Array.from({ length: count }, (_, mapIndex) => {
    const tryNumber = tries.get(mapIndex) ?? 0;
    return {
      run_pk: run.runPk,
      dag_id: run.dagId,
      run_id: run.runId,
      task_id: task.taskId,
      map_index: mapIndex,
      state: 'scheduled' as const,
      try_number: tryNumber,
      max_tries: tryNumber + task.retries + 1,
      operator: task.operator,
      pool: task.pool,
      pool_slots: task.poolSlots,
      priority_weight: task.priorityWeight,
      queue: task.queue,
      updated_at: now,
    };
  });
  // Inserted in chunks: a statement has at most 65 535 parameters.
  for (let i = 0; i < rows.length; i += 2000) {
    await tx
      .insertInto('task_instances')
      .values(rows.slice(i, i + 2000))
      .execute();
  }
}

/**
 * Records why mapped `task` could not expand: its placeholder (already set to `failed`
 * by the caller's batch) gets a try and a failed attempt carrying `message`.
 */
export async function recordMappingFailure(
  tx: Tx,
  run: { runPk: number; dagId: string; runId: string },
  taskId: string,
  message: string,
  now: Date,
): Promise<void> {
  const ti = await tx
    .updateTable('task_instances')
    .set((eb) => ({ try_number: eb('try_number', '+', 1), queued_at: now, started_at: now }))
    .where('run_pk', '=', run.runPk)
    .where('task_id', '=', taskId)
    .where('map_index', '=', -1)
    .returning('try_number')
    .executeTakeFirst();
  if (!ti) return;
  await tx
    .insertInto('task_attempts')
    .values({
      run_pk: run.runPk,
      task_id: taskId,
      map_index: -1,
      try_number: ti.try_number,
      dag_id: run.dagId,
      run_id: run.runId,
      state: 'failed',
      exit_reason: 'error_no_retry',
      error: message,
      queued_at: now,
      started_at: now,
      ended_at: now,
      log_path: '',
    })
    .onConflict((oc) =>
      oc.columns(['run_pk', 'task_id', 'map_index', 'try_number']).doUpdateSet({
        state: 'failed',
        exit_reason: 'error_no_retry',
        error: message,
        ended_at: now,
      }),
    )
    .execute();
}
