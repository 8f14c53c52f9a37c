/**
 * The example shop's source tables, as generators of row batches. Each row is a
 * function of (seed, table, index) only (see `random.ts`), so any table streams in
 * batches with memory bounded by the batch size, whatever the scale, and the same seed
 * always gives the same rows. Foreign keys hold by construction: orders, reviews and
 * events only name customers `1..customers` and articles `1..articles`.
 *
 * The operational tables (request logs, service metrics) live in `shop-operations.ts`.
 *
 * Vocabulary: the *scale* multiplies every row count (scale 1: 1,000 customers, about
 * 7,500 transactions; scale 1,000: about 7.5 million transactions).
 */

import { type Random, rowRandom, skewedId } from './random.ts';
import { reviewText, toneOf } from './review-text.ts';
import {
  dayDate,
  dayTimestamp,
  demandFactor,
  drawBusyDay,
  drawTimeOfDay,
  isMissingDay,
  isPromotionDay,
  MISSING_ROW_RATE,
  PROMOTION_UPLIFT,
  SHOP_DAYS,
} from './shop-calendar.ts';
import { requestLogs, serviceMetrics } from './shop-operations.ts';
import {
  ADJECTIVES,
  BRANDS,
  CATEGORIES,
  CITIES,
  COLOURS,
  DESCRIPTION_PHRASES,
  FIRST_NAMES,
  LAST_NAMES,
  MATERIALS,
} from './shop-vocabulary.ts';

/** A column value as written to the database (numbers of money as `12.34` strings). */
export type ShopValue = string | number | boolean | null;
export type ShopRow = ShopValue[];

/** A foreign key of a shop table. */
export interface ShopForeignKey {
  column: string;
  references: string;
  referencedColumn: string;
}

/** One source table: its shape and a generator of its rows in batches. */
export interface ShopTable {
  name: string;
  /** Column names and PostgreSQL types, in row order. */
  columns: ReadonlyArray<readonly [name: string, type: string]>;
  primaryKey: readonly string[];
  foreignKeys: readonly ShopForeignKey[];
  /** Rows expected: exact for customers, articles, orders and reviews; an estimate otherwise. */
  expectedRows: number;
  /** The rows, `batchSize` at a time (the last batch may be shorter). */
  batches(batchSize: number): Generator<ShopRow[]>;
}

/** What to generate. */
export interface ShopOptions {
  /** Multiplies every row count; 0.01 to 5,000. */
  scale: number;
  /** Seed of every random draw (default 42). */
  seed: number;
}

/** Row counts at a scale. */
export interface ShopSizes {
  customers: number;
  articles: number;
  orders: number;
  reviews: number;
}

/** The smallest and largest scale `shopTables` accepts. */
export const MIN_SCALE = 0.01;
export const MAX_SCALE = 5000;

/** Row counts at `scale`. */
export function shopSizes(scale: number): ShopSizes {
  return {
    customers: Math.max(20, Math.round(1000 * scale)),
    articles: Math.max(16, Math.min(50_000, Math.round(200 * scale))),
    orders: Math.max(30, Math.round(3000 * scale)),
    reviews: Math.max(20, Math.round(1500 * scale)),
  };
}

const EXTRA_PHRASES = DESCRIPTION_PHRASES.slice(1);

const money = (cents: number): string => (cents / 100).toFixed(2);

/** An article's category index and price, drawn first from its row generator. */
function articleBasics(
  seed: number,
  id: number,
): { random: Random; category: number; price: number } {
  const random = rowRandom(seed, 'article', id);
  const category = random.int(0, CATEGORIES.length - 1);
  const base = CATEGORIES[category]?.price ?? 1000;
  const price = Math.max(199, Math.round((base * Math.exp(random.normal(0, 0.45))) / 10) * 10 - 1);
  return { random, category, price };
}

/** One order line. */
interface OrderLine {
  articleId: number;
  quantity: number;
  unitPrice: number;
  discount: number;
  amount: number;
}

/** Order `id` (1-based) with its lines. */
interface Order {
  customerId: number;
  day: number;
  seconds: number;
  status: string;
  channel: string;
  lines: OrderLine[];
}

