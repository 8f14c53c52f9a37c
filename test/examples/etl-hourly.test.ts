/**
 * The `etl_hourly` example pipeline in the whole engine on a small seeded shop: every
 * row of its four marts must equal what is computed here, in TypeScript, from the
 * generator's rows (orders, lines, articles, request logs, metrics); the SQL models run
 * in dependency order with independent ones overlapping (attempt times from the store);
 * malformed log rows are quarantined, not modelled; maintenance retires what is beyond
 * retention but never an aliased version; a blocking check failing keeps staging where
 * it was.
 */
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunDetail } from '../../src/ops/operations.ts';
import { STORE_BACKENDS } from '../support/stores.ts';
import {
  type ExampleEngine,
  near,
  pipelineFile,
  pipelineFolder,
  shopRows,
  startExampleEngine,
  taskStates,
  timestampMs,
} from './support.ts';

const SHOP = { seed: 11, scale: 1 };
const HOURS = 48;
const HOUR_MS = 3_600_000;

/** The pipeline, with retention tightened so that three runs exercise it. */
function pipelineFiles(): Record<string, string> {
  const yaml = pipelineFile('etl_hourly.yaml');
  const tight = yaml.replace(
    'config: { keepLast: 48 }',
    'config: { keepLast: 1, removeAfterMinutes: 0 }',
  );
  expect(tight).not.toBe(yaml);
  return { 'etl_hourly.yaml': tight, ...pipelineFolder('models/etl_hourly') };
}

const cents = (text: unknown): number => Math.round(Number(text) * 100);

/** Linear interpolation between the closest ranks (DuckDB's quantile_cont). */
function quantileCont(sorted: number[], q: number): number {
  const position = (sorted.length - 1) * q;
  const lo = Math.floor(position);
  const hi = Math.ceil(position);
  const a = sorted[lo] as number;
  return a + (position - lo) * ((sorted[hi] as number) - a);
}

/** Pearson correlation; null when either side is constant. */
function pearson(xs: number[], ys: number[]): number | null {
  const n = xs.length;
  const mx = xs.reduce((s, x) => s + x, 0) / n;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] as number) - mx;
    const dy = (ys[i] as number) - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx === 0 || syy === 0 ? null : sxy / Math.sqrt(sxx * syy);
}

interface Expected {
  revenue: Map<string, { orders: number; units: number; revenueCents: number }>;
  health: Map<string, { requests: number; errors: number; p50: number; p95: number }>;
  load: Map<
    string,
    { minutes: number; avgCpu: number; maxCpu: number; maxQueue: number; requests: number }
  >;
  hourly: Map<
    number,
    {
      orders: number;
      revenueCents: number;
      requests: number;
      errors: number;
      checkoutErrors: number;
    }
  >;
  correlation: number | null;
  malformed: number;
}

