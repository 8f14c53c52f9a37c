/**
 * A running Updraft (real scheduler, workers and store) with the REST API in front of
 * it, one user and one API token per role, for the API tests.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { type Auth, createAuth } from '../../src/auth/auth.ts';
import { ROLES, type Role } from '../../src/auth/roles.ts';
import { type Clock, systemClock } from '../../src/core/clock.ts';
import { createDatasetOperations } from '../../src/data/dataset-operations.ts';
import { StoreQualityOperations } from '../../src/quality/quality-operations.ts';
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
  options: { clock?: Clock } = {},
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
    api: {
      ops: rt.runtime.ops,
      store: rt.runtime.store,
      auth,
      datasets: createDatasetOperations(rt.runtime.store, rt.home),
      quality: new StoreQualityOperations(rt.runtime.store),
      version: '9.9.9',
      livePollMs: 200,
    },
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
