/**
 * The `events_and_funnels` example pipeline in the whole engine on a small seeded shop,
 * over a sequence of runs that an incremental pipeline must get right:
 *
 * 1. the first run (no copy of the events yet: `plan` takes the rebuild branch, and no
 *    task fails);
 * 2. an increment with crafted events; 3. a second one, holding a session that spans the
 *    two increments, a gap of exactly 30 minutes, and a late event (inserted after
 *    events that happened after it) that joins two sessions into one;
 * 4. an old run re-run: its inputs are pinned, so it reproduces its own outputs, but the
 *    copy plus its increment lack the later events, so `plan` rebuilds the copy from the
 *    source; the next run is up to date with no new events at all; then an increment lost
 *    by a run that failed after reading it: the next run rebuilds too;
 * 5. an unknown event type, which fails the blocking checks;
 * 6. a full refresh (the rebuild branch), with events arriving after the increment, so
 *    that 7. the next increment holds them (merged once, whether the rebuild read them
 *    or not).
 *
 * After each successful run, every session, funnel row and customer aggregate must equal
 * what is computed here, in TypeScript, from the source's events (sorted and scanned, the
 * funnel as a state machine); the crafted customers are also compared with hand-checked
 * values.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { STORE_BACKENDS } from '../support/stores.ts';
import {
  type ExampleEngine,
  near,
  pipelineFile,
  startExampleEngine,
  taskStates,
  timestampMs,
} from './support.ts';

const SHOP = { seed: 7, scale: 0.1 };
const GAP_MS = 30 * 60_000;
const DAG = 'events_and_funnels';

interface SourceEvent {
  id: number;
  customer: number;
  type: string;
  article: number | null;
  device: string;
  at: number;
}

interface Session {
  session_id: number;
  customer_id: number;
  device: string;
  started_at: number;
  ended_at: number;
  duration_seconds: number;
  events: number;
  views: number;
  carts: number;
  checkouts: number;
  purchases: number;
  articles_viewed: number;
  viewed: boolean;
  carted: boolean;
  checked_out: boolean;
  purchased: boolean;
}

const FUNNEL = ['view', 'add_to_cart', 'checkout', 'purchase'] as const;

async function sourceEvents(engine: ExampleEngine): Promise<SourceEvent[]> {
  const { rows } = await engine.source.client.query<Record<string, string | null>>(
    `select event_id, customer_id, event_type, article_id, device,
            (extract(epoch from occurred_at) * 1000)::bigint as at_ms
       from shop.web_events`,
  );
  return rows.map((r) => ({
    id: Number(r.event_id),
    customer: Number(r.customer_id),
    type: r.event_type as string,
    article: r.article_id === null ? null : Number(r.article_id),
    device: r.device as string,
    at: Number(r.at_ms),
  }));
}

/** Sessions by a scan of each customer's events in time order; the funnel as a state machine. */
function sessionise(events: SourceEvent[]): Session[] {
  const sorted = [...events].sort((a, b) => a.customer - b.customer || a.at - b.at || a.id - b.id);
  const sessions: (Session & { stage: number; articles: Set<number> })[] = [];
  let current: (typeof sessions)[number] | null = null;
  let previous: SourceEvent | null = null;
  for (const e of sorted) {
    if (current === null || previous?.customer !== e.customer || e.at - previous.at >= GAP_MS) {
      current = {
        session_id: e.id,
        customer_id: e.customer,
        device: e.device,
        started_at: e.at,
        ended_at: e.at,
        duration_seconds: 0,
        events: 0,
        views: 0,
        carts: 0,
        checkouts: 0,
        purchases: 0,
        articles_viewed: 0,
        viewed: false,
        carted: false,
        checked_out: false,
        purchased: false,
        stage: 0,
        articles: new Set(),
      };
      sessions.push(current);
    }
    current.ended_at = e.at;
    current.duration_seconds = Math.round((e.at - current.started_at) / 1000);
    current.events++;
    if (e.type === 'view') {
      current.views++;
      if (e.article !== null) current.articles.add(e.article);
    }
    if (e.type === 'add_to_cart') current.carts++;
    if (e.type === 'checkout') current.checkouts++;
    if (e.type === 'purchase') current.purchases++;
    current.articles_viewed = current.articles.size;
    if (current.stage < FUNNEL.length && e.type === FUNNEL[current.stage]) current.stage++;
    current.viewed = current.stage >= 1;
    current.carted = current.stage >= 2;
    current.checked_out = current.stage >= 3;
    current.purchased = current.stage >= 4;
    previous = e;
  }
  return sessions.map(({ stage: _stage, articles: _articles, ...s }) => s);
}

