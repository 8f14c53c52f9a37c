/**
 * The Grid view's read model: the latest runs of a DAG and the state of every task in
 * each, in two set-based queries (runs, then their task instances), whatever the size.
 */
import type { DagSpec } from '../../core/dag-spec.ts';
import type { RunState, RunType } from '../../core/states.ts';
import type { Db } from '../store.ts';

export interface GridData {
  dagId: string;
  tasks: { taskId: string; group: string | null; operator: string }[];
  /** Oldest first (the newest run is the right-most column). */
  runs: {
    runId: string;
    runType: RunType;
    state: RunState;
    logicalDate: string;
    startedAt: string | null;
    endedAt: string | null;
  }[];
  /** `states[r][t]`: state of `tasks[t]` in `runs[r]`, '' when that run has no such task. */
  states: string[][];
}

/**
 * Reads the grid of the `limit` latest runs. Tasks are those of `spec` (the current
 * version) in its order, then tasks that only older runs have.
 */
export async function readGrid(db: Db, spec: DagSpec, limit: number): Promise<GridData> {
  const runs = (
    await db
      .selectFrom('dag_runs')
      .select(['id', 'run_id', 'run_type', 'state', 'logical_date', 'started_at', 'ended_at'])
      .where('dag_id', '=', spec.dagId)
      .orderBy('logical_date', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute()
  ).reverse();
  const tis = runs.length
    ? await db
        .selectFrom('task_instances')
        .select(['run_pk', 'task_id', 'state', 'operator'])
        .where(
          'run_pk',
          'in',
          runs.map((r) => r.id),
        )
        .where('map_index', '=', -1)
        .execute()
    : [];
  const tasks = spec.tasks.map((t) => ({ taskId: t.taskId, group: t.group, operator: t.operator }));
  const column = new Map(tasks.map((t, i) => [t.taskId, i]));
  for (const ti of tis) {
    if (!column.has(ti.task_id)) {
      column.set(ti.task_id, tasks.length);
      tasks.push({ taskId: ti.task_id, group: null, operator: ti.operator });
    }
  }
  const row = new Map(runs.map((r, i) => [r.id, i]));
  const states = runs.map(() => new Array<string>(tasks.length).fill(''));
  for (const ti of tis) {
    const r = row.get(ti.run_pk);
    const c = column.get(ti.task_id);
    if (r !== undefined && c !== undefined) states[r]![c] = ti.state;
  }
  const iso = (d: Date | null) => (d === null ? null : new Date(d).toISOString());
  return {
    dagId: spec.dagId,
    tasks,
    runs: runs.map((r) => ({
      runId: r.run_id,
      runType: r.run_type,
      state: r.state,
      logicalDate: new Date(r.logical_date).toISOString(),
      startedAt: iso(r.started_at),
      endedAt: iso(r.ended_at),
    })),
    states,
  };
}
