/** The DAG list: search, tags, owner, schedule, next run, recent runs, pause toggle. */
import { useMemo, useState } from 'react';
import { api, type DagSummary, type Me } from '../api.ts';
import { ErrorNote, StateDot } from '../components/common.tsx';
import { formatDate, relative } from '../format.ts';
import { useLiveChanges, useLoad } from '../hooks.ts';
import { href } from '../router.ts';

export function DagListPage({ me }: { me: Me }) {
  const dags = useLoad(() => api.dags(), 'dags');
  const errors = useLoad(() => api.importErrors(), 'import-errors');
  useLiveChanges(undefined, dags.reload);
  const [search, setSearch] = useState('');
  const [tag, setTag] = useState('');
  const [owner, setOwner] = useState('');
  const [status, setStatus] = useState<'all' | 'active' | 'paused'>('all');
  const [showErrors, setShowErrors] = useState(false);
  const list = dags.data ?? [];
  const tags = useMemo(() => [...new Set(list.flatMap((d) => d.tags))].sort(), [list]);
  const owners = useMemo(() => [...new Set(list.map((d) => d.owner))].sort(), [list]);
  const shown = list.filter(
    (d) =>
      (!search ||
        d.dagId.toLowerCase().includes(search.toLowerCase()) ||
        (d.description ?? '').toLowerCase().includes(search.toLowerCase())) &&
      (!tag || d.tags.includes(tag)) &&
      (!owner || d.owner === owner) &&
      (status === 'all' || (status === 'paused') === d.isPaused),
  );
  const canOperate = me.capabilities.includes('operate');
  const importErrors = errors.data ?? [];
  return (
    <div className="page">
      <div className="page-head">
        <h1>DAGs</h1>
        <span className="muted">
          {shown.length} of {list.length}
        </span>
      </div>
      {importErrors.length > 0 && (
        <div className="banner warn" role="alert">
          <strong>{importErrors.length} pipeline file(s) failed to load.</strong>{' '}
          <button type="button" className="link" onClick={() => setShowErrors(!showErrors)}>
            {showErrors ? 'Hide' : 'Show'} details
          </button>
          {showErrors && (
            <ul className="import-errors">
              {importErrors.map((e) => (
                <li key={e.fileloc}>
                  <code>{e.fileloc}</code>
                  <ul>
                    {e.issues.map((i, n) => (
                      // biome-ignore lint/suspicious/noArrayIndexKey: issues have no id
                      <li key={n}>
                        {i.line !== undefined && <span className="muted">line {i.line}: </span>}
                        {i.field && <span className="muted">field {i.field}: </span>}
                        {i.message}
                        {i.hint && <span className="muted"> ({i.hint})</span>}
                      </li>
                    ))}
                  </ul>
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      <div className="filters">
        <input
          type="search"
          placeholder="Search DAGs"
          aria-label="search DAGs"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
        />
        <select aria-label="tag" value={tag} onChange={(e) => setTag(e.target.value)}>
          <option value="">All tags</option>
          {tags.map((t) => (
            <option key={t}>{t}</option>
          ))}
        </select>
        <select aria-label="owner" value={owner} onChange={(e) => setOwner(e.target.value)}>
          <option value="">All owners</option>
          {owners.map((o) => (
            <option key={o}>{o}</option>
          ))}
        </select>
        <fieldset className="segmented" aria-label="paused">
          {(['all', 'active', 'paused'] as const).map((s) => (
            <button key={s} type="button" aria-pressed={status === s} onClick={() => setStatus(s)}>
              {s}
            </button>
          ))}
        </fieldset>
      </div>
      <ErrorNote error={dags.error} />
      <table className="table dag-table">
        <thead>
          <tr>
            <th className="narrow">Active</th>
            <th>DAG</th>
            <th>Owner</th>
            <th>Schedule</th>
            <th>Next run</th>
            <th>Recent runs</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((d) => (
            <DagRow
              key={d.dagId}
              dag={d}
              canOperate={canOperate}
              onChanged={dags.reload}
              onTag={setTag}
            />
          ))}
          {!dags.loading && shown.length === 0 && (
            <tr>
              <td colSpan={6} className="muted center">
                No DAG matches.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}

function DagRow({
  dag,
  canOperate,
  onChanged,
  onTag,
}: {
  dag: DagSummary;
  canOperate: boolean;
  onChanged: () => void;
  onTag: (tag: string) => void;
}) {
  const [busy, setBusy] = useState(false);
  return (
    <tr className={dag.isPaused ? 'paused' : ''}>
      <td className="narrow">
        <PauseSwitch
          dagId={dag.dagId}
          paused={dag.isPaused}
          disabled={!canOperate || busy}
          onToggle={() => {
            setBusy(true);
            void api
              .setPaused(dag.dagId, !dag.isPaused)
              .then(onChanged)
              .finally(() => setBusy(false));
          }}
        />
      </td>
      <td>
        <a className="dag-link" href={href(['dags', dag.dagId])}>
          {dag.dagId}
        </a>
        {dag.description && <div className="muted small">{dag.description}</div>}
        <div className="tags">
          {dag.tags.map((t) => (
            <button key={t} type="button" className="tag" onClick={() => onTag(t)}>
              {t}
            </button>
          ))}
        </div>
      </td>
      <td>{dag.owner}</td>
      <td>
        <code>{dag.schedule ?? 'manual'}</code>
        {dag.schedule && dag.timezone !== 'UTC' && (
          <div className="muted small">{dag.timezone}</div>
        )}
      </td>
      <td title={formatDate(dag.nextRunAfter)}>
        {dag.nextRunAfter ? relative(dag.nextRunAfter) : '—'}
      </td>
      <td>
        <span className="recent">
          {[...dag.recentRuns].reverse().map((r) => (
            <a
              key={r.runId}
              href={href(['dags', dag.dagId], { run: r.runId })}
              aria-label={`run ${r.runId}: ${r.state}`}
            >
              <StateDot state={r.state} title={`${r.runId}: ${r.state}`} />
            </a>
          ))}
          {dag.recentRuns.length === 0 && <span className="muted small">no runs yet</span>}
        </span>
      </td>
    </tr>
  );
}

export function PauseSwitch({
  dagId,
  paused,
  disabled,
  onToggle,
}: {
  dagId: string;
  paused: boolean;
  disabled: boolean;
  onToggle: () => void;
}) {
  return (
    <button
      type="button"
      role="switch"
      aria-checked={!paused}
      aria-label={`${dagId} ${paused ? 'paused' : 'active'}`}
      title={
        disabled
          ? 'your role may not pause or unpause'
          : paused
            ? 'paused: click to unpause'
            : 'active: click to pause'
      }
      className={`switch${paused ? '' : ' on'}`}
      disabled={disabled}
      onClick={onToggle}
    >
      <span />
    </button>
  );
}