interface FunnelRow {
  sessions: number;
  viewed: number;
  carted: number;
  checked_out: number;
  purchased: number;
}

function funnelOf(sessions: Session[]): Map<string, FunnelRow> {
  const rows = new Map<string, FunnelRow>();
  for (const s of sessions) {
    const key = `${new Date(s.started_at).toISOString().slice(0, 10)}/${s.device}`;
    const row = rows.get(key) ?? {
      sessions: 0,
      viewed: 0,
      carted: 0,
      checked_out: 0,
      purchased: 0,
    };
    row.sessions++;
    row.viewed += Number(s.viewed);
    row.carted += Number(s.carted);
    row.checked_out += Number(s.checked_out);
    row.purchased += Number(s.purchased);
    rows.set(key, row);
  }
  return rows;
}

const ratio = (a: number, b: number) => (b === 0 ? null : a / b);

/** Compares every output of the latest run with the TypeScript computation over the source. */
async function expectOutputs(engine: ExampleEngine): Promise<Session[]> {
  const events = await sourceEvents(engine);
  const ingested = await engine.rows('web_events_ingested', 'event_id');
  expect(ingested.map((r) => Number(r.event_id))).toEqual(
    events.map((e) => e.id).sort((a, b) => a - b),
  );

  const sessions = sessionise(events);
  const rows = await engine.rows('web_sessions', 'session_id');
  expect(rows).toHaveLength(sessions.length);
  const byId = new Map(sessions.map((s) => [s.session_id, s]));
  for (const row of rows) {
    const want = byId.get(Number(row.session_id));
    expect(want, `session ${row.session_id}`).toBeDefined();
    expect({
      session_id: Number(row.session_id),
      customer_id: Number(row.customer_id),
      device: row.device,
      started_at: timestampMs(row.started_at),
      ended_at: timestampMs(row.ended_at),
      duration_seconds: Number(row.duration_seconds),
      events: Number(row.events),
      views: Number(row.views),
      carts: Number(row.carts),
      checkouts: Number(row.checkouts),
      purchases: Number(row.purchases),
      articles_viewed: Number(row.articles_viewed),
      viewed: row.viewed,
      carted: row.carted,
      checked_out: row.checked_out,
      purchased: row.purchased,
    }).toEqual(want);
  }

  const funnel = funnelOf(sessions);
  const funnelRows = await engine.rows('web_funnel_daily', 'session_date, device');
  expect(funnelRows).toHaveLength(funnel.size);
  for (const row of funnelRows) {
    const key = `${row.session_date}/${row.device}`;
    const want = funnel.get(key);
    expect(want, key).toBeDefined();
    const w = want as FunnelRow;
    expect({
      key,
      sessions: Number(row.sessions),
      viewed: Number(row.viewed),
      carted: Number(row.carted),
      checked_out: Number(row.checked_out),
      purchased: Number(row.purchased),
    }).toEqual({ key, ...w });
    expect(near(row.view_to_cart, ratio(w.carted, w.viewed)), key).toBe(true);
    expect(near(row.cart_to_checkout, ratio(w.checked_out, w.carted)), key).toBe(true);
    expect(near(row.checkout_to_purchase, ratio(w.purchased, w.checked_out)), key).toBe(true);
    expect(near(row.view_to_purchase, ratio(w.purchased, w.viewed)), key).toBe(true);
  }

  const behaviour = await engine.rows('web_customer_behaviour', 'customer_id');
  const customers = [...new Set(sessions.map((s) => s.customer_id))].sort((a, b) => a - b);
  expect(behaviour.map((r) => Number(r.customer_id))).toEqual(customers);
  for (const row of behaviour) {
    const customer = Number(row.customer_id);
    const own = sessions.filter((s) => s.customer_id === customer);
    const devices = new Map<string, number>();
    for (const s of own) devices.set(s.device, (devices.get(s.device) ?? 0) + 1);
    const preferred = [...devices].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
    const articles = new Set(
      events.filter((e) => e.customer === customer && e.type === 'view').map((e) => e.article),
    );
    articles.delete(null);
    const sum = (f: (s: Session) => number) => own.reduce((a, s) => a + f(s), 0);
    expect({
      customer,
      sessions: Number(row.sessions),
      events: Number(row.events),
      views: Number(row.views),
      carts: Number(row.carts),
      checkouts: Number(row.checkouts),
      purchases: Number(row.purchases),
      converted_sessions: Number(row.converted_sessions),
      abandoned_carts: Number(row.abandoned_carts),
      articles_viewed: Number(row.articles_viewed),
      preferred_device: row.preferred_device,
      first_seen_at: timestampMs(row.first_seen_at),
      last_seen_at: timestampMs(row.last_seen_at),
    }).toEqual({
      customer,
      sessions: own.length,
      events: sum((s) => s.events),
      views: sum((s) => s.views),
      carts: sum((s) => s.carts),
      checkouts: sum((s) => s.checkouts),
      purchases: sum((s) => s.purchases),
      converted_sessions: sum((s) => Number(s.purchased)),
      abandoned_carts: sum((s) => Number(s.carted && !s.purchased)),
      articles_viewed: articles.size,
      preferred_device: preferred,
      first_seen_at: Math.min(...own.map((s) => s.started_at)),
      last_seen_at: Math.max(...own.map((s) => s.ended_at)),
    });
    expect(near(row.conversion_rate, sum((s) => Number(s.purchased)) / own.length)).toBe(true);
    expect(near(row.avg_session_seconds, sum((s) => s.duration_seconds) / own.length)).toBe(true);
    expect(near(row.avg_events_per_session, sum((s) => s.events) / own.length)).toBe(true);
  }
  return sessions;
}