/** The marts, from the generator's rows by loops (the window is the last 48 hours). */
function expectedMarts(): Expected {
  const hourOf = (text: unknown) => Math.floor(timestampMs(text) / HOUR_MS) * HOUR_MS;
  const requests = shopRows(SHOP, 'request_logs');
  const end = hourOf(requests.at(-1)?.[1]) + HOUR_MS;
  const start = end - HOURS * HOUR_MS;
  const inWindow = (text: unknown) => timestampMs(text) >= start && timestampMs(text) < end;

  const category = new Map(shopRows(SHOP, 'articles').map((a) => [a[0], a[2] as string]));
  const completed = new Map(
    shopRows(SHOP, 'orders')
      .filter((o) => inWindow(o[2]) && o[3] === 'completed')
      .map((o) => [o[0], hourOf(o[2])]),
  );
  const revenue: Expected['revenue'] = new Map();
  const hourly: Expected['hourly'] = new Map();
  const ordersPerHour = new Map<number, Set<unknown>>();
  const revenuePerHour = new Map<number, number>();
  const ordersPerKey = new Map<string, Set<unknown>>();
  for (const [, orderId, articleId, quantity, , , amount] of shopRows(SHOP, 'transactions')) {
    const hour = completed.get(orderId);
    if (hour === undefined) continue;
    const key = `${hour}|${category.get(articleId)}`;
    const row = revenue.get(key) ?? { orders: 0, units: 0, revenueCents: 0 };
    row.units += quantity as number;
    row.revenueCents += cents(amount);
    revenue.set(key, row);
    ordersPerKey.set(key, (ordersPerKey.get(key) ?? new Set()).add(orderId));
    ordersPerHour.set(hour, (ordersPerHour.get(hour) ?? new Set()).add(orderId));
    revenuePerHour.set(hour, (revenuePerHour.get(hour) ?? 0) + cents(amount));
  }
  for (const [key, row] of revenue) row.orders = ordersPerKey.get(key)?.size ?? 0;

  const latencies = new Map<string, number[]>();
  const health: Expected['health'] = new Map();
  let malformed = 0;
  for (const [, at, service, route, status, latency] of requests) {
    if (!inWindow(at)) continue;
    if (status === null || (latency as number) < 0) {
      malformed++;
      continue;
    }
    const hour = hourOf(at);
    const isError = (status as number) >= 500;
    const key = `${hour}|${service}|${route}`;
    const row = health.get(key) ?? { requests: 0, errors: 0, p50: 0, p95: 0 };
    row.requests++;
    if (isError) row.errors++;
    health.set(key, row);
    latencies.set(key, [...(latencies.get(key) ?? []), latency as number]);
    const h = hourly.get(hour) ?? {
      orders: 0,
      revenueCents: 0,
      requests: 0,
      errors: 0,
      checkoutErrors: 0,
    };
    h.requests++;
    if (isError) h.errors++;
    if (isError && service === 'checkout') h.checkoutErrors++;
    hourly.set(hour, h);
  }
  for (const [key, row] of health) {
    const sorted = (latencies.get(key) as number[]).sort((a, b) => a - b);
    row.p50 = quantileCont(sorted, 0.5);
    row.p95 = quantileCont(sorted, 0.95);
  }
  for (const [hour, h] of hourly) {
    h.orders = ordersPerHour.get(hour)?.size ?? 0;
    h.revenueCents = revenuePerHour.get(hour) ?? 0;
  }
  const hours = [...hourly.values()];
  const correlation = pearson(
    hours.map((h) => h.orders),
    hours.map((h) => h.errors),
  );

  const load: Expected['load'] = new Map();
  const cpuSums = new Map<string, number>();
  for (const [at, service, served, cpu, , queue] of shopRows(SHOP, 'service_metrics')) {
    if (!inWindow(at)) continue;
    const key = `${hourOf(at)}|${service}`;
    const row = load.get(key) ?? { minutes: 0, avgCpu: 0, maxCpu: 0, maxQueue: 0, requests: 0 };
    row.minutes++;
    row.maxCpu = Math.max(row.maxCpu, Number(cpu));
    row.maxQueue = Math.max(row.maxQueue, queue as number);
    row.requests += served as number;
    cpuSums.set(key, (cpuSums.get(key) ?? 0) + Number(cpu));
    load.set(key, row);
  }
  for (const [key, row] of load) row.avgCpu = (cpuSums.get(key) as number) / row.minutes;
  return { revenue, health, load, hourly, correlation, malformed };
}

/** Start and end (ms) of each task of a run, from the store. */
function taskTimes(run: RunDetail): Map<string, { start: number; end: number }> {
  return new Map(
    run.tasks.map((t) => [
      t.taskId,
      { start: Date.parse(t.startedAt ?? ''), end: Date.parse(t.endedAt ?? '') },
    ]),
  );
}

/** The model tasks and the models each refs (from the SQL files). */
const MODEL_REFS: Record<string, string[]> = {
  stg_orders: [],
  stg_order_lines: [],
  stg_requests: [],
  stg_metrics: [],
  int_completed_lines: ['stg_order_lines', 'stg_orders'],
  int_requests_hourly: ['stg_requests'],
  mart_hourly_revenue: ['int_completed_lines'],
  mart_service_health: ['stg_requests'],
  mart_service_load: ['stg_metrics'],
  mart_orders_vs_errors: ['int_completed_lines', 'int_requests_hourly'],
};

