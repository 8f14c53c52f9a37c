/**
 * The weekly operations report a data platform lead sends, from the store: per DAG and
 * overall — runs, success rate, mean time to recover (from a failed run to the next
 * successful one), deadline misses, the daily trend of run durations, rows written to
 * datasets and quality check results that failed (warn or error).
 *
 * `buildOperationsReport` returns plain data (for the API and the UI's Reports page);
 * `reportMarkdown` and `reportHtml` render it (for `updraft report`).
 */
import { sql } from 'kysely';
import { humanDuration } from '../cli/output.ts';
import { dataDb } from '../data/schema.ts';
import { alertingDb } from '../notify/deadline-misses.ts';
import { qualityDb } from '../quality/quality-store.ts';
import type { Db } from '../store/store.ts';
import { escapeHtml } from './escape-html.ts';

/** Figures of one DAG, or of all of them (`dagId` null). */
export interface ReportFigures {
  dagId: string | null;
  /** Runs that finished in the period. */
  runs: number;
  succeeded: number;
  failed: number;
  /** succeeded / runs, null without runs. */
  successRate: number | null;
  /** Mean time from a failed run's end to the end of the next successful run (ms). */
  meanTimeToRecoverMs: number | null;
  /** Failures followed by a success in the period (the MTTR sample). */
  recoveries: number;
  deadlineMisses: number;
  meanDurationMs: number | null;
  /** Per UTC day with finished runs: how many and their mean duration. */
  durationTrend: { day: string; runs: number; meanDurationMs: number }[];
  rowsWritten: number;
  /** Quality check results that failed (status `warn` or `error`). */
  qualityFailures: number;
}

export interface OperationsReport {
  /** Start and end of the period (ISO). */
  since: string;
  until: string;
  overall: ReportFigures;
  /** One entry per DAG with activity in the period, by DAG id. */
  dags: ReportFigures[];
}

interface RunRow {
  dag_id: string;
  state: 'success' | 'failed';
  started_at: Date | null;
  ended_at: Date;
}

/** Builds the report for `[since, until)` from the store. */
export async function buildOperationsReport(
  db: Db,
  period: { since: Date; until: Date },
): Promise<OperationsReport> {
  const { since, until } = period;
  const runs = (await db
    .selectFrom('dag_runs')
    .select(['dag_id', 'state', 'started_at', 'ended_at'])
    .where('state', 'in', ['success', 'failed'])
    .where('ended_at', '>=', since)
    .where('ended_at', '<', until)
    .orderBy('ended_at')
    .execute()) as RunRow[];
  const misses = await alertingDb(db)
    .selectFrom('deadline_misses')
    .select(['dag_id', sql<number>`count(*)::int`.as('n')])
    .where('detected_at', '>=', since)
    .where('detected_at', '<', until)
    .groupBy('dag_id')
    .execute();
  const versions = await dataDb(db)
    .selectFrom('dataset_versions')
    .select(['dag_id', sql<number>`coalesce(sum(row_count), 0)::float8`.as('rows')])
    .where('created_at', '>=', since)
    .where('created_at', '<', until)
    .where('dag_id', 'is not', null)
    .groupBy('dag_id')
    .execute();

  const qualityFailures = await qualityDb(db)
    .selectFrom('quality_results')
    .select(['dag_id', sql<number>`count(*)::int`.as('n')])
    .where('status', 'in', ['warn', 'error'])
    .where('checked_at', '>=', since)
    .where('checked_at', '<', until)
    .groupBy('dag_id')
    .execute();
  const dagIds = new Set<string>([
    ...runs.map((r) => r.dag_id),
    ...misses.map((m) => m.dag_id),
    ...versions.flatMap((v) => (v.dag_id === null ? [] : [v.dag_id])),
    ...qualityFailures.map((q) => q.dag_id),
  ]);
  const qualityBy = new Map(qualityFailures.map((q) => [q.dag_id, q.n]));
  const missesBy = new Map(misses.map((m) => [m.dag_id, m.n]));
  const versionsBy = new Map(versions.map((v) => [v.dag_id, v]));
  const dags = [...dagIds].sort().map((dagId) =>
    figures(
      dagId,
      runs.filter((r) => r.dag_id === dagId),
      missesBy.get(dagId) ?? 0,
      Number(versionsBy.get(dagId)?.rows ?? 0),
      qualityBy.get(dagId) ?? 0,
    ),
  );
  const overall = figures(
    null,
    runs,
    sum(dags.map((d) => d.deadlineMisses)),
    sum(dags.map((d) => d.rowsWritten)),
    sum(dags.map((d) => d.qualityFailures)),
  );
  // Recoveries happen within a DAG: the overall MTTR pools the DAGs' recoveries.
  const recovered = dags.filter((d) => d.recoveries > 0);
  overall.recoveries = sum(recovered.map((d) => d.recoveries));
  overall.meanTimeToRecoverMs = overall.recoveries
    ? sum(recovered.map((d) => (d.meanTimeToRecoverMs ?? 0) * d.recoveries)) / overall.recoveries
    : null;
  return { since: since.toISOString(), until: until.toISOString(), overall, dags };
}

