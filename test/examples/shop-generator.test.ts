import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SHOP_DAYS } from '../../src/examples/shop-calendar.ts';
import { rowsToCsv } from '../../src/examples/shop-csv.ts';
import { inErrorBurst, OPS_HOURS, SERVICES } from '../../src/examples/shop-operations.ts';
import {
  assertScale,
  type ShopRow,
  shopSizes,
  shopTables,
} from '../../src/examples/shop-tables.ts';

function checksums(seed: number, scale: number, batchRows: number): Record<string, string> {
  const sums: Record<string, string> = {};
  for (const table of shopTables({ seed, scale })) {
    const hash = createHash('sha256');
    for (const batch of table.batches(batchRows)) hash.update(rowsToCsv(batch));
    sums[table.name] = hash.digest('hex');
  }
  return sums;
}

function rowsOf(name: string, seed = 7, scale = 1): ShopRow[] {
  const table = shopTables({ seed, scale }).find((t) => t.name === name);
  if (!table) throw new Error(`no table ${name}`);
  return [...table.batches(5000)].flat();
}

function column(name: string, columnName: string): number {
  const table = shopTables({ seed: 1, scale: 1 }).find((t) => t.name === name);
  const index = table?.columns.findIndex(([c]) => c === columnName) ?? -1;
  if (index < 0) throw new Error(`no column ${name}.${columnName}`);
  return index;
}

const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

