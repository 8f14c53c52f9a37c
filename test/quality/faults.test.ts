/**
 * Clean data raises no check; each injected fault is caught by exactly the check meant
 * for it, and by no other. Real DuckDB; the checks run through `runChecks` as the
 * operator runs them (one main scan, plus the previous version for distribution).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuckDbSession } from '../../src/data/duckdb-session.ts';
import type { MetricPoint } from '../../src/quality/anomaly.ts';
import { runChecks } from '../../src/quality/check-runner.ts';
import type { CheckSpec } from '../../src/quality/check-spec.ts';

/** 1000 orders over 100 consecutive days, 50 customers, unit-norm embeddings. */
const CLEAN = `
select id::bigint as id,
       (1 + id % 50)::bigint as customer_id,
       ['new', 'paid', 'shipped'][1 + id % 3] as status,
       (1 + (id % 97) * 5)::double as amount,
       'user' || id || '@example.com' as email,
       timestamp '2026-01-01' + to_days((id % 100)::int) as ts,
       'n' || id as note,
       [0.5, 0.5, 0.5, 0.5]::float[] as embedding
  from range(1, 1001) as r(id)`;

const CHECKS: CheckSpec[] = [
  {
    type: 'schema',
    mode: 'exact',
    columns: {
      id: 'BIGINT',
      customer_id: 'BIGINT',
      status: 'VARCHAR',
      amount: 'DOUBLE',
      email: 'VARCHAR',
      ts: 'TIMESTAMP',
      note: 'VARCHAR',
      embedding: 'FLOAT[]',
    },
  },
  { type: 'not_null', column: 'email' },
  { type: 'unique', column: 'id' },
  { type: 'accepted_values', column: 'status', values: ['new', 'paid', 'shipped'] },
  { type: 'range', column: 'amount', min: 0, max: 1000 },
  { type: 'regex', column: 'email', format: 'email' },
  { type: 'referential', column: 'customer_id', to: 'customers', to_column: 'id' },
  { type: 'freshness', column: 'ts', max_age: '2 days' },
  { type: 'continuity', column: 'ts', grain: 'day' },
  { type: 'distribution', column: 'amount', metrics: ['mean', 'stddev'], max_change: 0.2 },
  { type: 'vector_dimension', column: 'embedding', dimension: 4 },
  { type: 'vector_finite', column: 'embedding' },
  { type: 'vector_norm', column: 'embedding', min: 0.9, max: 1.1 },
  { type: 'anomaly', metric: 'row_count', min_points: 7 },
  {
    type: 'custom_sql',
    id: 'paid_has_amount',
    sql: "select * from data where status = 'paid' and amount is null",
  },
];

/** Row counts of ten earlier versions, around 1000. */
const HISTORY: MetricPoint[] = [980, 1010, 995, 1020, 990, 1005, 985, 1000, 1015, 1000].map(
  (value, i) => ({
    version: i + 1,
    value,
    anomaly: false,
    at: `2026-04-${String(i + 1).padStart(2, '0')}T00:00:00Z`,
  }),
);
/** One hour after the newest clean timestamp (day 99). */
const NOW = Date.parse('2026-04-10T01:00:00Z');

/** Fault name → [SQL over `clean`, the one check id expected to fire]. */
const FAULTS: Record<string, [string, string]> = {
  nulls: [
    `select * replace (case when id % 10 = 0 then null else email end as email) from clean`,
    'not_null.email',
  ],
  'duplicate keys': [
    `select * replace (case when id = 2 then 1 else id end as id) from clean`,
    'unique.id',
  ],
  'a value not accepted': [
    `select * replace (case when id = 7 then 'lost' else status end as status) from clean`,
    'accepted_values.status',
  ],
  'out-of-range values': [
    `select * replace (case when id = 5 then -5 else amount end as amount) from clean`,
    'range.amount',
  ],
  'a malformed e-mail': [
    `select * replace (case when id = 9 then 'not-an-email' else email end as email) from clean`,
    'regex.email',
  ],
  'a broken reference': [
    `select * replace (case when id = 3 then 999 else customer_id end as customer_id) from clean`,
    'referential.customer_id',
  ],
  'a stale timestamp': [`select * replace (ts - interval 30 day as ts) from clean`, 'freshness.ts'],
  'a gap in the time series': [`select * from clean where id % 100 <> 50`, 'continuity.ts'],
  'a renamed column': [`select * rename (note as notes) from clean`, 'schema'],
  'a retyped column': [`select * replace (length(note) as note) from clean`, 'schema'],
  'a distribution shift': [
    `select * replace (amount * 1.5 as amount) from clean`,
    'distribution.amount',
  ],
  'NaN in an embedding': [
    `select * replace (case when id = 4 then ['nan'::float, 0.5, 0.5, 0.5] else embedding end as embedding) from clean`,
    'vector_finite.embedding',
  ],
  'Inf in an embedding': [
    `select * replace (case when id = 4 then ['inf'::float, 0.5, 0.5, 0.5] else embedding end as embedding) from clean`,
    'vector_finite.embedding',
  ],
  'a wrong dimension': [
    `select * replace (case when id = 8 then [0.5, 0.5, 0.5, 0.5, 0.0]::float[] else embedding end as embedding) from clean`,
    'vector_dimension.embedding',
  ],
  'a vector norm out of bounds': [
    `select * replace (case when id = 8 then [1.5, 1.5, 1.5, 1.5]::float[] else embedding end as embedding) from clean`,
    'vector_norm.embedding',
  ],
  'a 60% volume drop': [`select * from clean where id <= 400`, 'anomaly.row_count'],
  'a custom rule broken': [
    `select * replace (case when id = 1 then null else amount end as amount) from clean`,
    'paid_has_amount',
  ],
};

