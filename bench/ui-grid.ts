/**
 * UI: a DAG of 1,000 tasks with 25 runs — time of the Grid view's API response and of
 * the page rendering it in Chromium (target < 1 s each) — and the DAG list with 500 DAGs
 * (API and render).
 *
 * Data is written straight into an embedded store (the DAGs built with `dag()`, runs
 * created by the scheduler's own `createRun`, task states set in bulk), then served by
 * the real HTTP server with authentication. API times are full HTTP round trips with a
 * bearer token. Render times are measured in the page: from the hash change that opens
 * the view until its rows are in the DOM (API call, JSON parse, React render), median of
 * several tries after a warm-up.
 *
 * Baselines (same run): the grid's store queries alone (`readGrid`, in process), the
 * DAG list's (`ops.listDags`), and the same page render for a 10-task DAG with one run
 * (the fixed cost of a view).
 *
 *     node --import tsx bench/ui-grid.ts
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { createAuth } from '../src/auth/auth.ts';
import { dag } from '../src/authoring/dag.ts';
import { systemClock } from '../src/core/clock.ts';
import type { DagSpec } from '../src/core/dag-spec.ts';
import { dagVersionHash } from '../src/loader/version-hash.ts';
import { StoreOperations } from '../src/ops/store-operations.ts';
import { manualRunInterval } from '../src/schedule/timetable.ts';
import { createRun } from '../src/scheduler/transitions.ts';
import { startHttpServer } from '../src/server/app.ts';
import { healthSource } from '../src/server/health-source.ts';
import { uiBuildDir } from '../src/server/routes/ui.ts';
import { getDagVersion, syncDagFile } from '../src/store/queries/dags.ts';
import { readGrid } from '../src/store/queries/grid.ts';
import { openPGliteStore, type Store } from '../src/store/store.ts';
import { launchChromium } from '../test/e2e/browser.ts';
import { tempDir } from './support/engine.ts';
import { runMain } from './support/main.ts';
import { type Figure, progress } from './support/report.ts';
import { withScope } from './support/scope.ts';
import { median, monotonicMs, ms } from './support/stats.ts';

const NAME = 'ui';
const TASKS = 1000;
const RUNS = 25;
const LIST_DAGS = 500;
const TRIES = 7;

/** A DAG of `tasks` tasks in 10 groups, each task after one of the previous ten. */
function bigDag(id: string, tasks: number): DagSpec {
  return dag({ id, owner: 'bench', tags: ['bench'] }, (d) => {
    const made: { before(t: unknown): void }[] = [];
    for (let g = 0; g < 10; g++) {
      d.group(`group_${g}`, (grp) => {
        for (let i = 0; i < tasks / 10; i++) {
          const t = grp.shell(`task_${i}`, { command: 'true' });
          const up = made[Math.max(0, made.length - 1 - ((i * 7) % 10))];
          if (up) up.before(t);
          made.push(t as unknown as { before(t: unknown): void });
        }
      });
    }
  }).spec;
}

async function store(s: Store, specs: DagSpec[], runsEach: number): Promise<void> {
  const now = new Date();
  await s.transaction(async (tx) => {
    for (const spec of specs) {
      await syncDagFile(
        tx,
        {
          fileloc: `/bench/${spec.dagId}.ts`,
          codeHash: 'bench',
          dags: [{ spec, versionHash: dagVersionHash(spec, 'bench') }],
          issues: [],
        },
        now,
        false,
      );
      const version = await getDagVersion(tx, spec.dagId, dagVersionHash(spec, 'bench'));
      if (!version) throw new Error(`version of ${spec.dagId} missing`);
      for (let r = 0; r < runsEach; r++) {
        const at = new Date(Date.UTC(2026, 0, 1 + r));
        await createRun(
          tx,
          {
            version,
            runId: `run_${r}`,
            runType: 'manual',
            planned: manualRunInterval(at),
            params: {},
          },
          now,
        );
      }
    }
  });
  // Task states in bulk: a deterministic mix of success, failed and skipped.
  await sql`update task_instances set started_at = ${now}, ended_at = ${now}, state = case
    when mod(length(task_id), 7) = 0 then 'failed'
    when mod(length(run_id), 3) = 1 then 'skipped'
    else 'success' end`.execute(s.db);
  await s.db
    .updateTable('dag_runs')
    .set({ state: 'success', started_at: now, ended_at: now })
    .execute();
}