function figures(
  dagId: string | null,
  runs: RunRow[],
  deadlineMisses: number,
  rowsWritten: number,
  qualityFailures: number,
): ReportFigures {
  const succeeded = runs.filter((r) => r.state === 'success').length;
  const durations = runs.flatMap((r) =>
    r.started_at
      ? [{ day: iso(r.ended_at).slice(0, 10), ms: ms(r.ended_at) - ms(r.started_at) }]
      : [],
  );
  const byDay = new Map<string, number[]>();
  for (const d of durations) byDay.set(d.day, [...(byDay.get(d.day) ?? []), d.ms]);
  const recoveries = dagId === null ? [] : timesToRecover(runs);
  return {
    dagId,
    runs: runs.length,
    succeeded,
    failed: runs.length - succeeded,
    successRate: runs.length ? succeeded / runs.length : null,
    meanTimeToRecoverMs: recoveries.length ? mean(recoveries) : null,
    recoveries: recoveries.length,
    deadlineMisses,
    meanDurationMs: durations.length ? mean(durations.map((d) => d.ms)) : null,
    durationTrend: [...byDay.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([day, list]) => ({ day, runs: list.length, meanDurationMs: mean(list) })),
    rowsWritten,
    qualityFailures,
  };
}

/** For runs of one DAG in end order: from each first failure to the next success. */
function timesToRecover(runs: RunRow[]): number[] {
  const times: number[] = [];
  let failedAt: number | null = null;
  for (const r of runs) {
    if (r.state === 'failed') failedAt ??= ms(r.ended_at);
    else if (failedAt !== null) {
      times.push(ms(r.ended_at) - failedAt);
      failedAt = null;
    }
  }
  return times;
}

/** The report as Markdown. */
export function reportMarkdown(report: OperationsReport): string {
  const lines = [
    `# Updraft operations report`,
    '',
    `Period: ${report.since} to ${report.until}`,
    '',
    '| DAG | runs | success rate | failed | MTTR | deadline misses | mean duration | rows written | quality failures |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...[...report.dags, report.overall].map(
      (f) =>
        `| ${f.dagId === null ? '**all**' : f.dagId.replaceAll('|', '\\|')} | ${cells(f).join(' | ')} |`,
    ),
    '',
    '## Duration trend (mean per day)',
    '',
  ];
  for (const f of [...report.dags, report.overall]) {
    if (!f.durationTrend.length) continue;
    lines.push(
      `- ${f.dagId ?? 'all'}: ${f.durationTrend.map((t) => `${t.day} ${humanDuration(t.meanDurationMs)} (${t.runs})`).join(', ')}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** The report as a standalone HTML page. */
export function reportHtml(report: OperationsReport): string {
  const head = [
    'DAG',
    'runs',
    'success rate',
    'failed',
    'MTTR',
    'deadline misses',
    'mean duration',
    'rows written',
    'quality failures',
  ];
  const rows = [...report.dags, report.overall]
    .map(
      (f) =>
        `<tr><th>${f.dagId === null ? 'all' : escapeHtml(f.dagId)}</th>${cells(f)
          .map((c) => `<td>${escapeHtml(c)}</td>`)
          .join('')}</tr>`,
    )
    .join('\n');
  const trend = [...report.dags, report.overall]
    .filter((f) => f.durationTrend.length)
    .map(
      (f) =>
        `<li>${escapeHtml(f.dagId ?? 'all')}: ${f.durationTrend.map((t) => escapeHtml(`${t.day} ${humanDuration(t.meanDurationMs)} (${t.runs})`)).join(', ')}</li>`,
    )
    .join('\n');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Updraft operations report</title>
<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th:first-child{text-align:left}</style>
</head><body>
<h1>Updraft operations report</h1>
<p>Period: ${escapeHtml(report.since)} to ${escapeHtml(report.until)}</p>
<table><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>
${rows}
</tbody></table>
<h2>Duration trend (mean per day)</h2>
<ul>
${trend}
</ul>
</body></html>
`;
}

function cells(f: ReportFigures): string[] {
  return [
    String(f.runs),
    f.successRate === null ? '–' : `${(f.successRate * 100).toFixed(1)}%`,
    String(f.failed),
    f.meanTimeToRecoverMs === null ? '–' : humanDuration(f.meanTimeToRecoverMs),
    String(f.deadlineMisses),
    f.meanDurationMs === null ? '–' : humanDuration(f.meanDurationMs),
    String(f.rowsWritten),
    String(f.qualityFailures),
  ];
}

const ms = (d: Date) => new Date(d).getTime();
const iso = (d: Date) => new Date(d).toISOString();
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const mean = (xs: number[]) => sum(xs) / xs.length;
