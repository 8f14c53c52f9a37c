/**
 * A running Updraft (real scheduler, workers and store) with the REST API in front of
 * it, one user and one API token per role, for the API tests.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { type Auth, createAuth } from '../../src/auth/auth.ts';
import { ROLES, type Role } from '../../src/auth/roles.ts';
import { type Clock, type ManualClock, systemClock } from '../../src/core/clock.ts';
import { createDatasetOperations } from '../../src/data/dataset-operations.ts';
import { createQualityOperations } from '../../src/quality/quality-operations.ts';
import type { ApiContext } from '../../src/server/api-context.ts';
import { buildServer } from '../../src/server/app.ts';
import { healthSource } from '../../src/server/health-source.ts';
import type { DataHarness } from '../data/support.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';
import type { StoreBackend } from '../support/stores.ts';

/** A DAG with params, a group, a log line and a shell task: what the tests act on. */
export const SHOP_DAG = `
import { dag } from 'updraft';
export default dag({
  id: 'shop',
  description: 'orders by day',
  owner: 'data-eng',
  tags: ['sales'],
  params: { type: 'object', properties: { n: { type: 'integer', minimum: 1, default: 2 } } },
}, (d) => {
  const extract = d.task('extract', async (ctx) => {
    ctx.log.info('extracting', { n: ctx.params.n });
    return { rows: Number(ctx.params.n) };
  });
  d.group('transform', (g) => {
    const clean = g.task('clean', async (ctx) => ctx.upstream.extract);
    extract.before(clean);
  });
  const report = d.shell('report', { command: 'echo report' });
  extract.before(report);
});
`;

/** Every role's password in the tests. */
export const PASSWORD = 'correct horse battery';

export interface ApiHarness {
  app: FastifyInstance;
  rt: TestRuntime;
  auth: Auth;
  /** An API token per role. */
  tokens: Record<Role, string>;
  /** Requests with the role's bearer token. */
  as(role: Role, method: string, url: string, body?: unknown): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export async function startApi(
  backend: StoreBackend,
  files: Record<string, string> = { 'shop.ts': SHOP_DAG },
  options: { clock?: Clock; uiRoot?: string } = {},
): Promise<ApiHarness> {
  const rt = await startTestRuntime(backend, files, options);
  const auth = createAuth(rt.runtime.store, systemClock);
  const tokens = {} as Record<Role, string>;
  for (const role of ROLES) {
    await auth.users.create(role, role, PASSWORD);
    const user = await auth.users.authenticate(role, PASSWORD);
    tokens[role] = (await auth.tokens.create(user!.id, 'tests')).token;
  }
  const app = await buildServer({
    version: '9.9.9',
    health: healthSource(rt.runtime.store, rt.runtime.scheduler),
    api: apiContextOf(rt, auth, '9.9.9'),
    ...(options.uiRoot === undefined ? {} : { uiRoot: options.uiRoot }),
  });
  return {
    app,
    rt,
    auth,
    tokens,
    as: (role, method, url, body) =>
      app.inject({
        method: method as 'GET',
        url,
        headers: { authorization: `Bearer ${tokens[role]}` },
        ...(body === undefined ? {} : { payload: body as object }),
      }),
    async close() {
      await app.close();
      await rt.close();
    },
  };
}

/** The API over a test runtime, with its data and quality layers and quick live updates. */
export function apiContextOf(rt: TestRuntime, auth: Auth, version: string): ApiContext {
  return {
    ops: rt.runtime.ops,
    store: rt.runtime.store,
    auth,
    datasets: createDatasetOperations(rt.runtime.store, rt.home),
    quality: createQualityOperations(rt.runtime.store, rt.home),
    version,
    livePollMs: 200,
  };
}

/** Logs in with a password; returns the session cookie and CSRF token. */
export async function login(
  app: FastifyInstance,
  username: string,
  password = PASSWORD,
): Promise<{ cookie: string; csrf: string; response: LightMyRequestResponse }> {
  const response = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { username, password },
  });
  const set = response.cookies.find((c) => c.name === 'updraft_session');
  return {
    cookie: set ? `updraft_session=${set.value}` : '',
    csrf: (response.json() as { csrfToken?: string }).csrfToken ?? '',
    response,
  };
}

