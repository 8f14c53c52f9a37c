/**
 * A daily ETL in miniature: extract the day's orders, clean and aggregate them in a task
 * group, publish a report, and always clean up. Shows schedules with a time zone, typed
 * params, retries with exponential backoff, task groups, results passed downstream and
 * trigger rules.
 */
import { dag, TaskFailure } from 'updraft';

interface Order {
  id: number;
  customer: string;
  amount: number;
  status: 'paid' | 'refunded' | 'pending';
}

/** Deterministic fake orders for a day, so re-runs of the same day give the same data. */
function ordersFor(day: string, count: number): Order[] {
  let seed = [...day].reduce((a, c) => (a * 31 + c.charCodeAt(0)) >>> 0, 7);
  const next = () => {
    seed = (seed * 1_103_515_245 + 12_345) >>> 0;
    return seed / 2 ** 32;
  };
  const statuses = ['paid', 'paid', 'paid', 'refunded', 'pending'] as const;
  return Array.from({ length: count }, (_, i) => ({
    id: i + 1,
    customer: `c${Math.floor(next() * 50)}`,
    amount: Math.round(next() * 20_000) / 100,
    status: statuses[Math.floor(next() * statuses.length)] ?? 'paid',
  }));
}

export default dag(
  {
    id: 'daily_orders',
    description: 'Extract, clean and aggregate the day’s orders; publish a revenue report.',
    owner: 'data-eng',
    tags: ['demo', 'sales'],
    schedule: '0 2 * * *',
    timezone: 'Europe/Berlin',
    startDate: '2026-11-01',
    catchup: true,
    maxActiveRuns: 2,
    params: {
      type: 'object',
      properties: {
        orders: { type: 'integer', minimum: 1, maximum: 100_000, default: 500 },
        currency: { type: 'string', enum: ['EUR', 'USD'], default: 'EUR' },
      },
    },
    defaults: { retries: 2, retryDelay: '10s', retryExponentialBackoff: true, maxRetryDelay: '2m' },
  },
  (d) => {
    const extract = d.task('extract', async (ctx) => {
      const orders = ordersFor(ctx.ds, Number(ctx.params.orders));
      ctx.log.info('extracted orders', { count: orders.length, day: ctx.ds });
      return { day: ctx.ds, orders: orders.length };
    });

    const transform = d.group('transform', (g) => {
      const clean = g.task('clean', async (ctx) => {
        const { day } = ctx.upstream.extract as { day: string };
        const valid = ordersFor(day, Number(ctx.params.orders)).filter(
          (o) => o.status !== 'pending',
        );
        if (valid.length === 0)
          throw new TaskFailure(`no settled orders on ${day}`, { retry: false });
        return { settled: valid.length };
      });
      const aggregate = g.task('aggregate', async (ctx) => {
        const orders = ordersFor(ctx.ds, Number(ctx.params.orders));
        const revenue = orders
          .filter((o) => o.status === 'paid')
          .reduce((sum, o) => sum + o.amount, 0);
        const refunds = orders
          .filter((o) => o.status === 'refunded')
          .reduce((sum, o) => sum + o.amount, 0);
        const customers = new Set(orders.map((o) => o.customer)).size;
        return {
          revenue: Math.round(revenue * 100) / 100,
          refunds: Math.round(refunds * 100) / 100,
          customers,
        };
      });
      clean.before(aggregate);
    });

    const report = d.shell('report', {
      command:
        "echo \"{{ ds }}: revenue {{ upstream['transform.aggregate'].revenue }} {{ params.currency }}, " +
        "refunds {{ upstream['transform.aggregate'].refunds }}, {{ upstream['transform.aggregate'].customers }} customers\"",
      returnOutput: 'last_line',
    });

    const cleanup = d.shell(
      'cleanup',
      { command: 'echo "cleaning up temporary files for {{ run_id }}"' },
      { triggerRule: 'all_done' },
    );

    extract.before(transform);
    transform.before(report);
    report.before(cleanup);
  },
);
