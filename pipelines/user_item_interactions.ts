/**
 * User–item interaction scores from the example shop (`updraft examples seed --connection
 * shop_source`, docs/examples.md): how strongly each customer is drawn to each article,
 * from product views, add-to-carts, purchases and reviews, with older signals counting
 * less. The input of a recommender (implicit feedback).
 *
 * Score of a (customer, article) pair, as of the day after the newest signal:
 *
 *     score = Σ weight(signal) · 0.5 ^ (age_days(signal) / half_life_days)
 *
 * weight: a view `view_weight`, an add-to-cart `cart_weight`, an order line of a
 * completed order `purchase_weight`, a review `review_weight · (rating − 3)` (a 1-star
 * review pulls the score down, a 3-star one is neutral). The weights and the half-life
 * are run parameters; the task `register` returns them with the version it registers.
 * The version the checks passed is promoted to `staging`.
 */
import { dag } from 'updraft';

/** The scoring parameters (run params, validated before the run starts). */
const SCORING_PARAMS = {
  view_weight: { type: 'number', minimum: 0, maximum: 100, default: 1 },
  cart_weight: { type: 'number', minimum: 0, maximum: 100, default: 3 },
  purchase_weight: { type: 'number', minimum: 0, maximum: 100, default: 5 },
  review_weight: { type: 'number', minimum: 0, maximum: 100, default: 2 },
  half_life_days: { type: 'number', exclusiveMinimum: 0, maximum: 3650, default: 30 },
} as const;

/** One row per signal: who, which article, when, its weight and what it was. */
const SIGNALS = `
  select customer_id, article_id, occurred_at as signal_at,
         case event_type when 'view' then {{ params.view_weight }} else {{ params.cart_weight }} end::double as weight,
         event_type = 'view' as is_view, event_type = 'add_to_cart' as is_cart,
         false as is_purchase, 0 as units, null::smallint as rating
  from shop_item_events
  union all
  select customer_id, article_id, ordered_at, {{ params.purchase_weight }}::double,
         false, false, true, quantity, null
  from shop_item_purchases
  union all
  select customer_id, article_id, created_at, ({{ params.review_weight }} * (rating - 3))::double,
         false, false, false, 0, rating
  from shop_item_reviews`;

const SCORE = `
  with signals as (${SIGNALS}
  ), as_of as (
    select date_trunc('day', max(signal_at)) + interval 1 day as as_of from signals
  ), pairs as (
    select s.customer_id, s.article_id,
           count(*) filter (where s.is_view) as views,
           count(*) filter (where s.is_cart) as carts,
           count(*) filter (where s.is_purchase) as purchases,
           sum(s.units)::bigint as units,
           count(s.rating) as reviews,
           avg(s.rating) as avg_rating,
           min(s.signal_at) as first_at,
           max(s.signal_at) as last_at,
           sum(s.weight * pow(0.5, (epoch(a.as_of) - epoch(s.signal_at)) / 86400.0 / {{ params.half_life_days }})) as score
    from signals s, as_of a
    group by s.customer_id, s.article_id
  )
  select *, row_number() over (partition by customer_id order by score desc, article_id) as rank_in_customer
  from pairs
  order by customer_id, rank_in_customer`;

const SUMMARY = `
  select count(*) as pairs,
         count(distinct customer_id) as customers,
         count(distinct article_id) as articles,
         strftime(date_trunc('day', max(last_at)) + interval 1 day, '%Y-%m-%d') as as_of,
         count(*) filter (where score < 0) as negative_scores,
         quantile_cont(score, 0.5) as score_p50,
         quantile_cont(score, 0.9) as score_p90,
         max(score) as score_max
  from user_item_interactions`;

const UTC = "set TimeZone = 'UTC'";