function orderAt(seed: number, sizes: ShopSizes, id: number): Order {
  const random = rowRandom(seed, 'order', id);
  const customerId = skewedId(random, sizes.customers, 2);
  const day = drawBusyDay(random);
  const seconds = drawTimeOfDay(random);
  const status = random.weighted(['completed', 'cancelled', 'returned'], [0.9, 0.06, 0.04]);
  const channel = random.weighted(['web', 'app', 'store'], [0.6, 0.3, 0.1]);
  const count = Math.min(8, 1 + random.poisson(1.5));
  const lines: OrderLine[] = [];
  for (let i = 0; i < count; i++) {
    const articleId = skewedId(random, sizes.articles, 1.6);
    const { category, price } = articleBasics(seed, articleId);
    const quantity = 1 + random.poisson(0.3);
    const discount = isPromotionDay(seed, day, category) ? 20 : random.chance(0.05) ? 10 : 0;
    const amount = Math.round((quantity * price * (100 - discount)) / 100);
    lines.push({ articleId, quantity, unitPrice: price, discount, amount });
  }
  return { customerId, day, seconds, status, channel, lines };
}

function* inBatches(
  count: number,
  batchSize: number,
  row: (index: number) => ShopRow,
): Generator<ShopRow[]> {
  for (let start = 1; start <= count; start += batchSize) {
    const end = Math.min(count, start + batchSize - 1);
    const batch: ShopRow[] = [];
    for (let i = start; i <= end; i++) batch.push(row(i));
    yield batch;
  }
}

function customers(seed: number, sizes: ShopSizes): ShopTable {
  return {
    name: 'customers',
    columns: [
      ['customer_id', 'integer'],
      ['first_name', 'text'],
      ['last_name', 'text'],
      ['email', 'text'],
      ['gender', 'text'],
      ['birth_date', 'date'],
      ['city', 'text'],
      ['country', 'text'],
      ['signup_date', 'date'],
      ['loyalty_tier', 'text'],
    ],
    primaryKey: ['customer_id'],
    foreignKeys: [],
    expectedRows: sizes.customers,
    batches: (batchSize) =>
      inBatches(sizes.customers, batchSize, (id) => {
        const random = rowRandom(seed, 'customer', id);
        const first = random.pick(FIRST_NAMES);
        const last = random.pick(LAST_NAMES);
        const city = random.weighted(
          CITIES,
          CITIES.map((c) => c[2]),
        );
        const age = Math.round(Math.min(85, Math.max(18, random.normal(41, 14))));
        const birthDay = -age * 365 - random.int(0, 364);
        return [
          id,
          first,
          last,
          `${first}.${last}.${id}@example.com`.toLowerCase(),
          random.weighted(['F', 'M', 'X'], [0.49, 0.49, 0.02]),
          dayDate(birthDay),
          city[0],
          city[1],
          dayDate(-random.int(1, 4 * 365)),
          random.weighted(['none', 'silver', 'gold'], [0.7, 0.22, 0.08]),
        ];
      }),
  };
}

function articles(seed: number, sizes: ShopSizes): ShopTable {
  return {
    name: 'articles',
    columns: [
      ['article_id', 'integer'],
      ['name', 'text'],
      ['category', 'text'],
      ['brand', 'text'],
      ['price', 'numeric(10,2)'],
      ['description', 'text'],
      ['created_at', 'date'],
    ],
    primaryKey: ['article_id'],
    foreignKeys: [],
    expectedRows: sizes.articles,
    batches: (batchSize) =>
      inBatches(sizes.articles, batchSize, (id) => {
        const { random, category, price } = articleBasics(seed, id);
        const cat = CATEGORIES[category] ?? CATEGORIES[0];
        const product = random.pick(cat.products);
        const adjective = random.pick(ADJECTIVES);
        const brand = random.pick(BRANDS);
        const words: Record<string, string> = {
          adjective: adjective.toLowerCase(),
          product,
          colour: random.pick(COLOURS),
          material: random.pick(MATERIALS),
          category: cat.name,
          brand,
        };
        const sentences: string[] = [DESCRIPTION_PHRASES[0]];
        for (let i = random.int(0, 3); i > 0; i--) sentences.push(random.pick(EXTRA_PHRASES));
        const description = sentences
          .join(' ')
          .replace(/\{(\w+)\}/g, (_, key: string) => words[key] ?? key);
        return [
          id,
          `${brand} ${adjective} ${product}`,
          cat.name,
          brand,
          money(price),
          description,
          dayDate(-random.int(0, 3 * 365)),
        ];
      }),
  };
}

