/** The Gantt chart of one run: when each task instance started and how long it took. */
import type { RunDetail } from '../../api.ts';
import { durationBetween, formatDate, formatDuration } from '../../format.ts';

export function GanttView({
  run,
  onSelectTask,
}: {
  run: RunDetail | undefined;
  onSelectTask: (taskId: string) => void;
}) {
  if (!run) return <p className="muted empty">Select a run in the Grid to see its Gantt chart.</p>;
  const started = run.tasks.filter((t) => t.startedAt);
  if (started.length === 0)
    return <p className="muted empty">No task of run {run.runId} has started yet.</p>;
  const t0 = Math.min(...started.map((t) => new Date(t.startedAt!).getTime()));
  const t1 = Math.max(
    ...started.map((t) => (t.endedAt ? new Date(t.endedAt).getTime() : Date.now())),
  );
  const span = Math.max(1, t1 - t0);
  const rows = [...started].sort(
    (a, b) => new Date(a.startedAt!).getTime() - new Date(b.startedAt!).getTime(),
  );
  return (
    <div className="gantt" data-testid="gantt">
      <div className="gantt-scale muted small">
        <span>{formatDate(new Date(t0).toISOString())}</span>
        <span>total {formatDuration(span)}</span>
      </div>
      {rows.map((t) => {
        const start = new Date(t.startedAt!).getTime() - t0;
        const d = durationBetween(t.startedAt, t.endedAt) ?? 0;
        return (
          <button
            type="button"
            key={t.taskId}
            className="gantt-row"
            onClick={() => onSelectTask(t.taskId)}
            title={`${t.taskId}: ${formatDuration(d)}`}
          >
            <span className="gantt-name">{t.taskId}</span>
            <span className="gantt-track">
              <span
                className={`gantt-bar state-${t.state}`}
                style={{
                  left: `${(start / span) * 100}%`,
                  width: `${Math.max(0.5, (d / span) * 100)}%`,
                }}
              />
            </span>
            <span className="gantt-dur muted small">{formatDuration(d)}</span>
          </button>
        );
      })}
    </div>
  );
}
