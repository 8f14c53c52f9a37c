/**
 * Data quality on the dataset page: a version's status counts (the Quality column), its
 * check results (one quality run, chosen when several checked it) with thresholds and
 * quarantine links, and a metric's history with anomalies marked.
 */
import { useState } from 'react';
import { ApiError, api, type MetricSummary, type QualityRunSummary } from '../api.ts';
import { LineChart } from '../components/charts.tsx';
import { ErrorNote } from '../components/common.tsx';
import { formatDate } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { formatValue, statusClass, thresholdText } from '../quality-format.ts';
import { href } from '../router.ts';

const STATUS_ORDER = ['error', 'warn', 'pass', 'skipped'] as const;

/** The counts of a quality run as badges, failures first; "not checked" without one. */
export function QualityCounts({
  run,
  gate,
}: {
  run: QualityRunSummary | undefined;
  /** The version's blocking-checks flag (false: promotion is blocked). */
  gate?: boolean | null;
}) {
  if (!run) return <span className="muted small">not checked</span>;
  return (
    <span
      className="q-counts"
      title={`checked by run ${run.runId} (${run.dagId}.${run.taskId}) at ${formatDate(run.checkedAt)}`}
    >
      {STATUS_ORDER.filter((s) => run.counts[s] > 0).map((s) => (
        <span key={s} className={`q-count q-${s}`}>
          {run.counts[s]} {s}
        </span>
      ))}
      {gate === false && <span className="q-count q-blocked">blocked</span>}
    </span>
  );
}

