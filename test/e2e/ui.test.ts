/**
 * The web UI in a real browser (Debian's Chromium): log in, find a DAG, trigger it with
 * params, watch it turn green live, open a log, clear a task and see it run again.
 * Hostile names are shown as text, and the page runs under its CSP without violations.
 * Screenshots are kept in reports/screenshots/ as test output.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuth } from '../../src/auth/auth.ts';
import { systemClock } from '../../src/core/clock.ts';
import { type HttpServer, startHttpServer } from '../../src/server/app.ts';
import { healthSource } from '../../src/server/health-source.ts';
import { uiBuildDir } from '../../src/server/routes/ui.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';
import { STORE_BACKENDS } from '../support/stores.ts';
import { type Browser, launchChromium } from './browser.ts';

const SHOTS = path.resolve('reports/screenshots');
const PASSWORD = 'e2e password 123';

const ORDERS = `
import { dag } from 'updraft';
export default dag({
  id: 'orders',
  description: 'Orders <img src=x onerror="window.__xss=1"> & "quotes"',
  owner: "o'brien",
  tags: ['sales', 'javascript:alert(1)'],
  params: {
    type: 'object',
    properties: {
      region: { type: 'string', enum: ['eu', 'us'], default: 'eu', description: 'Which region to load' },
      limit: { type: 'integer', minimum: 1, default: 10 },
      dryRun: { type: 'boolean', default: false },
    },
  },
}, (d) => {
  const extract = d.task('extract', async (ctx) => {
    ctx.log.info('extracting orders', { region: ctx.params.region, limit: ctx.params.limit });
    await new Promise((r) => setTimeout(r, 600));
    return { rows: Number(ctx.params.limit) };
  });
  d.group('transform', (g) => {
    const clean = g.task('clean', async (ctx) => ctx.upstream.extract);
    const dedupe = g.task('dedupe', async () => 1);
    extract.before(clean);
    clean.before(dedupe);
  });
  const load = d.shell('load', { command: 'echo loading; sleep 0.3; echo done' });
  extract.before(load);
});
`;

const QUIET = `
import { dag } from 'updraft';
export default dag({ id: 'zz_quiet', owner: 'ops', tags: ['maintenance'], schedule: '@daily', startDate: '2026-01-01' }, (d) => {
  d.task('noop', async () => {
    await new Promise((r) => setTimeout(r, 400));
  });
});
`;

describe('web UI in Chromium', () => {
  let rt: TestRuntime;
  let http: HttpServer;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    if (!existsSync(path.join(uiBuildDir(), 'index.html'))) {
      execFileSync('npm', ['run', 'build:ui'], { stdio: 'inherit' });
    }
    mkdirSync(SHOTS, { recursive: true });
    rt = await startTestRuntime(STORE_BACKENDS[0]!, { 'orders.ts': ORDERS, 'zz_quiet.ts': QUIET });
    await rt.runtime.ops.setPaused('zz_quiet', true);
    const auth = createAuth(rt.runtime.store, systemClock);
    await auth.users.create('ada', 'admin', PASSWORD);
    http = await startHttpServer({
      port: 0,
      host: '127.0.0.1',
      version: 'e2e',
      health: healthSource(rt.runtime.store, rt.runtime.scheduler),
      api: { ops: rt.runtime.ops, store: rt.runtime.store, auth, version: 'e2e', livePollMs: 200 },
    });
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await http?.close();
    await rt?.close();
  });

  const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) });

  it('logs in, triggers with params, watches the run turn green live, reads a log, clears a task', async () => {
    await page.goto(http.url);
    await page.getByLabel('User name').waitFor();
    await shot('01-login');
    await page.getByLabel('User name').fill('ada');
    await page.getByLabel('Password').fill('wrong password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByText('wrong user name or password').waitFor();
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();

    // The DAG list: hostile text shown as text.
    await page.getByRole('link', { name: 'orders', exact: true }).waitFor();
    await expect.poll(() => page.locator('.dag-table tbody tr').count()).toBe(2);
    await shot('02-dag-list');
    expect(
      await page.getByText('Orders <img src=x onerror="window.__xss=1"> & "quotes"').count(),
    ).toBe(1);
    expect(await page.getByRole('button', { name: 'javascript:alert(1)' }).count()).toBe(1);
    expect(await page.locator('a[href^="javascript:"]').count()).toBe(0);
    await page.getByLabel('search DAGs').fill('quiet');
    await expect.poll(() => page.locator('.dag-table tbody tr').count()).toBe(1);
    await page.getByLabel('search DAGs').fill('ord');
    await page.getByRole('link', { name: 'orders', exact: true }).click();

    // Trigger with params: a bad value is refused naming the field, a good one runs.
    await page.getByRole('button', { name: '▶ Trigger' }).click();
    await page.getByLabel(/region/).selectOption('us');
    await page.getByLabel(/limit/).fill('0');
    await page.getByRole('button', { name: 'Trigger run' }).click();
    await page.locator('.field-error').waitFor();
    expect(await page.locator('.field-error').textContent()).toContain("param 'limit'");
    await shot('03-trigger-refused');
    await page.getByLabel(/limit/).fill('7');
    await page.getByRole('button', { name: 'Trigger run' }).click();
    await page.getByText(/Run manual__.* triggered/).waitFor();
    const runId = (await rt.runtime.ops.listRuns('orders'))[0]!.runId;

    // Live: the run's cells turn green without a reload.
    const cell = (task: string) => page.getByLabel(`${task} in ${runId}: success`);
    await cell('load').waitFor({ timeout: 30_000 });
    await cell('transform.dedupe').waitFor({ timeout: 30_000 });
    await page.getByLabel(`run ${runId}: success`).waitFor({ timeout: 30_000 });
    await shot('04-grid-green');

    // Graph and Gantt of the run.
    await page.getByRole('tab', { name: 'Graph' }).click();
    await page.getByRole('button', { name: 'task extract: success' }).waitFor();
    await shot('05-graph');
    await page.getByText('▾ transform').click();
    await page.getByRole('button', { name: 'group transform: success' }).waitFor();
    await shot('06-graph-collapsed');
    await page.getByRole('tab', { name: 'Gantt' }).click();
    await page.getByTestId('gantt').waitFor();
    await shot('07-gantt');
    await page.getByRole('tab', { name: 'Code' }).click();
    await page.getByText("id: 'orders'").waitFor();
    await shot('08-code');

    // The params are shown as text in the run panel.
    await page.getByRole('tab', { name: 'Grid' }).click();
    await page.getByLabel(`extract in ${runId}: success`).click();
    await page.getByRole('link', { name: /Logs and attempts/ }).click();
    await page.getByTestId('log').getByText('extracting orders').waitFor();
    expect(await page.getByTestId('log').textContent()).toContain('region=us');
    await page.getByLabel('search the log').fill('extracting');
    await page.locator('.log mark').first().waitFor();
    await shot('09-task-log');

    // Clear the task with its downstream: it runs again (try 2) and turns green live.
    await page.getByRole('link', { name: 'Back to the grid' }).click();
    await page.getByRole('button', { name: 'Clear' }).click();
    await page.getByRole('dialog', { name: 'Clear task' }).waitFor();
    await shot('10-clear-confirm');
    await page.getByRole('dialog').getByRole('button', { name: 'Clear' }).click();
    await expect
      .poll(
        async () => {
          const ti = await rt.runtime.ops.getTaskInstance('orders', runId, 'extract');
          return `${ti.state} ${ti.attempts.map((a) => a.tryNumber).join(',')}`;
        },
        { timeout: 30_000 },
      )
      .toBe('success 1,2');
    await rt.waitForRun('orders', runId);
    // The page shows it without a reload.
    await page.getByText('2 of 2').waitFor({ timeout: 10_000 });
    await page.getByLabel(`load in ${runId}: success`).waitFor({ timeout: 10_000 });
    await page.getByLabel(`run ${runId}: success`).waitFor({ timeout: 10_000 });
    await shot('11-cleared-rerun');

    // The run's params, with a hostile value, are shown as text; nothing ran.
    const hostile = await rt.runtime.ops.triggerRun('orders', {
      params: { region: 'eu', limit: 1 },
      runId: 'hostile_run',
    });
    await page.goto(`${http.url}/#/dags/orders?run=${hostile.runId}`);
    await page.getByRole('complementary', { name: 'run details' }).waitFor();
    expect(
      await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss),
    ).toBeUndefined();

    // The audit log lists what was done, with who and from where.
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByText('dag.trigger').first().waitFor();
    await shot('12-audit');
    expect(await page.getByText('run.clear').count()).toBeGreaterThan(0);
    expect(problems.filter((p) => /Content Security Policy|Refused to/.test(p))).toEqual([]);
  }, 180_000);

  it('creates a backfill with confirmation, shows it running, and cancels it', async () => {
    await page.goto(`${http.url}/#/dags/zz_quiet`);
    await page.getByRole('button', { name: 'Backfill' }).click();
    await page.getByLabel('From').fill('2026-02-01');
    await page.getByLabel('To').fill('2026-02-28');
    await page.getByLabel('Runs at once').fill('1');
    await page.getByRole('dialog').getByRole('button', { name: 'Backfill' }).click();
    await page.getByText('Create runs of zz_quiet from 2026-02-01 to 2026-02-28?').waitFor();
    await page.getByRole('button', { name: 'Yes, create the backfill' }).click();
    await page.getByText('Backfill created.').waitFor();
    await page.locator('.backfill-line').getByText('running').waitFor();
    expect(await page.locator('.backfill-line').textContent()).toContain(
      '28 run(s), at most 1 at once',
    );
    await shot('15-backfill');
    await page.locator('.backfill-line').getByRole('button', { name: 'cancel' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel backfill' }).click();
    await page.locator('.backfill-line').getByText('cancelled').waitFor();
    const [backfill] = await rt.runtime.ops.listBackfills('zz_quiet');
    expect(backfill?.state).toBe('cancelled');
  }, 60_000);

  it('works from the keyboard: links, grid cells, dialogs', async () => {
    await page.goto(`${http.url}/#/`);
    await page.getByLabel('search DAGs').focus();
    await page.keyboard.type('orders');
    await page.getByRole('link', { name: 'orders', exact: true }).focus();
    await page.keyboard.press('Enter');
    const [run] = await rt.runtime.ops.listRuns('orders', { limit: 1 });
    const cell = page.getByLabel(`load in ${run!.runId}: success`);
    await cell.focus();
    await page.keyboard.press('Enter');
    await page.getByRole('complementary', { name: 'task instance details' }).waitFor();
    await page.getByRole('button', { name: '▶ Trigger' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: 'Trigger orders' }).waitFor();
    // The first field has the focus; Escape closes the dialog.
    expect(await page.evaluate('document.activeElement?.id')).toBe('param-limit');
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
  }, 60_000);
});
