import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_BACKENDS } from '../support/stores.ts';
import {
  type DataHarness,
  openDataHarness,
  openSourceDatabase,
  type SourceDatabase,
} from './support.ts';

const backend = STORE_BACKENDS[0];

describe.runIf(backend !== undefined)('load and sql operators against PostgreSQL', () => {
  let h: DataHarness;
  let target: SourceDatabase;
  let run: { runPk: number; dagId: string; runId: string };
  beforeAll(async () => {
    if (backend === undefined) return;
    h = await openDataHarness(backend);
    target = await openSourceDatabase();
    process.env.UPDRAFT_CONN_WAREHOUSE = target.url;
    run = { runPk: await h.createRun('load', 'r1'), dagId: 'load', runId: 'r1' };
    const seeded = await h.runTask(run, {
      taskId: 'seed',
      operator: 'duckdb',
      config: {
        query: `select * from (values (1, 'a', 1.5, true, timestamptz '2026-01-01 00:00:00+00'), (2, '', null, false, null), (3, null, 3.25, null, null)) t(id, name, score, ok, "at")`,
        output: 'people',
      },
    });
    expect(seeded.outcome.error?.message).toBeUndefined();
  });
  afterAll(async () => {
    delete process.env.UPDRAFT_CONN_WAREHOUSE;
    await target?.close();
    await h?.close();
  });

  const load = (config: Record<string, unknown>, taskId = 'load') =>
    h.runTask(run, {
      taskId,
      operator: 'load',
      inlets: ['people'],
      config: { dataset: 'people', connection: 'warehouse', table: 'people', ...config } as never,
    });

  it('appends (creating the table), replaces, and upserts on a key, each in one transaction', async () => {
    const appended = await load({ mode: 'append' });
    expect(appended.outcome.error?.message).toBeUndefined();
    expect(appended.outcome.result).toMatchObject({ rows: 3, mode: 'append' });
    await load({ mode: 'append' });
    expect((await target.client.query('select count(*)::int as n from people')).rows[0].n).toBe(6);
    const rows = (await target.client.query('select * from people order by id limit 3')).rows;
    expect(rows).toEqual([
      { id: 1, name: 'a', score: '1.50', ok: true, at: new Date('2026-01-01T00:00:00Z') },
      { id: 1, name: 'a', score: '1.50', ok: true, at: new Date('2026-01-01T00:00:00Z') },
      { id: 2, name: '', score: null, ok: false, at: null },
    ]);
    await load({ mode: 'replace' });
    expect((await target.client.query('select count(*)::int as n from people')).rows[0].n).toBe(3);

    await target.client.query(`create table people_u (id int primary key, name text, score numeric, ok boolean, at timestamptz, extra text default 'kept');
      insert into people_u (id, name, extra) values (1, 'old', 'x'), (7, 'other', 'y')`);
    const upserted = await load({ mode: 'upsert', key: ['id'], table: 'people_u' });
    expect(upserted.outcome.error?.message).toBeUndefined();
    expect(
      (await target.client.query('select id, name, extra from people_u order by id')).rows,
    ).toEqual([
      { id: 1, name: 'a', extra: 'x' },
      { id: 2, name: '', extra: 'kept' },
      { id: 3, name: null, extra: 'kept' },
      { id: 7, name: 'other', extra: 'y' },
    ]);
  });

  it('rolls a failed load back: the table is as it was', async () => {
    await target.client.query(`create table strict_people (id int primary key, name text not null, score numeric, ok boolean, at timestamptz);
      insert into strict_people values (42, 'keep me', 1, true, null)`);
    const failed = await load({ mode: 'replace', table: 'strict_people' }, 'strict');
    expect(failed.outcome.outcome).toBe('failed');
    expect(failed.outcome.error?.message).toContain(
      "task 'strict': loading dataset 'people' v1 into strict_people (rolled back)",
    );
    expect(failed.outcome.error?.message).toContain('null value in column "name"');
    expect((await target.client.query('select id, name from strict_people')).rows).toEqual([
      { id: 42, name: 'keep me' },
    ]);
    const noKey = await load({ mode: 'upsert' }, 'nokey');
    expect(noKey.outcome.error?.message).toContain("mode 'upsert' needs 'key'");
    const badKey = await load({ mode: 'upsert', key: ['nope'] }, 'badkey');
    expect(badKey.outcome.error?.message).toContain('key column(s) nope are not in dataset');
  });

  it('sql runs statements and bound parameters, never splicing values into SQL', async () => {
    const sql = (config: Record<string, unknown>, taskId = 'sql') =>
      h.runTask(run, {
        taskId,
        operator: 'sql',
        config: { connection: 'warehouse', ...config } as never,
      });
    const created = await sql({
      sql: 'create table kv (k text primary key, v int); insert into kv values ($$a$$, 1)',
    });
    expect(created.outcome.error?.message).toBeUndefined();
    const hostile = "x'); drop table kv; --";
    const inserted = await sql({ sql: 'insert into kv values ($1, $2)', parameters: [hostile, 2] });
    expect(inserted.outcome.result).toEqual({ rowCount: 1 });
    const all = await sql({
      sql: 'select k, v from kv where v >= $1 order by v',
      parameters: [1],
      returnRows: 'all',
    });
    expect(all.outcome.result).toEqual({
      rowCount: 2,
      rows: [
        { k: 'a', v: 1 },
        { k: hostile, v: 2 },
      ],
    });
    const first = await sql({ sql: 'select count(*)::int as n from kv', returnRows: 'first' });
    expect(first.outcome.result).toEqual({ rowCount: 1, row: { n: 2 } });
    const error = await sql({ sql: 'select * from kv where nope = 1' }, 'broken');
    expect(error.outcome.error?.message).toBe(
      "task 'broken': SQL error on connection 'warehouse': column \"nope\" does not exist",
    );
    const tooMany = await sql({
      sql: 'select generate_series(1, 20)',
      returnRows: 'all',
      maxRows: 5,
    });
    expect(tooMany.outcome.error?.message).toContain('the query returned 20 rows, over maxRows 5');
  });
});
