/**
 * The states of task instances and DAG runs — the state machine's vocabulary.
 *
 * Task instance (one task in one run):
 *
 *   none ──► scheduled ──► queued ──► running ──► success
 *    │           ▲                      │  └────► failed
 *    │           └──── up_for_retry ◄───┘
 *    ├──► skipped            (trigger rule says the task must not run, or a branch
 *    │                        task upstream did not choose it: src/core/branching.ts)
 *    └──► upstream_failed    (trigger rule can never be met because upstream failed)
 *
 * `none` means "created with the run, waiting for its upstream". Every transition
 * is performed by `src/scheduler/transitions.ts`, inside a store transaction and
 * fenced by the try number so a stale worker cannot overwrite a newer attempt.
 *
 * DAG run: queued ──► running ──► success | failed.
 */
export const TASK_STATES = [
  'none',
  'scheduled',
  'queued',
  'running',
  'success',
  'failed',
  'up_for_retry',
  'skipped',
  'upstream_failed',
] as const;
export type TaskState = (typeof TASK_STATES)[number];

/** States from which a task instance will not move again unless cleared. */
export const FINISHED_TASK_STATES = ['success', 'failed', 'skipped', 'upstream_failed'] as const;
export type FinishedTaskState = (typeof FINISHED_TASK_STATES)[number];

/** States in which a task instance occupies an executor slot and a pool slot. */
export const ACTIVE_TASK_STATES = ['queued', 'running'] as const;

export function isFinishedTaskState(state: TaskState): state is FinishedTaskState {
  return (FINISHED_TASK_STATES as readonly string[]).includes(state);
}

export const RUN_STATES = ['queued', 'running', 'success', 'failed'] as const;
export type RunState = (typeof RUN_STATES)[number];

export const FINISHED_RUN_STATES = ['success', 'failed'] as const;

export function isFinishedRunState(state: RunState): boolean {
  return state === 'success' || state === 'failed';
}

/** How a run came to exist. */
export const RUN_TYPES = ['scheduled', 'manual', 'backfill', 'dataset'] as const;
export type RunType = (typeof RUN_TYPES)[number];

/**
 * Why an attempt ended. `success` and `error` are the task's own doing; the rest are
 * decided around it.
 * - `error`: the task threw or the command exited non-zero (retried if tries remain).
 * - `error_no_retry`: the task threw `TaskFailure` with `retry: false` (never retried).
 * - `timeout`: `executionTimeout` elapsed and the attempt was killed.
 * - `worker_lost`: the process running the attempt died (crash, OOM, kill -9).
 * - `result_too_large`: the returned result exceeded the size limit (never retried).
 * - `interrupted`: the scheduler restarted while the attempt was in flight; the try does
 *   not count against `retries`.
 * - `cancelled`: stopped on purpose (run timeout, mark failed/success, clear).
 */
export const EXIT_REASONS = [
  'success',
  'error',
  'error_no_retry',
  'timeout',
  'worker_lost',
  'result_too_large',
  'interrupted',
  'cancelled',
] as const;
export type ExitReason = (typeof EXIT_REASONS)[number];

/** Exit reasons that may be retried (tries permitting): the task's own error, a timeout, a lost worker. */
export function isRetryableExit(reason: ExitReason): boolean {
  return reason === 'error' || reason === 'timeout' || reason === 'worker_lost';
}