/**
 * Writes `count` versions of `dataset` through the real data layer (a DuckDB task of
 * `dagId` run `r1`): version n has n × `rowsEach` rows.
 */
export async function seedDatasetVersions(
  h: DataHarness,
  options: { dagId: string; taskId: string; dataset: string; count: number; rowsEach: number },
): Promise<void> {
  const run = { runPk: await h.createRun(options.dagId, 'r1'), dagId: options.dagId, runId: 'r1' };
  for (let i = 1; i <= options.count; i++) {
    const { outcome } = await h.runTask(run, {
      taskId: options.taskId,
      operator: 'duckdb',
      config: {
        query: `select range as id, range * ${i} as amount from range(${i * options.rowsEach})`,
        output: options.dataset,
      },
    });
    if (outcome.error)
      throw new Error(`seeding ${options.dataset} failed: ${outcome.error.message}`);
  }
}

/**
 * A YAML pipeline whose quality task quarantines failing rows and judges row_count
 * against its history (`QUALITY_RUNS` makes a spike fail the blocking anomaly check).
 */
export const QUALITY_PIPELINE = `
dags:
  orders_etl:
    params:
      type: object
      properties:
        rows: { type: integer, default: 50 }
        bad: { type: integer, default: 0 }
    tasks:
      make:
        operator: duckdb
        outlets: [orders]
        config:
          query: "select range as id, case when range < {{ params.bad }} then -1 else range end as amount, 'c' || (range % 3) as category from range({{ params.rows }})"
          output: orders
      check:
        operator: quality
        upstream: [make]
        inlets: [orders]
        config:
          quarantine: true
          metrics: ["sum(amount)"]
          checks:
            - { type: range, column: amount, min: 0 }
            - { type: unique, column: id, severity: warn }
            - { type: not_null, column: category, warn_if: "> 0", error_if: "> 5%" }
            - { type: accepted_values, column: category, values: [c0, c1, c2, '<img src=x onerror=window.__xss=1>'] }
            - { type: anomaly, metric: row_count, min_points: 3, blocking: true }
`;

/**
 * DAG `sla`: task `wait` (deadline 5 min after the run started) waits for the file
 * `gate`, so the test decides when it ends; the run's deadline is 10 min.
 */
export const DEADLINE_DAG = (gate: string) => `
import { existsSync } from 'node:fs';
import { dag } from 'updraft';
export default dag({ id: 'sla', deadline: { after: '10m', from: 'start' } }, (d) => {
  d.task('wait', { deadline: { after: '5m' } }, async () => {
    while (!existsSync(${JSON.stringify(gate)})) await new Promise((r) => setTimeout(r, 50));
    return 'done';
  });
  d.task('quick', () => 1);
});
`;

/** Rows of each orders_etl run: the fifth is a spike with three negative amounts. */
export const QUALITY_RUNS = [
  { runId: 'r1', rows: 50, bad: 0 },
  { runId: 'r2', rows: 52, bad: 0 },
  { runId: 'r3', rows: 48, bad: 0 },
  { runId: 'r4', rows: 51, bad: 0 },
  { runId: 'r5', rows: 500, bad: 3 },
  { runId: 'r6', rows: 50, bad: 0 },
];

/**
 * Runs `QUALITY_RUNS` one after the other (versions v1..v6 of `orders`), `gapMs` apart on
 * the clock (default a minute). While a run works, the clock moves 5 s per real second,
 * so runs take time on it as they would on a wall clock.
 */
export async function runQualitySeries(
  rt: TestRuntime,
  clock: ManualClock,
  gapMs = 60_000,
): Promise<void> {
  for (const { runId, rows, bad } of QUALITY_RUNS) {
    await rt.runtime.ops.triggerRun('orders_etl', { runId, params: { rows, bad } });
    const ticker = setInterval(() => clock.advance(500), 100);
    try {
      await rt.waitForRun('orders_etl', runId, 90_000);
    } finally {
      clearInterval(ticker);
    }
    clock.advance(gapMs);
  }
}
