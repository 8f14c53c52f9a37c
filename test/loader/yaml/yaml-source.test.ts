/**
 * The YAML source: what a file compiles to, the errors it reports (file, line, column,
 * document path, message, hint), load-time expansion, interpolation, and its cache.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { allIssues, loadOne, yamlFolder } from './helpers.ts';

const TASK = '{ operator: shell, config: { command: "true" } }';

describe('YAML source: errors', () => {
  it('names file, line, column, path and the closest key for an unknown key', async () => {
    const result = await loadOne(
      `dags:\n  d:\n    schedul: "@daily"\n    tasks:\n      t: { operator: shell, config: { comand: x }, retry_delay: 5s }\n`,
    );
    expect(allIssues(result)).toEqual([
      expect.objectContaining({
        line: 3,
        column: 5,
        field: 'dags.d.schedul',
        message: "unknown key 'schedul'",
        hint: "did you mean 'schedule'?",
      }),
      expect.objectContaining({
        line: 5,
        column: 39,
        field: 'dags.d.tasks.t.config.comand',
        message: "unknown key 'comand'",
        hint: "did you mean 'command'?",
      }),
      expect.objectContaining({
        line: 5,
        column: 52,
        field: 'dags.d.tasks.t.retry_delay',
        hint: "did you mean 'retryDelay'?",
      }),
    ]);
    expect(result.issues[0]?.file).toMatch(/p\.yaml$/);
  });

  it('names the closest operator, task id and trigger rule', async () => {
    const result = await loadOne(`dags:
  d:
    tasks:
      extract: { operator: shel, config: { command: x } }
      load: { operator: shell, config: { command: x }, upstream: [extrct] }
      report: { operator: shell, config: { command: x }, triggerRule: all_sucess }
`);
    expect(allIssues(result)).toEqual([
      expect.objectContaining({
        line: 6,
        column: 71,
        field: 'dags.d.tasks.report.triggerRule',
        hint: "did you mean 'all_success'?",
      }),
    ]);
    const fixed = await loadOne(`dags:
  d:
    tasks:
      extract: { operator: shel, config: { command: x } }
      load: { operator: shell, config: { command: x }, upstream: [extrct] }
`);
    expect(allIssues(fixed)).toEqual([
      expect.objectContaining({
        line: 4,
        column: 28,
        taskId: 'extract',
        field: 'dags.d.tasks.extract.operator',
        message: "unknown operator 'shel'",
        hint: "did you mean 'shell'?",
      }),
      expect.objectContaining({
        line: 5,
        column: 67,
        taskId: 'load',
        field: 'dags.d.tasks.load.upstream[0]',
        message: "upstream task 'extrct' does not exist in dag 'd'",
        hint: "did you mean 'extract'?",
      }),
    ]);
  });

  it('reports a cycle with the path that closes it, and a bad cron', async () => {
    const result = await loadOne(`dags:
  d:
    schedule: "0 25 * * *"
    startDate: "2026-01-01"
    tasks:
      a: { operator: shell, config: { command: x }, upstream: [c] }
      b: { operator: shell, config: { command: x }, upstream: [a] }
      c: { operator: shell, config: { command: x }, upstream: [b] }
`);
    const issues = allIssues(result);
    expect(issues).toContainEqual(
      expect.objectContaining({
        line: 3,
        field: 'dags.d.schedule',
        message: expect.stringMatching(/invalid cron '0 25 \* \* \*': hour field/),
      }),
    );
    expect(issues).toContainEqual(
      expect.objectContaining({
        field: 'dags.d.tasks.a.upstream',
        message: 'dependency cycle: a -> b -> c -> a',
      }),
    );
  });

  it('checks run-time templates when the file is loaded', async () => {
    const result = await loadOne(`dags:
  d:
    tasks:
      extract: ${TASK}
      report:
        operator: shell
        upstream: [extract]
        config:
          command: "echo {{ upstream.extract }} {{ dss }}"
`);
    expect(allIssues(result)).toEqual([
      expect.objectContaining({
        line: 9,
        column: 20,
        field: 'dags.d.tasks.report.config.command',
        message: "unknown template variable 'dss'",
        hint: "did you mean 'ds'?",
      }),
    ]);
  });

  it('refuses a ts task, which YAML cannot hold', async () => {
    const result = await loadOne('dags:\n  d:\n    tasks:\n      t: { operator: ts }\n');
    expect(allIssues(result)).toEqual([
      expect.objectContaining({
        line: 4,
        column: 22,
        message: expect.stringMatching(/TypeScript function/),
      }),
    ]);
  });

  it('reports a missing template at the extends that names it', async () => {
    const result = await loadOne(
      `templates:\n  shell_step: ${TASK}\ndags:\n  d:\n    tasks:\n      t: { extends: shell_stp }\n      u: { operator: nope }\n`,
    );
    expect(allIssues(result)).toEqual([
      expect.objectContaining({
        line: 6,
        column: 21,
        field: 'dags.d.tasks.t.extends',
        message: "unknown template 'shell_stp'",
        hint: "did you mean 'shell_step'?",
      }),
      expect.objectContaining({ taskId: 'u', message: "unknown operator 'nope'" }),
    ]);
  });

  it('gives every error a file, line, column, path, message and hint', async () => {
    const results = await Promise.all([
      loadOne(
        `dags:\n  d:\n    tasks:\n      t: { operator: shell, retries: many, poolSlots: 0 }\n`,
      ),
      loadOne(`dags:
  d:
    schedule: "61 * * * *"
    timezone: Mars/Olympus
    startDate: "2026-02-30"
    tasks:
      t: { operator: shell, config: { command: x }, retryDelay: soon }
      u: { operator: shell, config: { command: x }, upstream: [t, u] }
`),
      loadOne(
        `dags:\n  d:\n    tasks:\n      t: { operator: shell, config: { command: "", returnOutput: all } }\n`,
      ),
    ]);
    const issues = results.flatMap(allIssues);
    expect(issues.map((issue) => issue.field)).toEqual([
      'dags.d.tasks.t.retries',
      'dags.d.tasks.t.poolSlots',
      'dags.d.tasks.u', // u depends on itself
      'dags.d.tasks.t.retryDelay',
      'dags.d.startDate', // February 30th
      'dags.d.timezone',
      'dags.d.tasks.t.config.command',
      'dags.d.tasks.t.config.returnOutput',
    ]);
    for (const issue of issues) {
      expect(issue, JSON.stringify(issue)).toMatchObject({
        file: expect.stringMatching(/p\.yaml$/),
        line: expect.any(Number),
        column: expect.any(Number),
        field: expect.stringMatching(/^dags\.d/),
        message: expect.any(String),
        hint: expect.any(String),
      });
    }
  });

  it('keeps the good DAGs of a file whose other DAG is bad', async () => {
    const result = await loadOne(
      `dags:\n  good:\n    tasks:\n      t: ${TASK}\n  bad:\n    tasks:\n      t: { operator: shell, retries: many }\n`,
    );
    expect(result.dags.map((d) => [d.spec.dagId, d.issues])).toEqual([['good', []]]);
    expect(result.issues).toEqual([
      expect.objectContaining({
        dagId: 'bad',
        line: 7,
        field: 'dags.bad.tasks.t.retries',
        message: 'must be an integer, got "many"',
      }),
    ]);
  });
});

describe('YAML source: load-time expansion', () => {
  it('makes one task per item, named by the item, and rewires dependencies', async () => {
    const result = await loadOne(`dags:
  d:
    tasks:
      start: ${TASK}
      export:
        operator: shell
        upstream: [start]
        expand: { items: [eu, us] }
        config: { command: "export {{ expand.item }} #{{ expand.index }} on {{ ds }}" }
      done: { operator: shell, config: { command: x }, upstream: [export] }
`);
    expect(allIssues(result)).toEqual([]);
    const tasks = result.dags[0]?.spec.tasks.map((t) => [t.taskId, t.upstream, t.config.command]);
    expect(tasks).toEqual([
      ['start', [], 'true'],
      ['export_eu', ['start'], 'export eu #0 on {{ ds }}'],
      ['export_us', ['start'], 'export us #1 on {{ ds }}'],
      ['done', ['export_eu', 'export_us'], 'x'],
    ]);
  });

  it("expands over a param's default, with fields of object items", async () => {
    const result = await loadOne(`dags:
  d:
    params:
      type: object
      properties:
        targets: { type: array, default: [{ name: a b, port: 1 }, { name: c, port: 2 }] }
    tasks:
      ping:
        operator: shell
        expand: { param: targets }
        config: { command: "ping {{ expand.item.name }}:{{ expand.item.port }}", env: { ALL: "all={{ expand.item }}" } }
`);
    expect(allIssues(result)).toEqual([]);
    expect(result.dags[0]?.spec.tasks.map((t) => [t.taskId, t.config])).toEqual([
      ['ping_0', { command: 'ping a b:1', env: { ALL: 'all={"name":"a b","port":1}' } }],
      ['ping_1', { command: 'ping c:2', env: { ALL: 'all={"name":"c","port":2}' } }],
    ]);
  });

  it('refuses an undeclared param, with the closest name', async () => {
    const result = await loadOne(`dags:
  d:
    params: { type: object, properties: { regions: { type: array, default: [eu] } } }
    tasks:
      t: { operator: shell, config: { command: x }, expand: { param: region } }
`);
    expect(allIssues(result)).toEqual([
      expect.objectContaining({
        line: 5,
        field: 'dags.d.tasks.t.expand.param',
        message: "param 'region' is not declared in the DAG's params",
        hint: "did you mean 'regions'?",
      }),
    ]);
  });
});

describe('YAML source: datasets and run-time mapping', () => {
  it('passes inlets, outlets, mapOver and a dataset schedule to the spec', async () => {
    const result = await loadOne(`dags:
  d:
    schedule: { datasets: [raw_orders] }
    tasks:
      list: { operator: shell, config: { command: x, returnOutput: json }, inlets: [raw_orders@latest] }
      each:
        operator: shell
        config: { command: "load {{ item }}" }
        outlets: [clean_orders]
        mapOver: { upstream: list, path: files, maxItems: 50 }
`);
    expect(allIssues(result)).toEqual([]);
    const spec = result.dags[0]?.spec;
    expect(spec?.schedule).toBeNull();
    expect(spec?.datasetSchedule).toEqual(['raw_orders']);
    expect(spec?.tasks.map((t) => [t.taskId, t.inlets, t.outlets, t.mapOver, t.upstream])).toEqual([
      ['list', ['raw_orders@latest'], [], null, []],
      ['each', [], ['clean_orders'], { upstream: 'list', path: 'files', maxItems: 50 }, ['list']],
    ]);
  });
});

describe('YAML source: interpolation', () => {
  it('reads VAR and VAR:-default references, leaves escaped ones to the shell', async () => {
    const result = await loadOne(
      `dags:\n  d:\n    owner: "\${TEAM}"\n    tasks:\n      t: { operator: shell, config: { command: "echo \${HOST:-localhost} $\${HOME}" } }\n`,
      { env: { TEAM: 'analytics' } },
    );
    expect(allIssues(result)).toEqual([]);
    expect(result.dags[0]?.spec.owner).toBe('analytics');
    expect(result.dags[0]?.spec.tasks[0]?.config.command).toBe(`echo localhost \${HOME}`);
  });

  it('names an unset variable and its line', async () => {
    const result = await loadOne(`dags:\n  d:\n    owner: "\${NOBODY_SET_THIS}"\n`, {
      env: {},
    });
    expect(result.issues).toEqual([
      expect.objectContaining({
        line: 3,
        column: 12,
        field: 'dags.d.owner',
        message: 'environment variable NOBODY_SET_THIS is not set',
      }),
    ]);
  });
});

describe('YAML source: cache', () => {
  it('parses only changed files, and again when a variable it read changes', async () => {
    const env: Record<string, string> = { OWNER: 'a' };
    const folder = await yamlFolder(
      {
        'defaults.yaml': 'defaults:\n  tags: [t]\n',
        'one.yaml': `dags:\n  one:\n    owner: "\${OWNER}"\n    tasks:\n      t: ${TASK}\n`,
        'two.yaml': `dags:\n  two:\n    tasks:\n      t: ${TASK}\n`,
      },
      { env },
    );
    const first = await folder.load('one.yaml', 'two.yaml');
    expect(folder.source.parsedCount).toBe(3);
    const again = await folder.load('one.yaml', 'two.yaml');
    expect(folder.source.parsedCount).toBe(3);
    expect(again.map((r) => r.codeHash)).toEqual(first.map((r) => r.codeHash));

    await writeFile(
      path.join(folder.dir, 'two.yaml'),
      `dags:\n  two:\n    owner: b\n    tasks:\n      t: ${TASK}\n`,
    );
    const changed = await folder.load('one.yaml', 'two.yaml');
    expect(folder.source.parsedCount).toBe(4);
    expect(changed[1]?.dags[0]?.spec.owner).toBe('b');
    expect(changed[1]?.codeHash).not.toBe(first[1]?.codeHash);

    env.OWNER = 'c';
    const reread = await folder.load('one.yaml');
    expect(folder.source.parsedCount).toBe(5);
    expect(reread[0]?.dags[0]?.spec.owner).toBe('c');
  });

  it('does not read defaults.yaml as a pipeline', async () => {
    const folder = await yamlFolder({});
    expect(folder.source.accepts(path.join(folder.dir, 'defaults.yaml'))).toBe(false);
    expect(folder.source.accepts(path.join(folder.dir, 'orders.yaml'))).toBe(true);
  });
});
