/**
 * `updraft examples seed` as users run it: into the embedded PGlite source under the
 * home folder by default, into a PostgreSQL connection, and refusing bad input with
 * usage errors that say what is accepted.
 */
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkspace, runCli, type Workspace } from '../cli/helpers.ts';
import { openSourceDatabase, type SourceDatabase } from '../data/support.ts';

let ws: Workspace;
beforeAll(() => {
  ws = createWorkspace();
});
afterAll(() => ws.remove());

const seed = (args: string[], env: Record<string, string> = {}) =>
  runCli(['examples', 'seed', ...args, ...ws.args], env);

describe('updraft examples seed', () => {
  it('seeds the embedded source under the home folder, with a line per table off a terminal', async () => {
    const result = await seed(['--scale', '0.05', '--seed', '9']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/into embedded PGlite source \(.*examples\/source\)/);
    expect(result.stdout).toMatch(/^\[1\/9\] customers: 50 rows$/m);
    expect(result.stdout).toMatch(
      /^\[9\/9\] service_metrics: \d+ rows\nadding primary and foreign keys$/m,
    );
    expect(result.stdout).toMatch(/^seeded \d+ rows in 9 tables of schema shop/m);
    const db = await PGlite.create(path.join(ws.home, 'examples', 'source'));
    try {
      const { rows } = await db.query<{ n: number; seed: string }>(
        'select (select count(*)::int from shop.customers) as n, (select seed::text from shop.seed_info) as seed',
      );
      expect(rows).toEqual([{ n: 50, seed: '9' }]);
    } finally {
      await db.close();
    }
  }, 120_000);

  describe.skipIf(process.env.UPDRAFT_TEST_SKIP_POSTGRES === '1')('into PostgreSQL', () => {
    let source: SourceDatabase;
    beforeAll(async () => {
      source = await openSourceDatabase();
    });
    afterAll(() => source.close());

    it('seeds the server of a connection from the environment', async () => {
      const result = await seed(['--scale', '0.05', '--connection', 'shop_source'], {
        UPDRAFT_CONN_SHOP_SOURCE: source.url,
      });
      expect(result.code).toBe(0);
      const { rows } = await source.client.query('select count(*)::int as n from shop.orders');
      expect(rows).toEqual([{ n: 150 }]);
    });
  });

  it('refuses bad input with what to do', async () => {
    const scale = await seed(['--scale', '0']);
    expect(scale.code).toBe(2);
    expect(scale.stderr).toMatch(/--scale: scale must be a number from 0.01 to 5000/);
    const text = await seed(['--scale', 'big']);
    expect(text.code).toBe(2);
    expect(text.stderr).toMatch(/--scale must be a number; got 'big'/);
    const seedValue = await seed(['--seed', '1.5']);
    expect(seedValue.code).toBe(2);
    expect(seedValue.stderr).toMatch(/--seed must be a whole number/);
    const missing = await seed(['--connection', 'nowhere']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(
      /connection 'nowhere' is not defined: add it to .*connections\.yaml or set UPDRAFT_CONN_NOWHERE/,
    );
    const wrongType = await seed(['--connection', 'files'], {
      UPDRAFT_CONN_FILES: 'duckdb:///tmp/x.duckdb',
    });
    expect(wrongType.code).toBe(2);
    expect(wrongType.stderr).toMatch(/not a postgres:\/\/ connection/);
    const down = await seed(['--connection', 'down'], {
      UPDRAFT_CONN_DOWN: 'postgres://someone:s3cret@127.0.0.1:1/shop',
    });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/cannot connect to connection 'down' \(127\.0\.0\.1:1\/shop\)/);
    expect(down.stderr).not.toContain('s3cret');
  }, 120_000);
});
