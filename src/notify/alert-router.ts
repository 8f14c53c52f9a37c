/**
 * Turns committed scheduler events into alerts for the targets the spec names:
 *
 * | event | alert | targets |
 * |---|---|---|
 * | attempt finished, task `failed` | `task_failed` | the task's `notify.onFailure` |
 * | attempt finished, task `up_for_retry` | `task_retry` | the task's `notify.onRetry` |
 * | attempt finished, task `success` | `task_succeeded` | the task's `notify.onSuccess` |
 * | run finished `failed` | `run_failed` | the DAG's `notify.onFailure` |
 * | run finished `success` | `run_succeeded` | the DAG's `notify.onSuccess` |
 *
 * (Deadline misses come from `deadline-monitor.ts`.) The listener returns at once; the
 * run's start time for its duration is read from the store in the background.
 */
import type { Logger } from 'pino';
import type { TaskState } from '../core/states.ts';
import type { SchedulerEvent } from '../scheduler/scheduler-events.ts';
import type { Db } from '../store/store.ts';
import type { Alert, AlertKind } from './alert.ts';

type AttemptFinished = Extract<SchedulerEvent, { type: 'attempt_finished' }>;
type RunFinished = Extract<SchedulerEvent, { type: 'run_finished' }>;

const TASK_ALERTS: Partial<
  Record<TaskState, { kind: AlertKind; list: 'onFailure' | 'onRetry' | 'onSuccess' }>
> = {
  failed: { kind: 'task_failed', list: 'onFailure' },
  up_for_retry: { kind: 'task_retry', list: 'onRetry' },
  success: { kind: 'task_succeeded', list: 'onSuccess' },
};

export interface AlertSink {
  dispatch(alert: Alert, targets: readonly string[]): void;
}

/** A scheduler listener that raises the alerts the specs ask for. */
export function alertRouter(options: { db: Db; sink: AlertSink; log: Logger }) {
  const { db, sink, log } = options;
  return (event: SchedulerEvent): void => {
    if (event.type === 'attempt_finished') {
      const alert = taskAlert(event);
      if (alert) sink.dispatch(alert.alert, alert.targets);
    } else if (event.type === 'run_finished') {
      const list =
        event.state === 'failed' ? event.spec.notify.onFailure : event.spec.notify.onSuccess;
      if (list.length === 0) return;
      runAlert(db, event).then(
        (alert) => sink.dispatch(alert, list),
        (err: unknown) =>
          log.error({ err, dagId: event.dagId, runId: event.runId }, 'could not build a run alert'),
      );
    }
  };
}

/** The alert of a finished attempt and its targets, or null when nobody listens. */
export function taskAlert(event: AttemptFinished): { alert: Alert; targets: string[] } | null {
  const rule = TASK_ALERTS[event.state];
  if (!rule) return null;
  const targets = event.task.notify[rule.list];
  if (targets.length === 0) return null;
  return {
    targets,
    alert: {
      kind: rule.kind,
      dagId: event.key.dagId,
      runId: event.key.runId,
      taskId: event.key.taskId,
      mapIndex: event.key.mapIndex,
      tryNumber: event.key.tryNumber,
      maxTries: event.task.retries + 1,
      state: event.state,
      durationMs: event.startedAt === null ? null : event.at - event.startedAt,
      error: event.state === 'success' ? null : event.error,
      reason:
        event.exitReason === 'success' || event.exitReason === 'error' ? null : event.exitReason,
      at: event.at,
      deadline: null,
      repeats: 0,
    },
  };
}

async function runAlert(db: Db, event: RunFinished): Promise<Alert> {
  const run = await db
    .selectFrom('dag_runs')
    .select(['started_at'])
    .where('dag_id', '=', event.dagId)
    .where('run_id', '=', event.runId)
    .executeTakeFirst();
  const failedTasks =
    event.state === 'failed'
      ? await db
          .selectFrom('task_instances')
          .select(['task_id'])
          .where('dag_id', '=', event.dagId)
          .where('run_id', '=', event.runId)
          .where('state', 'in', ['failed', 'upstream_failed'])
          .orderBy('task_id')
          .execute()
      : [];
  const startedAt = run?.started_at ? new Date(run.started_at).getTime() : null;
  return {
    kind: event.state === 'failed' ? 'run_failed' : 'run_succeeded',
    dagId: event.dagId,
    runId: event.runId,
    taskId: null,
    mapIndex: -1,
    tryNumber: null,
    maxTries: null,
    state: event.state,
    durationMs: startedAt === null ? null : event.at - startedAt,
    error: failedTasks.length
      ? `failed tasks: ${[...new Set(failedTasks.map((t) => t.task_id))].join(', ')}`
      : null,
    reason: event.reason,
    at: event.at,
    deadline: null,
    repeats: 0,
  };
}
