/**
 * Trigger rules decide, from the states of a task's direct upstream tasks, whether the
 * task runs, waits, is skipped, or can never run (`upstream_failed`).
 *
 * They follow Airflow's semantics. A task without upstream tasks always runs.
 */
import { TASK_STATES, type TaskState } from './states.ts';

export const TRIGGER_RULES = [
  'all_success',
  'all_failed',
  'all_done',
  'all_skipped',
  'one_success',
  'one_failed',
  'one_done',
  'none_failed',
  'none_failed_min_one_success',
  'none_skipped',
  'always',
] as const;
export type TriggerRule = (typeof TRIGGER_RULES)[number];

/**
 * What the scheduler does with a task whose upstream is in the given states:
 * - `wait`: not decidable yet (some upstream tasks are not done);
 * - `run`: schedule it;
 * - `skip`: mark it `skipped`;
 * - `upstream_failed`: mark it `upstream_failed` (it can never run).
 */
export type TriggerDecision = 'wait' | 'run' | 'skip' | 'upstream_failed';

/**
 * Decides a trigger rule from the states of the task's direct upstream tasks, as early as
 * possible (e.g. `all_success` with one failed upstream is `upstream_failed` even while
 * others still run). An upstream task is done when it is success, failed, skipped or
 * upstream_failed. No upstream tasks: `run`.
 */
export function evaluateTriggerRule(
  rule: TriggerRule,
  upstream: readonly TaskState[],
): TriggerDecision {
  if (upstream.length === 0) return 'run';
  const n = countStates(upstream);
  const failed = n.failed + n.upstream_failed;
  const allDone = n.success + failed + n.skipped === upstream.length;
  switch (rule) {
    case 'all_success':
      if (failed > 0) return 'upstream_failed';
      if (n.skipped > 0) return 'skip';
      return n.success === upstream.length ? 'run' : 'wait';
    case 'all_failed':
      if (n.success + n.skipped > 0) return 'skip';
      return failed === upstream.length ? 'run' : 'wait';
    case 'all_done':
      return allDone ? 'run' : 'wait';
    case 'all_skipped':
      if (n.success + failed > 0) return 'skip';
      return n.skipped === upstream.length ? 'run' : 'wait';
    case 'one_success':
      if (n.success > 0) return 'run';
      if (!allDone) return 'wait';
      return failed === upstream.length ? 'upstream_failed' : 'skip';
    case 'one_failed':
      if (failed > 0) return 'run';
      return allDone ? 'skip' : 'wait';
    case 'one_done':
      if (n.success + n.failed > 0) return 'run';
      return allDone ? 'skip' : 'wait';
    case 'none_failed':
      if (failed > 0) return 'upstream_failed';
      return allDone ? 'run' : 'wait';
    case 'none_failed_min_one_success':
      if (failed > 0) return 'upstream_failed';
      if (!allDone) return 'wait';
      return n.success > 0 ? 'run' : 'skip';
    case 'none_skipped':
      if (n.skipped > 0) return 'skip';
      return allDone ? 'run' : 'wait';
    case 'always':
      return 'run';
  }
}

function countStates(states: readonly TaskState[]): Record<TaskState, number> {
  const counts = Object.fromEntries(TASK_STATES.map((s) => [s, 0])) as Record<TaskState, number>;
  for (const state of states) counts[state]++;
  return counts;
}
