/**
 * The example shop's embedded source as a standalone runs it
 * (src/examples/example-source.ts): served from its own process, seeded on the first
 * start only, reseeded through the server by `openEmbeddedSeedTarget`, skipped when the
 * user defines `shop_source`, and read by the customer_features pipeline in the whole
 * engine exactly like a PostgreSQL server.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pgliteUrl } from '../../src/data/pglite-address.ts';
import {
  type ExampleSource,
  embeddedSourceDir,
  openEmbeddedSeedTarget,
  startExampleSource,
} from '../../src/examples/example-source.ts';
import { seedShop } from '../../src/examples/seed-shop.ts';
import { readVersionRows } from '../data/support.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';
import { STORE_BACKENDS } from '../support/stores.ts';

const log = { warn: () => {}, error: () => {} };
const pglite = STORE_BACKENDS.find((b) => b.name === 'pglite');

describe('the example shop embedded source', () => {
  let home: string | undefined;
  let source: ExampleSource | undefined;
  let rt: TestRuntime | undefined;
  afterEach(async () => {
    await rt?.close();
    if (source?.kind === 'embedded') await source.stop();
    if (home) rmSync(home, { recursive: true, force: true });
    rt = undefined;
    source = undefined;
    home = undefined;
  });

  it('is seeded on the first start only, sets shop_source, and reseeds through its server', async () => {
    home = mkdtempSync(path.join(os.tmpdir(), 'updraft-example-source-'));
    const env: NodeJS.ProcessEnv = {};
    const scales: number[] = [];
    source = await startExampleSource(home, {
      log,
      env,
      seed: { scale: 0.05, seed: 9 },
      onSeedStart: (scale) => scales.push(scale),
    });
    expect(source.kind).toBe('embedded');
    if (source.kind !== 'embedded') return;
    expect(scales).toEqual([0.05]);
    expect(source.seeded?.tables.find((t) => t.name === 'customers')?.rows).toBe(50);
    expect(env.UPDRAFT_CONN_SHOP_SOURCE).toBe(pgliteUrl(embeddedSourceDir(home)));
    await source.stop();

    source = await startExampleSource(home, { log, env: {}, onSeedStart: (s) => scales.push(s) });
    expect(source.kind === 'embedded' && source.seeded).toBe(null);
    expect(scales).toEqual([0.05]);

    // While it is served, `updraft examples seed` writes through the server.
    const target = await openEmbeddedSeedTarget(home);
    try {
      expect(target.description).toContain('served');
      expect(await target.query('select seed, scale::float8 as scale from shop.seed_info')).toEqual(
        [{ seed: 9, scale: 0.05 }],
      );
      await seedShop(target, { scale: 0.02, seed: 4 });
      expect(await target.query('select count(*)::int as n from shop.customers')).toEqual([
        { n: 20 },
      ]);
    } finally {
      await target.close();
    }
  }, 180_000);

  it('leaves a shop_source the user defined alone', async () => {
    home = mkdtempSync(path.join(os.tmpdir(), 'updraft-example-source-'));
    const env = { UPDRAFT_CONN_SHOP_SOURCE: 'postgres://etl@db:5432/shop' };
    source = await startExampleSource(home, { log, env });
    expect(source).toEqual({ kind: 'user', definedIn: 'UPDRAFT_CONN_SHOP_SOURCE' });
    expect(env.UPDRAFT_CONN_SHOP_SOURCE).toBe('postgres://etl@db:5432/shop');

    writeFileSync(path.join(home, 'connections.yaml'), 'shop_source: postgres://etl@db/shop\n');
    source = await startExampleSource(home, { log, env: {} });
    expect(source).toEqual({ kind: 'user', definedIn: path.join(home, 'connections.yaml') });
  });

  it.runIf(pglite !== undefined)(
    'feeds the customer_features pipeline in the whole engine',
    async () => {
      const pipeline = readFileSync(
        path.join(import.meta.dirname, '../../pipelines/customer_features.yaml'),
        'utf8',
      );
      rt = await startTestRuntime(pglite as NonNullable<typeof pglite>, {
        'customer_features.yaml': pipeline,
      });
      home = rt.home;
      source = await startExampleSource(home, { log, env: {}, seed: { scale: 0.1, seed: 5 } });
      if (source.kind !== 'embedded') throw new Error('expected the embedded source');
      writeFileSync(path.join(home, 'connections.yaml'), `shop_source: ${source.url}\n`);

      await rt.runtime.ops.triggerRun('customer_features', { runId: 'r1' });
      const run = await rt.waitForRun('customer_features', 'r1', 240_000);
      expect(run.tasks.filter((t) => t.state !== 'success').map((t) => t.taskId)).toEqual([]);
      expect(run.state).toBe('success');

      // The pipeline's money per customer, summed, against the source's own SQL.
      const target = await openEmbeddedSeedTarget(home);
      const [want] = await target.query(`select
          (select count(*)::int from shop.customers) as customers,
          (select sum(total_amount)::text from shop.orders where status = 'completed') as money`);
      await target.close();
      const features = path.join(home, 'datasets', 'customer_features', 'v1');
      const rows = await readVersionRows(features, 'customer_id');
      expect(rows).toHaveLength(want?.customers as number);
      const cents = rows.reduce((sum, r) => sum + Math.round(Number(r.monetary) * 100), 0);
      expect(cents).toBe(Math.round(Number(want?.money) * 100));
    },
    300_000,
  );
});
