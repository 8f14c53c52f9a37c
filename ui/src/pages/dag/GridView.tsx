/**
 * The Grid: tasks down, runs across (newest on the right), one coloured cell per task
 * instance. Only the rows in view are rendered, so a 1,000-task DAG draws as fast as a
 * small one. Cells are buttons: Tab reaches them, Enter opens the task instance. A run or
 * task instance that missed its deadline carries a mark (and says so in its label).
 */
import { useEffect, useRef, useState } from 'react';
import type { Grid } from '../../api.ts';
import { StateDot } from '../../components/common.tsx';
import { type DeadlineIndex, missSummary } from '../../components/deadlines.tsx';
import { durationBetween, formatDate, formatDuration } from '../../format.ts';

const ROW = 24;
const OVERSCAN = 10;

export function GridView({
  grid,
  selectedRun,
  selectedTask,
  misses,
  onSelect,
}: {
  grid: Grid;
  selectedRun: string | undefined;
  selectedTask: string | undefined;
  misses: DeadlineIndex;
  onSelect: (runId: string, taskId?: string) => void;
}) {
  const scroller = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ top: 0, height: 600 });
  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const update = () => setView({ top: el.scrollTop, height: el.clientHeight });
    update();
    el.addEventListener('scroll', update, { passive: true });
    window.addEventListener('resize', update);
    return () => {
      el.removeEventListener('scroll', update);
      window.removeEventListener('resize', update);
    };
  }, []);
  const first = Math.max(0, Math.floor(view.top / ROW) - OVERSCAN);
  const last = Math.min(grid.tasks.length, Math.ceil((view.top + view.height) / ROW) + OVERSCAN);
  const longest = Math.max(
    1,
    ...grid.runs.map((r) => durationBetween(r.startedAt, r.endedAt) ?? 0),
  );
  if (grid.runs.length === 0) {
    return <p className="muted empty">No runs yet. Trigger one with the button above.</p>;
  }
  return (
    <div className="grid" data-testid="grid">
      <div className="grid-head">
        <div className="grid-names muted small grid-summary">
          <div>
            {grid.tasks.length} tasks × {grid.runs.length} runs
          </div>
          <div title="logical dates of the oldest and newest run shown">
            {formatDate(grid.runs[0]?.logicalDate).slice(0, 10)} →{' '}
            {formatDate(grid.runs.at(-1)?.logicalDate).slice(0, 10)}
          </div>
        </div>
        <div className="grid-cols">
          {grid.runs.map((r) => {
            const d = durationBetween(r.startedAt, r.endedAt);
            const miss = misses.run(r.runId);
            const late = miss ? `, ${missSummary(miss)}` : '';
            return (
              <button
                type="button"
                key={r.runId}
                className={`run-col${r.runId === selectedRun ? ' selected' : ''}${miss ? ' late' : ''}`}
                title={`${r.runId}\n${r.state}\nlogical date ${formatDate(r.logicalDate)}\nduration ${formatDuration(d)}${miss ? `\n${missSummary(miss)}` : ''}`}
                aria-label={`run ${r.runId}: ${r.state}${late}`}
                onClick={() => onSelect(r.runId)}
              >
                <span
                  className={`bar state-${r.state}`}
                  style={{ height: `${Math.max(4, ((d ?? 0) / longest) * 48)}px` }}
                />
              </button>
            );
          })}
        </div>
      </div>
      <div className="grid-body" ref={scroller}>
        <div style={{ height: `${grid.tasks.length * ROW}px`, position: 'relative' }}>
          {grid.tasks.slice(first, last).map((task, i) => {
            const t = first + i;
            const depth = task.taskId.split('.').length - 1;
            return (
              <div
                key={task.taskId}
                className={`grid-row${task.taskId === selectedTask ? ' selected' : ''}`}
                style={{ top: `${t * ROW}px` }}
              >
                <div
                  className="grid-names"
                  title={task.taskId}
                  style={{ paddingLeft: `${8 + depth * 14}px` }}
                >
                  {depth > 0 && (
                    <span className="muted">
                      {task.taskId.slice(0, task.taskId.lastIndexOf('.') + 1)}
                    </span>
                  )}
                  {task.taskId.slice(task.taskId.lastIndexOf('.') + 1)}
                </div>
                <div className="grid-cols">
                  {grid.runs.map((r, ri) => {
                    const state = grid.states[ri]?.[t] ?? '';
                    const selected = r.runId === selectedRun && task.taskId === selectedTask;
                    const miss = misses.task(r.runId, task.taskId);
                    const late = miss ? `, ${missSummary(miss)}` : '';
                    return (
                      <button
                        type="button"
                        key={r.runId}
                        className={`cell${selected ? ' selected' : ''}${miss ? ' late' : ''}`}
                        aria-label={`${task.taskId} in ${r.runId}: ${state || 'not in this run'}${late}`}
                        title={`${task.taskId}\n${r.runId}\n${state || 'not in this run'}${miss ? `\n${missSummary(miss)}` : ''}`}
                        disabled={!state}
                        onClick={() => onSelect(r.runId, task.taskId)}
                      >
                        {state ? <StateDot state={state} /> : null}
                      </button>
                    );
                  })}
                </div>
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
