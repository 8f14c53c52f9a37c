/**
 * The example shop's calendar: the two years its data covers, and the demand curve every
 * dated table follows — weekly seasonality (weekends busier), yearly seasonality (a
 * summer swell and a December peak), promotion days per category, and days with no
 * sales data at all. Orders are drawn with the same curve as `daily_sales`, so the two
 * agree on when the shop is busy.
 */
import { type Random, rowRandom } from './random.ts';

/** First day of the data (UTC midnight), in milliseconds. */
export const SHOP_START_MS = Date.UTC(2024, 0, 1);
/** Number of days covered: 2024-01-01 to 2025-12-30. */
export const SHOP_DAYS = 730;
/** The day after the data: the `as of` date for recency. */
export const SHOP_AS_OF = '2025-12-31';

const DAY_MS = 86_400_000;

/** Demand by weekday, Sunday first. */
const WEEKDAY_FACTOR = [1.25, 0.85, 0.9, 0.95, 1.0, 1.1, 1.35] as const;

/** Probability that a category runs a promotion on a given day. */
export const PROMOTION_RATE = 0.06;
/** Demand multiplier on a promotion day. */
export const PROMOTION_UPLIFT = 1.6;
/** Probability that a whole day is missing from `daily_sales`. */
export const MISSING_DAY_RATE = 0.015;
/** Probability that one category's row is missing on an otherwise present day. */
export const MISSING_ROW_RATE = 0.01;

/** `YYYY-MM-DD` of day `day` (0 = SHOP_START). */
export function dayDate(day: number): string {
  return new Date(SHOP_START_MS + day * DAY_MS).toISOString().slice(0, 10);
}

/** `YYYY-MM-DD HH:MM:SS+00` of day `day` plus `seconds`. */
export function dayTimestamp(day: number, seconds: number): string {
  return `${new Date(SHOP_START_MS + day * DAY_MS + seconds * 1000).toISOString().slice(0, 19).replace('T', ' ')}+00`;
}

/** Weekly factor of day `day`. */
export function weeklyFactor(day: number): number {
  return WEEKDAY_FACTOR[new Date(SHOP_START_MS + day * DAY_MS).getUTCDay()] as number;
}

/** Yearly factor of day `day`: a sine over the year plus a peak before Christmas. */
export function yearlyFactor(day: number): number {
  const date = new Date(SHOP_START_MS + day * DAY_MS);
  const dayOfYear = (date.getTime() - Date.UTC(date.getUTCFullYear(), 0, 1)) / DAY_MS;
  const season = 1 + 0.2 * Math.sin((2 * Math.PI * (dayOfYear - 80)) / 365);
  const christmas = 0.8 * Math.exp(-(((dayOfYear - 350) / 12) ** 2));
  return season + christmas;
}

/** Demand on day `day` without promotions (weekly × yearly). */
export function demandFactor(day: number): number {
  return weeklyFactor(day) * yearlyFactor(day);
}

/** The largest demand factor, for drawing days by rejection. */
const MAX_DEMAND = 1.35 * 2.05;

/** Whether category `category` (its index) runs a promotion on day `day`. */
export function isPromotionDay(seed: number, day: number, category: number): boolean {
  return rowRandom(seed, 'promotion', day * 64 + category).chance(PROMOTION_RATE);
}

/** Whether day `day` has no `daily_sales` rows at all (a gap in the feed). */
export function isMissingDay(seed: number, day: number): boolean {
  return rowRandom(seed, 'missing_day', day).chance(MISSING_DAY_RATE);
}

/** A day drawn with probability proportional to its demand. */
export function drawBusyDay(random: Random): number {
  for (;;) {
    const day = random.int(0, SHOP_DAYS - 1);
    if (random.next() * MAX_DEMAND < demandFactor(day)) return day;
  }
}

/** Seconds into a day, busier in the evening. */
export function drawTimeOfDay(random: Random): number {
  const hour = random.weighted(HOURS, HOUR_WEIGHTS);
  return hour * 3600 + random.int(0, 3599);
}

const HOURS = Array.from({ length: 24 }, (_, h) => h);
/** Relative load by UTC hour of day (night quiet, evenings busiest): orders and requests. */
export const HOUR_WEIGHTS = HOURS.map((h) =>
  h < 7 ? 0.2 : h < 12 ? 1 : h < 18 ? 1.3 : h < 23 ? 2 : 0.6,
);
