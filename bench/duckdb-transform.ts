/**
 * DuckDB transform: an aggregation over a 10-million-row dataset version, end to end
 * through Updraft — a DAG with one `duckdb` task reading the dataset as an inlet,
 * triggered, run by the scheduler in a worker process, its output committed as a new
 * version — against the same SQL run directly in DuckDB, in this process, over the same
 * Parquet files, writing the same Parquet output (target: within 1.2×).
 *
 * The two sides alternate, five times each; the medians are compared. The Updraft side includes
 * scheduling, the hand-off to a warm worker, pinning the input, the manifest
 * (checksums) and the commit.
 *
 *     node --import tsx bench/duckdb-transform.ts     # UPDRAFT_BENCH_ROWS=1000000 for a quick run
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DuckDbSession, readParquetSql, sqlString } from '../src/data/duckdb-session.ts';
import { count, startDataEngine } from './support/data-engine.ts';
import { tempDir } from './support/engine.ts';
import { runMain } from './support/main.ts';
import { type Figure, progress } from './support/report.ts';
import { withScope } from './support/scope.ts';
import { median, monotonicMs, ms } from './support/stats.ts';

const NAME = 'duckdb transform';
const ROWS = Number(process.env.UPDRAFT_BENCH_ROWS ?? 10_000_000);
const REPEATS = 5;
const MEMORY_LIMIT = '1GB';

const TRANSFORM = `select customer_id, count(*) as orders, sum(amount) as total, avg(amount) as mean,
  max(created_at) as last_order, count(distinct status) as statuses
  from orders group by customer_id`;

const PIPELINE = `
import { dag } from 'updraft';
export const make = dag({ id: 'make_orders' }, (d) => {
  d.operator('duckdb', 'make', {
    query: "select range as id, (range % 100000)::int as customer_id, ((range % 100000) / 100.0)::decimal(10,2) as amount, " +
      "(['new','paid','shipped','returned'])[1 + range % 4] as status, timestamptz '2026-01-01' + to_seconds(range) as created_at from range(${ROWS})",
    output: 'orders',
  }, { outlets: ['orders'] });
});
export const transform = dag({ id: 'customer_totals' }, (d) => {
  d.operator('duckdb', 'totals', { query: ${JSON.stringify(TRANSFORM)}, output: 'customer_totals', memoryLimit: '${MEMORY_LIMIT}' },
    { inlets: ['orders'], outlets: ['customer_totals'] });
});
`;

export async function duckdbTransform(): Promise<Figure[]> {
  return withScope(async (scope) => {
    const engine = await startDataEngine(scope, { 'transform.ts': PIPELINE });
    progress(NAME, `writing a ${count(ROWS)}-row dataset…`);
    await engine.runDag('make_orders', 'make');
    const orders = await engine.datasets.showVersion('orders');

    const out = tempDir(scope, 'direct');
    const updraft: number[] = [];
    const inWorker: number[] = [];
    const schedulerCpu: number[] = [];
    const direct: number[] = [];
    // Interleaved, so both sides see the same load on a shared machine.
    for (let i = 0; i < REPEATS; i++) {
      const cpu = process.cpuUsage();
      updraft.push(await engine.runDag('customer_totals', `r${i}`));
      const used = process.cpuUsage(cpu);
      schedulerCpu.push((used.user + used.system) / 1000);
      inWorker.push(attemptDuration(engine.home, 'customer_totals', `r${i}`, 'totals'));
      const session = await DuckDbSession.open({
        memoryLimit: MEMORY_LIMIT,
        tempDirectory: path.join(out, 'spill'),
      });
      try {
        const t0 = monotonicMs();
        await session.run(
          `create view orders as select * from ${readParquetSql(orders.location)}`,
          'direct',
        );
        await session.run(
          `copy (${TRANSFORM}) to ${sqlString(path.join(out, `run-${i}`))} (format parquet, compression zstd)`,
          'direct',
        );
        direct.push(monotonicMs() - t0);
      } finally {
        session.close();
      }
      progress(
        NAME,
        `through Updraft ${ms(updraft.at(-1) ?? 0)}, directly ${ms(direct.at(-1) ?? 0)}`,
      );
    }
    const ratio = median(updraft) / median(direct);
    return [
      {
        benchmark: NAME,
        metric: `group-by over ${count(ROWS)} rows, median of ${REPEATS}`,
        value: `${ms(median(updraft))} (${ratio.toFixed(2)}×)`,
        target: '≤ 1.2× direct',
        baseline: `same SQL directly in DuckDB: ${ms(median(direct))}`,
        met: ratio <= 1.2,
      },
      {
        benchmark: NAME,
        metric: 'of which the attempt in the worker, median',
        value: ms(median(inWorker)),
        target: '—',
        baseline: `scheduler process CPU meanwhile: ${ms(median(schedulerCpu))}`,
        met: null,
      },
    ];
  });
}

/** `duration_ms` of the first attempt of a task, from its log. */
function attemptDuration(home: string, dagId: string, runId: string, taskId: string): number {
  const log = path.join(
    home,
    'logs',
    `dag_id=${dagId}`,
    `run_id=${runId}`,
    `task_id=${taskId}`,
    'attempt=1.log',
  );
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    if (line.includes('"attempt finished"'))
      return Number((JSON.parse(line) as { duration_ms: number }).duration_ms);
  }
  throw new Error(`no 'attempt finished' line in ${log}`);
}

runMain(import.meta.url, duckdbTransform);