describe('example shop generator', () => {
  it('gives the same rows for the same seed, whatever the batch size, and other rows for another seed', () => {
    const first = checksums(42, 0.5, 1000);
    expect(checksums(42, 0.5, 37)).toEqual(first);
    const other = checksums(43, 0.5, 1000);
    for (const name of Object.keys(first)) expect(other[name]).not.toBe(first[name]);
    expect(Object.keys(first)).toEqual([
      'customers',
      'articles',
      'orders',
      'transactions',
      'reviews',
      'web_events',
      'daily_sales',
      'request_logs',
      'service_metrics',
    ]);
  });

  it('streams: the first batch of 10 million transactions comes without generating the rest', () => {
    const transactions = shopTables({ seed: 42, scale: 1400 }).find(
      (t) => t.name === 'transactions',
    );
    expect(transactions?.expectedRows).toBeGreaterThan(10_000_000);
    const first = transactions?.batches(1000).next();
    expect(first?.done).toBe(false);
    expect(first?.value).toHaveLength(1000);
    expect(first?.value?.[0]?.[0]).toBe(1);
  });

  it('keeps every foreign key inside the parent tables and order totals equal to their lines', () => {
    const sizes = shopSizes(1);
    const orders = rowsOf('orders');
    const transactions = rowsOf('transactions');
    const inRange = (value: unknown, max: number) =>
      typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= max;
    expect(orders.every((o) => inRange(o[column('orders', 'customer_id')], sizes.customers))).toBe(
      true,
    );
    expect(
      transactions.every((t) => inRange(t[column('transactions', 'order_id')], sizes.orders)),
    ).toBe(true);
    expect(
      transactions.every((t) => inRange(t[column('transactions', 'article_id')], sizes.articles)),
    ).toBe(true);
    for (const name of ['reviews', 'web_events']) {
      const rows = rowsOf(name);
      expect(rows.every((r) => inRange(r[column(name, 'customer_id')], sizes.customers))).toBe(
        true,
      );
      expect(
        rows.every(
          (r) =>
            r[column(name, 'article_id')] === null ||
            inRange(r[column(name, 'article_id')], sizes.articles),
        ),
      ).toBe(true);
    }
    const lineCents = new Map<number, number>();
    for (const t of transactions) {
      const order = t[column('transactions', 'order_id')] as number;
      const cents = Math.round(Number(t[column('transactions', 'amount')]) * 100);
      lineCents.set(order, (lineCents.get(order) ?? 0) + cents);
    }
    for (const o of orders) {
      expect(Math.round(Number(o[column('orders', 'total_amount')]) * 100)).toBe(
        lineCents.get(o[0] as number),
      );
    }
    // Ids are 1..n without gaps.
    expect(transactions.map((t) => t[0])).toEqual(transactions.map((_, i) => i + 1));
  });

  it('gives daily sales weekly and yearly seasonality, promotions and missing days', () => {
    const rows = rowsOf('daily_sales', 42, 1);
    const dateAt = column('daily_sales', 'sales_date');
    const unitsAt = column('daily_sales', 'units');
    const promoAt = column('daily_sales', 'promotion');
    const plain = rows.filter((r) => r[promoAt] === false);
    const unitsWhere = (test: (d: Date) => boolean) =>
      mean(
        plain
          .filter((r) => test(new Date(`${r[dateAt]}T00:00:00Z`)))
          .map((r) => r[unitsAt] as number),
      );
    const weekend = unitsWhere((d) => d.getUTCDay() === 0 || d.getUTCDay() === 6);
    const midweek = unitsWhere((d) => d.getUTCDay() >= 1 && d.getUTCDay() <= 3);
    expect(weekend / midweek).toBeGreaterThan(1.3);
    const december = unitsWhere((d) => d.getUTCMonth() === 11 && d.getUTCDate() >= 10);
    const february = unitsWhere((d) => d.getUTCMonth() === 1);
    expect(december / february).toBeGreaterThan(1.5);

    const promoted = rows.filter((r) => r[promoAt] === true);
    expect(promoted.length / rows.length).toBeGreaterThan(0.03);
    expect(promoted.length / rows.length).toBeLessThan(0.1);
    expect(
      mean(promoted.map((r) => r[unitsAt] as number)) /
        mean(plain.map((r) => r[unitsAt] as number)),
    ).toBeGreaterThan(1.3);

    const days = new Set(rows.map((r) => r[dateAt]));
    expect(days.size).toBeLessThan(SHOP_DAYS);
    expect(days.size).toBeGreaterThan(SHOP_DAYS * 0.95);
    // Some days lack a single category only.
    const perDay = new Map<unknown, number>();
    for (const r of rows) perDay.set(r[dateAt], (perDay.get(r[dateAt]) ?? 0) + 1);
    expect([...perDay.values()].some((n) => n < 8)).toBe(true);
  });

  it('writes reviews matching their ratings, some empty, some upper case, some misspelt', () => {
    const rows = rowsOf('reviews', 42, 2);
    const bodyAt = column('reviews', 'body');
    const ratingAt = column('reviews', 'rating');
    const bodies = rows.map((r) => r[bodyAt] as string);
    const empty = bodies.filter((b) => b === '').length / bodies.length;
    expect(empty).toBeGreaterThan(0.02);
    expect(empty).toBeLessThan(0.12);
    const upper = bodies.filter((b) => b !== '' && b === b.toUpperCase()).length / bodies.length;
    expect(upper).toBeGreaterThan(0.02);
    expect(upper).toBeLessThan(0.1);
    const words = (b: string) => b.toLowerCase().match(/[a-z]+/g) ?? [];
    const counts = new Map<string, number>();
    for (const w of bodies.flatMap(words)) counts.set(w, (counts.get(w) ?? 0) + 1);
    // Typos make rare words that the template sentences never contain.
    expect([...counts.entries()].filter(([, n]) => n <= 2).length).toBeGreaterThan(10);
    const fiveStar = rows
      .filter((r) => r[ratingAt] === 5)
      .map((r) => (r[bodyAt] as string).toLowerCase());
    const oneStar = rows
      .filter((r) => r[ratingAt] === 1)
      .map((r) => (r[bodyAt] as string).toLowerCase());
    const share = (list: string[], word: RegExp) =>
      list.filter((b) => word.test(b)).length / list.length;
    const praise = /great|love|excellent|perfect|best|beautiful|recommended/;
    expect(share(fiveStar, praise)).toBeGreaterThan(share(oneStar, praise) + 0.4);
  });

  it('makes web events into sessions: ordered per customer, more than 30 minutes apart, funnel steps in order', () => {
    const rows = rowsOf('web_events', 42, 0.5);
    const customerAt = column('web_events', 'customer_id');
    const typeAt = column('web_events', 'event_type');
    const timeAt = column('web_events', 'occurred_at');
    const counts: Record<string, number> = {};
    let sessions = 0;
    let previous: { customer: unknown; time: number } | null = null;
    for (const r of rows) {
      const time = Date.parse((r[timeAt] as string).replace(' ', 'T').replace('+00', 'Z'));
      const type = r[typeAt] as string;
      counts[type] = (counts[type] ?? 0) + 1;
      const newSession =
        previous === null ||
        previous.customer !== r[customerAt] ||
        time - previous.time > 30 * 60_000;
      if (previous !== null && previous.customer === r[customerAt])
        expect(time).toBeGreaterThan(previous.time);
      if (newSession) {
        sessions++;
        expect(type).toBe('view');
      }
      previous = { customer: r[customerAt], time };
    }
    const views = counts.view ?? 0;
    const carts = counts.add_to_cart ?? 0;
    const checkouts = counts.checkout ?? 0;
    const purchases = counts.purchase ?? 0;
    expect(sessions).toBeGreaterThan(1000);
    expect(views).toBeGreaterThan(sessions);
    expect(carts / sessions).toBeGreaterThan(0.25);
    expect(carts / sessions).toBeLessThan(0.45);
    expect(checkouts).toBeLessThan(carts);
    expect(purchases).toBeLessThan(checkouts);
    expect(purchases).toBeGreaterThan(0);
  });

  it('refuses scales out of range with what it accepts', () => {
    for (const bad of [0, -1, Number.NaN, 5001, Number.POSITIVE_INFINITY]) {
      expect(() => assertScale(bad)).toThrow(/scale must be a number from 0.01 to 5000/);
    }
    expect(() => shopTables({ seed: 1, scale: 0 })).toThrow(/scale must be/);
  });

  it('logs requests in time order over the last two days, busier in the evening, with error bursts and a few malformed rows', () => {
    const rows = rowsOf('request_logs', 42, 2);
    const at = (name: string) => column('request_logs', name);
    const minuteOf = (r: ShopRow) =>
      (Date.parse((r[at('occurred_at')] as string).replace(' ', 'T').replace('+00', 'Z')) -
        Date.parse('2025-12-29T00:00:00Z')) /
      60_000;
    expect(rows.map((r) => r[0])).toEqual(rows.map((_, i) => i + 1));
    const minutes = rows.map(minuteOf);
    expect(
      minutes.every((m, i) => m >= 0 && m < OPS_HOURS * 60 && m >= (minutes[i - 1] ?? 0)),
    ).toBe(true);
    const hourOf = (r: ShopRow) => Number((r[at('occurred_at')] as string).slice(11, 13));
    const evening = rows.filter((r) => hourOf(r) >= 18 && hourOf(r) < 23).length / 5;
    const night = rows.filter((r) => hourOf(r) < 5).length / 5;
    expect(evening / night).toBeGreaterThan(5);

    const status = rows.map((r) => r[at('status')] as number | null);
    const latency = rows.map((r) => r[at('latency_ms')] as number);
    const malformed = rows.filter((_, i) => status[i] === null || (latency[i] as number) < 0);
    expect(malformed.length / rows.length).toBeGreaterThan(0.001);
    expect(malformed.length / rows.length).toBeLessThan(0.01);
    expect(status.some((s) => s === null)).toBe(true);
    expect(latency.some((l) => l < 0)).toBe(true);

    const serviceIndex = (r: ShopRow) => SERVICES.findIndex((s) => s.name === r[at('service')]);
    const errorRate = (list: ShopRow[]) =>
      list.filter((r) => (r[at('status')] as number) >= 500).length / list.length;
    const inBurst = rows.filter((r) => inErrorBurst(42, Math.floor(minuteOf(r)), serviceIndex(r)));
    const calm = rows.filter((r) => !inErrorBurst(42, Math.floor(minuteOf(r)), serviceIndex(r)));
    expect(inBurst.length).toBeGreaterThan(50);
    expect(errorRate(inBurst)).toBeGreaterThan(0.25);
    expect(errorRate(calm)).toBeLessThan(0.03);
    const anonymous = rows.filter((r) => r[at('customer_id')] === null).length / rows.length;
    expect(anonymous).toBeGreaterThan(0.3);
    expect(anonymous).toBeLessThan(0.5);
  });

  it('measures each service every minute, counting exactly its logged requests, with gaps', () => {
    const logs = rowsOf('request_logs', 5, 0.5);
    const metrics = rowsOf('service_metrics', 5, 0.5);
    const logged = new Map<string, number>();
    for (const r of logs) {
      const key = `${(r[1] as string).slice(0, 16)}|${r[2]}`;
      logged.set(key, (logged.get(key) ?? 0) + 1);
    }
    const at = (name: string) => column('service_metrics', name);
    for (const m of metrics) {
      const key = `${(m[at('measured_at')] as string).slice(0, 16)}|${m[at('service')]}`;
      expect(m[at('requests')]).toBe(logged.get(key) ?? 0);
      expect(Number(m[at('cpu_pct')])).toBeGreaterThanOrEqual(1);
      expect(Number(m[at('cpu_pct')])).toBeLessThanOrEqual(100);
    }
    const slots = OPS_HOURS * 60 * SERVICES.length;
    expect(metrics.length).toBeLessThan(slots * 0.99);
    expect(metrics.length).toBeGreaterThan(slots * 0.9);
  });
});
