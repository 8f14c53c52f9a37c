/**
 * Extract: 10 million rows (five columns: bigint, int, numeric, text, timestamptz) from
 * a PostgreSQL table into a dataset version, end to end through Updraft — a DAG with
 * one `extract` task, triggered and run by the scheduler in a worker process, the
 * version committed by the data hooks.
 *
 * Figures: rows per second, and the worker's peak resident memory (target < 1 GB).
 * Baseline (same run): the same rows read with `COPY ... TO STDOUT` and thrown away —
 * how fast the server can hand them out at all.
 *
 *     node --import tsx bench/extract-10m.ts          # UPDRAFT_BENCH_ROWS=1000000 for a quick run
 */
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { to } from 'pg-copy-streams';
import { count, mib, peakChildRss, startDataEngine } from './support/data-engine.ts';
import { createBenchDatabase } from './support/engine.ts';
import { runMain } from './support/main.ts';
import { type Figure, progress } from './support/report.ts';
import { withScope } from './support/scope.ts';
import { monotonicMs, ms } from './support/stats.ts';

const NAME = 'extract 10M';
const ROWS = Number(process.env.UPDRAFT_BENCH_ROWS ?? 10_000_000);
const RSS_TARGET = 1024 ** 3;

const PIPELINE = `
import { dag } from 'updraft';
export default dag({ id: 'extract_orders' }, (d) => {
  d.operator('extract', 'extract', { connection: 'bench_source', table: 'orders', dataset: 'orders' }, { outlets: ['orders'] });
});
`;

export async function extract10m(): Promise<Figure[]> {
  return withScope(async (scope) => {
    const url = await createBenchDatabase(scope);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    scope.defer('close the source client', () => client.end());
    progress(NAME, `creating ${count(ROWS)} rows in PostgreSQL…`);
    await client.query(`create unlogged table orders as
      select g::bigint as id, (g % 100000)::int as customer_id, ((g % 100000) / 100.0)::numeric(10,2) as amount,
             (array['new','paid','shipped','returned'])[1 + g % 4] as status,
             timestamptz '2026-01-01' + g * interval '1 second' as created_at
        from generate_series(1, ${ROWS}) g`);
    await client.query('vacuum analyze orders');

    progress(NAME, 'baseline: COPY TO STDOUT, discarded…');
    const t0 = monotonicMs();
    await pipeline(
      client.query(to('copy (select * from orders) to stdout with (format csv)')),
      new Writable({ write: (_c, _e, done) => done() }),
    );
    const copyMs = monotonicMs() - t0;

    process.env.UPDRAFT_CONN_BENCH_SOURCE = url;
    scope.defer('unset the connection', () => {
      delete process.env.UPDRAFT_CONN_BENCH_SOURCE;
    });
    const engine = await startDataEngine(scope, { 'extract.ts': PIPELINE });
    progress(NAME, 'extract through Updraft…');
    const wallMs = await engine.runDag('extract_orders', 'r1');
    const peak = peakChildRss();
    const version = await engine.datasets.showVersion('orders');
    if (version.rows !== ROWS)
      throw new Error(`the version has ${version.rows} rows, expected ${ROWS}`);
    progress(
      NAME,
      `${count(ROWS)} rows in ${ms(wallMs)} (${count((ROWS / wallMs) * 1000)} rows/s), worker peak ${mib(peak)}, ${mib(version.bytes)} of Parquet`,
    );
    return [
      {
        benchmark: NAME,
        metric: `rows/s, ${count(ROWS)} rows PostgreSQL → Parquet version`,
        value: `${count((ROWS / wallMs) * 1000)} rows/s (${ms(wallMs)})`,
        target: '—',
        baseline: `COPY TO STDOUT alone: ${count((ROWS / copyMs) * 1000)} rows/s`,
        met: null,
      },
      {
        benchmark: NAME,
        metric: 'worker peak RSS (VmHWM)',
        value: mib(peak),
        target: '< 1 GB',
        baseline: '—',
        met: peak < RSS_TARGET,
      },
    ];
  });
}

runMain(import.meta.url, extract10m);
