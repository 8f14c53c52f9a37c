/**
 * The example shop's operational data: HTTP request logs of its services and their
 * per-minute metrics, over the last two days of the shop's calendar (the window
 * `etl_hourly` reads). Like the other tables, every value is a function of (seed,
 * stream, index), so both tables stream in batches and agree with each other without
 * holding rows: a minute's requests are drawn from that minute's own generator, and
 * the metrics of a minute count exactly the requests the logs hold for it.
 *
 * - Load follows the orders' hour-of-day curve (`HOUR_WEIGHTS`: quiet nights, busy
 *   evenings) and grows with the scale.
 * - Error bursts: in about one service-hour in twelve, a service fails for 5 to 20
 *   minutes (a third of its requests end in 5xx, latencies four times longer, CPU and
 *   queue depth up).
 * - Malformed log rows (0.3 %): a negative latency (clock skew) or no status (a line
 *   cut short): what `etl_hourly`'s validation catches.
 * - Metrics have gaps: a service's agent is down for 5 to 15 minutes in about one
 *   service-hour in sixteen, and 1 % of single minutes are missing.
 */
import { type Random, rowRandom, skewedId } from './random.ts';
import { dayTimestamp, HOUR_WEIGHTS, SHOP_DAYS } from './shop-calendar.ts';
import type { ShopRow, ShopTable } from './shop-tables.ts';

/** Hours of operational data, ending where the shop's calendar ends. */
export const OPS_HOURS = 48;
/** First day (index into the shop calendar) of the operational window. */
export const OPS_FIRST_DAY = SHOP_DAYS - OPS_HOURS / 24;
/** Average requests per minute at scale 1. */
const REQUESTS_PER_MINUTE = 2;
/** Share of log rows that are malformed. */
export const MALFORMED_RATE = 0.003;

/** A service of the shop, its routes and typical latency (median milliseconds). */
interface Service {
  name: string;
  /** Share of all requests. */
  share: number;
  routes: readonly { route: string; share: number; latencyMs: number }[];
  memoryMb: number;
}

/** The shop's services. */
export const SERVICES: readonly Service[] = [
  {
    name: 'storefront',
    share: 0.45,
    memoryMb: 512,
    routes: [
      { route: '/', share: 0.3, latencyMs: 45 },
      { route: '/articles/:id', share: 0.5, latencyMs: 60 },
      { route: '/categories/:name', share: 0.2, latencyMs: 80 },
    ],
  },
  {
    name: 'search',
    share: 0.25,
    memoryMb: 1024,
    routes: [
      { route: '/search', share: 0.7, latencyMs: 120 },
      { route: '/suggest', share: 0.3, latencyMs: 25 },
    ],
  },
  {
    name: 'cart',
    share: 0.2,
    memoryMb: 256,
    routes: [
      { route: '/cart', share: 0.6, latencyMs: 35 },
      { route: '/cart/items', share: 0.4, latencyMs: 50 },
    ],
  },
  {
    name: 'checkout',
    share: 0.1,
    memoryMb: 384,
    routes: [
      { route: '/checkout', share: 0.6, latencyMs: 150 },
      { route: '/payments', share: 0.4, latencyMs: 400 },
    ],
  },
];

const SERVICE_SHARES = SERVICES.map((s) => s.share);
const MINUTES = OPS_HOURS * 60;

/** One request of a minute, before it gets its id. */
interface Request {
  second: number;
  service: number;
  route: string;
  status: number | null;
  latencyMs: number;
  customerId: number | null;
}

/** Whether `service` is in an error burst during `minute` of the window. */
export function inErrorBurst(seed: number, minute: number, service: number): boolean {
  const hour = Math.floor(minute / 60);
  const random = rowRandom(seed, 'error_burst', hour * 16 + service);
  if (!random.chance(1 / 12)) return false;
  const start = random.int(0, 59);
  const length = random.int(5, 20);
  const at = minute - hour * 60;
  return at >= start && at < start + length;
}

/** Whether `service`'s metrics agent reported nothing for `minute`. */
function isMetricsGap(seed: number, minute: number, service: number): boolean {
  const hour = Math.floor(minute / 60);
  const random = rowRandom(seed, 'metrics_outage', hour * 16 + service);
  if (random.chance(1 / 16)) {
    const start = random.int(0, 59);
    const at = minute - hour * 60;
    if (at >= start && at < start + random.int(5, 15)) return true;
  }
  return rowRandom(seed, 'metrics_gap', minute * 16 + service).chance(0.01);
}

/** How many requests arrive in `minute`: Poisson around the hour's load (normal when large). */
function requestCount(random: Random, minute: number, scale: number): number {
  const hourOfDay = Math.floor(minute / 60) % 24;
  const mean = REQUESTS_PER_MINUTE * scale * ((HOUR_WEIGHTS[hourOfDay] as number) / 1.15);
  if (mean < 30) return random.poisson(mean);
  return Math.max(0, Math.round(random.normal(mean, Math.sqrt(mean))));
}

