/**
 * How an alert reads: a one-line title, the facts (DAG, run, task, attempt, duration),
 * the error's first lines and a link to the log in the web UI. Every notifier renders
 * from `describeAlert`, so Slack, e-mail and webhooks say the same thing.
 */
import { humanDuration } from '../cli/output.ts';
import type { Alert, AlertKind } from './alert.ts';

/** Lines of the error shown in a message (the rest is in the log). */
export const ERROR_EXCERPT_LINES = 8;
/** Characters of the error shown at most. */
const ERROR_EXCERPT_CHARS = 1500;

const HEADLINES: Record<AlertKind, string> = {
  task_failed: 'Task failed',
  task_retry: 'Task failed, will retry',
  task_succeeded: 'Task succeeded',
  run_failed: 'Run failed',
  run_succeeded: 'Run succeeded',
  task_deadline_missed: 'Task missed its deadline',
  run_deadline_missed: 'Run missed its deadline',
  quality_failed: 'Data quality checks failed',
};

/** An alert as text, ready for any notifier. */
export interface AlertDescription {
  /** `[updraft] Task failed: etl.load (run scheduled__…)` */
  title: string;
  /** `label: value` facts in display order. */
  facts: [string, string][];
  /** The error's first lines, or null. */
  errorExcerpt: string | null;
  /** Link to the task's log (task alerts) or the run (run alerts) in the web UI. */
  link: string | null;
}

/**
 * Describes an alert.
 *
 * @param uiUrl base URL of the web UI (e.g. `https://updraft.example.com`); null for no link
 */
export function describeAlert(alert: Alert, uiUrl: string | null): AlertDescription {
  const subject = alert.taskId === null ? alert.dagId : `${alert.dagId}.${alert.taskId}`;
  const repeats = alert.repeats > 0 ? ` (+${alert.repeats} more like it)` : '';
  const facts: [string, string][] = [
    ['DAG', alert.dagId],
    ['Run', alert.runId],
  ];
  if (alert.taskId !== null) {
    facts.push(['Task', alert.mapIndex >= 0 ? `${alert.taskId}[${alert.mapIndex}]` : alert.taskId]);
  }
  if (alert.tryNumber !== null) {
    facts.push([
      'Attempt',
      alert.maxTries === null ? String(alert.tryNumber) : `${alert.tryNumber} of ${alert.maxTries}`,
    ]);
  }
  facts.push(['State', alert.state]);
  if (alert.durationMs !== null) facts.push(['Duration', humanDuration(alert.durationMs)]);
  if (alert.deadline) {
    facts.push([
      'Deadline',
      `${new Date(alert.deadline.dueAt).toISOString()} (${humanDuration(alert.deadline.afterMs)} after the ${alert.deadline.from === 'start' ? "run's start" : 'logical date'})`,
    ]);
  }
  if (alert.reason) facts.push(['Reason', alert.reason]);
  facts.push(['At', new Date(alert.at).toISOString()]);
  if (alert.repeats > 0) facts.push(['Repeats', `${alert.repeats} identical alert(s) grouped`]);
  return {
    title: `[updraft] ${HEADLINES[alert.kind]}: ${subject} (run ${alert.runId})${repeats}`,
    facts,
    errorExcerpt: alert.error === null ? null : errorExcerpt(alert.error),
    link: uiUrl === null ? null : alertLink(alert, uiUrl),
  };
}

/** The first `ERROR_EXCERPT_LINES` lines of an error, cut at `ERROR_EXCERPT_CHARS`. */
export function errorExcerpt(error: string): string {
  const lines = error.split('\n');
  let text = lines.slice(0, ERROR_EXCERPT_LINES).join('\n');
  if (text.length > ERROR_EXCERPT_CHARS) text = `${text.slice(0, ERROR_EXCERPT_CHARS)}…`;
  else if (lines.length > ERROR_EXCERPT_LINES) text += '\n…';
  return text;
}

/** The web UI page of the task attempt's log, or of the run. */
export function alertLink(alert: Alert, uiUrl: string): string {
  const base = uiUrl.replace(/\/+$/, '');
  const enc = encodeURIComponent;
  const run = `${base}/#/dags/${enc(alert.dagId)}/runs/${enc(alert.runId)}`;
  if (alert.taskId === null) return run;
  return `${run}/tasks/${enc(alert.taskId)}${alert.tryNumber === null ? '' : `?try=${alert.tryNumber}`}`;
}

/** The description as plain text (e-mail body, Slack fallback). */
export function alertPlainText(description: AlertDescription): string {
  const parts = [description.facts.map(([k, v]) => `${k}: ${v}`).join('\n')];
  if (description.errorExcerpt !== null) parts.push(`Error:\n${description.errorExcerpt}`);
  if (description.link !== null) parts.push(`Log: ${description.link}`);
  return parts.join('\n\n');
}
