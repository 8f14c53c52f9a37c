/**
 * Missed deadlines (SLAs) as the pages show them: a mark on the run and the task
 * instance, and a note with the deadline, when it was due and by how much it was missed.
 */
import type { DeadlineMiss } from '../api.ts';
import { formatDate, formatDuration } from '../format.ts';

/** Misses of a DAG looked up by run (the run's own) and by run and task. */
export interface DeadlineIndex {
  run(runId: string): DeadlineMiss | undefined;
  task(runId: string, taskId: string): DeadlineMiss | undefined;
  /** The run's own miss first, then its tasks' by task id. */
  ofRun(runId: string): DeadlineMiss[];
}

export function indexMisses(misses: readonly DeadlineMiss[]): DeadlineIndex {
  const key = (runId: string, taskId: string | null) => `${runId}\u0000${taskId ?? ''}`;
  const byKey = new Map(misses.map((m) => [key(m.runId, m.taskId), m]));
  return {
    run: (runId) => byKey.get(key(runId, null)),
    task: (runId, taskId) => byKey.get(key(runId, taskId)),
    ofRun: (runId) =>
      misses
        .filter((m) => m.runId === runId)
        .sort((a, b) =>
          a.taskId === null ? -1 : b.taskId === null ? 1 : a.taskId.localeCompare(b.taskId),
        ),
  };
}

/** "10 min after the run started" / "1 h after the logical date". */
export function deadlineText(miss: DeadlineMiss): string {
  return `${formatDuration(miss.afterMs)} after ${miss.from === 'start' ? 'the run started' : 'the logical date'}`;
}

/** "finished 3 min 0 s late" / "not finished, 8 min past the deadline". */
export function lateText(miss: DeadlineMiss, now = Date.now()): string {
  if (miss.lateByMs !== null) return `finished ${formatDuration(miss.lateByMs)} late`;
  const due = Date.parse(miss.dueAt);
  const late = Math.max(now - due, Date.parse(miss.detectedAt) - due);
  return `not finished, ${formatDuration(late)} past the deadline`;
}

/** One line for titles and labels: "missed its deadline: finished 3 min late". */
export function missSummary(miss: DeadlineMiss): string {
  return `missed its deadline (${deadlineText(miss)}): ${lateText(miss)}`;
}

/** The note on a run or task panel: each miss with its deadline, due time and lateness. */
export function DeadlineNotes({ misses }: { misses: readonly DeadlineMiss[] }) {
  if (misses.length === 0) return null;
  return (
    <div className="deadline-note" role="note" aria-label="missed deadlines">
      <div className="deadline-title">
        <span className="late-mark" aria-hidden="true" />
        {misses.length === 1 ? 'Missed deadline' : `${misses.length} missed deadlines`}
      </div>
      {misses.map((m) => (
        <div key={m.taskId ?? ''} className="deadline-line">
          <strong>{m.taskId === null ? 'Run' : <span className="mono">{m.taskId}</span>}</strong>
          <span>{lateText(m)}</span>
          <span className="muted small">
            due {formatDate(m.dueAt)} ({deadlineText(m)})
          </span>
        </div>
      ))}
    </div>
  );
}
