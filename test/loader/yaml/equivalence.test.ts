/**
 * YAML and TypeScript give identical DagSpecs: each pair below defines the same DAG both
 * ways. YAML is compiled through the authoring builder, so defaults, durations, dates,
 * group edges and priority weights come from one place; these pairs keep it that way.
 */
import { describe, expect, it } from 'vitest';
import { dag } from '../../../src/authoring/dag.ts';
import type { DagSpec } from '../../../src/core/dag-spec.ts';
import { allIssues, yamlFolder } from './helpers.ts';

/** The spec of the only DAG of `file` in a folder holding `files`; fails on any issue. */
async function yamlSpec(files: Record<string, string>, file: string): Promise<DagSpec> {
  const folder = await yamlFolder(files);
  const [result] = await folder.load(file);
  expect(result && allIssues(result)).toEqual([]);
  expect(result?.dags).toHaveLength(1);
  return result?.dags[0]?.spec as DagSpec;
}

function tsSpec(built: ReturnType<typeof dag>): DagSpec {
  expect(built.issues).toEqual([]);
  return built.spec;
}

describe('YAML and TypeScript give the same spec', () => {
  it('for a DAG using every DAG option, task settings, nested groups and trigger rules', async () => {
    const yaml = await yamlSpec(
      {
        'orders.yaml': `dags:
  orders_report:
    description: Counts the day's orders
    owner: data-eng
    tags: [sales, daily]
    schedule: "0 2 * * *"
    timezone: Europe/Berlin
    startDate: "2026-01-01"
    endDate: "2027-01-01T06:30"
    catchup: true
    maxActiveRuns: 1
    maxActiveTasks: 4
    dagrunTimeout: 2h
    pausedOnCreation: true
    doc: "# Orders"
    params:
      type: object
      properties:
        minOrders: { type: integer, minimum: 0, default: 1 }
    taskDefaults:
      retries: 2
      retryDelay: 30s
      retryExponentialBackoff: true
      maxRetryDelay: 10 minutes
    tasks:
      extract:
        operator: shell
        config: { command: "echo {{ ds }}", returnOutput: last_line, env: { A: "1" } }
        executionTimeout: 5m
        pool: io
        poolSlots: 2
        priorityWeight: 3
        queue: fast
        doc: Extracts the orders
      publish:
        operator: shell
        config: { command: "echo {{ upstream['transform.audit.count'] }}" }
        upstream: [transform]
        triggerRule: none_failed
      cleanup:
        operator: shell
        config: { command: "echo done", skipOnExitCode: null }
        upstream: [publish]
        triggerRule: all_done
        weightRule: absolute
        retries: 0
    groups:
      transform:
        tooltip: Cleans the orders
        upstream: [extract]
        taskDefaults: { retries: 5, pool: cpu }
        tasks:
          clean: { operator: shell, config: { command: clean } }
          dedupe: { operator: shell, config: { command: dedupe }, upstream: [transform.clean] }
        groups:
          audit:
            upstream: [transform.dedupe]
            tasks:
              count: { operator: shell, config: { command: count }, retryDelay: 1000 }
`,
      },
      'orders.yaml',
    );
    const ts = tsSpec(
      dag(
        {
          id: 'orders_report',
          description: "Counts the day's orders",
          owner: 'data-eng',
          tags: ['sales', 'daily'],
          schedule: '0 2 * * *',
          timezone: 'Europe/Berlin',
          startDate: '2026-01-01',
          endDate: '2027-01-01T06:30',
          catchup: true,
          maxActiveRuns: 1,
          maxActiveTasks: 4,
          dagrunTimeout: '2h',
          pausedOnCreation: true,
          doc: '# Orders',
          params: {
            type: 'object',
            properties: { minOrders: { type: 'integer', minimum: 0, default: 1 } },
          },
          defaults: {
            retries: 2,
            retryDelay: '30s',
            retryExponentialBackoff: true,
            maxRetryDelay: '10 minutes',
          },
        },
        (d) => {
          d.shell(
            'extract',
            { command: 'echo {{ ds }}', returnOutput: 'last_line', env: { A: '1' } },
            {
              executionTimeout: '5m',
              pool: 'io',
              poolSlots: 2,
              priorityWeight: 3,
              queue: 'fast',
              doc: 'Extracts the orders',
            },
          );
          d.shell(
            'publish',
            { command: "echo {{ upstream['transform.audit.count'] }}" },
            { upstream: ['transform'], triggerRule: 'none_failed' },
          );
          d.shell(
            'cleanup',
            { command: 'echo done', skipOnExitCode: null },
            { upstream: ['publish'], triggerRule: 'all_done', weightRule: 'absolute', retries: 0 },
          );
          const transform = d.group(
            'transform',
            { tooltip: 'Cleans the orders', defaults: { retries: 5, pool: 'cpu' } },
            (g) => {
              g.shell('clean', { command: 'clean' });
              g.shell('dedupe', { command: 'dedupe' }, { upstream: ['transform.clean'] });
              const audit = g.group('audit', (a) => {
                a.shell('count', { command: 'count' }, { retryDelay: 1000 });
              });
              audit.after('transform.dedupe');
            },
          );
          transform.after('extract');
        },
      ),
    );
    expect(yaml).toEqual(ts);
  });

  it('for a DAG built from defaults.yaml, a defaults block and two levels of templates', async () => {
    const yaml = await yamlSpec(
      {
        'defaults.yaml': `defaults:
  owner: platform
  tags: [team]
  taskDefaults: { retries: 1 }
templates:
  step: { operator: shell, config: { command: base, returnOutput: last_line }, executionTimeout: 10m }
`,
        'team/loads.yaml': `templates:
  load: { extends: step, retries: 3, config: { env: { TARGET: warehouse } } }
defaults:
  schedule: "@hourly"
  startDate: "2026-02-01"
dags:
  loads:
    tasks:
      first: { extends: step, config: { command: first } }
      second: { extends: load, upstream: [first] }
`,
      },
      'team/loads.yaml',
    );
    const ts = tsSpec(
      dag(
        {
          id: 'loads',
          owner: 'platform',
          tags: ['team'],
          schedule: '@hourly',
          startDate: '2026-02-01',
          defaults: { retries: 1 },
        },
        (d) => {
          const first = d.shell(
            'first',
            { command: 'first', returnOutput: 'last_line' },
            { executionTimeout: '10m' },
          );
          d.shell(
            'second',
            { command: 'base', returnOutput: 'last_line', env: { TARGET: 'warehouse' } },
            { executionTimeout: '10m', retries: 3, upstream: [first] },
          );
        },
      ),
    );
    expect(yaml).toEqual(ts);
  });

  it('for datasets, a dataset schedule and run-time mapping', async () => {
    const yaml = await yamlSpec(
      {
        'files.yaml': `dags:
  file_loader:
    schedule: { datasets: [raw_files, vendors] }
    tasks:
      list: { operator: shell, config: { command: ls, returnOutput: json }, inlets: [raw_files@latest] }
      load:
        operator: shell
        config: { command: "load {{ item }}" }
        outlets: [clean_files]
        mapOver: { upstream: list, path: files, maxItems: 100 }
`,
      },
      'files.yaml',
    );
    const ts = tsSpec(
      dag({ id: 'file_loader', schedule: { datasets: ['raw_files', 'vendors'] } }, (d) => {
        const list = d.shell(
          'list',
          { command: 'ls', returnOutput: 'json' },
          { inlets: ['raw_files@latest'] },
        );
        d.shell(
          'load',
          { command: 'load {{ item }}' },
          { outlets: ['clean_files'], mapOver: { upstream: list, path: 'files', maxItems: 100 } },
        );
      }),
    );
    expect(yaml).toEqual(ts);
  });

  it('for load-time expansion and the same tasks declared in a loop', async () => {
    const yaml = await yamlSpec(
      {
        'regions.yaml': `dags:
  regions:
    params:
      type: object
      properties:
        regions: { type: array, default: [eu, us, apac] }
    tasks:
      start: { operator: shell, config: { command: start } }
      export:
        operator: shell
        upstream: [start]
        expand: { param: regions }
        config: { command: "export {{ expand.item }}" }
      finish: { operator: shell, config: { command: finish }, upstream: [export] }
`,
      },
      'regions.yaml',
    );
    const regions = ['eu', 'us', 'apac'];
    const ts = tsSpec(
      dag(
        {
          id: 'regions',
          params: { type: 'object', properties: { regions: { type: 'array', default: regions } } },
        },
        (d) => {
          const start = d.shell('start', { command: 'start' });
          const exports = regions.map((region) =>
            d.shell(`export_${region}`, { command: `export ${region}` }, { upstream: [start] }),
          );
          d.shell('finish', { command: 'finish' }, { upstream: exports });
        },
      ),
    );
    expect(yaml).toEqual(ts);
  });

  it('for SQL models: operator sql_models and d.sqlModels make the same task group', async () => {
    const folder = await yamlFolder({
      'dbt.yaml': `dags:
  dbt:
    taskDefaults: { retries: 1 }
    tasks:
      extract: { operator: shell, config: { command: extract } }
      models:
        operator: sql_models
        upstream: [extract]
        inlets: [orders@prod]
        pool: duckdb
        doc: The marts
        config: { path: sql, publish: [daily], datasetPrefix: "mart.", threads: 2 }
      report: { operator: shell, upstream: [models], config: { command: report } }
`,
      'sql/stg.sql': "select * from {{ source('orders') }}",
      'sql/marts/daily.sql': "select count(*) as n from {{ ref('stg') }}",
    });
    const [result] = await folder.load('dbt.yaml');
    expect(result && allIssues(result)).toEqual([]);
    const yaml = result?.dags[0]?.spec;
    const ts = tsSpec(
      dag({ id: 'dbt', defaults: { retries: 1 } }, (d) => {
        const extract = d.shell('extract', { command: 'extract' });
        const models = d.sqlModels(
          'models',
          { path: 'sql', publish: ['daily'], datasetPrefix: 'mart.', threads: 2 },
          {
            upstream: [extract],
            inlets: ['orders@prod'],
            pool: 'duckdb',
            doc: 'The marts',
            baseDir: folder.dir,
          },
        );
        d.shell('report', { command: 'report' }, { upstream: [models] });
      }),
    );
    expect(yaml).toEqual(ts);
    expect(yaml?.groups).toEqual([{ groupId: 'models', parent: null, tooltip: 'The marts' }]);
    expect(
      yaml?.tasks.map((t) => [t.taskId, t.operator, t.upstream, t.inlets, t.outlets, t.pool]),
    ).toEqual([
      ['extract', 'shell', [], [], [], 'default_pool'],
      ['models.stg', 'duckdb', ['extract'], ['orders@prod'], ['_models.dbt.models.stg'], 'duckdb'],
      [
        'models.daily',
        'duckdb',
        ['models.stg'],
        ['_models.dbt.models.stg'],
        ['mart.daily'],
        'duckdb',
      ],
      ['report', 'shell', ['models.daily'], [], [], 'default_pool'],
    ]);
    expect(yaml?.tasks[1]?.config).toEqual({
      query: 'select * from "source__orders"',
      inputs: { source__orders: 'orders@prod' },
      output: '_models.dbt.models.stg',
      memoryLimit: '1GB',
      threads: 2,
      origin: "model 'stg' in sql/stg.sql",
    });
  });
});

describe('YAML and TypeScript give the same spec for alerting', () => {
  it('with notify targets and deadlines on the DAG, the task defaults and a task', async () => {
    const yaml = await yamlSpec(
      {
        'hourly.yaml': `dags:
  etl_hourly:
    deadline: { after: 10m }
    notify: { onFailure: [oncall_slack], onSuccess: [team_mail] }
    taskDefaults:
      notify: { onRetry: [team_mail] }
    tasks:
      load:
        operator: shell
        config: { command: "true" }
        deadline: { after: 2m, from: logical_date }
`,
      },
      'hourly.yaml',
    );
    const ts = tsSpec(
      dag(
        {
          id: 'etl_hourly',
          deadline: { after: '10m' },
          notify: { onFailure: ['oncall_slack'], onSuccess: ['team_mail'] },
          defaults: { notify: { onRetry: ['team_mail'] } },
        },
        (d) => {
          d.shell('load', { command: 'true' }, { deadline: { after: '2m', from: 'logical_date' } });
        },
      ),
    );
    expect(yaml).toEqual(ts);
    expect(yaml.tasks[0]).toMatchObject({
      deadline: { afterMs: 120_000, from: 'logical_date' },
      notify: { onRetry: ['team_mail'] },
    });
  });
});
