/**
 * The operations report (`updraft report` in the browser): for a period of 1, 7, 30 or
 * 90 days, the overall figures — runs, success rate, mean time to recover, deadline
 * misses, mean duration, rows written, quality failures — the daily duration trend, and
 * the same figures per DAG.
 */
import { api, type ReportFigures } from '../api.ts';
import { BarChart, DURATION_STEPS, Sparkline } from '../components/charts.tsx';
import { ErrorNote } from '../components/common.tsx';
import { formatDate, formatDuration } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { href, navigate, type Route } from '../router.ts';

const PERIODS = [
  { since: '1d', label: '1 day' },
  { since: '7d', label: '7 days' },
  { since: '30d', label: '30 days' },
  { since: '90d', label: '90 days' },
] as const;

const percent = (rate: number | null) => (rate === null ? '—' : `${(rate * 100).toFixed(1)}%`);
const count = (n: number) => n.toLocaleString('en-US');

export function ReportsPage({ route }: { route: Route }) {
  const asked = route.query.get('since');
  const since = PERIODS.find((p) => p.since === asked)?.since ?? '7d';
  const report = useLoad(() => api.report(since), `report:${since}`);
  const r = report.data;
  return (
    <div className="page">
      <div className="page-head">
        <h1>Reports</h1>
        <span className="muted">operations report</span>
        <span className="spacer" />
        <fieldset className="segmented" aria-label="period">
          {PERIODS.map((p) => (
            <button
              key={p.since}
              type="button"
              aria-pressed={since === p.since}
              onClick={() => navigate(href(['reports'], { since: p.since }))}
            >
              {p.label}
            </button>
          ))}
        </fieldset>
      </div>
      <ErrorNote error={report.error} />
      {r && (
        <>
          <div className="muted small report-period">
            {formatDate(r.since)} → {formatDate(r.until)} · runs that finished in the period
          </div>
          <Overall figures={r.overall} />
          <section className="card" aria-label="duration trend">
            <h2>Duration trend</h2>
            {r.overall.durationTrend.length === 0 ? (
              <p className="muted">No run finished in this period.</p>
            ) : (
              <BarChart
                label={`mean run duration per day, ${r.overall.durationTrend.length} days`}
                formatY={(ms) => (ms === 0 ? '0' : formatDuration(ms))}
                steps={DURATION_STEPS}
                points={r.overall.durationTrend.map((t) => ({
                  x: t.day.slice(5),
                  value: t.meanDurationMs,
                  title: `${t.day}: ${t.runs} run(s), mean ${formatDuration(t.meanDurationMs)}`,
                }))}
              />
            )}
          </section>
          <h2 className="section-title">By DAG</h2>
          <table className="table report-table">
            <thead>
              <tr>
                <th>DAG</th>
                <th className="num">Runs</th>
                <th>Success rate</th>
                <th className="num">Failed</th>
                <th className="num">Mean time to recover</th>
                <th className="num">Deadline misses</th>
                <th className="num">Mean duration</th>
                <th>Duration trend</th>
                <th className="num">Rows written</th>
                <th className="num">Quality failures</th>
              </tr>
            </thead>
            <tbody>
              {r.dags.map((f) => (
                <FiguresRow key={f.dagId} figures={f} />
              ))}
              {r.dags.length === 0 && (
                <tr>
                  <td colSpan={10} className="muted center">
                    No DAG ran, wrote data or missed a deadline in this period.
                  </td>
                </tr>
              )}
            </tbody>
            {r.dags.length > 1 && (
              <tfoot>
                <FiguresRow figures={r.overall} />
              </tfoot>
            )}
          </table>
        </>
      )}
    </div>
  );
}

function Overall({ figures: f }: { figures: ReportFigures }) {
  const stats: { label: string; value: string; note: string; bad?: boolean }[] = [
    { label: 'Runs', value: count(f.runs), note: `${count(f.succeeded)} succeeded` },
    {
      label: 'Success rate',
      value: percent(f.successRate),
      note: `${count(f.failed)} failed`,
      bad: f.failed > 0,
    },
    {
      label: 'Time to recover',
      value: f.meanTimeToRecoverMs === null ? '—' : formatDuration(f.meanTimeToRecoverMs),
      note: `mean of ${count(f.recoveries)} recover${f.recoveries === 1 ? 'y' : 'ies'}`,
    },
    {
      label: 'Deadline misses',
      value: count(f.deadlineMisses),
      note: 'runs and tasks',
      bad: f.deadlineMisses > 0,
    },
    {
      label: 'Mean duration',
      value: f.meanDurationMs === null ? '—' : formatDuration(f.meanDurationMs),
      note: 'per run',
    },
    { label: 'Rows written', value: count(f.rowsWritten), note: 'to dataset versions' },
    {
      label: 'Quality failures',
      value: count(f.qualityFailures),
      note: 'checks at warn or error',
      bad: f.qualityFailures > 0,
    },
  ];
  return (
    <section className="stats" aria-label="overall">
      {stats.map((s) => (
        <div key={s.label} className={`stat${s.bad ? ' bad' : ''}`}>
          <div className="stat-label">{s.label}</div>
          <div className="stat-value">{s.value}</div>
          <div className="stat-note muted small">{s.note}</div>
        </div>
      ))}
    </section>
  );
}

function FiguresRow({ figures: f }: { figures: ReportFigures }) {
  const name = f.dagId ?? 'All DAGs';
  return (
    <tr className={f.dagId === null ? 'total-row' : undefined}>
      <th scope="row">
        {f.dagId === null ? name : <a href={href(['dags', f.dagId])}>{f.dagId}</a>}
      </th>
      <td className="num">{count(f.runs)}</td>
      <td>
        <span className="rate">
          <span className="meter" aria-hidden="true">
            <span
              className={f.successRate !== null && f.successRate < 0.9 ? 'low' : ''}
              style={{ width: `${(f.successRate ?? 0) * 100}%` }}
            />
          </span>
          {percent(f.successRate)}
        </span>
      </td>
      <td className={`num${f.failed > 0 ? ' bad-number' : ''}`}>{count(f.failed)}</td>
      <td className="num">
        {f.meanTimeToRecoverMs === null ? '—' : formatDuration(f.meanTimeToRecoverMs)}
      </td>
      <td className={`num${f.deadlineMisses > 0 ? ' bad-number' : ''}`}>
        {count(f.deadlineMisses)}
      </td>
      <td className="num">{f.meanDurationMs === null ? '—' : formatDuration(f.meanDurationMs)}</td>
      <td>
        <Sparkline
          values={f.durationTrend.map((t) => t.meanDurationMs)}
          label={`${name}: mean duration per day, ${f.durationTrend
            .map((t) => `${t.day} ${formatDuration(t.meanDurationMs)}`)
            .join(', ')}`}
        />
      </td>
      <td className="num">{count(f.rowsWritten)}</td>
      <td className={`num${f.qualityFailures > 0 ? ' bad-number' : ''}`}>
        {count(f.qualityFailures)}
      </td>
    </tr>
  );
}
