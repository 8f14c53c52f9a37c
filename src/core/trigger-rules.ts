/**
 * Trigger rules decide, from the states of a task's direct upstream tasks, whether the
 * task runs, waits, is skipped, or can never run (`upstream_failed`).
 *
 * They follow Airflow's semantics. A task without upstream tasks always runs.
 */
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
