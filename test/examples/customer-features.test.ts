/**
 * The `customer_features` example pipeline in the whole engine (scheduler, worker
 * processes, store, data and quality hooks) on a small seeded shop in a fresh
 * PostgreSQL database: recency, frequency and monetary value of every customer must
 * equal the values computed here, independently, from the generator's rows.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDataHooks } from '../../src/data/attempt-hooks.ts';
import { StoreDatasetOperations } from '../../src/data/dataset-operations.ts';
import { SecretBox } from '../../src/data/secret-box.ts';
import { datasetsRootForHome, LocalDatasetStorage } from '../../src/data/storage.ts';
import { seedShop } from '../../src/examples/seed-shop.ts';
import { openPostgresSeedTarget } from '../../src/examples/seed-target.ts';
import { shopTables } from '../../src/examples/shop-tables.ts';
import { withQualityHooks } from '../../src/quality/quality-hooks.ts';
import type { AttemptHooks } from '../../src/scheduler/attempt-hooks.ts';
import { openSourceDatabase, readVersionRows, type SourceDatabase } from '../data/support.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';
import { STORE_BACKENDS } from '../support/stores.ts';

const PIPELINE = readFileSync(
  path.join(import.meta.dirname, '../../pipelines/customer_features.yaml'),
  'utf8',
);
const SEED = 3;
const SCALE = 0.2;
const AS_OF_MS = Date.UTC(2025, 11, 31);

interface Rfm {
  recency: number | null;
  frequency: number;
  cents: number;
}

/** RFM per customer from the generator's rows, without SQL. */
function expectedRfm(): Map<number, Rfm> {
  const tables = shopTables({ seed: SEED, scale: SCALE });
  const rows = (name: string) =>
    [...(tables.find((t) => t.name === name)?.batches(10_000) ?? [])].flat();
  const result = new Map<number, Rfm>();
  for (const c of rows('customers'))
    result.set(c[0] as number, { recency: null, frequency: 0, cents: 0 });
  for (const [, customer, orderedAt, status, , total] of rows('orders')) {
    if (status !== 'completed') continue;
    const entry = result.get(customer as number) as Rfm;
    const day = Date.parse(`${(orderedAt as string).slice(0, 10)}T00:00:00Z`);
    const recency = Math.round((AS_OF_MS - day) / 86_400_000);
    entry.recency = entry.recency === null ? recency : Math.min(entry.recency, recency);
    entry.frequency++;
    entry.cents += Math.round(Number(total) * 100);
  }
  return result;
}

for (const backend of process.env.UPDRAFT_TEST_SKIP_POSTGRES === '1' ? [] : STORE_BACKENDS) {
  describe(`the customer_features example pipeline on a ${backend.name} store`, () => {
    let rt: TestRuntime | undefined;
    let source: SourceDatabase | undefined;
    afterEach(async () => {
      await rt?.close();
      await source?.close();
      rt = undefined;
      source = undefined;
    });

    it('computes RFM equal to an independent computation, passes its checks, and fails them on negative money', async () => {
      source = await openSourceDatabase();
      const target = await openPostgresSeedTarget(source.url, 'the source database');
      await seedShop(target, { seed: SEED, scale: SCALE });
      await target.close();

      let hooks: AttemptHooks | undefined;
      const late: AttemptHooks = {
        needsPreparation: (task) => hooks?.needsPreparation(task) ?? false,
        prepareAttempt: (db, t) => (hooks as AttemptHooks).prepareAttempt(db, t),
        commitEffects: (db, t, effects) => (hooks as AttemptHooks).commitEffects(db, t, effects),
      };
      rt = await startTestRuntime(backend, { 'customer_features.yaml': PIPELINE }, { hooks: late });
      const home = rt.home;
      writeFileSync(path.join(home, 'connections.yaml'), `shop_source: ${source.url}\n`);
      hooks = withQualityHooks(createDataHooks({ home }), { home });
      expect(await rt.runtime.ops.listImportErrors()).toEqual([]);

      await rt.runtime.ops.triggerRun('customer_features', { runId: 'r1' });
      const run = await rt.waitForRun('customer_features', 'r1', 150_000);
      expect(Object.fromEntries(run.tasks.map((t) => [t.taskId, t.state]))).toEqual({
        extract_customers: 'success',
        extract_orders: 'success',
        extract_transactions: 'success',
        extract_events: 'success',
        rfm: 'success',
        checks: 'success',
      });
      expect(run.state).toBe('success');

      const ops = new StoreDatasetOperations({
        store: rt.runtime.store,
        storage: new LocalDatasetStorage(datasetsRootForHome(home)),
        secrets: () => SecretBox.fromEnv({}),
        connectionsFile: path.join(home, 'connections.yaml'),
      });
      const version = await ops.showVersion('customer_features');
      const rows = await readVersionRows(version.location, 'customer_id');
      const expected = expectedRfm();
      expect(rows).toHaveLength(expected.size);
      let buyers = 0;
      for (const row of rows) {
        const want = expected.get(Number(row.customer_id)) as Rfm;
        expect({
          customer: Number(row.customer_id),
          recency: row.recency_days === null ? null : Number(row.recency_days),
          frequency: Number(row.frequency),
          cents: Math.round(Number(row.monetary) * 100),
        }).toEqual({ customer: Number(row.customer_id), ...want });
        if (want.frequency === 0) expect(row.segment).toBe('never_purchased');
        else buyers++;
        if (row.segment === 'champions') {
          expect(Number(row.r_score)).toBeGreaterThanOrEqual(4);
          expect(Number(row.f_score)).toBeGreaterThanOrEqual(4);
        }
      }
      expect(buyers).toBeGreaterThan(50);
      expect(new Set(rows.map((r) => r.segment)).size).toBeGreaterThan(4);

      // Refunds booked as negative totals make a customer's monetary value negative: the
      // blocking range check fails the run after the new version is written.
      await source.client.query(
        `update shop.orders set total_amount = -total_amount
          where customer_id = (select min(customer_id) from shop.orders where status = 'completed')`,
      );
      await rt.runtime.ops.triggerRun('customer_features', { runId: 'r2' });
      const bad = await rt.waitForRun('customer_features', 'r2', 150_000);
      expect(bad.state).toBe('failed');
      expect(bad.tasks.find((t) => t.taskId === 'rfm')?.state).toBe('success');
      expect(bad.tasks.find((t) => t.taskId === 'checks')?.state).toBe('failed');
    }, 300_000);
  });
}
