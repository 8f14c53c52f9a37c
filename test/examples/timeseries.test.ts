/**
 * The `timeseries` example pipeline in the whole engine on a small seeded shop: every
 * row of `daily_sales_features` (the gap filling, the rolling means, the calendar and
 * holiday flags) must equal what is computed here, in TypeScript, from the generator's
 * `daily_sales` rows; the feed's gaps are a warning, and negative units fail the
 * blocking checks.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { STORE_BACKENDS } from '../support/stores.ts';
import {
  type ExampleEngine,
  near,
  pipelineFile,
  shopRows,
  startExampleEngine,
  taskStates,
} from './support.ts';

const SHOP = { seed: 5, scale: 0.1 };
const DAY_MS = 86_400_000;

/** The documented holiday list (docs/examples.md), restated: month-day → name. */
const HOLIDAYS: Record<string, string> = {
  '01-01': "New Year's Day",
  '05-01': 'Labour Day',
  '08-15': 'Assumption Day',
  '11-01': "All Saints' Day",
  '12-25': 'Christmas Day',
  '12-26': "St Stephen's Day",
};

interface FeatureRow {
  sales_date: string;
  category: string;
  units: number;
  revenue_cents: number;
  promotion: boolean;
  filled: boolean;
  units_7d_mean: number | null;
  units_28d_mean: number | null;
  revenue_7d_mean: number | null;
  revenue_28d_mean: number | null;
  filled_days_28d: number;
  day_of_week: number;
  is_weekend: boolean;
  is_month_end: boolean;
  is_holiday: boolean;
  holiday: string | null;
}

/** Mean of the `size` values ending at `i`, or null before there are `size` of them. */
function trailingMean(values: number[], i: number, size: number): number | null {
  if (i + 1 < size) return null;
  let sum = 0;
  for (let j = i - size + 1; j <= i; j++) sum += values[j] as number;
  return sum / size;
}

/** The features of every day and category, from the generator's rows, by loops. */
function expectedFeatures(): FeatureRow[] {
  const feed = new Map<string, { units: number; cents: number; promotion: boolean }>();
  const categories = new Set<string>();
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const [date, category, units, revenue, promotion] of shopRows(SHOP, 'daily_sales')) {
    const day = Date.parse(`${date as string}T00:00:00Z`);
    first = Math.min(first, day);
    last = Math.max(last, day);
    categories.add(category as string);
    feed.set(`${date as string}/${category as string}`, {
      units: units as number,
      cents: Math.round(Number(revenue) * 100),
      promotion: promotion as boolean,
    });
  }
  const rows: FeatureRow[] = [];
  for (const category of [...categories].sort()) {
    const units: number[] = [];
    const cents: number[] = [];
    const filled: number[] = [];
    for (let day = first, i = 0; day <= last; day += DAY_MS, i++) {
      const date = new Date(day);
      const iso = date.toISOString().slice(0, 10);
      const row = feed.get(`${iso}/${category}`);
      units.push(row?.units ?? 0);
      cents.push(row?.cents ?? 0);
      filled.push(row === undefined ? 1 : 0);
      const weekday = date.getUTCDay() === 0 ? 7 : date.getUTCDay();
      const holiday = HOLIDAYS[iso.slice(5)] ?? null;
      const revenue7 = trailingMean(cents, i, 7);
      const revenue28 = trailingMean(cents, i, 28);
      rows.push({
        sales_date: iso,
        category,
        units: row?.units ?? 0,
        revenue_cents: row?.cents ?? 0,
        promotion: row?.promotion ?? false,
        filled: row === undefined,
        units_7d_mean: trailingMean(units, i, 7),
        units_28d_mean: trailingMean(units, i, 28),
        revenue_7d_mean: revenue7 === null ? null : revenue7 / 100,
        revenue_28d_mean: revenue28 === null ? null : revenue28 / 100,
        filled_days_28d: filled.slice(Math.max(0, i - 27)).reduce((a, b) => a + b, 0),
        day_of_week: weekday,
        is_weekend: weekday >= 6,
        is_month_end: new Date(day + DAY_MS).getUTCDate() === 1,
        is_holiday: holiday !== null,
        holiday,
      });
    }
  }
  return rows.sort(
    (a, b) => a.sales_date.localeCompare(b.sales_date) || a.category.localeCompare(b.category),
  );
}