/** The check results of one version: its latest quality run, or the one chosen. */
export function VersionQuality({
  name,
  version,
  runs,
}: {
  name: string;
  version: number;
  /** Quality runs on this version, newest first (a DAG run's latest check is offered). */
  runs: QualityRunSummary[];
}) {
  const [chosen, setChosen] = useState<string>();
  const runId = runs.some((r) => r.runId === chosen) ? chosen : undefined;
  /** The latest check of each DAG run that checked the version. */
  const byRun = runs.filter((r, i) => runs.findIndex((o) => o.runId === r.runId) === i);
  const detail = useLoad(
    () =>
      runs.length === 0 ? Promise.resolve(undefined) : api.versionQuality(name, version, runId),
    `quality:${name}:${version}:${runId}:${runs[0]?.checkedAt}`,
  );
  const d = detail.data;
  return (
    <section aria-label={`quality checks of v${version}`}>
      <div className="section-head">
        <h2 className="section-title">Quality checks of v{version}</h2>
        {d && <QualityCounts run={d} />}
        <span className="spacer" />
        {byRun.length > 1 && (
          <select
            aria-label="quality run"
            value={runId ?? ''}
            onChange={(e) => setChosen(e.target.value || undefined)}
          >
            <option value="">Latest check</option>
            {byRun.map((r) => (
              <option key={r.runId} value={r.runId}>
                run {r.runId} · {formatDate(r.checkedAt)}
              </option>
            ))}
          </select>
        )}
      </div>
      {runs.length === 0 && <p className="muted">No quality task has checked this version.</p>}
      {detail.error && !(detail.error instanceof ApiError && detail.error.status === 404) && (
        <ErrorNote error={detail.error} />
      )}
      {d && (
        <>
          <div className="muted small q-meta">
            checked by{' '}
            <a href={href(['dags', d.dagId], { run: d.runId, task: d.taskId })}>
              {d.dagId}.{d.taskId}
            </a>{' '}
            in run <span className="mono">{d.runId}</span> (try {d.tryNumber}) at{' '}
            {formatDate(d.checkedAt)}
            {d.blockingPassed === false && (
              <strong className="error-text">
                {' '}
                · a blocking check failed: promotion is blocked
              </strong>
            )}
            {d.blockingPassed === true && <span> · blocking checks passed</span>}
          </div>
          <div className="table-scroll">
            <table className="table q-results">
              <thead>
                <tr>
                  <th>Check</th>
                  <th>Type</th>
                  <th>Severity</th>
                  <th>Status</th>
                  <th className="num">Observed</th>
                  <th>Threshold</th>
                  <th className="num">Failing rows</th>
                  <th>Quarantine</th>
                </tr>
              </thead>
              <tbody>
                {d.results.map((r) => (
                  <tr key={r.checkId} className={`q-row q-row-${r.status}`}>
                    <td className="q-check">
                      <div className="mono" title={r.checkId}>
                        {r.checkId}
                      </div>
                      <div className="muted small">{r.message}</div>
                    </td>
                    <td className="mono small">{r.type}</td>
                    <td>
                      {r.severity}
                      {r.blocking ? (
                        <div className="q-blocking">blocking</div>
                      ) : (
                        <div className="muted small">not blocking</div>
                      )}
                    </td>
                    <td>
                      <span className={statusClass(r.status)}>{r.status}</span>
                    </td>
                    <td className="num mono">{formatValue(r.value)}</td>
                    <td className="mono small q-threshold">{thresholdText(r.check)}</td>
                    <td className="num mono">
                      {r.failingRows === null ? '—' : r.failingRows.toLocaleString('en-US')}
                    </td>
                    <td className="small">
                      {r.quarantine ? (
                        <>
                          <a
                            href={href(['datasets', r.quarantine.dataset], {
                              version: r.quarantine.version,
                            })}
                          >
                            {r.quarantine.dataset} v{r.quarantine.version}
                          </a>
                          {r.quarantined && <div className="muted">removed from the output</div>}
                        </>
                      ) : (
                        <span className="muted">—</span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}

/** A metric's value per version, anomalies marked; the metric is chosen from a list. */
export function MetricHistory({ name, metrics }: { name: string; metrics: MetricSummary[] }) {
  const [chosen, setChosen] = useState<string>();
  const metric =
    metrics.find((m) => m.metric === chosen) ??
    metrics.find((m) => m.metric === 'row_count') ??
    metrics[0];
  const history = useLoad(
    () => (metric ? api.metricHistory(name, metric.metric) : Promise.resolve([])),
    `history:${name}:${metric?.metric}:${metric?.latestVersion}`,
  );
  const points = history.data ?? [];
  const anomalies = points.filter((p) => p.anomaly);
  return (
    <section aria-label="metric history">
      <div className="section-head">
        <h2 className="section-title">Metric history</h2>
        <span className="spacer" />
        {metrics.length > 0 && (
          <select
            aria-label="metric"
            value={metric?.metric ?? ''}
            onChange={(e) => setChosen(e.target.value)}
          >
            {metrics.map((m) => (
              <option key={m.metric} value={m.metric}>
                {m.metric} ({m.points} versions
                {m.anomalies > 0 ? `, ${m.anomalies} anomal${m.anomalies === 1 ? 'y' : 'ies'}` : ''}
                )
              </option>
            ))}
          </select>
        )}
      </div>
      {metrics.length === 0 && (
        <p className="muted">
          No metric history yet: quality tasks record row_count and the metrics their checks name.
        </p>
      )}
      <ErrorNote error={history.error} />
      {metric && points.length > 0 && (
        <div className="card chart-card">
          <div className="chart-legend small muted">
            <span>
              <span className="legend-line" aria-hidden="true" /> {metric.metric} per version
            </span>
            <span>
              <span className="legend-anomaly" aria-hidden="true" /> anomaly (left out of later
              baselines)
            </span>
          </div>
          <LineChart
            label={`${metric.metric} of ${name} over ${points.length} versions, ${anomalies.length} anomalous`}
            points={points.map((p) => ({
              x: `v${p.version}`,
              value: p.value,
              marked: p.anomaly,
              title: `v${p.version}: ${formatValue(p.value)}${p.anomaly ? ' (anomaly)' : ''}\n${formatDate(p.at)}`,
            }))}
            formatY={(v) => formatValue(v)}
          />
          <div className="small">
            {anomalies.length === 0 ? (
              <span className="muted">No anomaly in these {points.length} versions.</span>
            ) : (
              <>
                <strong>Anomalies:</strong>{' '}
                {anomalies.map((p, i) => (
                  <span key={p.version}>
                    {i > 0 && ', '}
                    <a href={href(['datasets', name], { version: p.version })}>v{p.version}</a> ={' '}
                    {formatValue(p.value)}
                  </span>
                ))}
              </>
            )}
          </div>
        </div>
      )}
    </section>
  );
}
