/**
 * Branching (Airflow's `@task.branch`): a branch task's result names which of its direct
 * downstream tasks run. When it succeeds, the scheduler marks the others `skipped` in
 * the transaction that records the success, and trigger rules take it from there (a join
 * after the branches wants `none_failed_min_one_success` or `one_success`).
 *
 * The choice is the result, or the value at `branch.path` in it: a task id, a list of
 * task ids (several branches), or an empty list (skip them all). Ids are full ids
 * (`group.task`). Anything else fails the attempt without retry — a retry would return
 * the same thing — naming the task, the value and the ids it may choose from.
 */
import type { BranchSpec, Json } from './dag-spec.ts';
import { valueAtPath } from './result-path.ts';

/** The downstream tasks a branch follows, or why its result is not a valid choice. */
export type BranchChoice = { ok: true; follow: string[] } | { ok: false; message: string };

/**
 * What branch task `taskId` chose with `result`, given its direct downstream task ids
 * (`downstream`): the ids to follow, in `downstream` order, or the reason it cannot.
 */
export function branchChoice(
  taskId: string,
  branch: BranchSpec,
  result: Json | undefined,
  downstream: readonly string[],
): BranchChoice {
  const value = valueAtPath(result, branch.path);
  const at = branch.path === null ? '' : ` at '${branch.path}'`;
  const valid = `its direct downstream tasks are ${downstream.map((id) => `'${id}'`).join(', ')}`;
  const ids = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) {
    return {
      ok: false,
      message: `branch task '${taskId}' returned ${describe(value)}${at}, not a task id or a list of task ids: ${valid} (an empty list skips them all)`,
    };
  }
  const unknown = ids.filter((id) => !downstream.includes(id));
  if (unknown.length > 0) {
    return {
      ok: false,
      message: `branch task '${taskId}' chose ${unknown.map((id) => `'${id}'`).join(', ')}${at}, not among its direct downstream tasks: ${valid}`,
    };
  }
  return { ok: true, follow: downstream.filter((id) => ids.includes(id)) };
}

/** A value as an error message shows it: its JSON (shortened), or `nothing`. */
function describe(value: Json | undefined): string {
  if (value === undefined) return 'nothing';
  const json = JSON.stringify(value);
  return json.length > 200 ? `${json.slice(0, 200)}...` : json;
}
