/**
 * Alerting for a scheduler process: the router (task and run hooks from the specs), the
 * deadline monitor and the dispatcher that sends, retries and groups. Attached to the
 * scheduler's committed events; nothing here runs inside the scheduler's loop.
 */
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.ts';
import type { Scheduler } from '../scheduler/scheduler.ts';
import type { Store } from '../store/store.ts';
import type { Alert } from './alert.ts';
import { AlertDispatcher, type DeliveryOutcome } from './alert-dispatcher.ts';
import { alertRouter } from './alert-router.ts';
import { DeadlineMonitor, type RaisedDeadlineMiss } from './deadline-monitor.ts';
import { NotifierDirectory } from './notifier-directory.ts';

export interface AlertingOptions {
  store: Store;
  /** Home folder (connections file). */
  home: string;
  clock: Clock;
  log: Logger;
  /**
   * Base URL of the web UI for links in messages (default `UPDRAFT_UI_URL`, else
   * `http://localhost:8080`, the standalone's address).
   */
  uiUrl?: string | null;
  /** Environment for connection lookups (default `process.env`). */
  env?: Record<string, string | undefined>;
  /** Grouping window and retry settings of the dispatcher (defaults in `alert-dispatcher.ts`). */
  dispatch?: {
    groupWindowMs?: number;
    maxTries?: number;
    retryBaseMs?: number;
    retryMaxMs?: number;
  };
  /** Deadline monitor poll period (default 30 s). */
  deadlinePollMs?: number;
  /** Hears deadline misses and notification outcomes (metrics). */
  onDeadlineMiss?: (miss: RaisedDeadlineMiss) => void;
  onNotification?: (outcome: DeliveryOutcome) => void;
}

export interface Alerting {
  dispatcher: AlertDispatcher;
  deadlines: DeadlineMonitor;
  stop(): Promise<void>;
}

/** Attaches alerting to `scheduler` and starts the deadline monitor. */
export async function startAlerting(
  scheduler: Pick<Scheduler, 'onEvent'>,
  options: AlertingOptions,
): Promise<Alerting> {
  const env = options.env ?? process.env;
  const log = options.log.child({ component: 'alerting' });
  const uiUrl =
    options.uiUrl === undefined ? env.UPDRAFT_UI_URL || 'http://localhost:8080' : options.uiUrl;
  const directory = new NotifierDirectory({ db: options.store.db, home: options.home, env, uiUrl });
  const dispatcher = new AlertDispatcher({
    notifiers: directory,
    clock: options.clock,
    log,
    ...options.dispatch,
    onOutcome: options.onNotification,
  });
  const deadlines = new DeadlineMonitor({
    store: options.store,
    clock: options.clock,
    log,
    pollMs: options.deadlinePollMs,
    onMiss(miss) {
      options.onDeadlineMiss?.(miss);
      const targets = miss.task ? miss.task.notify.onDeadlineMiss : miss.spec.notify.onDeadlineMiss;
      if (targets.length) dispatcher.dispatch(deadlineAlert(miss), targets);
    },
  });
  scheduler.onEvent(alertRouter({ db: options.store.db, sink: dispatcher, log }));
  scheduler.onEvent(deadlines.onSchedulerEvent);
  await deadlines.start();
  return {
    dispatcher,
    deadlines,
    async stop() {
      await deadlines.stop();
      await dispatcher.stop();
      directory.close();
    },
  };
}

/** The alert of a missed deadline. */
export function deadlineAlert(miss: RaisedDeadlineMiss): Alert {
  return {
    kind: miss.task ? 'task_deadline_missed' : 'run_deadline_missed',
    dagId: miss.dagId,
    runId: miss.runId,
    taskId: miss.task?.taskId ?? null,
    mapIndex: -1,
    tryNumber: null,
    maxTries: null,
    state: miss.task ? (miss.taskState ?? 'none') : miss.runState,
    durationMs: miss.runStartedAt === null ? null : miss.detectedAt - miss.runStartedAt,
    error: null,
    reason: 'still unfinished at its deadline; the work continues',
    at: miss.detectedAt,
    deadline: { ...miss.deadline, dueAt: miss.dueAt },
    repeats: 0,
  };
}