describe('each fault is caught by the check meant for it', () => {
  let session: DuckDbSession;
  beforeAll(async () => {
    const { DuckDbSession } = await import('../../src/data/duckdb-session.ts');
    session = await DuckDbSession.open({ threads: 2 });
    await session.run(`set TimeZone = 'UTC'`, 'test');
    await session.run(`create table clean as ${CLEAN}`, 'test');
    await session.run(`create table previous_data as select * from clean`, 'test');
    await session.run(
      `create table customers as select range::bigint as id from range(1, 51)`,
      'test',
    );
  });
  afterAll(() => session?.close());

  async function failing(source: string): Promise<string[]> {
    await session.run(`create or replace table data as ${source}`, 'test');
    const report = await runChecks({
      session,
      dataset: 'orders',
      checks: CHECKS,
      inlets: ['customers'],
      history: { row_count: HISTORY },
      hasPrevious: true,
      observedAt: '2026-04-11T00:00:00Z',
      now: NOW,
    });
    return report.results.filter((r) => r.status !== 'pass').map((r) => `${r.checkId}:${r.status}`);
  }

  it('clean data raises no check, in three scans (the version, the previous one, the custom SQL)', async () => {
    expect(await failing('select * from clean')).toEqual([]);
    const report = await runChecks({
      session,
      dataset: 'orders',
      checks: CHECKS,
      inlets: ['customers'],
      history: { row_count: HISTORY },
      hasPrevious: true,
      observedAt: '2026-04-11T00:00:00Z',
      now: NOW,
    });
    // main scan + previous version + the custom SQL query
    expect(report.scans).toBe(3);
    expect(report.results).toHaveLength(CHECKS.length);
  });

  for (const [fault, [source, expected]] of Object.entries(FAULTS)) {
    it(`${fault} → ${expected} only`, async () => {
      expect(await failing(source)).toEqual([`${expected}:error`]);
    });
  }

  it('exact duplicate rows are counted and only the copies fail', async () => {
    await session.run(
      `create or replace table data as select * from clean union all select * from clean where id <= 3`,
      'test',
    );
    const report = await runChecks({
      session,
      dataset: 'orders',
      checks: [{ type: 'duplicate_rows' }, { type: 'row_count', min: 1, max: 2000 }],
      inlets: [],
      hasPrevious: false,
      observedAt: '2026-04-11T00:00:00Z',
      now: NOW,
    });
    expect(report.results.map((r) => [r.checkId, r.status, r.value])).toEqual([
      ['duplicate_rows', 'error', 3],
      ['row_count', 'pass', 1003],
    ]);
  });

  it('thresholds: warn_if and error_if on counts and percents decide the status', async () => {
    await session.run(
      `create or replace table data as select * replace (case when id % 50 = 0 then null else email end as email) from clean`,
      'test',
    );
    const run = (spec: Partial<CheckSpec>) =>
      runChecks({
        session,
        dataset: 'orders',
        checks: [{ type: 'not_null', column: 'email', ...spec }],
        inlets: [],
        hasPrevious: false,
        observedAt: '2026-04-11T00:00:00Z',
        now: NOW,
      }).then((r) => r.results[0]?.status);
    expect(await run({})).toBe('error'); // 20 nulls, none allowed
    expect(await run({ severity: 'warn' })).toBe('warn');
    expect(await run({ warn_if: '> 0', error_if: '> 5%' })).toBe('warn'); // 2%
    expect(await run({ warn_if: '> 0', error_if: '>= 20' })).toBe('error');
    expect(await run({ error_if: '> 100' })).toBe('pass');
    expect(await run({ max_missing_percent: 5 })).toBe('pass');
  });
});