function statusOf(random: Random, burst: boolean): number {
  if (burst && random.chance(1 / 3)) return random.weighted([500, 502, 503], [0.5, 0.2, 0.3]);
  return random.weighted(
    [200, 201, 204, 304, 400, 404, 500, 503],
    [0.86, 0.03, 0.02, 0.03, 0.015, 0.035, 0.006, 0.004],
  );
}

/** The requests of `minute` (0 = the window's first), in time order. */
function minuteRequests(seed: number, scale: number, customers: number, minute: number): Request[] {
  const random = rowRandom(seed, 'requests', minute);
  const count = requestCount(random, minute, scale);
  const seconds: number[] = [];
  for (let i = 0; i < count; i++) seconds.push(random.int(0, 59));
  seconds.sort((a, b) => a - b);
  return seconds.map((second) => {
    const service = SERVICES.indexOf(random.weighted(SERVICES, SERVICE_SHARES));
    const { routes } = SERVICES[service] as Service;
    const route = random.weighted(
      routes,
      routes.map((r) => r.share),
    );
    const burst = inErrorBurst(seed, minute, service);
    const status = statusOf(random, burst);
    const slow = (burst ? 4 : 1) * (status >= 500 ? 1.5 : 1);
    let latencyMs = Math.max(
      1,
      Math.round(route.latencyMs * slow * Math.exp(random.normal(0, 0.5))),
    );
    let finalStatus: number | null = status;
    if (random.chance(MALFORMED_RATE)) {
      if (random.chance(0.5)) latencyMs = -random.int(1, 5000);
      else finalStatus = null;
    }
    const customerId = random.chance(0.6) ? skewedId(random, customers, 2) : null;
    return { second, service, route: route.route, status: finalStatus, latencyMs, customerId };
  });
}

/** `YYYY-MM-DD HH:MM:SS+00` of `second` in `minute` of the window. */
function windowTimestamp(minute: number, second: number): string {
  return dayTimestamp(OPS_FIRST_DAY, minute * 60 + second);
}

/** `shop.request_logs`: one row per HTTP request, ids in arrival order. */
export function requestLogs(seed: number, scale: number, customers: number): ShopTable {
  return {
    name: 'request_logs',
    columns: [
      ['request_id', 'bigint'],
      ['occurred_at', 'timestamptz'],
      ['service', 'text'],
      ['route', 'text'],
      ['status', 'integer'],
      ['latency_ms', 'integer'],
      ['customer_id', 'integer'],
    ],
    primaryKey: ['request_id'],
    foreignKeys: [
      { column: 'customer_id', references: 'customers', referencedColumn: 'customer_id' },
    ],
    expectedRows: Math.round(MINUTES * REQUESTS_PER_MINUTE * scale),
    *batches(batchSize) {
      let next = 1;
      let batch: ShopRow[] = [];
      for (let minute = 0; minute < MINUTES; minute++) {
        for (const r of minuteRequests(seed, scale, customers, minute)) {
          batch.push([
            next++,
            windowTimestamp(minute, r.second),
            (SERVICES[r.service] as Service).name,
            r.route,
            r.status,
            r.latencyMs,
            r.customerId,
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

/**
 * `shop.service_metrics`: per minute and service, the requests it served (exactly the
 * log rows of that minute), CPU, memory and queue depth; minutes missing in gaps.
 */
export function serviceMetrics(seed: number, scale: number, customers: number): ShopTable {
  return {
    name: 'service_metrics',
    columns: [
      ['measured_at', 'timestamptz'],
      ['service', 'text'],
      ['requests', 'integer'],
      ['cpu_pct', 'numeric(5,2)'],
      ['memory_mb', 'integer'],
      ['queue_depth', 'integer'],
    ],
    primaryKey: ['service', 'measured_at'],
    foreignKeys: [],
    expectedRows: Math.round(MINUTES * SERVICES.length * 0.96),
    *batches(batchSize) {
      let batch: ShopRow[] = [];
      const capacity = REQUESTS_PER_MINUTE * Math.max(1, scale) * 2;
      for (let minute = 0; minute < MINUTES; minute++) {
        const served = SERVICES.map(() => 0);
        for (const r of minuteRequests(seed, scale, customers, minute)) {
          served[r.service] = (served[r.service] ?? 0) + 1;
        }
        for (const [index, service] of SERVICES.entries()) {
          if (isMetricsGap(seed, minute, index)) continue;
          const random = rowRandom(seed, 'metrics', minute * 16 + index);
          const burst = inErrorBurst(seed, minute, index);
          const requests = served[index] ?? 0;
          const load = Math.min(1, requests / (capacity * service.share));
          const cpu = Math.min(
            100,
            Math.max(1, 8 + 55 * load + (burst ? 30 : 0) + random.normal(0, 3)),
          );
          const drift = Math.sin((2 * Math.PI * minute) / (24 * 60)) * 0.08;
          const memory = Math.round(service.memoryMb * (1 + drift + random.normal(0, 0.02)));
          const queue = random.poisson(burst ? 12 : 0.5 + 2 * load);
          batch.push([
            windowTimestamp(minute, 0),
            service.name,
            requests,
            cpu.toFixed(2),
            memory,
            queue,
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
