/**
 * Quality results, deadline-miss marks and the Reports page in Chromium, over data the
 * whole engine produced on an injected clock: the dataset page's Quality column, a
 * version's check results with thresholds and the quarantine link, the metric history
 * chart with its anomaly; the Grid's marks on a late task (while it runs, then by how
 * much once it finished) and the run; the report per DAG and overall. By keyboard,
 * hostile text shown as text, no CSP violation. Screenshots in reports/screenshots/.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuth } from '../../src/auth/auth.ts';
import { ManualClock, systemClock } from '../../src/core/clock.ts';
import { listDeadlineMisses } from '../../src/notify/deadline-misses.ts';
import { type HttpServer, startHttpServer } from '../../src/server/app.ts';
import { healthSource } from '../../src/server/health-source.ts';
import { uiBuildDir } from '../../src/server/routes/ui.ts';
import {
  apiContextOf,
  DEADLINE_DAG,
  QUALITY_PIPELINE,
  runQualitySeries,
} from '../server/support.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';
import { STORE_BACKENDS } from '../support/stores.ts';
import { type Browser, launchChromium } from './browser.ts';

const SHOTS = path.resolve('reports/screenshots');
const PASSWORD = 'e2e password 456';

describe('quality, deadlines and reports in Chromium', () => {
  let rt: TestRuntime;
  let http: HttpServer;
  let browser: Browser;
  let page: Page;
  // The engine's clock starts six days back: the quality runs are a day apart (a duration
  // trend over the week), and it stays about 30 minutes behind the browser's afterwards,
  // so a task still running past its deadline reads as late by the browser's clock.
  const clock = new ManualClock(Date.now() - 6 * 86_400_000 - 30 * 60_000);
  const gate = path.join(os.tmpdir(), `updraft-e2e-gate-${process.pid}`);
  const problems: string[] = [];
  const shot = (name: string) =>
    page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    if (!existsSync(path.join(uiBuildDir(), 'index.html'))) {
      execFileSync('npm', ['run', 'build:ui'], { stdio: 'inherit' });
    }
    mkdirSync(SHOTS, { recursive: true });
    rmSync(gate, { force: true });
    rt = await startTestRuntime(
      STORE_BACKENDS[0]!,
      { 'orders.yaml': QUALITY_PIPELINE, 'sla.ts': DEADLINE_DAG(gate) },
      { clock },
    );
    await runQualitySeries(rt, clock, 86_400_000);
    const auth = createAuth(rt.runtime.store, systemClock);
    await auth.users.create('vera', 'viewer', PASSWORD);
    http = await startHttpServer({
      port: 0,
      host: '127.0.0.1',
      version: 'e2e',
      health: healthSource(rt.runtime.store, rt.runtime.scheduler),
      api: apiContextOf(rt, auth, 'e2e'),
    });
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${http.url}/#/datasets/orders`);
    await page.getByLabel('User name').fill('vera');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    await http?.close();
    await rt?.close();
    rmSync(gate, { force: true });
  });

  it("shows quality per version, a version's check results, the quarantine link and the metric history", async () => {
    const row = (v: number) => page.getByRole('row', { name: new RegExp(`^v${v} `) });
    await row(5).getByText('2 error').waitFor();
    expect(await row(5).getByText('blocked').count()).toBe(1);
    expect(await row(5).getByText('3 pass').count()).toBe(1);
    expect(await row(6).getByText('5 pass').count()).toBe(1);
    expect(await row(1).getByText('1 skipped').count()).toBe(1);

    // By keyboard: the v5 link opens its check results.
    await row(5).getByRole('link', { name: 'v5' }).focus();
    await page.keyboard.press('Enter');
    const results = page.getByRole('region', { name: 'quality checks of v5' });
    await results.getByText('a blocking check failed').waitFor();
    const check = (id: string) =>
      results.getByRole('row', { name: new RegExp(`^${id.replace('.', '\\.')}`) });
    const range = check('range.amount');
    expect(await range.getByText('error', { exact: true }).count()).toBeGreaterThan(0);
    expect(await range.getByText('amount ≥ 0').count()).toBe(1);
    const anomaly = check('anomaly.row_count');
    expect(await anomaly.getByText('score ≤ 3.5 (after 3 points)').count()).toBe(1);
    expect(await anomaly.getByText(/row_count = 500, outside/).count()).toBe(1);
    expect(await check('not_null.category').getByText('error if > 5%; warn if > 0').count()).toBe(
      1,
    );
    // A hostile accepted value is text, not markup.
    await check('accepted_values.category')
      .getByText('in c0, c1, c2, <img src=x onerror=window.__xss=1>')
      .waitFor();

    // The metric history: row_count with the spike at v5 marked.
    const chart = page.getByRole('img', {
      name: /row_count of orders over 6 versions, 1 anomalous/,
    });
    await chart.waitFor();
    expect(await chart.locator('circle.marked').count()).toBe(1);
    expect(
      await page.getByRole('region', { name: 'metric history' }).getByText('v5').count(),
    ).toBeGreaterThan(0);
    await shot('16-dataset-quality');
    await page.getByLabel('metric', { exact: true }).selectOption('sum(amount)');
    await page
      .getByRole('img', { name: /sum\(amount\) of orders over 6 versions, 0 anomalous/ })
      .waitFor();
    await page.getByLabel('metric', { exact: true }).selectOption('row_count');

    // The quarantine link leads to the failing rows' version.
    await range.getByRole('link', { name: 'orders.quarantine v1' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'orders.quarantine v1' }).waitFor();
    await page
      .getByRole('complementary', { name: 'version manifest' })
      .getByText('_check_id')
      .waitFor();
    expect(
      await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss),
    ).toBeUndefined();
  }, 120_000);

  it('marks a task and a run that missed their deadlines, while running and then by how much', async () => {
    const ops = rt.runtime.ops;
    await ops.triggerRun('sla', { runId: 'late1' });
    await rt.waitFor(async () => {
      const ti = await ops.getTaskInstance('sla', 'late1', 'wait');
      return ti.state === 'running' ? true : undefined;
    }, 'the task to run');
    clock.advance(5 * 60_000 + 1);
    const misses = async (n: number) =>
      rt.waitFor(
        async () =>
          (await listDeadlineMisses(rt.runtime.store.db, { dagId: 'sla' })).length === n
            ? true
            : undefined,
        `${n} deadline miss(es)`,
      );
    await misses(1);
    await page.goto(`${http.url}/#/dags/sla?run=late1&task=wait`);
    const cell = page.getByLabel(/^wait in late1: running, missed its deadline/);
    await cell.waitFor();
    const note = page.getByRole('note', { name: 'missed deadlines' });
    await note.getByText(/not finished, \d+ min( \d+ s)? past the deadline/).waitFor();
    expect(await note.getByText(/5 min after the run started/).count()).toBe(1);
    await shot('17-deadline-running');

    // The run misses its own deadline too, while the work goes on.
    clock.advance(5 * 60_000);
    await misses(2);
    await page.reload();
    await page.getByLabel(/^run late1: running, missed its deadline/).waitFor();
    // The task finishes 3 min later: the marks say by how much, without a reload.
    clock.advance(3 * 60_000);
    writeFileSync(gate, '');
    await rt.waitForRun('sla', 'late1');
    await page
      .getByLabel(/^wait in late1: success, missed its deadline .*finished 8 min late/)
      .waitFor();
    await page.getByLabel(/^run late1: success, missed its deadline/).focus();
    await page.keyboard.press('Enter');
    const runNote = page
      .getByRole('complementary', { name: 'run details' })
      .getByRole('note', { name: 'missed deadlines' });
    await runNote.getByText('2 missed deadlines').waitFor();
    expect(await runNote.getByText('finished 3 min late').count()).toBe(1);
    expect(await runNote.getByText('finished 8 min late').count()).toBe(1);
    await shot('18-deadline-missed');

    // The task page says so too.
    await page.goto(`${http.url}/#/dags/sla/runs/late1/tasks/wait`);
    await page.getByText('deadline missed', { exact: true }).waitFor();
    await page.getByText('finished 8 min late').waitFor();
  }, 120_000);

  it('shows the operations report per DAG and overall, for a period chosen by keyboard', async () => {
    // An hour later (on the engine's clock) the lead opens the report.
    clock.advance(60 * 60_000);
    await page.getByRole('link', { name: 'Reports' }).focus();
    await page.keyboard.press('Enter');
    const overall = page.getByRole('region', { name: 'overall' });
    await overall.getByText('Deadline misses').waitFor();
    const stat = (label: string) =>
      overall.locator('.stat').filter({ has: page.getByText(label, { exact: true }) });
    expect(await stat('Runs').locator('.stat-value').textContent()).toBe('7');
    expect(await stat('Success rate').locator('.stat-value').textContent()).toBe('85.7%');
    expect(await stat('Deadline misses').locator('.stat-value').textContent()).toBe('2');
    expect(await stat('Quality failures').locator('.stat-value').textContent()).toBe('2');
    const orders = page.getByRole('row', { name: /^orders_etl / });
    expect(await orders.getByText('83.3%').count()).toBe(1);
    const sla = page.getByRole('row', { name: /^sla / });
    expect(await sla.getByRole('cell', { name: '2', exact: true }).count()).toBe(1);
    await page.getByRole('img', { name: /mean run duration per day/ }).waitFor();
    await shot('19-reports');

    await page.getByRole('button', { name: '30 days' }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.url()).toContain('since=30d');
    expect(await page.getByRole('button', { name: '30 days' }).getAttribute('aria-pressed')).toBe(
      'true',
    );
    await overall.getByText('Deadline misses').waitFor();
    expect(problems.filter((p) => /Content Security Policy|Refused to/.test(p))).toEqual([]);
    // Nothing else went wrong but the 401 of the session check before logging in.
    expect(problems.filter((p) => !p.includes('status of 401'))).toEqual([]);
  }, 60_000);
});