function orders(seed: number, sizes: ShopSizes): ShopTable {
  return {
    name: 'orders',
    columns: [
      ['order_id', 'bigint'],
      ['customer_id', 'integer'],
      ['ordered_at', 'timestamptz'],
      ['status', 'text'],
      ['channel', 'text'],
      ['total_amount', 'numeric(12,2)'],
    ],
    primaryKey: ['order_id'],
    foreignKeys: [
      { column: 'customer_id', references: 'customers', referencedColumn: 'customer_id' },
    ],
    expectedRows: sizes.orders,
    batches: (batchSize) =>
      inBatches(sizes.orders, batchSize, (id) => {
        const order = orderAt(seed, sizes, id);
        let total = 0;
        for (const line of order.lines) total += line.amount;
        return [
          id,
          order.customerId,
          dayTimestamp(order.day, order.seconds),
          order.status,
          order.channel,
          money(total),
        ];
      }),
  };
}

function transactions(seed: number, sizes: ShopSizes): ShopTable {
  return {
    name: 'transactions',
    columns: [
      ['transaction_id', 'bigint'],
      ['order_id', 'bigint'],
      ['article_id', 'integer'],
      ['quantity', 'integer'],
      ['unit_price', 'numeric(10,2)'],
      ['discount_pct', 'integer'],
      ['amount', 'numeric(12,2)'],
      ['created_at', 'timestamptz'],
    ],
    primaryKey: ['transaction_id'],
    foreignKeys: [
      { column: 'order_id', references: 'orders', referencedColumn: 'order_id' },
      { column: 'article_id', references: 'articles', referencedColumn: 'article_id' },
    ],
    expectedRows: Math.round(sizes.orders * 2.5),
    *batches(batchSize) {
      let next = 1;
      let batch: ShopRow[] = [];
      for (let orderId = 1; orderId <= sizes.orders; orderId++) {
        const order = orderAt(seed, sizes, orderId);
        const at = dayTimestamp(order.day, order.seconds);
        for (const line of order.lines) {
          batch.push([
            next++,
            orderId,
            line.articleId,
            line.quantity,
            money(line.unitPrice),
            line.discount,
            money(line.amount),
            at,
          ]);
          if (batch.length >= batchSize) {
            yield batch;
            batch = [];
          }
        }
      }
      if (batch.length > 0) yield batch;
    },
  };
}

function reviews(seed: number, sizes: ShopSizes): ShopTable {
  return {
    name: 'reviews',
    columns: [
      ['review_id', 'bigint'],
      ['customer_id', 'integer'],
      ['article_id', 'integer'],
      ['rating', 'smallint'],
      ['body', 'text'],
      ['created_at', 'timestamptz'],
    ],
    primaryKey: ['review_id'],
    foreignKeys: [
      { column: 'customer_id', references: 'customers', referencedColumn: 'customer_id' },
      { column: 'article_id', references: 'articles', referencedColumn: 'article_id' },
    ],
    expectedRows: sizes.reviews,
    batches: (batchSize) =>
      inBatches(sizes.reviews, batchSize, (id) => {
        const random = rowRandom(seed, 'review', id);
        const rating = random.weighted([1, 2, 3, 4, 5], [0.08, 0.07, 0.15, 0.3, 0.4]);
        return [
          id,
          skewedId(random, sizes.customers, 2),
          skewedId(random, sizes.articles, 1.6),
          rating,
          reviewText(toneOf(rating, random), random),
          dayTimestamp(random.int(0, SHOP_DAYS - 1), random.int(0, 86_399)),
        ];
      }),
  };
}

/** Average sessions per customer and the funnel's step probabilities. */
const SESSIONS_PER_CUSTOMER = 3;
const FUNNEL = { cart: 0.35, checkout: 0.5, purchase: 0.7 } as const;