/**
 * Inserts events (customer, type, device, UTC time) with new ids, as an identity column
 * would give them: above every id ever used, never reused after a delete.
 */
async function insertEvents(
  engine: ExampleEngine,
  events: [customer: number, type: string, device: string, at: string][],
): Promise<void> {
  for (const [customer, type, device, at] of events) {
    await engine.source.client.query(
      `insert into shop.web_events (event_id, customer_id, event_type, article_id, device, occurred_at)
       values (nextval('test_event_ids'), $1, $2::text, case when $2::text in ('view', 'add_to_cart') then 1 end, $3, $4::timestamptz)`,
      [customer, type, device, at],
    );
  }
}

/** The sessions of the crafted customers on 2026-01-10, as hand-checked summaries. */
function craftedDay(sessions: Session[]): string[] {
  const day = Date.parse('2026-01-10T00:00:00Z');
  return sessions
    .filter((s) => s.started_at >= day)
    .map((s) => {
      const time = new Date(s.started_at).toISOString().slice(11, 16);
      const stage = s.purchased
        ? 'purchase'
        : s.checked_out
          ? 'checkout'
          : s.carted
            ? 'cart'
            : 'view';
      return `c${s.customer_id} ${time} ${s.device} events=${s.events} seconds=${s.duration_seconds} reached=${stage}`;
    });
}

