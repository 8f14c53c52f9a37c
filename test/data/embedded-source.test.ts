/**
 * An embedded PGlite database as the source and target of the data operators: served
 * by its own process (src/data/pglite-server-process.ts) and named by a `pglite://`
 * connection, it is read by `extract` (whole and incremental), written by `load` and
 * changed by `sql` exactly as a PostgreSQL server is. Its server process comes back
 * after a kill; a folder nobody serves gives a clear error.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PGLITE_SOCKET_PORT,
  pgliteDataDir,
  pgliteSocketDir,
  pgliteUrl,
} from '../../src/data/pglite-address.ts';
import {
  type PGliteServerProcess,
  socketAnswers,
  startPGliteServerProcess,
} from '../../src/data/pglite-server-process.ts';
import { STORE_BACKENDS } from '../support/stores.ts';
import { type DataHarness, openDataHarness, readVersionRows } from './support.ts';

const backend = STORE_BACKENDS[0];
const problems: string[] = [];
const log = { warn: (m: string) => problems.push(m), error: (m: string) => problems.push(m) };

describe.runIf(backend !== undefined)('an embedded PGlite database as source and target', () => {
  let dir: string;
  let dataDir: string;
  let server: PGliteServerProcess;
  let h: DataHarness;

  /** A client on the served database, for the test's own reads and writes. */
  async function query(text: string): Promise<Array<Record<string, unknown>>> {
    const client = new pg.Client({
      host: pgliteSocketDir(dataDir),
      port: PGLITE_SOCKET_PORT,
      user: 'postgres',
      database: 'postgres',
    });
    await client.connect();
    try {
      return (await client.query(text)).rows;
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    if (backend === undefined) return;
    dir = mkdtempSync(path.join(os.tmpdir(), 'updraft-embedded-'));
    dataDir = path.join(dir, 'source');
    server = await startPGliteServerProcess(dataDir, log);
    process.env.UPDRAFT_CONN_EMBEDDED = server.url;
    h = await openDataHarness(backend);
    await query(`create table orders (id int primary key, amount numeric(10,2), note text, at timestamptz);
      insert into orders select g, g * 1.25, 'order ' || g, timestamptz '2026-01-01 00:00:00+00' + g * interval '1 hour'
      from generate_series(1, 2500) g`);
  });
  afterAll(async () => {
    delete process.env.UPDRAFT_CONN_EMBEDDED;
    await h?.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('names the folder in its URL and refuses a second server on it', async () => {
    expect(server.url).toBe(`pglite://${dataDir}`);
    expect(pgliteDataDir(server.url)).toBe(dataDir);
    expect(pgliteUrl(dataDir)).toBe(server.url);
    expect(() => pgliteDataDir('pglite://relative/folder')).toThrow(/absolute folder/);
    await expect(startPGliteServerProcess(dataDir, log)).rejects.toThrow(
      /already served by another process/,
    );
  });

  it('extracts a table, then only the new rows by watermark', async () => {
    const run = { runPk: await h.createRun('emb', 'r1'), dagId: 'emb', runId: 'r1' };
    const task = {
      taskId: 'extract',
      operator: 'extract',
      config: {
        connection: 'embedded',
        table: 'orders',
        dataset: 'orders',
        incremental: { column: 'id' },
      },
    };
    const first = await h.runTask(run, task);
    expect(first.outcome.error?.message).toBeUndefined();
    const v1 = await h.ops.showVersion('orders');
    expect(v1).toMatchObject({ version: 1, rows: 2500 });
    expect(v1.manifest.schema.map((c) => `${c.name}:${c.type}`)).toEqual([
      'id:INTEGER',
      'amount:DECIMAL(10,2)',
      'note:VARCHAR',
      'at:TIMESTAMP WITH TIME ZONE',
    ]);
    const rows = await readVersionRows(v1.location, 'id');
    expect(rows[1]).toEqual({
      id: 2,
      amount: '2.50',
      note: 'order 2',
      at: '2026-01-01 02:00:00+00',
    });

    await query(`insert into orders values (2501, 1, 'late', null), (2502, 2, 'later', null)`);
    const run2 = { runPk: await h.createRun('emb', 'r2'), dagId: 'emb', runId: 'r2' };
    expect((await h.runTask(run2, task)).outcome.outcome).toBe('success');
    const v2 = await h.ops.showVersion('orders');
    expect(v2).toMatchObject({ version: 2, rows: 2 });
    expect(v2.manifest.watermark).toEqual({ column: 'id', value: '2502' });
  });

  it('loads a dataset into a table (append and upsert) and runs SQL on it', async () => {
    const run = { runPk: await h.createRun('emb_load', 'r1'), dagId: 'emb_load', runId: 'r1' };
    const seeded = await h.runTask(run, {
      taskId: 'make',
      operator: 'duckdb',
      config: {
        query: `select i as id, 'name ' || i as name from range(1, 1001) t(i)`,
        output: 'people',
      },
    });
    expect(seeded.outcome.error?.message).toBeUndefined();
    const load = (taskId: string, config: Record<string, unknown>) =>
      h.runTask(run, {
        taskId,
        operator: 'load',
        inlets: ['people'],
        config: { dataset: 'people', connection: 'embedded', table: 'people', ...config } as never,
      });
    const appended = await load('append', { mode: 'append' });
    expect(appended.outcome.error?.message).toBeUndefined();
    expect(await query('select count(*)::int as n, sum(id)::int as s from people')).toEqual([
      { n: 1000, s: 500_500 },
    ]);
    await query(`alter table people add primary key (id); update people set name = 'stale'`);
    const upserted = await load('upsert', { mode: 'upsert', key: ['id'] });
    expect(upserted.outcome.error?.message).toBeUndefined();
    expect(await query(`select count(*)::int as n from people where name = 'name ' || id`)).toEqual(
      [{ n: 1000 }],
    );

    const changed = await h.runTask(run, {
      taskId: 'trim',
      operator: 'sql',
      config: { connection: 'embedded', sql: 'delete from people where id > $1', parameters: [10] },
    });
    expect(changed.outcome.error?.message).toBeUndefined();
    expect(await query('select count(*)::int as n from people')).toEqual([{ n: 10 }]);
  });

  it('comes back after its server process is killed', async () => {
    const before = server.pid();
    expect(before).toBeDefined();
    process.kill(before as number, 'SIGKILL');
    await expect
      .poll(async () => server.pid() !== before && (await socketAnswers(server.socketPath)), {
        timeout: 30_000,
        interval: 200,
      })
      .toBe(true);
    expect(await query('select count(*)::int as n from orders')).toEqual([{ n: 2502 }]);
    expect(problems.some((m) => m.includes('exited (SIGKILL)'))).toBe(true);
  });

  it('says which folder no process serves, and what to do', async () => {
    process.env.UPDRAFT_CONN_NOBODY = pgliteUrl(path.join(dir, 'unserved'));
    try {
      const run = { runPk: await h.createRun('emb_bad', 'r1'), dagId: 'emb_bad', runId: 'r1' };
      const failed = await h.runTask(run, {
        taskId: 'extract',
        operator: 'extract',
        config: { connection: 'nobody', table: 'orders', dataset: 'nothing' },
      });
      expect(failed.outcome.outcome).toBe('failed');
      expect(failed.outcome.error?.message).toContain(
        `connection 'nobody' names the embedded database ${path.join(dir, 'unserved')}, which no process serves`,
      );
      expect(failed.outcome.error?.message).toContain('updraft standalone');
    } finally {
      delete process.env.UPDRAFT_CONN_NOBODY;
    }
  });
});
