/**
 * Quality scan: 20 checks over a 10-million-row dataset version, compiled by Updraft
 * into one DuckDB scan (`runChecks`, as the `quality` operator runs them), against the
 * same checks run one query each (each check compiled alone: 20 scans) and against one
 * hand-written DuckDB query computing the same aggregates, all in the same run, on the
 * same Parquet files, in one DuckDB session (1 GB, the machine's threads). Medians of 3,
 * the three sides interleaved.
 *
 *     node --import tsx bench/quality-scan.ts      # UPDRAFT_BENCH_ROWS=1000000 for a quick run
 */
import path from 'node:path';
import { DuckDbSession, readParquetSql, sqlString } from '../src/data/duckdb-session.ts';
import { compileChecks } from '../src/quality/check-plan.ts';
import { runChecks } from '../src/quality/check-runner.ts';
import type { CheckSpec } from '../src/quality/check-spec.ts';
import { validateChecks } from '../src/quality/check-validation.ts';
import { count } from './support/data-engine.ts';
import { tempDir } from './support/engine.ts';
import { runMain } from './support/main.ts';
import { type Figure, progress } from './support/report.ts';
import { withScope } from './support/scope.ts';
import { median, monotonicMs, ms } from './support/stats.ts';

const NAME = 'quality scan';
const ROWS = Number(process.env.UPDRAFT_BENCH_ROWS ?? 10_000_000);
const REPEATS = 3;

const CHECKS: CheckSpec[] = [
  { type: 'schema', columns: { id: 'BIGINT', customer_id: 'INTEGER', amount: 'DOUBLE' } },
  { type: 'row_count', min: 1 },
  { type: 'not_null', column: 'id' },
  { type: 'not_null', column: 'customer_id' },
  { type: 'not_null', column: 'email', max_missing_percent: 1 },
  { type: 'not_null', column: 'created_at' },
  { type: 'unique', column: 'id' },
  { type: 'unique', id: 'unique.order_line', columns: ['customer_id', 'created_at'] },
  { type: 'accepted_values', column: 'status', values: ['new', 'paid', 'shipped', 'returned'] },
  { type: 'range', column: 'amount', min: 0, max: 100_000 },
  { type: 'range', column: 'customer_id', min: 0, max: 99_999 },
  { type: 'regex', column: 'email', format: 'email' },
  { type: 'regex', column: 'country', pattern: '[A-Z]{2}' },
  { type: 'referential', column: 'customer_id', to: 'customers', to_column: 'id' },
  { type: 'freshness', column: 'created_at', max_age: '3650 days' },
  { type: 'continuity', column: 'created_at', grain: 'hour' },
  { type: 'anomaly', metric: 'row_count' },
  { type: 'anomaly', metric: 'sum(amount)' },
  { type: 'anomaly', metric: 'null_rate(email)' },
  { type: 'anomaly', metric: 'distinct_count(status)' },
];

/** The same aggregates, as one would write them by hand. */
const HAND_WRITTEN = `select count(*),
  count(*) - count(id), count(*) - count(customer_id), count(*) - count(email), count(*) - count(created_at),
  count(id) - count(distinct id),
  count(*) - count(distinct (customer_id, created_at)),
  count(*) filter (where status not in ('new', 'paid', 'shipped', 'returned')),
  count(*) filter (where amount < 0 or amount > 100000),
  count(*) filter (where customer_id < 0 or customer_id > 99999),
  count(*) filter (where not regexp_full_match(email, '[^@\\s]+@[^@\\s]+\\.[^@\\s]+')),
  count(*) filter (where not regexp_full_match(country, '[A-Z]{2}')),
  count(*) filter (where customer_id not in (select id from customers)),
  max(created_at),
  date_diff('hour', min(date_trunc('hour', created_at)), max(date_trunc('hour', created_at))) + 1 - count(distinct date_trunc('hour', created_at)),
  sum(amount), (count(*) - count(email)) / count(*), count(distinct status)
from data`;

export async function qualityScan(): Promise<Figure[]> {
  return withScope(async (scope) => {
    const dir = tempDir(scope, 'quality');
    const folder = path.join(dir, 'orders');
    const session = await DuckDbSession.open({
      memoryLimit: '1GB',
      tempDirectory: path.join(dir, 'spill'),
    });
    scope.defer('close DuckDB', () => session.close());
    progress(NAME, `writing ${count(ROWS)} rows of Parquet…`);
    await session.run(
      `copy (select range as id, (range % 100000)::int as customer_id, ((range % 100000) / 100.0)::double as amount,
        (['new','paid','shipped','returned'])[1 + range % 4] as status,
        case when range % 1000 = 0 then null else 'user' || (range % 100000) || '@example.com' end as email,
        (['DE','FR','US','GB'])[1 + range % 4] as country,
        timestamptz '2026-01-01' + to_seconds(range) as created_at from range(${ROWS}))
       to ${sqlString(folder)} (format parquet, compression zstd, per_thread_output true)`,
      'bench',
    );
    await session.run(`set TimeZone = 'UTC'`, 'bench');
    await session.run(`create view data as select * from ${readParquetSql(folder)}`, 'bench');
    await session.run(
      `create table customers as select range::int as id from range(100000)`,
      'bench',
    );
    const columns = (await session.rows('describe select * from data', 'bench')).map((r) => ({
      name: String(r.column_name),
      type: String(r.column_type),
    }));
    const checks = validateChecks('orders', CHECKS, columns, ['customers']);
    const separate = checks.map(
      (check) => compileChecks([check], [], { columns, customColumns: new Map() }).mainScan,
    );

    const compiled: number[] = [];
    const oneEach: number[] = [];
    const handWritten: number[] = [];
    let scans = 0;
    let failing = 0;
    for (let i = 0; i < REPEATS; i++) {
      let t = monotonicMs();
      const report = await runChecks({
        session,
        dataset: 'orders',
        checks: CHECKS,
        inlets: ['customers'],
        hasPrevious: false,
        observedAt: new Date().toISOString(),
        now: Date.now(),
      });
      compiled.push(monotonicMs() - t);
      scans = report.scans;
      failing = report.results.filter((r) => r.status === 'error' || r.status === 'warn').length;
      t = monotonicMs();
      for (const query of separate) await session.rows(query, 'bench (one query per check)');
      oneEach.push(monotonicMs() - t);
      t = monotonicMs();
      await session.rows(HAND_WRITTEN, 'bench (hand-written)');
      handWritten.push(monotonicMs() - t);
      progress(
        NAME,
        `round ${i + 1}: compiled ${ms(compiled.at(-1) ?? 0)}, one query each ${ms(oneEach.at(-1) ?? 0)}, hand-written ${ms(handWritten.at(-1) ?? 0)}`,
      );
    }
    const c = median(compiled);
    const hand = median(handWritten);
    const each = median(oneEach);
    return [
      {
        benchmark: NAME,
        metric: `${CHECKS.length} checks on ${count(ROWS)} rows, compiled (${scans} scan${scans === 1 ? '' : 's'}; ${failing} failing)`,
        value: ms(c),
        target: '≤ 1.2× hand-written',
        baseline: `hand-written single query ${ms(hand)} (${(c / hand).toFixed(2)}×)`,
        met: c <= 1.2 * hand,
      },
      {
        benchmark: NAME,
        metric: `the same checks, one query each (${separate.length} scans)`,
        value: ms(each),
        target: '—',
        baseline: `${(each / c).toFixed(2)}× the compiled time`,
        met: null,
      },
    ];
  });
}

runMain(import.meta.url, qualityScan);