for (const backend of process.env.UPDRAFT_TEST_SKIP_POSTGRES === '1' ? [] : STORE_BACKENDS) {
  describe(`the timeseries example pipeline on a ${backend.name} store`, () => {
    let engine: ExampleEngine | undefined;
    afterEach(async () => {
      await engine?.close();
      engine = undefined;
    });

    it('fills gaps and computes rolling and calendar features equal to an independent computation, and fails on negative units', async () => {
      engine = await startExampleEngine(
        backend,
        { 'timeseries.yaml': pipelineFile('timeseries.yaml') },
        SHOP,
      );
      expect(await engine.rt.runtime.ops.listImportErrors()).toEqual([]);

      const run = await engine.run('timeseries', 'r1');
      expect(taskStates(run)).toEqual({
        extract_sales: 'success',
        check_feed: 'success',
        features: 'success',
        checks: 'success',
        promote: 'success',
      });
      expect(run.state).toBe('success');
      const checked = await engine.version('daily_sales_features');
      expect((await engine.version('daily_sales_features@staging')).version).toBe(checked.version);

      const expected = expectedFeatures();
      const rows = await engine.rows('daily_sales_features', 'sales_date, category');
      expect(rows).toHaveLength(expected.length);
      // 730 days × 8 categories, with the feed's missing days and rows filled.
      expect(rows).toHaveLength(730 * 8);
      const filledDays = new Set(expected.filter((r) => r.filled).map((r) => r.sales_date));
      expect(filledDays.size).toBeGreaterThan(10);
      for (const [i, row] of rows.entries()) {
        const want = expected[i] as FeatureRow;
        const at = `${want.sales_date}/${want.category}`;
        expect({
          at,
          sales_date: row.sales_date,
          category: row.category,
          units: Number(row.units),
          revenue_cents: Math.round(Number(row.revenue) * 100),
          promotion: row.promotion,
          filled: row.filled,
          filled_days_28d: Number(row.filled_days_28d),
          day_of_week: Number(row.day_of_week),
          is_weekend: row.is_weekend,
          is_month_end: row.is_month_end,
          is_holiday: row.is_holiday,
          holiday: row.holiday,
        }).toEqual({
          at,
          sales_date: want.sales_date,
          category: want.category,
          units: want.units,
          revenue_cents: want.revenue_cents,
          promotion: want.promotion,
          filled: want.filled,
          filled_days_28d: want.filled_days_28d,
          day_of_week: want.day_of_week,
          is_weekend: want.is_weekend,
          is_month_end: want.is_month_end,
          is_holiday: want.is_holiday,
          holiday: want.holiday,
        });
        for (const mean of [
          'units_7d_mean',
          'units_28d_mean',
          'revenue_7d_mean',
          'revenue_28d_mean',
        ] as const) {
          if (!near(row[mean], want[mean])) {
            expect({ at, [mean]: row[mean] }).toEqual({ at, [mean]: want[mean] });
          }
        }
      }
      // The feed's gaps are a warning on the extract; the output has none.
      const feed = await engine.checkStatuses('shop_daily_sales');
      expect(feed.feed_missing_days).toBe('warn');
      const checks = await engine.checkStatuses('daily_sales_features');
      expect(checks['continuity.sales_date']).toBe('pass');
      expect(checks.every_category_every_day).toBe('pass');
      expect(Object.values(checks).filter((s) => s === 'error')).toEqual([]);

      // A correction booked as negative units: the blocking range check fails the run;
      // staging stays on the version that passed.
      await engine.source.client.query(
        `update shop.daily_sales set units = -3
          where (sales_date, category) = (select sales_date, category from shop.daily_sales order by 1, 2 limit 1)`,
      );
      const bad = await engine.run('timeseries', 'r2');
      expect(bad.state).toBe('failed');
      expect(taskStates(bad)).toMatchObject({
        features: 'success',
        checks: 'failed',
        promote: 'upstream_failed',
      });
      expect((await engine.version('daily_sales_features@staging')).version).toBe(checked.version);
      const failed = await engine.checkStatuses('daily_sales_features');
      expect(failed['range.units']).toBe('error');
    }, 600_000);
  });
}
