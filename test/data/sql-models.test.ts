import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileSqlModels } from '../../src/data/sql-models.ts';
import { STORE_BACKENDS } from '../support/stores.ts';
import { type DataHarness, openDataHarness, readVersionRows } from './support.ts';

function writeModels(dir: string, files: Record<string, string>): string {
  rmSync(dir, { recursive: true, force: true });
  for (const [name, sql] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), sql);
  }
  return dir;
}

const MODELS = {
  'staging/stg_orders.sql': `select id, customer_id, amount from {{ source('orders') }} where amount > 0`,
  'staging/stg_customers.sql': `select id, upper(name) as name from {{ source("customers") }}`,
  'marts/customer_totals.sql': `select c.name, sum(o.amount) as total
    from {{ ref('stg_orders') }} o join {{ ref('stg_customers') }} c on c.id = o.customer_id
    group by c.name`,
  'marts/top_customer.sql': `select name from {{ ref('customer_totals') }} order by total desc limit 1`,
};

describe('compiling SQL models', () => {
  const dir = path.join(os.tmpdir(), `updraft-models-${process.pid}`);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('orders models by their refs, in levels that can run in parallel', async () => {
    const plan = await compileSqlModels(writeModels(dir, MODELS));
    expect(plan.levels).toEqual([
      ['stg_customers', 'stg_orders'],
      ['customer_totals'],
      ['top_customer'],
    ]);
    expect(plan.sources).toEqual(['customers', 'orders']);
    expect(plan.models.find((m) => m.name === 'customer_totals')?.compiled).toContain(
      'from "stg_orders" o join "stg_customers" c',
    );
  });

  it('names the file and line of a ref to a missing model, with a suggestion', async () => {
    writeModels(dir, { 'a.sql': 'select 1 as x', 'b.sql': `select *\nfrom {{ ref('aa') }}` });
    await expect(compileSqlModels(dir)).rejects.toThrow(
      `${path.join(dir, 'b.sql')}:2: model 'b' refers to model 'aa', which does not exist (did you mean 'a'?)`,
    );
  });

  it('reports a cycle with its path', async () => {
    writeModels(dir, {
      'a.sql': `select * from {{ ref('c') }}`,
      'b.sql': `select * from {{ ref('a') }}`,
      'c.sql': `select * from {{ ref('b') }}`,
      'd.sql': 'select 1',
    });
    await expect(compileSqlModels(dir)).rejects.toThrow(
      'models refer to each other in a cycle: a → c → b → a',
    );
  });

  it('refuses unknown templates, duplicate names, bad file names and a missing folder', async () => {
    writeModels(dir, {
      'a.sql': `select {{ config(materialized='table') }}`,
      'x/a.sql': 'select 1',
      'bad-name.sql': 'select 1',
    });
    const error = (await compileSqlModels(dir).catch((e: Error) => e)) as Error;
    expect(error.message).toContain(
      `'{{ config(materialized='table') }}' is not {{ ref('model') }} or {{ source('dataset') }}`,
    );
    expect(error.message).toContain("model 'a' is defined twice");
    expect(error.message).toContain("'bad-name' is not a valid model name");
    await expect(compileSqlModels(path.join(dir, 'nope'))).rejects.toThrow(
      'the models folder does not exist',
    );
  });
});

for (const backend of STORE_BACKENDS) {
  describe(`sql_models operator on ${backend.name}`, () => {
    let h: DataHarness;
    let run: { runPk: number; dagId: string; runId: string };
    beforeAll(async () => {
      h = await openDataHarness(backend);
      run = { runPk: await h.createRun('dbt', 'r1'), dagId: 'dbt', runId: 'r1' };
      await h.runTask(run, {
        taskId: 'o',
        operator: 'duckdb',
        config: {
          query:
            'select * from (values (1, 1, 10), (2, 2, 30), (3, 1, -5), (4, 1, 25)) t(id, customer_id, amount)',
          output: 'orders',
        },
      });
      await h.runTask(run, {
        taskId: 'c',
        operator: 'duckdb',
        config: {
          query: `select * from (values (1, 'ann'), (2, 'bob')) t(id, name)`,
          output: 'customers',
        },
      });
    });
    afterAll(async () => {
      await h?.close();
    });

    it('runs the models in dependency order, independent ones in parallel, and publishes datasets', async () => {
      writeModels(path.join(h.pipelineDir, 'models'), MODELS);
      const { outcome, updatedDatasets } = await h.runTask(run, {
        taskId: 'models',
        operator: 'sql_models',
        inlets: ['orders', 'customers'],
        config: {
          path: 'models',
          publish: ['customer_totals', 'top_customer'],
          datasetPrefix: 'mart.',
        },
      });
      expect(outcome.error?.message).toBeUndefined();
      const result = outcome.result as {
        models: { model: string; level: number }[];
        maxConcurrent: number;
      };
      const order = result.models.map((m) => m.model);
      expect(order.indexOf('customer_totals')).toBeGreaterThan(order.indexOf('stg_orders'));
      expect(order.indexOf('customer_totals')).toBeGreaterThan(order.indexOf('stg_customers'));
      expect(order.at(-1)).toBe('top_customer');
      expect(result.maxConcurrent).toBe(2); // both staging models at once
      expect(updatedDatasets).toEqual(['mart.customer_totals', 'mart.top_customer']);
      expect(
        await readVersionRows((await h.ops.showVersion('mart.customer_totals')).location),
      ).toEqual([
        { name: 'ANN', total: 35 },
        { name: 'BOB', total: 30 },
      ]);
      expect((await h.ops.lineage('mart.top_customer')).upstream).toEqual(['customers', 'orders']);
    });

    it('fails naming the model, its file and the DuckDB message, publishing nothing', async () => {
      writeModels(path.join(h.pipelineDir, 'broken'), {
        'ok.sql': `select * from {{ source('orders') }}`,
        'bad.sql': `select amount / nope from {{ ref('ok') }}`,
        'after.sql': `select * from {{ ref('bad') }}`,
      });
      const { outcome } = await h.runTask(run, {
        taskId: 'broken',
        operator: 'sql_models',
        inlets: ['orders'],
        config: { path: 'broken' },
      });
      expect(outcome.error?.message).toContain(
        `task 'broken' model 'bad' (${path.join(h.pipelineDir, 'broken', 'bad.sql')}): DuckDB error: Binder Error`,
      );
      expect(outcome.error?.message).toContain('nope');
      expect(outcome.error?.message).toContain('not run: after');
      expect((await h.ops.listDatasets()).map((d) => d.name)).not.toContain('ok');

      const cycle = await h.runTask(run, {
        taskId: 'cyc',
        operator: 'sql_models',
        config: { path: 'nowhere' },
      });
      expect(cycle.outcome.exitReason).toBe('error_no_retry');
      expect(cycle.outcome.error?.message).toContain("task 'cyc': the SQL models do not compile");

      writeModels(path.join(h.pipelineDir, 'nosource'), {
        'a.sql': `select * from {{ source('payments') }}`,
      });
      const missing = await h.runTask(run, {
        taskId: 'ns',
        operator: 'sql_models',
        inlets: ['orders'],
        config: { path: 'nosource' },
      });
      expect(missing.outcome.error?.message).toContain(
        "source('payments') (in model a) is not among the task's inlets (orders)",
      );
    });
  });
}
