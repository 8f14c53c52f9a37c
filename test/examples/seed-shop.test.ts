/**
 * Seeding the example shop into the real PostgreSQL server (a fresh database per test)
 * and into an embedded PGlite folder: counts, keys, identical data on both, re-seeding,
 * and a failure half-way leaving the previous seed untouched.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { type SeedProgress, seedShop } from '../../src/examples/seed-shop.ts';
import {
  openPGliteSeedTarget,
  openPostgresSeedTarget,
  type SeedTarget,
} from '../../src/examples/seed-target.ts';
import { shopTables } from '../../src/examples/shop-tables.ts';

const ADMIN_URL =
  process.env.UPDRAFT_TEST_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function openPGlite(): Promise<SeedTarget> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'updraft-examples-'));
  const target = await openPGliteSeedTarget(path.join(dir, 'source'));
  cleanups.push(async () => {
    await target.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return target;
}

async function openPostgres(): Promise<SeedTarget> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  const name = `updraft_examples_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const target = await openPostgresSeedTarget(url.toString(), 'the test database');
  cleanups.push(async () => {
    await target.close();
    const c = new pg.Client({ connectionString: ADMIN_URL });
    await c.connect();
    await c.query(`drop database if exists ${name} with (force)`);
    await c.end();
  });
  return target;
}

const BACKENDS = [
  { name: 'pglite', open: openPGlite },
  ...(process.env.UPDRAFT_TEST_SKIP_POSTGRES === '1'
    ? []
    : [{ name: 'postgres', open: openPostgres }]),
];

const TABLE_NAMES = shopTables({ seed: 1, scale: 1 }).map((t) => t.name);

/** An md5 per table over every row's text, in primary key order. */
async function tableDigests(target: SeedTarget): Promise<Record<string, string>> {
  const digests: Record<string, string> = {};
  for (const table of shopTables({ seed: 1, scale: 1 })) {
    const [row] = await target.query(
      `select md5(string_agg(t::text, E'\\n' order by ${table.primaryKey.join(', ')})) as digest from shop.${table.name} t`,
    );
    digests[table.name] = String(row?.digest);
  }
  return digests;
}

async function count(target: SeedTarget, sql: string): Promise<number> {
  const [row] = await target.query(sql);
  return Number(row?.n);
}

describe.each(BACKENDS)('seeding the example shop into $name', ({ open }) => {
  it('loads every table with its keys, reports progress, and re-seeds in place', async () => {
    const target = await open();
    const progress: SeedProgress[] = [];
    const summary = await seedShop(target, {
      scale: 0.3,
      seed: 5,
      batchRows: 500,
      onProgress: (p) => progress.push(p),
    });
    expect(summary.tables.map((t) => t.name)).toEqual(TABLE_NAMES);
    for (const { name, rows } of summary.tables) {
      expect(rows).toBeGreaterThan(0);
      expect(await count(target, `select count(*) as n from shop.${name}`)).toBe(rows);
      expect(progress.filter((p) => p.table === name && p.done).map((p) => p.rows)).toEqual([rows]);
    }
    // Batches of 500 rows report several times per big table.
    expect(progress.filter((p) => p.table === 'web_events' && !p.done).length).toBeGreaterThan(3);

    const keys = await target.query(
      `select constraint_type, count(*)::int as n from information_schema.table_constraints
        where table_schema = 'shop' and constraint_type in ('PRIMARY KEY', 'FOREIGN KEY') group by 1 order by 1`,
    );
    expect(keys).toEqual([
      { constraint_type: 'FOREIGN KEY', n: 8 },
      { constraint_type: 'PRIMARY KEY', n: 9 },
    ]);
    // The keys are enforced: an order of a customer that does not exist is refused.
    await expect(
      target.execute(
        `insert into shop.orders values (999999, 999999, now(), 'completed', 'web', 1.00)`,
      ),
    ).rejects.toThrow(/foreign key/);
    const [info] = await target.query('select seed, scale, table_rows from shop.seed_info');
    expect(Number(info?.seed)).toBe(5);
    expect(info?.scale).toBe(0.3);
    expect(info?.table_rows).toEqual(
      Object.fromEntries(summary.tables.map((t) => [t.name, t.rows])),
    );

    const before = await tableDigests(target);
    const again = await seedShop(target, { scale: 0.3, seed: 5 });
    expect(again.tables).toEqual(summary.tables);
    expect(await tableDigests(target)).toEqual(before);
    const bigger = await seedShop(target, { scale: 0.6, seed: 5 });
    expect(await count(target, 'select count(*) as n from shop.customers')).toBe(600);
    expect(await count(target, 'select count(*) as n from shop.seed_info')).toBe(1);
    expect(bigger.tables.find((t) => t.name === 'orders')?.rows).toBe(1800);
  });

  it('keeps the previous seed when a seed fails half-way', async () => {
    const target = await open();
    await seedShop(target, { scale: 0.2, seed: 1 });
    const before = await tableDigests(target);
    let copies = 0;
    const failing: SeedTarget = {
      ...target,
      execute: (sql) => target.execute(sql),
      query: (sql) => target.query(sql),
      async copyCsv(table, columns, chunks) {
        if (++copies === 4) throw new Error('disk full (injected)');
        await target.copyCsv(table, columns, chunks);
      },
    };
    await expect(seedShop(failing, { scale: 0.5, seed: 2 })).rejects.toThrow(/disk full/);
    expect(await tableDigests(target)).toEqual(before);
    expect(await count(target, 'select count(*) as n from shop.customers')).toBe(200);
  });
});

describe.skipIf(process.env.UPDRAFT_TEST_SKIP_POSTGRES === '1')(
  'the same seed on both backends',
  () => {
    it('gives identical tables in PostgreSQL and PGlite', async () => {
      const server = await openPostgres();
      const embedded = await openPGlite();
      await seedShop(server, { scale: 0.25, seed: 11 });
      await seedShop(embedded, { scale: 0.25, seed: 11 });
      const digests = await tableDigests(server);
      expect(Object.keys(digests)).toEqual(TABLE_NAMES);
      expect(await tableDigests(embedded)).toEqual(digests);
    });

    it('says which server it cannot reach, without the password', async () => {
      await expect(
        openPostgresSeedTarget('postgres://someone:s3cret@127.0.0.1:1/shop', "connection 'source'"),
      ).rejects.toThrow(/cannot connect to connection 'source' \(127\.0\.0\.1:1\/shop\)/);
      await expect(
        openPostgresSeedTarget('postgres://someone:s3cret@127.0.0.1:1/shop', "connection 'source'"),
      ).rejects.not.toThrow(/s3cret/);
    });
  },
);