function webEvents(seed: number, sizes: ShopSizes): ShopTable {
  return {
    name: 'web_events',
    columns: [
      ['event_id', 'bigint'],
      ['customer_id', 'integer'],
      ['event_type', 'text'],
      ['article_id', 'integer'],
      ['device', 'text'],
      ['occurred_at', 'timestamptz'],
    ],
    primaryKey: ['event_id'],
    foreignKeys: [
      { column: 'customer_id', references: 'customers', referencedColumn: 'customer_id' },
      { column: 'article_id', references: 'articles', referencedColumn: 'article_id' },
    ],
    expectedRows: Math.round(sizes.customers * SESSIONS_PER_CUSTOMER * 3.65),
    *batches(batchSize) {
      let next = 1;
      let batch: ShopRow[] = [];
      const slotSeconds = SHOP_DAYS * 86_400;
      for (let customerId = 1; customerId <= sizes.customers; customerId++) {
        const random = rowRandom(seed, 'web_session', customerId);
        const sessions = random.poisson(SESSIONS_PER_CUSTOMER);
        // Each session gets its own slice of the two years, so sessions never overlap
        // and are always more than 30 minutes apart.
        const slice = Math.floor(slotSeconds / Math.max(1, sessions));
        for (let s = 0; s < sessions; s++) {
          let t = s * slice + random.int(0, Math.max(0, slice - 4 * 3600));
          const device = random.weighted(['mobile', 'desktop', 'tablet'], [0.55, 0.38, 0.07]);
          const event = (type: string, articleId: number | null): void => {
            batch.push([next++, customerId, type, articleId, device, dayTimestamp(0, t)]);
            t += random.int(5, 600);
          };
          let article = skewedId(random, sizes.articles, 1.6);
          event('view', article);
          for (let v = random.poisson(2); v > 0; v--) {
            article = skewedId(random, sizes.articles, 1.6);
            event('view', article);
          }
          if (random.chance(FUNNEL.cart)) {
            event('add_to_cart', article);
            if (random.chance(FUNNEL.checkout)) {
              event('checkout', null);
              if (random.chance(FUNNEL.purchase)) event('purchase', null);
            }
          }
          if (batch.length >= batchSize) {
            yield batch;
            batch = [];
          }
        }
      }
      if (batch.length > 0) yield batch;
    },
  };
}

function dailySales(seed: number, scale: number): ShopTable {
  return {
    name: 'daily_sales',
    columns: [
      ['sales_date', 'date'],
      ['category', 'text'],
      ['units', 'integer'],
      ['revenue', 'numeric(14,2)'],
      ['promotion', 'boolean'],
    ],
    primaryKey: ['sales_date', 'category'],
    foreignKeys: [],
    expectedRows: SHOP_DAYS * CATEGORIES.length,
    *batches(batchSize) {
      let batch: ShopRow[] = [];
      for (let day = 0; day < SHOP_DAYS; day++) {
        if (isMissingDay(seed, day)) continue;
        for (let c = 0; c < CATEGORIES.length; c++) {
          const random = rowRandom(seed, 'daily_sales', day * 64 + c);
          if (random.chance(MISSING_ROW_RATE)) continue;
          const category = CATEGORIES[c] ?? CATEGORIES[0];
          const promotion = isPromotionDay(seed, day, c);
          const mean =
            category.units * scale * demandFactor(day) * (promotion ? PROMOTION_UPLIFT : 1);
          const units = Math.max(0, Math.round(mean * Math.exp(random.normal(0, 0.1))));
          const price = promotion ? category.price * 0.8 : category.price;
          batch.push([
            dayDate(day),
            category.name,
            units,
            money(Math.round(units * price)),
            promotion,
          ]);
          if (batch.length >= batchSize) {
            yield batch;
            batch = [];
          }
        }
      }
      if (batch.length > 0) yield batch;
    },
  };
}

/** Checks a scale; throws a message saying what is accepted. */
export function assertScale(scale: number): void {
  if (!Number.isFinite(scale) || scale < MIN_SCALE || scale > MAX_SCALE) {
    throw new RangeError(
      `scale must be a number from ${MIN_SCALE} to ${MAX_SCALE} (1 is about 7,500 transactions, 1000 about 7.5 million); got ${scale}`,
    );
  }
}

/** The shop's tables at `options.scale`, in an order that loads parents before children. */
export function shopTables(options: ShopOptions): ShopTable[] {
  assertScale(options.scale);
  const sizes = shopSizes(options.scale);
  const seed = options.seed;
  return [
    customers(seed, sizes),
    articles(seed, sizes),
    orders(seed, sizes),
    transactions(seed, sizes),
    reviews(seed, sizes),
    webEvents(seed, sizes),
    dailySales(seed, options.scale),
    requestLogs(seed, options.scale, sizes.customers),
    serviceMetrics(seed, options.scale, sizes.customers),
  ];
}
