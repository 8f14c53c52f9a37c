/**
 * The `user_item_interactions` example pipeline (TypeScript) in the whole engine on a
 * small seeded shop: the counts and the time-decayed score of every (customer, article)
 * pair must equal what is computed here, in TypeScript, from the generator's rows — with
 * the default parameters and with others given as run params; `register` returns the
 * parameters it used; a rating out of range fails the blocking checks and reaches the
 * failure notifier, while the undefined success notifier stops nothing.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyWebhookSignature } from '../../src/notify/webhook-notifier.ts';
import { STORE_BACKENDS } from '../support/stores.ts';
import {
  type ExampleEngine,
  near,
  pipelineFile,
  shopRows,
  startExampleEngine,
  taskStates,
  timestampMs,
} from './support.ts';

const SHOP = { seed: 11, scale: 0.2 };
const DAY_MS = 86_400_000;
const DEFAULTS = {
  view_weight: 1,
  cart_weight: 3,
  purchase_weight: 5,
  review_weight: 2,
  half_life_days: 30,
};
type Scoring = typeof DEFAULTS;

interface Pair {
  views: number;
  carts: number;
  purchases: number;
  units: number;
  ratings: number[];
  score: number;
}

/** Scores of every pair from the generator's rows, by plain loops, and the as-of day. */
function expectedScores(p: Scoring): { pairs: Map<string, Pair>; asOf: string } {
  const signals: {
    customer: number;
    article: number;
    at: number;
    weight: number;
    kind: string;
    units: number;
    rating: number | null;
  }[] = [];
  for (const [, customer, type, article, , at] of shopRows(SHOP, 'web_events')) {
    if (article === null || (type !== 'view' && type !== 'add_to_cart')) continue;
    const weight = type === 'view' ? p.view_weight : p.cart_weight;
    signals.push({
      customer: customer as number,
      article: article as number,
      at: timestampMs(at),
      weight,
      kind: type,
      units: 0,
      rating: null,
    });
  }
  const completed = new Map<number, { customer: number; at: number }>();
  for (const [id, customer, at, status] of shopRows(SHOP, 'orders')) {
    if (status === 'completed')
      completed.set(id as number, { customer: customer as number, at: timestampMs(at) });
  }
  for (const [, orderId, article, quantity] of shopRows(SHOP, 'transactions')) {
    const order = completed.get(orderId as number);
    if (order === undefined) continue;
    signals.push({
      customer: order.customer,
      article: article as number,
      at: order.at,
      weight: p.purchase_weight,
      kind: 'purchase',
      units: quantity as number,
      rating: null,
    });
  }
  for (const [, customer, article, rating, , at] of shopRows(SHOP, 'reviews')) {
    const stars = rating as number;
    signals.push({
      customer: customer as number,
      article: article as number,
      at: timestampMs(at),
      weight: p.review_weight * (stars - 3),
      kind: 'review',
      units: 0,
      rating: stars,
    });
  }
  const newest = Math.max(...signals.map((s) => s.at));
  const asOf = Math.floor(newest / DAY_MS) * DAY_MS + DAY_MS;
  const pairs = new Map<string, Pair>();
  for (const s of signals) {
    const key = `${s.customer}/${s.article}`;
    let pair = pairs.get(key);
    if (pair === undefined) {
      pair = { views: 0, carts: 0, purchases: 0, units: 0, ratings: [], score: 0 };
      pairs.set(key, pair);
    }
    if (s.kind === 'view') pair.views++;
    if (s.kind === 'add_to_cart') pair.carts++;
    if (s.kind === 'purchase') pair.purchases++;
    if (s.rating !== null) pair.ratings.push(s.rating);
    pair.units += s.units;
    pair.score += s.weight * 0.5 ** ((asOf - s.at) / DAY_MS / p.half_life_days);
  }
  return { pairs, asOf: new Date(asOf).toISOString().slice(0, 10) };
}

/** Compares every row of the latest `user_item_interactions` with `expectedScores`. */
async function expectScores(
  engine: ExampleEngine,
  p: Scoring,
): Promise<{ asOf: string; pairs: number }> {
  const { pairs, asOf } = expectedScores(p);
  const rows = await engine.rows('user_item_interactions', 'customer_id, rank_in_customer');
  expect(rows).toHaveLength(pairs.size);
  let previous: { customer: number; score: number; rank: number } | null = null;
  for (const row of rows) {
    const key = `${row.customer_id}/${row.article_id}`;
    const want = pairs.get(key);
    expect(want, key).toBeDefined();
    const w = want as Pair;
    const mean =
      w.ratings.length === 0 ? null : w.ratings.reduce((a, b) => a + b, 0) / w.ratings.length;
    expect({
      key,
      views: Number(row.views),
      carts: Number(row.carts),
      purchases: Number(row.purchases),
      units: Number(row.units),
      reviews: Number(row.reviews),
    }).toEqual({
      key,
      views: w.views,
      carts: w.carts,
      purchases: w.purchases,
      units: w.units,
      reviews: w.ratings.length,
    });
    if (mean === null) expect(row.avg_rating).toBeNull();
    else expect(Number(row.avg_rating)).toBeCloseTo(mean, 12);
    const score = Number(row.score);
    if (!near(score, w.score)) {
      expect({ key, score }).toEqual({ key, score: w.score });
    }
    // Ranks run 1, 2, ... per customer in order of decreasing score.
    const customer = Number(row.customer_id);
    const rank = Number(row.rank_in_customer);
    if (previous === null || previous.customer !== customer) expect(rank).toBe(1);
    else {
      expect(rank).toBe(previous.rank + 1);
      expect(score).toBeLessThanOrEqual(previous.score + 1e-12);
    }
    previous = { customer, score, rank };
  }
  return { asOf, pairs: pairs.size };
}

