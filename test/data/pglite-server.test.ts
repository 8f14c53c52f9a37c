/**
 * The PGlite socket server (src/data/pglite-server.ts) with the real `pg` client and
 * pg-copy-streams: queries, parameters, COPY both ways, one session at a time, a clean
 * slate for each session, and the refusals.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PGliteServer, servePGlite } from '../../src/data/pglite-server.ts';

let dir: string;
let db: PGlite;
let server: PGliteServer;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'updraft-pglite-server-'));
  db = await PGlite.create();
  await db.exec('create table items (id int primary key, name text)');
  server = await servePGlite(db, {
    socketPath: path.join(dir, '.s.PGSQL.5432'),
    waitTimeoutMs: 2_000,
    maxCopyBytes: 64 * 1024,
  });
});

afterAll(async () => {
  await server?.close();
  await db?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function connect(): Promise<pg.Client> {
  const client = new pg.Client({ host: dir, port: 5432, user: 'postgres', database: 'postgres' });
  client.on('error', () => {});
  await client.connect();
  return client;
}

describe('PGlite socket server', () => {
  it('creates an owner-only socket', () => {
    expect(statSync(server.socketPath).mode & 0o777).toBe(0o600);
  });

  it('runs simple and parameterised queries', async () => {
    const client = await connect();
    try {
      await client.query('delete from items');
      await client.query('insert into items values ($1, $2), ($3, $4)', [1, 'one', 2, 'two']);
      const { rows } = await client.query(
        'select id, name from items where id >= $1 order by id',
        [1],
      );
      expect(rows).toEqual([
        { id: 1, name: 'one' },
        { id: 2, name: 'two' },
      ]);
      await expect(client.query('selec 1')).rejects.toThrow(/syntax error/);
      expect((await client.query('select 1 as ok')).rows).toEqual([{ ok: 1 }]);
    } finally {
      await client.end();
    }
  });

  it('copies rows in and out', async () => {
    const client = await connect();
    try {
      await client.query('delete from items');
      const csv = Array.from({ length: 500 }, (_, i) => `${i},name ${i}\n`).join('');
      await pipeline(
        Readable.from([csv.slice(0, 1000), csv.slice(1000)]),
        client.query(copyFrom('copy items (id, name) from stdin with (format csv)')),
      );
      expect((await client.query('select count(*)::int as n from items')).rows[0]).toEqual({
        n: 500,
      });
      const chunks: Buffer[] = [];
      await pipeline(
        client.query(copyTo('copy (select * from items order by id) to stdout with (format csv)')),
        new Writable({
          write(chunk, _enc, done) {
            chunks.push(chunk);
            done();
          },
        }),
      );
      expect(Buffer.concat(chunks).toString()).toBe(csv);
    } finally {
      await client.end();
    }
  });

  it('reports a failing copy and keeps the session usable', async () => {
    const client = await connect();
    try {
      await expect(
        pipeline(
          Readable.from(['x,bad\n']),
          client.query(copyFrom('copy items (id, name) from stdin with (format csv)')),
        ),
      ).rejects.toThrow(/invalid input syntax for type integer/);
      expect((await client.query('select 2 as ok')).rows).toEqual([{ ok: 2 }]);
    } finally {
      await client.end();
    }
  });

  it('refuses a copy larger than the limit, naming it', async () => {
    const client = await connect();
    const big = 'x'.repeat(70 * 1024);
    await expect(
      pipeline(
        Readable.from([`1,${big}\n`]),
        client.query(copyFrom('copy items (id, name) from stdin with (format csv)')),
      ),
    ).rejects.toThrow(/limited to 65536 bytes/);
    await client.end().catch(() => {});
  });

  it('serves one session at a time; the next waits, then starts clean', async () => {
    const first = await connect();
    await first.query('begin');
    await first.query("insert into items values (9001, 'uncommitted')");
    await first.query("set application_name = 'first'");
    await first.query('prepare stmt as select 1');
    let secondConnected = false;
    const second = connect().then((client) => {
      secondConnected = true;
      return client;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(secondConnected).toBe(false);
    await first.end(); // leaves the transaction open: the server rolls it back
    const client = await second;
    try {
      expect(
        (await client.query('select count(*)::int as n from items where id = 9001')).rows,
      ).toEqual([{ n: 0 }]);
      expect((await client.query('show application_name')).rows[0].application_name).not.toBe(
        'first',
      );
      await expect(client.query('execute stmt')).rejects.toThrow(/does not exist/);
      await client.query('prepare stmt as select 2'); // the name is free again
    } finally {
      await client.end();
    }
  });

  it('tells a client that waited too long why', async () => {
    const first = await connect();
    try {
      await expect(connect()).rejects.toThrow(/stayed busy for 2 s/);
    } finally {
      await first.end();
    }
    const after = await connect(); // the gate was released
    await after.end();
  });
});
