/** One DAG: Grid, Graph, Gantt and Code tabs, the selected run/task panel, actions. */
import { useMemo, useState } from 'react';
import { api, type Me } from '../api.ts';
import { ErrorNote, Legend } from '../components/common.tsx';
import { indexMisses } from '../components/deadlines.tsx';
import { relative } from '../format.ts';
import { useLiveChanges, useLoad } from '../hooks.ts';
import { href, navigate, type Route } from '../router.ts';
import { PauseSwitch } from './DagListPage.tsx';
import { RunningBackfills } from './dag/Backfills.tsx';
import { CodeView } from './dag/CodeView.tsx';
import { BackfillDialog, TriggerDialog } from './dag/dialogs.tsx';
import { GanttView } from './dag/GanttView.tsx';
import { GraphView } from './dag/GraphView.tsx';
import { GridView } from './dag/GridView.tsx';
import { RunPanel, TaskPanel } from './dag/panels.tsx';

const TABS = ['grid', 'graph', 'gantt', 'code'] as const;

export function DagPage({ dagId, route, me }: { dagId: string; route: Route; me: Me }) {
  const tab = (TABS as readonly string[]).includes(route.query.get('tab') ?? '')
    ? (route.query.get('tab') as (typeof TABS)[number])
    : 'grid';
  const runParam = route.query.get('run') ?? undefined;
  const taskId = route.query.get('task') ?? undefined;
  const [version, setVersion] = useState(0);
  const dag = useLoad(() => api.dag(dagId), `dag:${dagId}`);
  const grid = useLoad(() => api.grid(dagId, 25), `grid:${dagId}`);
  const runId = runParam ?? grid.data?.runs.at(-1)?.runId;
  const run = useLoad(
    () => (runId ? api.run(dagId, runId) : Promise.resolve(undefined)),
    `run:${dagId}:${runId}:${version}`,
  );
  const backfills = useLoad(() => api.backfills(dagId), `backfills:${dagId}:${version}`);
  const deadlineMisses = useLoad(() => api.deadlineMisses(dagId), `misses:${dagId}:${version}`);
  const misses = useMemo(() => indexMisses(deadlineMisses.data ?? []), [deadlineMisses.data]);
  const [dialog, setDialog] = useState<'trigger' | 'backfill' | null>(null);
  const [notice, setNotice] = useState<string>();
  const refresh = () => {
    grid.reload();
    dag.reload();
    setVersion((v) => v + 1);
  };
  const live = useLiveChanges(dagId, refresh);
  const go = (q: { tab?: string; run?: string; task?: string }) =>
    navigate(href(['dags', dagId], { tab: q.tab ?? tab, run: q.run, task: q.task }));
  const d = dag.data;
  const canOperate = me.capabilities.includes('operate');
  if (dag.error && !d) {
    return (
      <div className="page">
        <ErrorNote error={dag.error} />
        <a href="#/">Back to the DAG list</a>
      </div>
    );
  }
  return (
    <div className="page dag-page">
      <div className="page-head">
        <a href="#/" className="muted">
          DAGs /
        </a>
        <h1>{dagId}</h1>
        {d && (
          <PauseSwitch
            dagId={dagId}
            paused={d.isPaused}
            disabled={!canOperate}
            onToggle={() => {
              api.setPaused(dagId, !d.isPaused).then(dag.reload, () => undefined);
            }}
          />
        )}
        {d?.isPaused && <span className="badge">paused</span>}
        <span
          className={`live${live ? ' on' : ''}`}
          title={live ? 'live updates on' : 'live updates reconnecting'}
        >
          {live ? '● live' : '○ offline'}
        </span>
        <span className="spacer" />
        {canOperate && (
          <>
            <button
              type="button"
              onClick={() => setDialog('backfill')}
              disabled={!d?.schedule}
              title={d?.schedule ? '' : 'manual DAGs have no intervals to backfill'}
            >
              Backfill
            </button>
            <button type="button" className="primary" onClick={() => setDialog('trigger')}>
              ▶ Trigger
            </button>
          </>
        )}
      </div>
      {d && (
        <div className="dag-facts muted small">
          {d.description && <span>{d.description}</span>}
          <span>owner {d.owner}</span>
          <span>
            schedule <code>{d.schedule ?? 'manual'}</code>
            {d.schedule && ` (${d.timezone})`}
          </span>
          {d.nextRunAfter && <span>next run {relative(d.nextRunAfter)}</span>}
          {d.tags.map((t) => (
            <span key={t} className="tag">
              {t}
            </span>
          ))}
        </div>
      )}
      <RunningBackfills
        backfills={backfills.data ?? []}
        canOperate={canOperate}
        onChanged={refresh}
      />
      {notice && (
        <div className="banner ok" role="status">
          {notice}{' '}
          <button type="button" className="link" onClick={() => setNotice(undefined)}>
            dismiss
          </button>
        </div>
      )}
      <div className="tabs" role="tablist">
        {TABS.map((t) => (
          <a
            key={t}
            role="tab"
            aria-selected={tab === t}
            href={href(['dags', dagId], { tab: t, run: runParam, task: taskId })}
          >
            {t[0]?.toUpperCase()}
            {t.slice(1)}
          </a>
        ))}
        <span className="spacer" />
        {(tab === 'grid' || tab === 'graph') && (
          <Legend late={tab === 'grid' && (deadlineMisses.data?.length ?? 0) > 0} />
        )}
      </div>
      <div className="dag-body">
        <section className="dag-main">
          <ErrorNote error={grid.error} />
          {tab === 'grid' && grid.data && (
            <GridView
              grid={grid.data}
              selectedRun={runId}
              selectedTask={taskId}
              misses={misses}
              onSelect={(r, t) => go({ run: r, task: t })}
            />
          )}
          {tab === 'graph' && d && (
            <>
              {run.data && (
                <div className="muted small">
                  states of run <span className="mono">{run.data.runId}</span>
                </div>
              )}
              <GraphView
                dag={d}
                run={run.data}
                selectedTask={taskId}
                onSelectTask={(t) => go({ run: runId, task: t })}
              />
            </>
          )}
          {tab === 'gantt' && (
            <GanttView run={run.data} onSelectTask={(t) => go({ run: runId, task: t })} />
          )}
          {tab === 'code' && d && <CodeView dag={d} />}
        </section>
        {tab !== 'code' &&
          runId &&
          (taskId ? (
            <TaskPanel
              dagId={dagId}
              runId={runId}
              taskId={taskId}
              me={me}
              version={String(version)}
              miss={misses.task(runId, taskId)}
              onChanged={refresh}
            />
          ) : (
            run.data && (
              <RunPanel
                run={run.data}
                me={me}
                misses={misses.ofRun(run.data.runId)}
                onChanged={refresh}
              />
            )
          ))}
      </div>
      {dialog === 'trigger' && d && (
        <TriggerDialog
          dag={d}
          onClose={() => setDialog(null)}
          onTriggered={(newRun) => {
            setDialog(null);
            setNotice(`Run ${newRun} triggered.`);
            go({ run: newRun });
            refresh();
          }}
        />
      )}
      {dialog === 'backfill' && d && (
        <BackfillDialog
          dag={d}
          onClose={() => setDialog(null)}
          onCreated={() => {
            setDialog(null);
            setNotice('Backfill created.');
            refresh();
          }}
        />
      )}
    </div>
  );
}