/** A webhook receiver keeping the alerts whose signature checks out. */
async function startReceiver(
  secret: string,
): Promise<{ server: Server; url: string; alerts: Record<string, unknown>[] }> {
  const alerts: Record<string, unknown>[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      const headers = {
        timestamp: req.headers['x-updraft-timestamp'] as string | undefined,
        signature: req.headers['x-updraft-signature'] as string | undefined,
      };
      if (verifyWebhookSignature(secret, headers, body))
        alerts.push(JSON.parse(body) as Record<string, unknown>);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `webhook+http://:${secret}@127.0.0.1:${port}/alerts`, alerts };
}

for (const backend of process.env.UPDRAFT_TEST_SKIP_POSTGRES === '1' ? [] : STORE_BACKENDS) {
  describe(`the user_item_interactions example pipeline on a ${backend.name} store`, () => {
    let engine: ExampleEngine | undefined;
    let receiver: Server | undefined;
    afterEach(async () => {
      await engine?.close();
      await new Promise((resolve) => receiver?.close(resolve) ?? resolve(undefined));
      engine = undefined;
      receiver = undefined;
    });

    it('scores every pair as an independent computation does, with default and given parameters, registers them, and fails on a rating out of range', async () => {
      const hook = await startReceiver('oncall-secret');
      receiver = hook.server;
      // shop_oncall (failures) is defined; shop_data_team (successes) is not.
      engine = await startExampleEngine(
        backend,
        { 'user_item_interactions.ts': pipelineFile('user_item_interactions.ts') },
        SHOP,
        { shop_oncall: hook.url },
      );
      expect(await engine.rt.runtime.ops.listImportErrors()).toEqual([]);

      const run = await engine.run('user_item_interactions', 'r1');
      expect(taskStates(run)).toEqual({
        extract_events: 'success',
        extract_purchases: 'success',
        extract_reviews: 'success',
        score: 'success',
        checks: 'success',
        summarise: 'success',
        register: 'success',
        promote: 'success',
      });
      expect(run.state).toBe('success');
      const first = await expectScores(engine, DEFAULTS);
      expect(first.pairs).toBeGreaterThan(1000);
      const v1 = await engine.version('user_item_interactions');
      expect((await engine.version('user_item_interactions@staging')).version).toBe(v1.version);
      const registered = await engine.rt.runtime.ops.getTaskInstance(
        'user_item_interactions',
        'r1',
        'register',
      );
      expect(registered.result).toMatchObject({
        dataset: 'user_item_interactions',
        version: v1.version,
        rows: first.pairs,
        parameters: DEFAULTS,
        as_of: first.asOf,
      });

      // Other weights and a shorter half-life, as run params: the scores follow.
      const tuned = { ...DEFAULTS, cart_weight: 4.5, review_weight: 0, half_life_days: 7 };
      const second = await engine.run('user_item_interactions', 'r2', tuned);
      expect(second.state).toBe('success');
      await expectScores(engine, tuned);
      const registered2 = await engine.rt.runtime.ops.getTaskInstance(
        'user_item_interactions',
        'r2',
        'register',
      );
      expect(registered2.result).toMatchObject({ version: v1.version + 1, parameters: tuned });
      expect((await engine.version('user_item_interactions@staging')).version).toBe(v1.version + 1);

      // A rating of 9 stars on a pair with one review: the blocking range check fails
      // the run, and the failure reaches shop_oncall.
      await engine.source.client.query(
        `update shop.reviews set rating = 9 where review_id = (
           select min(review_id) from shop.reviews r
            where (select count(*) from shop.reviews o where o.customer_id = r.customer_id and o.article_id = r.article_id) = 1)`,
      );
      const bad = await engine.run('user_item_interactions', 'r3');
      expect(bad.state).toBe('failed');
      expect(taskStates(bad)).toMatchObject({
        score: 'success',
        checks: 'failed',
        register: 'upstream_failed',
        promote: 'upstream_failed',
      });
      expect((await engine.version('user_item_interactions@staging')).version).toBe(v1.version + 1);
      expect((await engine.checkStatuses('user_item_interactions'))['range.avg_rating']).toBe(
        'error',
      );
      const alert = await engine.rt.waitFor(
        async () => hook.alerts.find((a) => a.runId === 'r3' && a.taskId === null),
        'the run failure alert at shop_oncall',
        60_000,
      );
      expect(alert).toMatchObject({
        kind: 'run_failed',
        dagId: 'user_item_interactions',
        state: 'failed',
      });
      expect(hook.alerts.filter((a) => a.runId !== 'r3')).toEqual([]);
    }, 900_000);
  });
}
