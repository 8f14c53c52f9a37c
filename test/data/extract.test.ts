import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_BACKENDS } from '../support/stores.ts';
import {
  type DataHarness,
  openDataHarness,
  openSourceDatabase,
  readVersionRows,
  type SourceDatabase,
} from './support.ts';

for (const backend of STORE_BACKENDS) {
  describe(`extract on ${backend.name}`, () => {
    let h: DataHarness;
    let source: SourceDatabase;
    beforeAll(async () => {
      h = await openDataHarness(backend);
      source = await openSourceDatabase();
      process.env.UPDRAFT_CONN_SOURCE = source.url;
      await source.client.query(`
        create table orders (
          id bigint primary key, amount numeric(10,2), note text, paid boolean,
          at timestamptz, day date, tags jsonb, ratio double precision);
        insert into orders values
          (1, 10.50, 'plain', true, '2026-01-01 10:00:00+00', '2026-01-01', '{"a":1}', 0.1),
          (2, 0.01, 'comma, "quote"' || chr(10) || 'newline', false, '2026-01-02 11:30:00+02', '2026-01-02', '[]', 1e-300),
          (3, null, '', null, null, null, null, null),
          (4, 99999999.99, null, true, '2026-01-03 00:00:00+00', '2026-01-03', 'null', -2.5)`);
    });
    afterAll(async () => {
      delete process.env.UPDRAFT_CONN_SOURCE;
      await source?.close();
      await h?.close();
    });

    it('extracts a table into v1 with exact values, a manifest and the latest alias', async () => {
      const runPk = await h.createRun('etl', 'r1');
      const run = { runPk, dagId: 'etl', runId: 'r1' };
      const { outcome, updatedDatasets } = await h.runTask(run, {
        taskId: 'extract',
        operator: 'extract',
        config: { connection: 'source', table: 'orders', dataset: 'orders' },
      });
      expect(outcome.error?.message).toBeUndefined();
      expect(outcome.outcome).toBe('success');
      expect(updatedDatasets).toEqual(['orders']);
      const shown = await h.ops.showVersion('orders');
      expect(shown).toMatchObject({ version: 1, rows: 4, aliases: ['latest'] });
      expect(shown.manifest.schema.map((c) => `${c.name}:${c.type}`)).toEqual([
        'id:BIGINT',
        'amount:DECIMAL(10,2)',
        'note:VARCHAR',
        'paid:BOOLEAN',
        'at:TIMESTAMP WITH TIME ZONE',
        'day:DATE',
        'tags:VARCHAR',
        'ratio:DOUBLE',
      ]);
      expect(shown.manifest.producedBy).toMatchObject({
        dagId: 'etl',
        runId: 'r1',
        taskId: 'extract',
        tryNumber: 1,
      });
      expect(shown.manifest.code.dagVersionHash).toBe('test-version');
      const onDisk = JSON.parse(readFileSync(path.join(shown.location, 'manifest.json'), 'utf8'));
      expect(onDisk.files).toEqual(shown.manifest.files);
      expect(shown.manifest.files[0]?.sha256).toMatch(/^[0-9a-f]{64}$/);
      const rows = await readVersionRows(shown.location, 'id');
      expect(rows).toEqual([
        {
          id: '1',
          amount: '10.50',
          note: 'plain',
          paid: true,
          at: '2026-01-01 10:00:00+00',
          day: '2026-01-01',
          tags: '{"a": 1}',
          ratio: 0.1,
        },
        {
          id: '2',
          amount: '0.01',
          note: 'comma, "quote"\nnewline',
          paid: false,
          at: '2026-01-02 09:30:00+00',
          day: '2026-01-02',
          tags: '[]',
          ratio: 1e-300,
        },
        {
          id: '3',
          amount: null,
          note: '',
          paid: null,
          at: null,
          day: null,
          tags: null,
          ratio: null,
        },
        {
          id: '4',
          amount: '99999999.99',
          note: null,
          paid: true,
          at: '2026-01-03 00:00:00+00',
          day: '2026-01-03',
          tags: 'null',
          ratio: -2.5,
        },
      ]);
      expect(existsSync(path.join(h.datasetsRoot, '.tmp'))).toBe(true);
      expect((await h.storage.listStaging()).length).toBe(0);
    });

    it('extracts incrementally across runs, advancing the watermark only when a version commits', async () => {
      await source.client.query(`create table events (id int primary key, v text);
        insert into events select g, 'e' || g from generate_series(1, 3) g`);
      const task = {
        taskId: 'events',
        operator: 'extract',
        config: {
          connection: 'source',
          table: 'events',
          dataset: 'events',
          incremental: { column: 'id' },
        },
      };
      const run1 = { runPk: await h.createRun('inc', 'r1'), dagId: 'inc', runId: 'r1' };
      expect((await h.runTask(run1, task)).outcome.outcome).toBe('success');
      expect((await h.ops.showVersion('events')).rows).toBe(3);

      await source.client.query(
        `insert into events select g, 'e' || g from generate_series(4, 5) g`,
      );
      const run2 = { runPk: await h.createRun('inc', 'r2'), dagId: 'inc', runId: 'r2' };
      // The first try succeeds in the worker but its success is never committed (killed scheduler).
      const lost = await h.runTask(run2, task, { commit: false });
      expect(lost.outcome.outcome).toBe('success');
      expect((await h.ops.showVersion('events')).version).toBe(1);
      // The retry reads the same rows: the watermark did not move.
      const retry = await h.runTask(run2, task, { tryNumber: 2 });
      expect(retry.outcome.outcome).toBe('success');
      const v2 = await h.ops.showVersion('events');
      expect(v2).toMatchObject({ version: 2, rows: 2 });
      expect(v2.manifest.watermark).toEqual({ column: 'id', value: '5' });
      expect((await readVersionRows(v2.location)).map((r) => r.id)).toEqual([4, 5]);

      // Nothing new: an empty version, and the watermark stays.
      const run3 = { runPk: await h.createRun('inc', 'r3'), dagId: 'inc', runId: 'r3' };
      await h.runTask(run3, task);
      expect(await h.ops.showVersion('events')).toMatchObject({ version: 3, rows: 0 });
      await source.client.query(`insert into events values (6, 'e6')`);
      const run4 = { runPk: await h.createRun('inc', 'r4'), dagId: 'inc', runId: 'r4' };
      await h.runTask(run4, task);
      const v4 = await h.ops.showVersion('events');
      expect((await readVersionRows(v4.location)).map((r) => r.id)).toEqual([6]);
    });

    it('fails clearly on a missing connection, a wrong one, and SQL errors', async () => {
      const run = { runPk: await h.createRun('bad', 'r1'), dagId: 'bad', runId: 'r1' };
      const missing = await h.runTask(run, {
        taskId: 'missing',
        operator: 'extract',
        config: { connection: 'nowhere', table: 'orders', dataset: 'x' },
      });
      expect(missing.outcome.exitReason).toBe('error_no_retry');
      expect(missing.outcome.error?.message).toContain(
        "task 'missing': connection 'nowhere' is not defined",
      );
      expect(missing.outcome.error?.message).toContain('UPDRAFT_CONN_NOWHERE');

      process.env.UPDRAFT_CONN_DOWN = 'postgres://etl:hunter2secret@127.0.0.1:1/none';
      const down = await h.runTask(run, {
        taskId: 'down',
        operator: 'extract',
        config: { connection: 'down', table: 'orders', dataset: 'x' },
      });
      delete process.env.UPDRAFT_CONN_DOWN;
      expect(down.outcome.error?.message).toContain(
        "task 'down': cannot connect to connection 'down' (127.0.0.1:1)",
      );
      expect(down.outcome.error?.message).not.toContain('hunter2secret');

      process.env.UPDRAFT_CONN_API = 'https://api.example.com';
      const wrongType = await h.runTask(run, {
        taskId: 'wrong',
        operator: 'extract',
        config: { connection: 'api', table: 'orders', dataset: 'x' },
      });
      delete process.env.UPDRAFT_CONN_API;
      expect(wrongType.outcome.error?.message).toContain(
        "connection 'api' is a 'https' connection; this operator needs a postgres:// connection",
      );

      const sqlError = await h.runTask(run, {
        taskId: 'typo',
        operator: 'extract',
        config: { connection: 'source', query: 'select * from ordrs', dataset: 'x' },
      });
      expect(sqlError.outcome.error?.message).toContain(
        "task 'typo': SQL error on connection 'source': relation \"ordrs\" does not exist",
      );

      // COPY fails half-way: the task fails with the database's message, no version.
      const midway = await h.runTask(run, {
        taskId: 'midway',
        operator: 'extract',
        config: {
          connection: 'source',
          query: 'select g, 1 / (g - 60000) as x from generate_series(1, 100000) g',
          dataset: 'midway',
        },
      });
      expect(midway.outcome.error?.message).toContain(
        "task 'midway': extracting from connection 'source': division by zero",
      );
      // DuckDB fails half-way (a timestamp beyond its range): COPY is stopped, nothing hangs.
      const unreadable = await h.runTask(run, {
        taskId: 'bc',
        operator: 'extract',
        config: {
          connection: 'source',
          query:
            "select g, case when g = 90000 then timestamp '294270-01-01 00:00:00' else timestamp '2026-01-01 00:00:00' end as d from generate_series(1, 200000) g",
          dataset: 'bc',
        },
      });
      expect(unreadable.outcome.error?.message).toContain(
        "task 'bc' writing dataset 'bc': DuckDB error",
      );
      expect((await h.ops.listDatasets()).map((d) => d.name)).not.toContain('midway');
      expect((await h.ops.listDatasets()).map((d) => d.name)).not.toContain('bc');

      const badName = await h.runTask(run, {
        taskId: 'evil',
        operator: 'extract',
        config: { connection: 'source', table: 'orders', dataset: '../../etc' },
      });
      expect(badName.outcome.error?.message).toContain("'../../etc' is not a valid dataset name");
      expect((await h.ops.listDatasets()).map((d) => d.name)).not.toContain('x');
    });
  });
}
