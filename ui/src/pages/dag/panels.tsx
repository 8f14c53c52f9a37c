/** Details of the selected run or task instance, with their actions (each confirmed). */
import { useState } from 'react';
import { api, type DeadlineMiss, type Me, type RunDetail } from '../../api.ts';
import { Confirm, ErrorNote, StateBadge } from '../../components/common.tsx';
import { DeadlineNotes } from '../../components/deadlines.tsx';
import { durationBetween, formatDate, formatDuration } from '../../format.ts';
import { useLoad } from '../../hooks.ts';
import { href } from '../../router.ts';

type Action =
  | { kind: 'clear'; only?: 'failed' }
  | { kind: 'mark'; state: 'success' | 'failed' }
  | null;

export function RunPanel({
  run,
  me,
  misses,
  onChanged,
}: {
  run: RunDetail;
  me: Me;
  /** The run's missed deadlines (its own and its tasks'). */
  misses: DeadlineMiss[];
  onChanged: () => void;
}) {
  const [action, setAction] = useState<Action>(null);
  const canOperate = me.capabilities.includes('operate');
  const failed = run.tasks.filter(
    (t) => t.state === 'failed' || t.state === 'upstream_failed',
  ).length;
  return (
    <aside className="panel" aria-label="run details">
      <h2>
        Run <span className="mono">{run.runId}</span>
      </h2>
      <StateBadge state={run.state} />
      <DeadlineNotes misses={misses} />
      <dl>
        <dt>Type</dt>
        <dd>{run.runType}</dd>
        <dt>Logical date</dt>
        <dd>{formatDate(run.logicalDate)}</dd>
        <dt>Interval</dt>
        <dd>
          {formatDate(run.dataIntervalStart)} → {formatDate(run.dataIntervalEnd)}
        </dd>
        <dt>Started</dt>
        <dd>{formatDate(run.startedAt)}</dd>
        <dt>Duration</dt>
        <dd>{formatDuration(durationBetween(run.startedAt, run.endedAt))}</dd>
        <dt>Params</dt>
        <dd>
          <pre className="small">{JSON.stringify(run.params, null, 2)}</pre>
        </dd>
      </dl>
      {canOperate && (
        <div className="actions">
          <button
            type="button"
            disabled={failed === 0}
            onClick={() => setAction({ kind: 'clear', only: 'failed' })}
          >
            Clear failed ({failed})
          </button>
          <button type="button" onClick={() => setAction({ kind: 'clear' })}>
            Re-run all
          </button>
          <button type="button" onClick={() => setAction({ kind: 'mark', state: 'success' })}>
            Mark success
          </button>
          <button type="button" onClick={() => setAction({ kind: 'mark', state: 'failed' })}>
            Mark failed
          </button>
        </div>
      )}
      {action?.kind === 'clear' && (
        <Confirm
          title={action.only ? 'Clear failed tasks' : 'Re-run the whole run'}
          message={
            action.only
              ? `Clear the ${failed} failed task(s) of ${run.runId} so they run again?`
              : `Clear every task of ${run.runId} so the whole run runs again?`
          }
          confirmLabel="Clear"
          onClose={() => setAction(null)}
          onConfirm={() =>
            api
              .clear(run.dagId, run.runId, { onlyFailed: action.only === 'failed' })
              .then(onChanged)
          }
        />
      )}
      {action?.kind === 'mark' && (
        <Confirm
          title={`Mark run ${action.state}`}
          message={`Set the unfinished tasks of ${run.runId} to ${action.state} and end the run?`}
          confirmLabel={`Mark ${action.state}`}
          danger={action.state === 'failed'}
          onClose={() => setAction(null)}
          onConfirm={() => api.markRun(run.dagId, run.runId, action.state).then(onChanged)}
        />
      )}
    </aside>
  );
}

export function TaskPanel({
  dagId,
  runId,
  taskId,
  me,
  version,
  miss,
  onChanged,
}: {
  dagId: string;
  runId: string;
  taskId: string;
  me: Me;
  version: string;
  /** The task's missed deadline in this run, if it missed one. */
  miss: DeadlineMiss | undefined;
  onChanged: () => void;
}) {
  const ti = useLoad(
    () => api.task(dagId, runId, taskId),
    `${dagId}/${runId}/${taskId}/${version}`,
  );
  const [action, setAction] = useState<Action>(null);
  const [downstream, setDownstream] = useState(true);
  const canOperate = me.capabilities.includes('operate');
  const t = ti.data;
  return (
    <aside className="panel" aria-label="task instance details">
      <h2>
        Task <span className="mono">{taskId}</span>
      </h2>
      <div className="muted small mono">run {runId}</div>
      <ErrorNote error={ti.error} />
      {t && (
        <>
          <StateBadge state={t.state} />
          <DeadlineNotes misses={miss ? [miss] : []} />
          <dl>
            <dt>Try</dt>
            <dd>
              {t.tryNumber} of {t.maxTries}
            </dd>
            <dt>Operator</dt>
            <dd>{t.operator}</dd>
            <dt>Pool</dt>
            <dd>{t.pool}</dd>
            <dt>Started</dt>
            <dd>{formatDate(t.startedAt)}</dd>
            <dt>Duration</dt>
            <dd>{formatDuration(durationBetween(t.startedAt, t.endedAt))}</dd>
            {t.nextRetryAt && (
              <>
                <dt>Next try</dt>
                <dd>{formatDate(t.nextRetryAt)}</dd>
              </>
            )}
            {t.result !== undefined && (
              <>
                <dt>Result</dt>
                <dd>
                  <pre className="small">{JSON.stringify(t.result, null, 2)}</pre>
                </dd>
              </>
            )}
            {t.attempts.at(-1)?.error && (
              <>
                <dt>Error</dt>
                <dd className="error-text">{t.attempts.at(-1)?.error}</dd>
              </>
            )}
          </dl>
          <div className="actions">
            <a
              className="button primary"
              href={href(['dags', dagId, 'runs', runId, 'tasks', taskId])}
            >
              Logs and attempts ({t.attempts.length})
            </a>
            {canOperate && (
              <>
                <button type="button" onClick={() => setAction({ kind: 'clear' })}>
                  Clear
                </button>
                <button type="button" onClick={() => setAction({ kind: 'mark', state: 'success' })}>
                  Mark success
                </button>
                <button type="button" onClick={() => setAction({ kind: 'mark', state: 'failed' })}>
                  Mark failed
                </button>
              </>
            )}
          </div>
        </>
      )}
      {action?.kind === 'clear' && (
        <Confirm
          title="Clear task"
          message={`Clear ${taskId} in ${runId} so it runs again (with a fresh retry allowance)?`}
          confirmLabel="Clear"
          onClose={() => setAction(null)}
          onConfirm={() =>
            api.clear(dagId, runId, { taskIds: [taskId], downstream }).then(() => {
              ti.reload();
              onChanged();
            })
          }
        >
          <label className="check">
            <input
              type="checkbox"
              checked={downstream}
              onChange={(e) => setDownstream(e.target.checked)}
            />{' '}
            also clear everything downstream
          </label>
        </Confirm>
      )}
      {action?.kind === 'mark' && (
        <Confirm
          title={`Mark ${action.state}`}
          message={`Set ${taskId} in ${runId} to ${action.state}?`}
          confirmLabel={`Mark ${action.state}`}
          danger={action.state === 'failed'}
          onClose={() => setAction(null)}
          onConfirm={() =>
            api.markTask(dagId, runId, taskId, action.state).then(() => {
              ti.reload();
              onChanged();
            })
          }
        />
      )}
    </aside>
  );
}