for (const backend of STORE_BACKENDS) {
  describe(`etl_hourly example pipeline on ${backend.name}`, () => {
    let engine: ExampleEngine | undefined;
    afterEach(async () => {
      await engine?.close();
      engine = undefined;
    });

    it('models orders, logs and metrics into marts equal to a TypeScript computation, in dependency order, and maintains the versions', async () => {
      engine = await startExampleEngine(backend, pipelineFiles(), SHOP);
      const want = expectedMarts();
      // A log line of an unknown service, inside the window: quarantined with the rest.
      await engine.source.client.query(
        `insert into shop.request_logs values (1000000, '2025-12-30 12:00:00+00', 'billing', '/invoices', 200, 30, null)`,
      );

      const run = await engine.run('etl_hourly', 'r1', { hours: HOURS });
      expect(taskStates(run)).toEqual(
        Object.fromEntries(run.tasks.map((t) => [t.taskId, 'success'])),
      );
      expect(run.state).toBe('success');

      // Models in dependency order; independent ones overlapped (times from the store).
      const times = taskTimes(run);
      for (const [model, refs] of Object.entries(MODEL_REFS)) {
        const own = times.get(`models.${model}`);
        expect(own, model).toBeDefined();
        for (const ref of refs) {
          expect(own?.start, `${model} after ${ref}`).toBeGreaterThanOrEqual(
            times.get(`models.${ref}`)?.end as number,
          );
        }
      }
      const models = Object.keys(MODEL_REFS).map(
        (m) => times.get(`models.${m}`) as { start: number; end: number },
      );
      const overlapping = models.some((a, i) =>
        models.some((b, j) => i < j && a.start < b.end && b.start < a.end),
      );
      expect(overlapping).toBe(true);

      // Validation: malformed rows (and the unknown service) fail their checks and are
      // quarantined, not modelled; the task succeeds.
      const quarantined = await engine.rows('hourly_requests_quarantine', 'request_id');
      expect(new Set(quarantined.map((r) => Number(r.request_id))).size).toBe(want.malformed + 1);
      expect(quarantined.some((r) => r.service === 'billing')).toBe(true);
      const requestChecks = await engine.checkStatuses('hourly_requests');
      expect(requestChecks['not_null.status']).toBe('error');
      expect(requestChecks['range.latency_ms']).toBe('error');
      expect(requestChecks['accepted_values.service']).toBe('error');

      const revenue = await engine.rows('etl_hourly_mart_hourly_revenue@staging', 'hour, category');
      expect(revenue.length).toBe(want.revenue.size);
      expect(revenue.length).toBeGreaterThan(3);
      for (const row of revenue) {
        const key = `${timestampMs(row.hour)}|${row.category}`;
        expect({
          key,
          orders: Number(row.orders),
          units: Number(row.units),
          cents: cents(row.revenue),
        }).toEqual({
          key,
          orders: want.revenue.get(key)?.orders,
          units: want.revenue.get(key)?.units,
          cents: want.revenue.get(key)?.revenueCents,
        });
      }

      const health = await engine.rows(
        'etl_hourly_mart_service_health@staging',
        'hour, service, route',
      );
      expect(health.length).toBe(want.health.size);
      for (const row of health) {
        const key = `${timestampMs(row.hour)}|${row.service}|${row.route}`;
        const w = want.health.get(key);
        expect({ key, requests: Number(row.requests), errors: Number(row.errors) }).toEqual({
          key,
          requests: w?.requests,
          errors: w?.errors,
        });
        expect(near(row.error_rate, (w?.errors ?? 0) / (w?.requests ?? 1)), key).toBe(true);
        expect(near(row.p50_latency_ms, w?.p50 ?? -1), `${key} p50`).toBe(true);
        expect(
          near(row.p95_latency_ms, w?.p95 ?? -1),
          `${key} p95 ${row.p95_latency_ms} vs ${w?.p95}`,
        ).toBe(true);
      }

      const load = await engine.rows('etl_hourly_mart_service_load@staging', 'hour, service');
      expect(load.length).toBe(want.load.size);
      expect(load.some((r) => Number(r.minutes_reported) < 60)).toBe(true);
      for (const row of load) {
        const key = `${timestampMs(row.hour)}|${row.service}`;
        const w = want.load.get(key);
        expect({
          key,
          minutes: Number(row.minutes_reported),
          maxQueue: Number(row.max_queue_depth),
          requests: Number(row.requests_counted),
        }).toEqual({ key, minutes: w?.minutes, maxQueue: w?.maxQueue, requests: w?.requests });
        expect(near(row.avg_cpu_pct, w?.avgCpu ?? -1), key).toBe(true);
        expect(near(row.max_cpu_pct, w?.maxCpu ?? -1), key).toBe(true);
      }

      const hourly = await engine.rows('etl_hourly_mart_orders_vs_errors@staging', 'hour');
      expect(hourly.length).toBe(want.hourly.size);
      expect(hourly.length).toBeGreaterThan(40);
      for (const row of hourly) {
        const hour = timestampMs(row.hour);
        const w = want.hourly.get(hour);
        expect({
          hour,
          orders: Number(row.orders),
          cents: cents(row.revenue),
          requests: Number(row.requests),
          errors: Number(row.errors),
          checkoutErrors: Number(row.checkout_errors),
        }).toEqual({
          hour,
          orders: w?.orders,
          cents: w?.revenueCents,
          requests: w?.requests,
          errors: w?.errors,
          checkoutErrors: w?.checkoutErrors,
        });
        expect(near(row.orders_errors_correlation, want.correlation)).toBe(true);
      }
      const checks = await engine.checkStatuses('etl_hourly_mart_service_health');
      expect(Object.values(checks).filter((s) => s !== 'pass')).toEqual([]);

      // Maintenance: a human keeps v1 of the revenue mart in prod; with keepLast 1, each
      // run retires the versions before its own and removes the files of those an
      // earlier run retired; aliased versions stay.
      const datasets = engine.datasets;
      await datasets.promote('etl_hourly_mart_hourly_revenue', 1, 'prod', {
        actor: { name: 'tester', role: 'admin' },
      });
      expect((await engine.run('etl_hourly', 'r2', { hours: HOURS })).state).toBe('success');
      expect((await engine.run('etl_hourly', 'r3', { hours: HOURS })).state).toBe('success');
      /** Version → [retired, files on disk], oldest first. */
      const state = async (dataset: string) =>
        Object.fromEntries(
          (await datasets.listVersions(dataset))
            .reverse()
            .map((v) => [v.version, [v.deletedAt !== null, existsSync(v.location)]]),
        );
      const retiredThenRemoved = { 1: [true, false], 2: [true, true], 3: [false, true] };
      expect(await state('hourly_orders')).toEqual(retiredThenRemoved);
      expect(await state('etl_hourly_stg_requests')).toEqual(retiredThenRemoved);
      expect(await state('etl_hourly_mart_hourly_revenue')).toEqual({
        1: [false, true],
        2: [true, true],
        3: [false, true],
      });
      expect((await engine.version('etl_hourly_mart_hourly_revenue@staging')).version).toBe(3);
      expect(await engine.rows('etl_hourly_mart_hourly_revenue@prod', 'hour, category')).toEqual(
        revenue,
      );

      // A metric out of range fails the blocking check: nothing is modelled or promoted.
      await engine.source.client.query(
        `update shop.service_metrics set cpu_pct = 250
          where (service, measured_at) = (select service, measured_at from shop.service_metrics order by measured_at desc limit 1)`,
      );
      const bad = await engine.run('etl_hourly', 'r4', { hours: HOURS });
      expect(bad.state).toBe('failed');
      expect(taskStates(bad)).toMatchObject({
        check_metrics: 'failed',
        'models.stg_metrics': 'upstream_failed',
        promote_load: 'upstream_failed',
        maintain: 'upstream_failed',
      });
      expect((await engine.version('etl_hourly_mart_service_load@staging')).version).toBe(3);
      expect((await engine.checkStatuses('hourly_service_metrics'))['range.cpu_pct']).toBe('error');
    }, 900_000);
  });
}
