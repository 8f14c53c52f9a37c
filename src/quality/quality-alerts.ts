/**
 * Notifications for quality checks that failed without failing their task: `error`
 * results of non-blocking checks, and blocking ones whose rows were quarantined
 * (`quarantine: true`). A blocking failure fails the task, so its `task_failed` alert
 * already lists the checks. When a `quality` task succeeds, this scheduler listener
 * reads that attempt's `error` results and raises one `quality_failed` alert to the
 * task's `notify.onFailure` targets. Wire it next to the alert router:
 * `scheduler.onEvent(qualityAlertListener({ db: store.db, sink: alerting.dispatcher, log }))`.
 */
import type { Logger } from 'pino';
import type { Alert } from '../notify/alert.ts';
import type { AlertSink } from '../notify/alert-router.ts';
import type { SchedulerEvent } from '../scheduler/scheduler-events.ts';
import type { Db } from '../store/store.ts';
import { QUALITY_OPERATOR } from './quality-hooks.ts';
import { qualityDb } from './quality-store.ts';

type AttemptFinished = Extract<SchedulerEvent, { type: 'attempt_finished' }>;

/** A scheduler listener raising `quality_failed` alerts; returns at once. */
export function qualityAlertListener(options: { db: Db; sink: AlertSink; log: Logger }) {
  const { db, sink, log } = options;
  return (event: SchedulerEvent): void => {
    if (
      event.type !== 'attempt_finished' ||
      event.state !== 'success' ||
      event.task.operator !== QUALITY_OPERATOR ||
      event.task.notify.onFailure.length === 0
    )
      return;
    const targets = event.task.notify.onFailure;
    qualityAlert(db, event).then(
      (alert) => {
        if (alert !== null) sink.dispatch(alert, targets);
      },
      (err: unknown) =>
        log.error(
          { err, dagId: event.key.dagId, runId: event.key.runId },
          'could not build a quality alert',
        ),
    );
  };
}

/** The `quality_failed` alert of a succeeded quality attempt, or null when no check failed. */
export async function qualityAlert(db: Db, event: AttemptFinished): Promise<Alert | null> {
  const failed = await qualityDb(db)
    .selectFrom('quality_results')
    .select(['dataset', 'version', 'check_id', 'message', 'quarantined'])
    .where('dag_id', '=', event.key.dagId)
    .where('run_id', '=', event.key.runId)
    .where('task_id', '=', event.key.taskId)
    .where('try_number', '=', event.key.tryNumber)
    .where('status', '=', 'error')
    .orderBy('id')
    .execute();
  if (failed.length === 0) return null;
  return {
    kind: 'quality_failed',
    dagId: event.key.dagId,
    runId: event.key.runId,
    taskId: event.key.taskId,
    mapIndex: event.key.mapIndex,
    tryNumber: event.key.tryNumber,
    maxTries: event.task.retries + 1,
    state: event.state,
    durationMs: event.startedAt === null ? null : event.at - event.startedAt,
    error: failed
      .map(
        (r) =>
          `${r.dataset} v${r.version} '${r.check_id}': ${r.message}${r.quarantined ? ' (rows quarantined)' : ''}`,
      )
      .join('\n'),
    reason: `${failed.length} check${failed.length === 1 ? '' : 's'} failed`,
    at: event.at,
    deadline: null,
    repeats: 0,
  };
}