const INCREMENTAL = {
  source_stats: 'success',
  ingest_events: 'success',
  plan: 'success',
  merge_events: 'success',
  rebuild_events: 'skipped',
  check_events: 'success',
  sessionise: 'success',
  check_sessions: 'success',
  funnel: 'success',
  behaviour: 'success',
  check_funnel: 'success',
  check_behaviour: 'success',
  promote_sessions: 'success',
  promote_funnel: 'success',
  promote_behaviour: 'success',
};
const REBUILT = { ...INCREMENTAL, merge_events: 'skipped', rebuild_events: 'success' };

const OUTPUTS = ['web_sessions', 'web_funnel_daily', 'web_customer_behaviour'] as const;

/** The version of each output that `staging` points at. */
async function staged(engine: ExampleEngine): Promise<number[]> {
  return Promise.all(
    OUTPUTS.map(async (name) => (await engine.version(`${name}@staging`)).version),
  );
}

/** Expects `staging` of every output on the newest version, written by run `runId`. */
async function expectStaged(engine: ExampleEngine, runId: string): Promise<void> {
  for (const name of OUTPUTS) {
    const latest = await engine.version(name);
    expect({ name, runId: latest.producedBy.runId }).toEqual({ name, runId });
    expect({ name, staging: (await engine.version(`${name}@staging`)).version }).toEqual({
      name,
      staging: latest.version,
    });
  }
}

/** What `plan` chose in run `runId`, and why (its result). */
async function planned(engine: ExampleEngine, runId: string): Promise<unknown> {
  return (await engine.rt.runtime.ops.getTaskInstance(DAG, runId, 'plan')).result;
}

