/**
 * The `deadline_misses` table (migration 0005): one row per missed deadline of a run or
 * of a task within a run. The REST API and the UI show these as marks; `updraft report`
 * counts them.
 */
import { type ColumnType, type Generated, type Kysely, sql, type Transaction } from 'kysely';
import type { DeadlineSpec } from '../core/dag-spec.ts';
import { FINISHED_RUN_STATES, FINISHED_TASK_STATES } from '../core/states.ts';
import type { Database } from '../store/schema.ts';
import type { Db } from '../store/store.ts';

type Timestamp = ColumnType<Date, Date | string, Date | string>;

export interface DeadlineMissesTable {
  id: Generated<number>;
  run_pk: number;
  dag_id: string;
  run_id: string;
  /** Null for the run's own deadline. */
  task_id: string | null;
  measured_from: DeadlineSpec['from'];
  after_ms: ColumnType<number, number, number>;
  due_at: Timestamp;
  detected_at: Timestamp;
}

interface AlertingDatabase extends Database {
  deadline_misses: DeadlineMissesTable;
}

type AlertingDb = Kysely<AlertingDatabase> | Transaction<AlertingDatabase>;

/** Views a store handle with the alerting tables. */
export function alertingDb(db: Db): AlertingDb {
  return db as unknown as AlertingDb;
}

/** A missed deadline, as the API and reports show it. */
export interface DeadlineMiss {
  dagId: string;
  runId: string;
  /** Null: the run's deadline. */
  taskId: string | null;
  from: DeadlineSpec['from'];
  afterMs: number;
  /** When the work should have been done (ISO). */
  dueAt: string;
  /** When the miss was noticed (ISO). */
  detectedAt: string;
  /**
   * When the late work finished: the run's end, or the end of the task's last instance
   * (ISO); null while it is still in progress.
   */
  finishedAt: string | null;
  /** By how much the deadline was missed: `finishedAt − dueAt` (ms); null until finished. */
  lateByMs: number | null;
}

/**
 * Records a miss; returns false when it was recorded already (a restarted monitor, or
 * two schedulers), so it is alerted once.
 */
export async function recordDeadlineMiss(
  db: Db,
  miss: {
    runPk: number;
    dagId: string;
    runId: string;
    taskId: string | null;
    deadline: DeadlineSpec;
    dueAt: Date;
  },
  now: Date,
): Promise<boolean> {
  const result = await alertingDb(db)
    .insertInto('deadline_misses')
    .values({
      run_pk: miss.runPk,
      dag_id: miss.dagId,
      run_id: miss.runId,
      task_id: miss.taskId,
      measured_from: miss.deadline.from,
      after_ms: miss.deadline.afterMs,
      due_at: miss.dueAt,
      detected_at: now,
    })
    .onConflict((oc) => oc.doNothing())
    .returning('id')
    .executeTakeFirst();
  return result !== undefined;
}

/**
 * Missed deadlines, newest first: of one DAG, one run, or all; since an instant.
 * For the REST API (`GET …/deadline-misses`) and the UI's marks.
 */
export async function listDeadlineMisses(
  db: Db,
  filter: { dagId?: string; runId?: string; since?: Date; limit?: number } = {},
): Promise<DeadlineMiss[]> {
  const list = (states: readonly string[]) => sql.join(states.map((s) => sql.lit(s)));
  let q = alertingDb(db)
    .selectFrom('deadline_misses as m')
    .leftJoin('dag_runs as r', 'r.id', 'm.run_pk')
    .selectAll('m')
    .select(
      sql<Date | null>`case when m.task_id is null
        then case when r.state in (${list(FINISHED_RUN_STATES)}) then r.ended_at end
        else (select case when bool_and(ti.state in (${list(FINISHED_TASK_STATES)})) then max(ti.ended_at) end
              from task_instances ti where ti.run_pk = m.run_pk and ti.task_id = m.task_id)
        end`.as('finished_at'),
    );
  if (filter.dagId !== undefined) q = q.where('m.dag_id', '=', filter.dagId);
  if (filter.runId !== undefined) q = q.where('m.run_id', '=', filter.runId);
  if (filter.since !== undefined) q = q.where('m.detected_at', '>=', filter.since);
  const rows = await q
    .orderBy('m.detected_at', 'desc')
    .orderBy('m.id', 'desc')
    .limit(filter.limit ?? 1000)
    .execute();
  return rows.map((r) => {
    const dueAt = new Date(r.due_at);
    const finishedAt = r.finished_at === null ? null : new Date(r.finished_at);
    return {
      dagId: r.dag_id,
      runId: r.run_id,
      taskId: r.task_id,
      from: r.measured_from,
      afterMs: Number(r.after_ms),
      dueAt: dueAt.toISOString(),
      detectedAt: new Date(r.detected_at).toISOString(),
      finishedAt: finishedAt?.toISOString() ?? null,
      lateByMs: finishedAt === null ? null : finishedAt.getTime() - dueAt.getTime(),
    };
  });
}