async function timed<T>(fn: () => Promise<T>): Promise<number> {
  const t0 = monotonicMs();
  await fn();
  return monotonicMs() - t0;
}

async function medianOf(fn: () => Promise<unknown>, tries = TRIES): Promise<number> {
  await fn(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < tries; i++) times.push(await timed(fn));
  return median(times);
}

/** Runs the benchmark; returns its figures. */
export async function uiGrid(): Promise<Figure[]> {
  if (!existsSync(path.join(uiBuildDir(), 'index.html'))) {
    progress(NAME, 'building the UI (npm run build:ui)');
    execFileSync('npm', ['run', 'build:ui'], { stdio: 'inherit' });
  }
  return withScope(async (scope) => {
    const home = tempDir(scope, 'ui');
    const s = await openPGliteStore(path.join(home, 'db'));
    scope.defer('close the store', () => s.close());
    await s.migrate();
    progress(
      NAME,
      `writing a ${TASKS}-task DAG with ${RUNS} runs, a 10-task DAG, ${LIST_DAGS} small DAGs`,
    );
    const t0 = monotonicMs();
    await store(s, [bigDag('big', TASKS)], RUNS);
    await store(s, [bigDag('tiny', 10)], 1);
    const small = Array.from(
      { length: LIST_DAGS - 2 },
      (_, n) =>
        dag(
          {
            id: `pipeline_${String(n).padStart(3, '0')}`,
            owner: `team_${n % 7}`,
            tags: [`t${n % 5}`],
            schedule: '@daily',
            startDate: '2026-01-01',
          },
          (d) => {
            const a = d.shell('extract', { command: 'true' });
            const b = d.shell('load', { command: 'true' });
            a.before(b);
          },
        ).spec,
    );
    await store(s, small, 2);
    progress(NAME, `data written in ${ms(monotonicMs() - t0)}`);

    const ops = new StoreOperations(s, systemClock);
    const auth = createAuth(s, systemClock);
    await auth.users.create('bench', 'viewer', 'bench password 1');
    const user = await auth.users.authenticate('bench', 'bench password 1');
    const token = (await auth.tokens.create(user!.id, 'bench')).token;
    const http = await startHttpServer({
      port: 0,
      host: '127.0.0.1',
      version: 'bench',
      health: healthSource(s, null),
      api: { ops, store: s, auth, version: 'bench' },
    });
    scope.defer('close the HTTP server', () => http.close());
    const get = async (url: string) => {
      const response = await fetch(`${http.url}${url}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      if (!response.ok) throw new Error(`${url}: ${response.status} ${await response.text()}`);
      return response.json() as Promise<unknown>;
    };

    const spec = (await ops.getDag('big')).spec;
    const gridQueries = await medianOf(() => readGrid(s.db, spec, RUNS));
    const gridApi = await medianOf(() => get(`/api/v1/dags/big/grid?limit=${RUNS}`));
    const grid = (await get(`/api/v1/dags/big/grid?limit=${RUNS}`)) as { states: string[][] };
    const cells = grid.states.reduce((n, row) => n + row.length, 0);
    if (cells !== TASKS * RUNS)
      throw new Error(`grid has ${cells} cells, expected ${TASKS * RUNS}`);
    const bytes = JSON.stringify(grid).length;
    progress(
      NAME,
      `grid API: ${ms(gridApi)} (${(bytes / 1024).toFixed(0)} KiB; store queries alone ${ms(gridQueries)})`,
    );
    const listQueries = await medianOf(() => ops.listDags());
    const listApi = await medianOf(() => get('/api/v1/dags'));
    progress(NAME, `DAG list API: ${ms(listApi)} (store alone ${ms(listQueries)})`);

    const browser = await launchChromium();
    scope.defer('close Chromium', () => browser.close());
    const page = await browser.context.newPage();
    await page.goto(`${http.url}/`);
    await page.getByLabel('User name').fill('bench');
    await page.getByLabel('Password').fill('bench password 1');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('.dag-table tbody tr').first().waitFor();

    /**
     * Opens `hash` from another view and waits until `ready` (a JavaScript expression)
     * holds in the page; returns the milliseconds. The page code is a string, so the
     * TypeScript runner's helpers do not leak into it.
     */
    const render = (hash: string, ready: string) =>
      page.evaluate(`(async () => {
        const until = (check) => new Promise((resolve) => {
          const poll = () => (check() ? resolve() : requestAnimationFrame(poll));
          poll();
        });
        location.hash = '#/pools';
        await until(() => document.querySelector('h1')?.textContent === 'Pools');
        const t0 = performance.now();
        location.hash = ${JSON.stringify(hash)};
        await until(() => ${ready});
        return performance.now() - t0;
      })()`) as Promise<number>;
    const gridReady = `document.querySelectorAll('.grid-row').length > 0 && document.querySelectorAll('.grid .run-col').length === ${RUNS} && document.querySelectorAll('.grid-row .cell .dot').length >= ${RUNS}`;
    const renderMedian = async (hash: string, ready: string) => {
      await render(hash, ready);
      const times: number[] = [];
      for (let i = 0; i < TRIES; i++) times.push(await render(hash, ready));
      return median(times);
    };
    const tinyRender = await renderMedian(
      '#/dags/tiny',
      `document.querySelectorAll('.grid-row').length === 10`,
    );
    const bigRender = await renderMedian('#/dags/big', gridReady);
    progress(NAME, `grid render: ${ms(bigRender)} (10-task DAG, 1 run: ${ms(tinyRender)})`);
    const listRender = await renderMedian(
      '#/',
      `document.querySelectorAll('.dag-table tbody tr').length === ${LIST_DAGS}`,
    );
    progress(NAME, `DAG list render: ${ms(listRender)}`);
    const cold = await timed(async () => {
      await page.goto(`${http.url}/#/dags/big`);
      // Polled in the page by the test driver (a string to waitForFunction would need eval, which the CSP refuses).
      await page.evaluate(
        `new Promise((resolve) => { const poll = () => (${gridReady}) ? resolve() : requestAnimationFrame(poll); poll(); })`,
      );
    });
    progress(NAME, `grid page cold load (bundle, session, API, render): ${ms(cold)}`);

    const row = (
      metric: string,
      value: number,
      target: number | null,
      baseline: string,
    ): Figure => ({
      benchmark: NAME,
      metric,
      value: ms(value),
      target: target === null ? '—' : `< ${ms(target)}`,
      met: target === null ? null : value < target,
      baseline,
    });
    return [
      row(
        `Grid API, ${TASKS} tasks × ${RUNS} runs (${(bytes / 1024).toFixed(0)} KiB)`,
        gridApi,
        1000,
        `store queries: ${ms(gridQueries)}`,
      ),
      row(
        `Grid render in Chromium, ${TASKS} × ${RUNS}`,
        bigRender,
        1000,
        `10-task DAG, 1 run: ${ms(tinyRender)}`,
      ),
      row('Grid page cold load (bundle, session, API, render)', cold, null, ''),
      row(`DAG list API, ${LIST_DAGS} DAGs`, listApi, null, `store queries: ${ms(listQueries)}`),
      row(`DAG list render in Chromium, ${LIST_DAGS} DAGs`, listRender, null, ''),
    ];
  });
}

runMain(import.meta.url, uiGrid);
