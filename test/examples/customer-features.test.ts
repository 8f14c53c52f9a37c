/**
 * The `customer_features` example pipeline in the whole engine (scheduler, worker
 * processes, store, data and quality hooks) on a small seeded shop in a fresh
 * PostgreSQL database: recency, frequency and monetary value of every customer must
 * equal the values computed here, independently, from the generator's rows.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { STORE_BACKENDS } from '../support/stores.ts';
import {
  type ExampleEngine,
  pipelineFile,
  shopRows,
  startExampleEngine,
  taskStates,
} from './support.ts';

const PIPELINE = pipelineFile('customer_features.yaml');
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
  const rows = (name: string) => shopRows({ seed: SEED, scale: SCALE }, name);
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
    let engine: ExampleEngine | undefined;
    afterEach(async () => {
      await engine?.close();
      engine = undefined;
    });

    it('computes RFM equal to an independent computation, passes its checks, and fails them on negative money', async () => {
      engine = await startExampleEngine(
        backend,
        { 'customer_features.yaml': PIPELINE },
        { seed: SEED, scale: SCALE },
      );
      expect(await engine.rt.runtime.ops.listImportErrors()).toEqual([]);

      const run = await engine.run('customer_features', 'r1');
      expect(taskStates(run)).toEqual({
        extract_customers: 'success',
        extract_orders: 'success',
        extract_transactions: 'success',
        extract_events: 'success',
        rfm: 'success',
        checks: 'success',
        promote: 'success',
      });
      expect(run.state).toBe('success');
      const checked = await engine.version('customer_features');
      expect((await engine.version('customer_features@staging')).version).toBe(checked.version);

      const rows = await engine.rows('customer_features', 'customer_id');
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
      // blocking range check fails the run after the new version is written, and staging
      // stays on the version that passed.
      await engine.source.client.query(
        `update shop.orders set total_amount = -total_amount
          where customer_id = (select min(customer_id) from shop.orders where status = 'completed')`,
      );
      const bad = await engine.run('customer_features', 'r2');
      expect(bad.state).toBe('failed');
      expect(bad.tasks.find((t) => t.taskId === 'rfm')?.state).toBe('success');
      expect(bad.tasks.find((t) => t.taskId === 'checks')?.state).toBe('failed');
      expect(bad.tasks.find((t) => t.taskId === 'promote')?.state).toBe('upstream_failed');
      expect((await engine.version('customer_features')).version).toBe(checked.version + 1);
      expect((await engine.version('customer_features@staging')).version).toBe(checked.version);
    }, 300_000);
  });
}
