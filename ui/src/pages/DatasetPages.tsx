/**
 * Datasets: the list, and one dataset with its versions (manifest, quality), the
 * selected version's check results, metric history, aliases with promote and rollback
 * (confirmed), alias history and a lineage graph.
 */
import dagre from '@dagrejs/dagre';
import { useMemo, useState } from 'react';
import { api, type Lineage, type Me, type QualityRunSummary } from '../api.ts';
import { Confirm, ErrorNote } from '../components/common.tsx';
import { ArrowMarker, Edge } from '../components/svg-edges.tsx';
import { formatDate } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { href, navigate, type Route } from '../router.ts';
import { MetricHistory, QualityCounts, VersionQuality } from './QualityViews.tsx';

export function DatasetListPage() {
  const list = useLoad(() => api.datasets(), 'datasets');
  const [search, setSearch] = useState('');
  const shown = (list.data ?? []).filter((d) =>
    d.name.toLowerCase().includes(search.toLowerCase()),
  );
  return (
    <div className="page">
      <div className="page-head">
        <h1>Datasets</h1>
        <span className="muted">versioned Parquet snapshots</span>
      </div>
      <div className="filters">
        <input
          type="search"
          aria-label="search datasets"
          placeholder="Search datasets"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
        />
      </div>
      <ErrorNote error={list.error} />
      <table className="table">
        <thead>
          <tr>
            <th>Dataset</th>
            <th>Latest</th>
            <th>Rows</th>
            <th>Size</th>
            <th>Aliases</th>
            <th>Updated</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((d) => (
            <tr key={d.name}>
              <td>
                <a className="dag-link" href={href(['datasets', d.name])}>
                  {d.name}
                </a>
                {d.description && <div className="muted small">{d.description}</div>}
              </td>
              <td>{d.latestVersion === null ? '—' : `v${d.latestVersion}`}</td>
              <td>{d.rows?.toLocaleString() ?? '—'}</td>
              <td>{formatBytes(d.bytes)}</td>
              <td>
                <AliasTags aliases={d.aliases} />
              </td>
              <td>{formatDate(d.updatedAt)}</td>
            </tr>
          ))}
          {!list.loading && shown.length === 0 && (
            <tr>
              <td colSpan={6} className="muted center">
                No dataset yet. Tasks that write snapshots create them.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}

function AliasTags({ aliases }: { aliases: Record<string, number> }) {
  return (
    <span className="tags">
      {Object.entries(aliases).map(([alias, version]) => (
        <span key={alias} className="tag">
          {alias} → v{version}
        </span>
      ))}
    </span>
  );
}

export function DatasetPage({ name, route, me }: { name: string; route: Route; me: Me }) {
  const [tick, setTick] = useState(0);
  const versions = useLoad(() => api.datasetVersions(name), `versions:${name}:${tick}`);
  const lineage = useLoad(() => api.lineage(name), `lineage:${name}`);
  const history = useLoad(() => api.aliasHistory(name), `history:${name}:${tick}`);
  const qualityRuns = useLoad(() => api.qualityRuns(name), `quality-runs:${name}`);
  const metrics = useLoad(() => api.qualityMetrics(name), `metrics:${name}`);
  /** Quality runs per version, newest first. */
  const checksOf = useMemo(() => {
    const byVersion = new Map<number, QualityRunSummary[]>();
    for (const r of qualityRuns.data ?? [])
      byVersion.set(r.version, [...(byVersion.get(r.version) ?? []), r]);
    return (version: number) => byVersion.get(version) ?? [];
  }, [qualityRuns.data]);
  const selected = Number(route.query.get('version')) || versions.data?.[0]?.version;
  const detail = useLoad(
    () => (selected ? api.datasetVersion(name, selected) : Promise.resolve(undefined)),
    `version:${name}:${selected}`,
  );
  const [promoting, setPromoting] = useState<{ version: number; alias: string; reason: string }>();
  const [rollingBack, setRollingBack] = useState<{ alias: string; reason: string }>();
  const canOperate = me.capabilities.includes('operate');
  const aliases = [...new Set((versions.data ?? []).flatMap((v) => v.aliases))].filter(
    (a) => a !== 'latest',
  );
  const v = detail.data;
  return (
    <div className="page">
      <div className="page-head">
        <a href={href(['datasets'])} className="muted">
          Datasets /
        </a>
        <h1>{name}</h1>
        <span className="spacer" />
        {canOperate &&
          aliases.map((a) => (
            <button key={a} type="button" onClick={() => setRollingBack({ alias: a, reason: '' })}>
              Roll back {a}
            </button>
          ))}
      </div>
      <ErrorNote error={versions.error} />
      <div className="dag-body">
        <section className="dag-main">
          <table className="table">
            <thead>
              <tr>
                <th>Version</th>
                <th>Rows</th>
                <th>Size</th>
                <th>Quality</th>
                <th>Produced by</th>
                <th>Created</th>
                <th>Aliases</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {(versions.data ?? []).map((ver) => (
                <tr key={ver.version} className={ver.version === selected ? 'selected-row' : ''}>
                  <td>
                    <a href={href(['datasets', name], { version: ver.version })}>v{ver.version}</a>
                    {ver.deletedAt && <span className="muted small"> (vacuumed)</span>}
                  </td>
                  <td>{ver.rows.toLocaleString()}</td>
                  <td>{formatBytes(ver.bytes)}</td>
                  <td>
                    {checksOf(ver.version).length === 0 && ver.blockingChecksPassed !== null ? (
                      // A clean output: its source version was checked, not this one.
                      ver.blockingChecksPassed ? (
                        <span className="outcome ok">checks passed</span>
                      ) : (
                        <span className="outcome bad">checks failed</span>
                      )
                    ) : (
                      <QualityCounts
                        run={checksOf(ver.version)[0]}
                        gate={ver.blockingChecksPassed}
                      />
                    )}
                  </td>
                  <td className="small">
                    {ver.producedBy.dagId && ver.producedBy.runId ? (
                      <a
                        href={href(['dags', ver.producedBy.dagId], {
                          run: ver.producedBy.runId,
                          task: ver.producedBy.taskId ?? undefined,
                        })}
                      >
                        {ver.producedBy.dagId}.{ver.producedBy.taskId}
                      </a>
                    ) : (
                      '—'
                    )}
                  </td>
                  <td className="nowrap">{formatDate(ver.createdAt)}</td>
                  <td>
                    <span className="tags">
                      {ver.aliases.map((a) => (
                        <span key={a} className="tag">
                          {a}
                        </span>
                      ))}
                    </span>
                  </td>
                  <td>
                    {canOperate && !ver.deletedAt && (
                      <button
                        type="button"
                        onClick={() =>
                          setPromoting({
                            version: ver.version,
                            alias: aliases[0] ?? 'staging',
                            reason: '',
                          })
                        }
                      >
                        Promote
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <ErrorNote error={qualityRuns.error ?? metrics.error} />
          {selected && qualityRuns.data && (
            <VersionQuality
              key={selected}
              name={name}
              version={selected}
              runs={checksOf(selected)}
            />
          )}
          {metrics.data && <MetricHistory name={name} metrics={metrics.data} />}
          <h2 className="section-title">Lineage</h2>
          <ErrorNote error={lineage.error} />
          {lineage.data && <LineageGraph lineage={lineage.data} />}
          <h2 className="section-title">Alias history</h2>
          <table className="table">
            <tbody>
              {(history.data ?? []).map((e, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: events have no id here
                <tr key={i}>
                  <td className="nowrap">{formatDate(e.at)}</td>
                  <td>{e.action}</td>
                  <td>
                    {e.alias}: {e.fromVersion === null ? '—' : `v${e.fromVersion}`} → v{e.toVersion}
                  </td>
                  <td>
                    {e.actor} {e.actorRole && <span className="muted small">({e.actorRole})</span>}
                  </td>
                  <td className="muted">{e.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
        {v && (
          <aside className="panel" aria-label="version manifest">
            <h2>
              {name} v{v.version}
            </h2>
            <dl>
              <dt>Rows</dt>
              <dd>{v.manifest.rowCount.toLocaleString()}</dd>
              <dt>Files</dt>
              <dd>
                {v.manifest.files.length} ({formatBytes(v.manifest.bytes)})
              </dd>
              {v.manifest.dataInterval && (
                <>
                  <dt>Interval</dt>
                  <dd>
                    {formatDate(v.manifest.dataInterval.start)} →{' '}
                    {formatDate(v.manifest.dataInterval.end)}
                  </dd>
                </>
              )}
              {v.manifest.inputs && v.manifest.inputs.length > 0 && (
                <>
                  <dt>Read</dt>
                  <dd>{v.manifest.inputs.map((i) => `${i.dataset}@v${i.version}`).join(', ')}</dd>
                </>
              )}
              {v.manifest.code?.gitCommit && (
                <>
                  <dt>Commit</dt>
                  <dd className="mono">{v.manifest.code.gitCommit.slice(0, 12)}</dd>
                </>
              )}
            </dl>
            <h2>Schema</h2>
            <table className="table compact">
              <tbody>
                {v.manifest.schema.map((c) => (
                  <tr key={c.name}>
                    <td className="mono">{c.name}</td>
                    <td className="mono small">{c.type}</td>
                    <td className="muted small">{c.nullable ? 'nullable' : 'not null'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </aside>
        )}
      </div>
      {promoting && (
        <Confirm
          title={`Promote ${name} v${promoting.version}`}
          message="Point an alias at this version. The alias's policy decides who may, and whether quality checks or an approval are needed."
          confirmLabel="Promote"
          onClose={() => setPromoting(undefined)}
          onConfirm={() =>
            api
              .promote(name, promoting.version, promoting.alias, promoting.reason || undefined)
              .then(() => setTick((t) => t + 1))
          }
        >
          <div className="form">
            <div className="field">
              <label htmlFor="promote-alias">Alias</label>
              <input
                id="promote-alias"
                value={promoting.alias}
                onChange={(e) => setPromoting({ ...promoting, alias: e.target.value })}
              />
            </div>
            <div className="field">
              <label htmlFor="promote-reason">Reason</label>
              <input
                id="promote-reason"
                value={promoting.reason}
                onChange={(e) => setPromoting({ ...promoting, reason: e.target.value })}
              />
            </div>
          </div>
        </Confirm>
      )}
      {rollingBack && (
        <Confirm
          title={`Roll back ${rollingBack.alias}`}
          message={`Move ${name}@${rollingBack.alias} back to the version it pointed at before?`}
          confirmLabel="Roll back"
          danger
          onClose={() => setRollingBack(undefined)}
          onConfirm={() =>
            api
              .rollback(name, rollingBack.alias, rollingBack.reason || undefined)
              .then(() => setTick((t) => t + 1))
          }
        >
          <div className="field">
            <label htmlFor="rollback-reason">Reason</label>
            <input
              id="rollback-reason"
              value={rollingBack.reason}
              onChange={(e) => setRollingBack({ ...rollingBack, reason: e.target.value })}
            />
          </div>
        </Confirm>
      )}
    </div>
  );
}

const NODE_W = 180;
const NODE_H = 30;

/** Datasets read and written by tasks, left to right. */
function LineageGraph({ lineage }: { lineage: Lineage }) {
  const layout = useMemo(() => {
    const g = new dagre.graphlib.Graph();
    g.setGraph({ rankdir: 'LR', nodesep: 14, ranksep: 40, marginx: 12, marginy: 12 });
    g.setDefaultEdgeLabel(() => ({}));
    const ds = (n: string) => `d:${n}`;
    const task = (e: { dagId: string; taskId: string }) => `t:${e.dagId}.${e.taskId}`;
    g.setNode(ds(lineage.dataset), { width: NODE_W, height: NODE_H });
    for (const e of lineage.edges) {
      g.setNode(ds(e.dataset), { width: NODE_W, height: NODE_H });
      g.setNode(task(e), { width: NODE_W, height: NODE_H });
      if (e.direction === 'read') g.setEdge(ds(e.dataset), task(e));
      else g.setEdge(task(e), ds(e.dataset));
    }
    dagre.layout(g);
    return {
      width: (g.graph().width ?? 200) + 10,
      height: (g.graph().height ?? 60) + 10,
      nodes: g.nodes().map((id) => ({ id, ...g.node(id) })),
      edges: g.edges().map((e) => ({ key: `${e.v}->${e.w}`, points: g.edge(e).points ?? [] })),
    };
  }, [lineage]);
  if (lineage.edges.length === 0)
    return <p className="muted">No task has read or written this dataset yet.</p>;
  return (
    <div className="graph lineage">
      <svg
        width={layout.width}
        height={layout.height}
        role="img"
        aria-label={`lineage of ${lineage.dataset}`}
      >
        <ArrowMarker id="lineage-arrow" />
        {layout.edges.map((e) => (
          <Edge key={e.key} points={e.points} markerId="lineage-arrow" />
        ))}
        {layout.nodes.map((n) => {
          const isDataset = n.id.startsWith('d:');
          const label = n.id.slice(2);
          const current = label === lineage.dataset && isDataset;
          return (
            // biome-ignore lint/a11y/useSemanticElements: SVG has no <button>
            <g
              key={n.id}
              className={`lineage-node ${isDataset ? 'dataset' : 'task'}${current ? ' current' : ''}`}
              transform={`translate(${n.x - NODE_W / 2},${n.y - NODE_H / 2})`}
              role="button"
              tabIndex={0}
              aria-label={`${isDataset ? 'dataset' : 'task'} ${label}`}
              onClick={() =>
                navigate(
                  isDataset
                    ? href(['datasets', label])
                    : href(['dags', label.split('.')[0] ?? label]),
                )
              }
              onKeyDown={(e) => {
                if (e.key === 'Enter')
                  navigate(
                    isDataset
                      ? href(['datasets', label])
                      : href(['dags', label.split('.')[0] ?? label]),
                  );
              }}
            >
              <rect width={NODE_W} height={NODE_H} rx={isDataset ? 15 : 4} />
              <text x={NODE_W / 2} y={19} textAnchor="middle">
                {label.length > 24 ? `${label.slice(0, 23)}…` : label}
              </text>
            </g>
          );
        })}
      </svg>
    </div>
  );
}

function formatBytes(bytes: number | null): string {
  if (bytes === null) return '—';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
