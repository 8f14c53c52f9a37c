/**
 * SQL models (`sql_models`), compiled at load time into a task group with one `duckdb`
 * task per model:
 * - the compiler: order, levels, and bad input named by file and line;
 * - loading: problems at load time keep the other pipelines loading, and a changed model
 *   is picked up (new DAG version) by the DAG processor, for TypeScript and YAML;
 * - the engine, on both stores: dependency order, two independent models running at the
 *   same time (from the recorded start and end times), a failing model failing its own
 *   task only, model → model lineage, and a re-run reading the same upstream versions.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { dag } from '../../src/authoring/dag.ts';
import { compileSqlModels } from '../../src/data/sql-models.ts';
import { DagProcessor } from '../../src/loader/dag-processor.ts';
import type { FileLoadResult } from '../../src/loader/file-load-result.ts';
import { tempDir, tempPipelines, writeText } from '../loader/helpers.ts';
import { allIssues, yamlFolder } from '../loader/yaml/helpers.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';
import { STORE_BACKENDS } from '../support/stores.ts';
import { readVersionRows } from './support.ts';

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

  it('orders models by their refs, in levels that can run in parallel, recording what it read', () => {
    const { plan, issues, inputs } = compileSqlModels(writeModels(dir, MODELS));
    expect(issues).toEqual([]);
    expect(plan?.levels).toEqual([
      ['stg_customers', 'stg_orders'],
      ['customer_totals'],
      ['top_customer'],
    ]);
    expect(plan?.sources).toEqual(['customers', 'orders']);
    expect(plan?.models.find((m) => m.name === 'customer_totals')?.compiled).toContain(
      'from "stg_orders" o join "stg_customers" c',
    );
    expect(inputs.map((i) => path.relative(dir, i.path)).sort()).toEqual([
      '',
      'marts',
      'marts/customer_totals.sql',
      'marts/top_customer.sql',
      'staging',
      'staging/stg_customers.sql',
      'staging/stg_orders.sql',
    ]);
  });

  it('names the file and line of a ref to a missing model, with a suggestion', () => {
    writeModels(dir, { 'a.sql': 'select 1 as x', 'b.sql': `select *\nfrom {{ ref('aa') }}` });
    expect(compileSqlModels(dir).issues).toEqual([
      {
        file: path.join(dir, 'b.sql'),
        line: 2,
        message: "model 'b' refers to model 'aa', which does not exist",
        hint: "did you mean 'a'?",
      },
    ]);
  });

  it('reports a cycle with its path, at the ref that closes it', () => {
    writeModels(dir, {
      'a.sql': `select *\n\nfrom {{ ref('c') }}`,
      'b.sql': `select * from {{ ref('a') }}`,
      'c.sql': `select * from {{ ref('b') }}`,
      'd.sql': 'select 1',
    });
    expect(compileSqlModels(dir).issues).toMatchObject([
      {
        file: path.join(dir, 'a.sql'),
        line: 3,
        message: 'models refer to each other in a cycle: a → c → b → a',
      },
    ]);
  });

  it('refuses unknown or unclosed templates, duplicate names, bad file names and a missing folder', () => {
    writeModels(dir, {
      'a.sql': `select 1,\n {{ config(materialized='table') }}`,
      'x/a.sql': 'select 1',
      'bad-name.sql': 'select 1',
      'open.sql': `select 1\nfrom {{ ref('a') `,
    });
    const messages = compileSqlModels(dir).issues.map(
      (i) => `${path.relative(dir, i.file ?? '')}:${i.line ?? '-'}: ${i.message}`,
    );
    expect(messages).toEqual([
      `a.sql:2: '{{ config(materialized='table') }}' is not {{ ref('model') }} or {{ source('dataset') }}`,
      "bad-name.sql:-: 'bad-name' is not a valid model name",
      "open.sql:2: a '{{' is never closed with '}}'",
      "x/a.sql:-: model 'a' is defined twice",
    ]);
    const missing = compileSqlModels(path.join(dir, 'nope'));
    expect(missing.issues).toEqual([
      { file: path.join(dir, 'nope'), message: 'the models folder does not exist' },
    ]);
    // Watched anyway: creating the folder reloads the pipeline.
    expect(missing.inputs).toEqual([{ path: path.join(dir, 'nope'), digest: 'missing' }]);
  });
});

const TS_PIPELINE = `import { dag } from 'updraft';
export default dag({ id: 'dbt_ts' }, (d) => {
  d.sqlModels('models', { path: 'models', datasetPrefix: 'mart.' }, { inlets: ['orders', 'customers'] });
});
`;

const YAML_PIPELINE = `dags:
  dbt_yaml:
    tasks:
      models:
        operator: sql_models
        inlets: [orders, customers]
        config: { path: models, datasetPrefix: "mart." }
  other:
    tasks:
      t: { operator: shell, config: { command: "true" } }
`;

describe('sql_models at load time', () => {
  it('reports bad models by file and line, keeps the other DAGs loading, and picks up changes', async () => {
    const dir = await tempPipelines({
      'dbt.ts': TS_PIPELINE,
      'dbt.yaml': YAML_PIPELINE,
      'fine.ts': `import { dag } from 'updraft';\nexport default dag({ id: 'fine' }, (d) => { d.task('t', () => 1); });\n`,
    });
    const models = path.join(dir, 'models');
    writeModels(models, {
      ...MODELS,
      'marts/top_customer.sql': 'select name\nfrom {{ ref("customer_total") }}',
    });
    const results = new Map<string, FileLoadResult>();
    const processor = new DagProcessor({
      pipelinesDir: dir,
      home: await tempDir('updraft-home-'),
      watch: false,
      rescanIntervalMs: 3_600_000,
      onResult: (result) => results.set(path.basename(result.fileloc), result),
      onRemoved: () => {},
    });
    onTestFinished(() => processor.stop());
    for (const result of await processor.start())
      results.set(path.basename(result.fileloc), result);
    const missingRef = {
      file: path.join(models, 'marts/top_customer.sql'),
      line: 2,
      message: "model 'top_customer' refers to model 'customer_total', which does not exist",
      hint: "did you mean 'customer_totals'?",
    };
    expect(results.get('dbt.ts')?.dags).toEqual([]);
    expect(results.get('dbt.ts')?.issues).toMatchObject([
      { ...missingRef, dagId: 'dbt_ts', taskId: 'models' },
    ]);
    expect(results.get('dbt.yaml')?.dags.map((d) => d.spec.dagId)).toEqual(['other']);
    expect(results.get('dbt.yaml')?.issues).toMatchObject([
      { ...missingRef, dagId: 'dbt_yaml', taskId: 'models' },
    ]);
    expect(results.get('fine.ts')?.dags.map((d) => d.spec.dagId)).toEqual(['fine']);

    // Fixing the model loads both DAGs: one task per model, in the group 'models'.
    await writeText(path.join(models, 'marts/top_customer.sql'), MODELS['marts/top_customer.sql']);
    await processor.refresh();
    const taskIds = [
      'models.stg_customers',
      'models.stg_orders',
      'models.customer_totals',
      'models.top_customer',
    ];
    for (const file of ['dbt.ts', 'dbt.yaml']) {
      expect(results.get(file)?.issues).toEqual([]);
      const spec = results.get(file)?.dags[0]?.spec;
      expect(spec?.tasks.map((t) => t.taskId)).toEqual(taskIds);
      expect(spec?.groups.map((g) => g.groupId)).toEqual(['models']);
    }
    const before = new Map([...results].map(([f, r]) => [f, r.dags[0]?.versionHash]));

    // A changed model is a new DAG version, without touching the pipeline files.
    await writeText(
      path.join(models, 'marts/top_customer.sql'),
      'select name from {{ ref("customer_totals") }} limit 2',
    );
    await processor.refresh();
    for (const file of ['dbt.ts', 'dbt.yaml']) {
      const dag = results.get(file)?.dags[0];
      expect(dag?.versionHash).not.toBe(before.get(file));
      expect(dag?.spec.tasks.find((t) => t.taskId === 'models.top_customer')?.config.query).toBe(
        'select name from "customer_totals" limit 2',
      );
    }
    // A new model file in a sub-folder is a new task.
    await writeText(path.join(models, 'marts/extra/second.sql'), 'select 2 as n');
    await processor.refresh();
    expect(results.get('dbt.ts')?.dags[0]?.spec.tasks.map((t) => t.taskId)).toContain(
      'models.second',
    );
    expect(results.get('dbt.yaml')?.dags[0]?.spec.tasks.map((t) => t.taskId)).toContain(
      'models.second',
    );
    // So is a removed one, and a cycle is reported at its line.
    await rm(path.join(models, 'marts/extra'), { recursive: true });
    await writeText(
      path.join(models, 'staging/stg_orders.sql'),
      `select *\nfrom {{ ref('top_customer') }}`,
    );
    await processor.refresh();
    expect(results.get('dbt.ts')?.issues).toMatchObject([
      {
        file: path.join(models, 'marts/customer_totals.sql'),
        line: 2,
        dagId: 'dbt_ts',
        message:
          'models refer to each other in a cycle: customer_totals → stg_orders → top_customer → customer_totals',
      },
    ]);
  }, 120_000);

  it('refuses a source that is not an inlet, unknown publish names and options that do not apply', async () => {
    const folder = await yamlFolder({
      'bad.yaml': `dags:
  bad:
    tasks:
      models:
        operator: sql_models
        inlets: [orders]
        outlets: [x]
        config: { path: models, publish: [stg_order] }
`,
      'typo.yaml': `dags:
  typo:
    tasks:
      models:
        operator: sql_models
        config: { path: models, concurrency: 2 }
`,
    });
    writeModels(path.join(folder.dir, 'models'), MODELS);
    const [bad, typo] = await folder.load('bad.yaml', 'typo.yaml');
    const file = path.join(folder.dir, 'bad.yaml');
    expect(bad && allIssues(bad)).toMatchObject([
      {
        file,
        line: 7,
        field: 'dags.bad.tasks.models.outlets',
        message: 'a sql_models task has no outlets',
      },
      {
        file,
        line: 8,
        field: 'dags.bad.tasks.models.config.publish',
        message: "publish names model 'stg_order', which does not exist",
        hint: "did you mean 'stg_orders'?",
      },
      {
        file: path.join(folder.dir, 'models/staging/stg_customers.sql'),
        line: 1,
        dagId: 'bad',
        message:
          "source('customers') (in model 'stg_customers') is not among the task's inlets (orders)",
      },
    ]);
    expect(typo && allIssues(typo)).toMatchObject([
      {
        file: path.join(folder.dir, 'typo.yaml'),
        line: 6,
        field: 'dags.typo.tasks.models.config.concurrency',
      },
    ]);
    // In TypeScript, d.operator('sql_models') says to use d.sqlModels.
    const built = dag({ id: 'ts' }, (d) => {
      d.operator('sql_models', 'models', { path: 'models' });
    });
    expect(built.issues).toMatchObject([
      {
        taskId: 'models',
        message: 'sql_models becomes a task group with one task per model',
        hint: "declare it with d.sqlModels('models', config, options)",
      },
    ]);
  });
});

const ENGINE_PIPELINE = `import { dag } from 'updraft';
export default dag(
  { id: 'dbt', params: { type: 'object', properties: { scale: { type: 'integer', default: 1 } } } },
  (d) => {
    const orders = d.operator('duckdb', 'orders', {
      query: 'select id, customer_id, amount * {{ params.scale }} as amount from (values (1, 1, 10), (2, 2, 30), (3, 1, -5), (4, 1, 25)) t(id, customer_id, amount)',
      output: 'orders',
    }, { outlets: ['orders'] });
    const customers = d.operator('duckdb', 'customers', {
      query: "select * from (values (1, 'ann'), (2, 'bob')) t(id, name)",
      output: 'customers',
    }, { outlets: ['customers'] });
    const models = d.sqlModels(
      'models',
      { path: 'models', publish: ['customer_totals', 'top_customer'], datasetPrefix: 'mart.' },
      { inlets: ['orders', 'customers'], upstream: [orders, customers] },
    );
    d.shell('report', { command: 'echo done' }).after(models);
    d.sqlModels('broken', { path: 'broken' }, { inlets: ['orders'], upstream: [orders] });
  },
);
`;

for (const backend of STORE_BACKENDS) {
  describe(`sql_models through the engine on ${backend.name}`, () => {
    let rt: TestRuntime | undefined;
    afterEach(async () => {
      await rt?.close();
      rt = undefined;
    });

    it('runs one task per model in order, independent ones at once; a failing model fails alone; re-runs read the same versions', async () => {
      const files: Record<string, string> = { 'dbt.ts': ENGINE_PIPELINE };
      for (const [name, sql] of Object.entries(MODELS)) files[`models/${name}`] = sql;
      files['broken/ok.sql'] = `select * from {{ source('orders') }}`;
      files['broken/bad.sql'] = `select amount / nope\nfrom {{ ref('ok') }}`;
      files['broken/after.sql'] = `select * from {{ ref('bad') }}`;
      rt = await startTestRuntime(backend, files, { workers: 3 });
      const ops = rt.runtime.ops;
      await ops.triggerRun('dbt', { runId: 'r1' });
      const r1 = await rt.waitForRun('dbt', 'r1', 120_000);
      const state = Object.fromEntries(r1.tasks.map((t) => [t.taskId, t.state]));
      expect(state).toEqual({
        orders: 'success',
        customers: 'success',
        'models.stg_orders': 'success',
        'models.stg_customers': 'success',
        'models.customer_totals': 'success',
        'models.top_customer': 'success',
        report: 'success',
        'broken.ok': 'success',
        'broken.bad': 'failed',
        'broken.after': 'upstream_failed',
      });
      expect(r1.state).toBe('failed');

      // Order, from the recorded times: refs finish before their model starts.
      const at = (taskId: string) => {
        const t = r1.tasks.find((x) => x.taskId === taskId);
        return { start: Date.parse(t?.startedAt ?? ''), end: Date.parse(t?.endedAt ?? '') };
      };
      const [orders, customers, totals, top] = [
        at('models.stg_orders'),
        at('models.stg_customers'),
        at('models.customer_totals'),
        at('models.top_customer'),
      ];
      expect(totals.start).toBeGreaterThanOrEqual(Math.max(orders.end, customers.end));
      expect(top.start).toBeGreaterThanOrEqual(totals.end);
      // Parallelism: the two staging models were running at the same time.
      expect(Math.max(orders.start, customers.start)).toBeLessThan(
        Math.min(orders.end, customers.end),
      );

      // The failing model names the model, its file and DuckDB's message; no retry of
      // an error in the SQL would help, and nothing of it was published.
      const bad = await ops.getTaskInstance('dbt', 'r1', 'broken.bad');
      expect(bad.attempts[0]?.error).toContain(
        "task 'broken.bad' (model 'bad' in broken/bad.sql) writing dataset 'bad': DuckDB error: Binder Error",
      );
      expect(bad.attempts[0]?.error).toContain('nope');
      const storage = (
        await import('../../src/data/dataset-operations.ts')
      ).createDatasetOperations(rt.runtime.store, rt.home);
      const names = (await storage.listDatasets()).map((d) => d.name);
      // Published models under their names (broken: all, no prefix), the others internal.
      expect(names).toEqual([
        '_models.dbt.models.stg_customers',
        '_models.dbt.models.stg_orders',
        'customers',
        'mart.customer_totals',
        'mart.top_customer',
        'ok',
        'orders',
      ]);
      const totalsV1 = await storage.showVersion('mart.customer_totals');
      expect(await readVersionRows(totalsV1.location)).toEqual([
        { name: 'ANN', total: 35 },
        { name: 'BOB', total: 30 },
      ]);
      // Lineage: model → model edges, down to the sources.
      const lineage = await storage.lineage('mart.top_customer');
      expect(lineage.upstream).toEqual([
        '_models.dbt.models.stg_customers',
        '_models.dbt.models.stg_orders',
        'customers',
        'mart.customer_totals',
        'orders',
      ]);
      expect(lineage.edges).toContainEqual(
        expect.objectContaining({
          taskId: 'models.customer_totals',
          direction: 'read',
          dataset: '_models.dbt.models.stg_orders',
        }),
      );
      expect(totalsV1.manifest.inputs).toEqual([
        { dataset: '_models.dbt.models.stg_customers', version: 1 },
        { dataset: '_models.dbt.models.stg_orders', version: 1 },
      ]);

      // A second run makes new versions of everything (ten times the amounts).
      await ops.triggerRun('dbt', { runId: 'r2', params: { scale: 10 } });
      await rt.waitForRun('dbt', 'r2', 120_000);
      const totalsV2 = await storage.showVersion('mart.customer_totals');
      expect(totalsV2.version).toBe(2);
      expect(totalsV2.manifest.inputs).toEqual([
        { dataset: '_models.dbt.models.stg_customers', version: 2 },
        { dataset: '_models.dbt.models.stg_orders', version: 2 },
      ]);

      // Re-running r1's model reads r1's staging versions, not the newer ones.
      await ops.clearTasks('dbt', 'r1', ['models.customer_totals']);
      await rt.waitFor(
        async () => {
          const ti = await ops.getTaskInstance('dbt', 'r1', 'models.customer_totals');
          return ti.state === 'success' || ti.state === 'failed' ? ti : undefined;
        },
        'the re-run of models.customer_totals',
        120_000,
      );
      const rerun = await storage.showVersion('mart.customer_totals');
      expect(rerun.version).toBe(3);
      expect(rerun.producedBy.runId).toBe('r1');
      expect(rerun.manifest.inputs).toEqual(totalsV1.manifest.inputs);
      expect(await readVersionRows(rerun.location)).toEqual([
        { name: 'ANN', total: 35 },
        { name: 'BOB', total: 30 },
      ]);
    }, 400_000);
  });
}
