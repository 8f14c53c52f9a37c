/**
 * The dataset pages in Chromium over the real data layer: list, versions with their
 * manifest, lineage, promote and roll back an alias (each confirmed).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuth } from '../../src/auth/auth.ts';
import { systemClock } from '../../src/core/clock.ts';
import { StoreOperations } from '../../src/ops/store-operations.ts';
import { StoreQualityOperations } from '../../src/quality/quality-operations.ts';
import { type HttpServer, startHttpServer } from '../../src/server/app.ts';
import { healthSource } from '../../src/server/health-source.ts';
import { type DataHarness, openDataHarness } from '../data/support.ts';
import { seedDatasetVersions } from '../server/support.ts';
import { STORE_BACKENDS } from '../support/stores.ts';
import { type Browser, launchChromium } from './browser.ts';

const SHOTS = path.resolve('reports/screenshots');

describe('dataset pages in Chromium', () => {
  let h: DataHarness;
  let http: HttpServer;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    h = await openDataHarness(STORE_BACKENDS[0]!);
    await seedDatasetVersions(h, {
      dagId: 'orders_etl',
      taskId: 'snapshot_orders',
      dataset: 'orders',
      count: 3,
      rowsEach: 100,
    });
    const auth = createAuth(h.store, systemClock);
    await auth.users.create('olga', 'op', 'olga password 1');
    http = await startHttpServer({
      port: 0,
      host: '127.0.0.1',
      version: 'e2e',
      health: healthSource(h.store, null),
      api: {
        ops: new StoreOperations(h.store, systemClock),
        store: h.store,
        auth,
        datasets: h.ops,
        quality: new StoreQualityOperations(h.store, h.storage),
        version: 'e2e',
      },
    });
    browser = await launchChromium();
    page = await browser.context.newPage();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await http?.close();
    await h?.close();
  });

  it('shows versions and manifest, promotes and rolls back an alias', async () => {
    await page.goto(`${http.url}/#/datasets`);
    await page.getByLabel('User name').fill('olga');
    await page.getByLabel('Password').fill('olga password 1');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('link', { name: 'orders', exact: true }).click();
    await page
      .getByRole('complementary', { name: 'version manifest' })
      .getByText('amount')
      .waitFor();
    await page.getByRole('link', { name: 'v2' }).click();
    await page.getByRole('heading', { name: 'orders v2' }).waitFor();
    // No quality task checked these versions: said plainly, no error.
    await page.getByText('No quality task has checked this version.').waitFor();
    expect(await page.getByText('not checked').count()).toBe(3);
    expect(await page.getByRole('alert').count()).toBe(0);

    await page.getByRole('row', { name: /^v2 / }).getByRole('button', { name: 'Promote' }).click();
    await page.getByLabel('Alias').fill('prod');
    await page.getByLabel('Reason').fill('checked by hand');
    await page.getByRole('dialog').getByRole('button', { name: 'Promote' }).click();
    await page.getByRole('row', { name: /^v2 / }).getByText('prod').waitFor();
    await page.getByRole('row', { name: /^v3 / }).getByRole('button', { name: 'Promote' }).click();
    await page.getByLabel('Alias').fill('prod');
    await page.getByRole('dialog').getByRole('button', { name: 'Promote' }).click();
    await page.getByRole('row', { name: /^v3 / }).getByText('prod').waitFor();
    await page.screenshot({ path: path.join(SHOTS, '13-dataset.png'), fullPage: true });

    await page.getByRole('button', { name: 'Roll back prod' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Roll back' }).click();
    await page.getByRole('row', { name: /^v2 / }).getByText('prod').waitFor();
    await page.getByRole('cell', { name: 'rollback' }).waitFor();
    expect((await h.ops.listDatasets())[0]?.aliases).toMatchObject({ prod: 2, latest: 3 });
    await page.screenshot({ path: path.join(SHOTS, '14-dataset-rolled-back.png'), fullPage: true });
  }, 120_000);
});