export default dag(
  {
    id: 'user_item_interactions',
    description: 'Time-decayed user–item interaction scores of the example shop',
    owner: 'data-eng',
    tags: ['example', 'shop'],
    schedule: '0 2 * * *',
    startDate: '2026-11-01',
    catchup: false,
    maxActiveRuns: 1,
    params: { type: 'object', properties: SCORING_PARAMS, additionalProperties: false },
    // Notifier connections (README, "Alerting"); runs go on when they are not defined.
    notify: { onSuccess: ['shop_data_team'], onFailure: ['shop_oncall'] },
    defaults: { retries: 2, retryDelay: '30s', retryExponentialBackoff: true },
  },
  (d) => {
    const extract = (id: string, dataset: string, query: string) =>
      d.operator(
        'extract',
        id,
        { connection: 'shop_source', query, dataset },
        { outlets: [dataset] },
      );
    const events = extract(
      'extract_events',
      'shop_item_events',
      "select customer_id, article_id, event_type, occurred_at from shop.web_events where event_type in ('view', 'add_to_cart') and article_id is not null",
    );
    const purchases = extract(
      'extract_purchases',
      'shop_item_purchases',
      "select o.customer_id, t.article_id, t.quantity, o.ordered_at from shop.transactions t join shop.orders o on o.order_id = t.order_id where o.status = 'completed'",
    );
    const reviews = extract(
      'extract_reviews',
      'shop_item_reviews',
      'select customer_id, article_id, rating, created_at from shop.reviews',
    );
    const score = d.operator(
      'duckdb',
      'score',
      { setup: UTC, query: SCORE, output: 'user_item_interactions' },
      {
        inlets: ['shop_item_events', 'shop_item_purchases', 'shop_item_reviews'],
        outlets: ['user_item_interactions'],
        doc: 'One row per (customer, article) with a signal: counts, first and last signal, the decayed score and its rank among the customer’s articles.',
      },
    );
    const checks = d.operator(
      'quality',
      'checks',
      {
        dataset: 'user_item_interactions',
        checks: [
          { type: 'not_null', column: 'customer_id', blocking: true },
          { type: 'not_null', column: 'article_id', blocking: true },
          { type: 'not_null', column: 'score', blocking: true },
          { type: 'unique', columns: ['customer_id', 'article_id'], blocking: true },
          { type: 'range', column: 'avg_rating', min: 1, max: 5, blocking: true },
          { type: 'range', column: 'views', min: 0, blocking: true },
          { type: 'range', column: 'units', min: 0, blocking: true },
          { type: 'range', column: 'rank_in_customer', min: 1, blocking: true },
          {
            type: 'custom_sql',
            id: 'one_signal_at_least',
            description: 'every pair has a view, a cart, a purchase or a review',
            sql: 'select * from data where views + carts + purchases + reviews = 0',
            blocking: true,
          },
          {
            type: 'custom_sql',
            id: 'score_not_infinite',
            description: 'scores are finite numbers',
            sql: 'select * from data where isnan(score) or isinf(score)',
            blocking: true,
          },
          {
            type: 'custom_sql',
            id: 'first_before_last',
            description: 'the first signal of a pair is not after its last',
            sql: 'select * from data where first_at > last_at',
            blocking: true,
          },
          {
            type: 'distribution',
            column: 'score',
            metrics: ['mean', 'stddev'],
            max_change: 0.25,
            severity: 'warn',
            description:
              'scores moved a lot since the previous version (new parameters, or a source problem)',
          },
          { type: 'anomaly', metric: 'row_count' },
        ],
      },
      { inlets: ['user_item_interactions'] },
    );
    const summarise = d.operator(
      'duckdb',
      'summarise',
      { setup: UTC, query: SUMMARY, maxRows: 1 },
      { inlets: ['user_item_interactions'] },
    );
    const register = d.task(
      'register',
      {
        inlets: ['user_item_interactions'],
        doc: 'The result is the metadata of the registered version: method, parameters, as-of date and a summary.',
      },
      (ctx) => {
        const [summary] = ctx.upstream.summarise as { [key: string]: unknown }[];
        const version = ctx.inputs.user_item_interactions as { version: number; rows: number };
        const parameters = Object.fromEntries(
          Object.keys(SCORING_PARAMS).map((name) => [name, ctx.params[name] ?? null]),
        );
        ctx.log.info('registered interaction scores', { version: version.version, parameters });
        return {
          dataset: 'user_item_interactions',
          version: version.version,
          rows: version.rows,
          method:
            'score = sum of weight(signal) * 0.5 ^ (age_days / half_life_days) per (customer, article), ' +
            'as of the day after the newest signal; review weight = review_weight * (rating - 3)',
          parameters,
          as_of: (summary?.as_of as string | undefined) ?? null,
          summary: {
            customers: Number(summary?.customers ?? 0),
            articles: Number(summary?.articles ?? 0),
            negative_scores: Number(summary?.negative_scores ?? 0),
            score_p50: Number(summary?.score_p50 ?? 0),
            score_p90: Number(summary?.score_p90 ?? 0),
            score_max: Number(summary?.score_max ?? 0),
          },
        };
      },
    );
    const promote = d.operator(
      'promote',
      'promote',
      { to: 'staging' },
      {
        inlets: ['user_item_interactions'],
        doc: 'The version the checks passed becomes user_item_interactions@staging.',
      },
    );
    d.chain([events, purchases, reviews], score, checks, [summarise, promote]);
    summarise.before(register);
  },
);
