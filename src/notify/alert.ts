/**
 * An alert: one thing an on-call engineer should hear about — a task that failed, is
 * retrying or succeeded, a run that failed or succeeded, a deadline (SLA) missed, data
 * quality checks that failed without failing their task (`src/quality/quality-alerts.ts`).
 * Alerts are plain data; `alert-text.ts` renders them and the notifiers (`slack-notifier.ts`,
 * `email-notifier.ts`, `webhook-notifier.ts`) deliver them.
 *
 * Vocabulary:
 * - target: the name of a notifier connection listed in a spec's `notify` (e.g. `oncall`);
 * - notifier: what delivers to one target (Slack webhook, SMTP, signed webhook);
 * - group: identical alerts to one target within the grouping window, sent once with a
 *   count of the repeats (see `alert-dispatcher.ts`).
 */
import type { DeadlineSpec } from '../core/dag-spec.ts';

export const ALERT_KINDS = [
  'task_failed',
  'task_retry',
  'task_succeeded',
  'run_failed',
  'run_succeeded',
  'task_deadline_missed',
  'run_deadline_missed',
  'quality_failed',
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export interface Alert {
  kind: AlertKind;
  dagId: string;
  runId: string;
  /** Null for run alerts. */
  taskId: string | null;
  /** -1 for an unmapped task or a run alert. */
  mapIndex: number;
  /** The attempt's try number (task alerts), else null. */
  tryNumber: number | null;
  /** Tries allowed in all, when known. */
  maxTries: number | null;
  /** The task instance's or run's state when the alert was raised. */
  state: string;
  /** How long the attempt or run took (or has been running, for a deadline), in ms. */
  durationMs: number | null;
  /** The error message (failures and retries); rendered as its first lines. */
  error: string | null;
  /** Why, when not the error itself (e.g. `dagrunTimeout exceeded`, exit reason). */
  reason: string | null;
  /** When it happened (ms since epoch). */
  at: number;
  /** The missed deadline: when it fell due and how it was declared. */
  deadline: (DeadlineSpec & { dueAt: number }) | null;
  /** How many identical alerts were folded into this one (0 for a first alert). */
  repeats: number;
}

/** What makes two alerts "identical" for grouping: kind, DAG, task, and the error's first line. */
export function alertGroupKey(alert: Alert): string {
  const firstLine = (alert.error ?? alert.reason ?? '').split('\n', 1)[0] ?? '';
  return [alert.kind, alert.dagId, alert.taskId ?? '', firstLine].join('\u0000');
}