for (const backend of process.env.UPDRAFT_TEST_SKIP_POSTGRES === '1' ? [] : STORE_BACKENDS) {
  describe(`the events_and_funnels example pipeline on a ${backend.name} store`, () => {
    let engine: ExampleEngine | undefined;
    afterEach(async () => {
      await engine?.close();
      engine = undefined;
    });

    it('ingests incrementally, sessionises and counts funnels equal to an independent computation across increments, late events, re-runs and a full refresh', async () => {
      engine = await startExampleEngine(
        backend,
        { 'events_and_funnels.yaml': pipelineFile('events_and_funnels.yaml') },
        SHOP,
      );
      const e = engine;
      expect(await e.rt.runtime.ops.listImportErrors()).toEqual([]);
      await e.source.client.query(
        `create sequence test_event_ids; select setval('test_event_ids', (select max(event_id) from shop.web_events))`,
      );

      // 1. The first run: no copy of the events yet, so `plan` takes the rebuild branch
      // and the events are extracted in full. No task fails.
      const r1 = await e.run(DAG, 'r1');
      expect(taskStates(r1)).toEqual(REBUILT);
      expect(Object.values(taskStates(r1))).not.toContain('failed');
      await expectStaged(e, 'r1');
      expect(r1.state).toBe('success');
      expect(await planned(e, 'r1')).toEqual([
        { follow: 'rebuild_events', reason: 'no copy of the events yet' },
      ]);
      const first = await expectOutputs(e);
      expect(first.length).toBeGreaterThan(150);
      expect((await e.version('web_events_increment')).rows).toBe(
        (await e.version('web_events_ingested')).rows,
      );

      // 2. An increment: one session of c1 and c2 each, two sessions of c3 (50 minutes apart).
      await insertEvents(e, [
        [1, 'view', 'desktop', '2026-01-10T10:00:00Z'],
        [1, 'add_to_cart', 'desktop', '2026-01-10T10:10:00Z'],
        [2, 'view', 'mobile', '2026-01-10T12:00:00Z'],
        [3, 'view', 'mobile', '2026-01-10T14:00:00Z'],
        [3, 'view', 'mobile', '2026-01-10T14:50:00Z'],
      ]);
      const r2 = await e.run(DAG, 'r2');
      expect(taskStates(r2)).toEqual(INCREMENTAL);
      await expectStaged(e, 'r2');
      expect(await planned(e, 'r2')).toEqual([
        { follow: 'merge_events', reason: 'the copy and the increment hold every source event' },
      ]);
      expect((await e.version('web_events_increment')).rows).toBe(5);
      expect(craftedDay(await expectOutputs(e))).toEqual([
        'c1 10:00 desktop events=2 seconds=600 reached=cart',
        'c2 12:00 mobile events=1 seconds=0 reached=view',
        'c3 14:00 mobile events=1 seconds=0 reached=view',
        'c3 14:50 mobile events=1 seconds=0 reached=view',
      ]);
      const sessionsOfR2 = await e.rows('web_sessions', 'session_id');
      const stagedAfterR2 = await staged(e);

      // 3. The next increment: c1's session goes on across the watermark (25 minutes
      // after the cart); c2 comes back exactly 30 minutes later (a new session); a late
      // add-to-cart of c3 at 14:25 joins its two sessions (25 minutes each side).
      await insertEvents(e, [
        [1, 'checkout', 'desktop', '2026-01-10T10:35:00Z'],
        [1, 'purchase', 'desktop', '2026-01-10T10:40:00Z'],
        [2, 'view', 'mobile', '2026-01-10T12:30:00Z'],
        [3, 'add_to_cart', 'mobile', '2026-01-10T14:25:00Z'],
      ]);
      const r3 = await e.run(DAG, 'r3');
      expect(taskStates(r3)).toEqual(INCREMENTAL);
      await expectStaged(e, 'r3');
      expect((await e.version('web_events_increment')).rows).toBe(4);
      const third = await expectOutputs(e);
      expect(craftedDay(third)).toEqual([
        'c1 10:00 desktop events=4 seconds=2400 reached=purchase',
        'c2 12:00 mobile events=1 seconds=0 reached=view',
        'c2 12:30 mobile events=1 seconds=0 reached=view',
        'c3 14:00 mobile events=3 seconds=3000 reached=cart',
      ]);
      const day = await e.rows('web_funnel_daily', 'device');
      expect(
        day
          .filter((r) => r.session_date === '2026-01-10')
          .map((r) => [
            r.device,
            ...['sessions', 'viewed', 'carted', 'checked_out', 'purchased'].map((k) =>
              Number(r[k]),
            ),
          ]),
      ).toEqual([
        ['desktop', 1, 1, 1, 1, 1],
        ['mobile', 3, 3, 1, 0, 0],
      ]);

      // 4. Re-running r2 after r3. Every task reads the versions pinned for r2, as
      // re-runs do everywhere: the outputs are r2's again. `plan` sees that the copy and
      // the increment pinned for r2 lack r3's events: the copy is rebuilt from the source
      // instead of merged, so it stays complete, and the next run (4b) is up to date.
      const eventsBefore = (await e.version('web_events_ingested')).version;
      await e.rt.runtime.ops.clearTasks(DAG, 'r2', ['source_stats'], { downstream: true });
      const rerun = await e.waitForRun(DAG, 'r2');
      expect(taskStates(rerun)).toEqual(REBUILT);
      // Its promote tasks read the versions pinned for r2, too: staging goes back to them.
      expect(await staged(e)).toEqual(stagedAfterR2);
      expect(await planned(e, 'r2')).toEqual([
        expect.objectContaining({
          follow: 'rebuild_events',
          reason: expect.stringContaining('the copy and the increment miss 4 of the'),
        }),
      ]);
      const rebuilt = await e.version('web_events_ingested');
      expect(rebuilt).toMatchObject({
        version: eventsBefore + 1,
        rows: (await sourceEvents(e)).length,
      });
      expect(rebuilt.producedBy).toMatchObject({ runId: 'r2', taskId: 'rebuild_events' });
      expect(await e.rows('web_sessions', 'session_id')).toEqual(sessionsOfR2);

      const r4 = await e.run(DAG, 'r4');
      expect(taskStates(r4)).toEqual(INCREMENTAL);
      await expectStaged(e, 'r4');
      expect((await e.version('web_events_increment')).rows).toBe(0);
      expect(craftedDay(await expectOutputs(e))).toEqual(craftedDay(third));

      // 4c. A run reads an increment and fails before `plan` (marked failed here, as a
      // crash would leave it): the increment is lost to the copy. The next run's plan
      // finds the gap and rebuilds; nothing fails.
      await insertEvents(e, [
        [5, 'view', 'desktop', '2026-01-10T18:00:00Z'],
        [5, 'view', 'desktop', '2026-01-10T18:05:00Z'],
      ]);
      await e.rt.runtime.ops.triggerRun(DAG, { runId: 'lost' });
      await e.rt.runtime.ops.markTask(DAG, 'lost', 'plan', 'failed');
      const lost = await e.waitForRun(DAG, 'lost');
      expect(lost.state).toBe('failed');
      expect(taskStates(lost)).toMatchObject({ ingest_events: 'success', plan: 'failed' });
      expect((await e.version('web_events_increment')).rows).toBe(2);
      const r4c = await e.run(DAG, 'r4c');
      expect(taskStates(r4c)).toEqual(REBUILT);
      await expectStaged(e, 'r4c');
      expect(await planned(e, 'r4c')).toEqual([
        expect.objectContaining({
          follow: 'rebuild_events',
          reason: expect.stringContaining('the copy and the increment miss 2 of the'),
        }),
      ]);
      expect(craftedDay(await expectOutputs(e))).toContain(
        'c5 18:00 desktop events=2 seconds=300 reached=view',
      );

      const stagedAfterR4 = await staged(e);

      // 5. An event of an unknown type fails the blocking checks: nothing downstream runs.
      await insertEvents(e, [[2, 'refund', 'mobile', '2026-01-10T13:00:00Z']]);
      const r5 = await e.run(DAG, 'r5');
      expect(r5.state).toBe('failed');
      expect(taskStates(r5)).toMatchObject({
        merge_events: 'success',
        check_events: 'failed',
        sessionise: 'upstream_failed',
        promote_sessions: 'upstream_failed',
      });
      expect(await staged(e)).toEqual(stagedAfterR4);
      expect((await e.checkStatuses('web_events_ingested'))['accepted_values.event_type']).toBe(
        'error',
      );
      expect((await e.version('web_sessions')).producedBy.runId).toBe('r4c');

      // 6. The event is deleted at the source; the copy still has it, so a full refresh
      // rebuilds it. Two events arrive after the increment was read, before the rebuild.
      await e.source.client.query(`delete from shop.web_events where event_type = 'refund'`);
      await e.rt.runtime.ops.triggerRun(DAG, { runId: 'r6', params: { full_refresh: true } });
      await e.rt.waitFor(
        async () => {
          const run = await e.rt.runtime.ops.getRun(DAG, 'r6');
          return taskStates(run).ingest_events === 'success' ? true : undefined;
        },
        'the increment of r6',
        240_000,
      );
      await insertEvents(e, [
        [4, 'view', 'tablet', '2026-01-10T16:00:00Z'],
        [4, 'add_to_cart', 'tablet', '2026-01-10T16:01:00Z'],
      ]);
      const r6 = await e.waitForRun(DAG, 'r6');
      expect(taskStates(r6)).toEqual(REBUILT);
      await expectStaged(e, 'r6');
      expect(await planned(e, 'r6')).toEqual([
        { follow: 'rebuild_events', reason: 'full refresh requested (params.full_refresh)' },
      ]);
      await expectOutputs(e);

      // 7. The next increment holds those two events, which the copy has already: they
      // are merged once.
      const r7 = await e.run(DAG, 'r7');
      expect(taskStates(r7)).toEqual(INCREMENTAL);
      await expectStaged(e, 'r7');
      expect((await e.version('web_events_increment')).rows).toBe(2);
      const last = await expectOutputs(e);
      expect(craftedDay(last)).toContain('c4 16:00 tablet events=2 seconds=60 reached=cart');
    }, 1_800_000);
  });
}
