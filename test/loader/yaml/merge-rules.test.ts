/**
 * The merge rules of YAML pipelines: maps merge deeply, lists replace, tasks merge by id;
 * `defaults.yaml` files from the pipelines folder down (nearest wins), then the file's
 * `defaults` block, the DAG, and the environment chosen by UPDRAFT_ENV. Templates chain
 * through `extends`.
 */
import { describe, expect, it } from 'vitest';
import { mergeValues } from '../../../src/loader/yaml/merge.ts';
import { parseYaml } from '../../../src/loader/yaml/parse-yaml.ts';
import { TemplateResolver } from '../../../src/loader/yaml/templates.ts';
import { locate, type YamlMap } from '../../../src/loader/yaml/yaml-value.ts';
import { allIssues, yamlFolder } from './helpers.ts';

/** `value` without its position marks, for comparing with plain objects. */
function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

function yaml(text: string, file = 'f.yaml'): YamlMap {
  const parsed = parseYaml(text, file);
  expect(parsed.issues).toEqual([]);
  return parsed.value as YamlMap;
}

describe('mergeValues', () => {
  it('merges maps deeply, replaces lists and scalars, and leaves its inputs alone', () => {
    const base = yaml('a: { x: 1, y: [1, 2], z: { deep: 1 } }\nb: 1\n');
    const over = yaml('a: { y: [3], z: { other: 2 } }\nb: null\n');
    const merged = mergeValues(base, over);
    expect(plain(merged)).toEqual({ a: { x: 1, y: [3], z: { deep: 1, other: 2 } }, b: null });
    expect(plain(base)).toEqual({ a: { x: 1, y: [1, 2], z: { deep: 1 } }, b: 1 });
  });

  it('keeps the position of the value that won, in its own file', () => {
    const base = yaml('a:\n  x: 1\n  y: 2\n', 'base.yaml');
    const over = yaml('a:\n  y: 3\n', 'over.yaml');
    const merged = mergeValues(base, over);
    expect(locate(merged, ['a', 'x'])).toEqual({ file: 'base.yaml', line: 2, column: 6 });
    expect(locate(merged, ['a', 'y'])).toEqual({ file: 'over.yaml', line: 2, column: 6 });
  });
});

describe('templates', () => {
  it('chains extends over several levels, nearest template winning', () => {
    const templates = yaml(
      'base: { operator: shell, retries: 1, config: { command: a, shell: /bin/sh } }\n' +
        'mid: { extends: base, retries: 2, config: { command: b } }\n' +
        'top: { extends: mid, config: { env: { X: "1" } } }\n',
    );
    const resolved = new TemplateResolver(templates).resolve(yaml('extends: top\npool: p\n'));
    expect(plain(resolved)).toEqual({
      ok: true,
      task: {
        operator: 'shell',
        retries: 2,
        config: { command: 'b', shell: '/bin/sh', env: { X: '1' } },
        pool: 'p',
      },
    });
  });

  it('refuses a template that extends itself, a loop, and a missing template', () => {
    const resolver = new TemplateResolver(
      yaml('self: { extends: self }\na: { extends: b }\nb: { extends: a }\nshell_step: {}\n'),
    );
    expect(resolver.resolve(yaml('extends: self\n'))).toMatchObject({
      ok: false,
      problem: { message: "template 'self' extends itself" },
    });
    expect(resolver.resolve(yaml('extends: a\n'))).toMatchObject({
      ok: false,
      problem: { message: 'templates extend each other in a loop: a -> b -> a' },
    });
    expect(resolver.resolve(yaml('extends: shell_stp\n'))).toMatchObject({
      ok: false,
      problem: { message: "unknown template 'shell_stp'", hint: "did you mean 'shell_step'?" },
    });
  });
});

const ROOT_DEFAULTS = `defaults:
  owner: platform
  tags: [root]
  taskDefaults: { retries: 1, pool: root_pool }
templates:
  step: { operator: shell, config: { command: root, returnOutput: last_line } }
`;

const TEAM_DEFAULTS = `defaults:
  tags: [team]
  taskDefaults: { retries: 3 }
  tasks:
    audit: { extends: step, config: { command: audit } }
templates:
  step: { config: { command: team } }
`;

const PIPELINE = `defaults:
  schedule: null
dags:
  sales:
    tasks:
      extract: { extends: step }
      audit: { upstream: [extract] }
    environments:
      prod:
        owner: sales-oncall
        taskDefaults: { retries: 5 }
        tasks:
          extract: { config: { command: prod-extract } }
`;

describe('defaults.yaml, defaults blocks and environments', () => {
  it('merges from the pipelines folder down, nearest winning, tasks by id', async () => {
    const folder = await yamlFolder({
      'defaults.yaml': ROOT_DEFAULTS,
      'team/defaults.yaml': TEAM_DEFAULTS,
      'team/sales.yaml': PIPELINE,
    });
    const [result] = await folder.load('team/sales.yaml');
    expect(result && allIssues(result)).toEqual([]);
    const spec = result?.dags[0]?.spec;
    expect(spec).toMatchObject({ owner: 'platform', tags: ['team'], schedule: null });
    const tasks = Object.fromEntries((spec?.tasks ?? []).map((t) => [t.taskId, t]));
    expect(tasks.extract).toMatchObject({
      retries: 3,
      pool: 'root_pool',
      config: { command: 'team', returnOutput: 'last_line' },
    });
    // `audit` comes from the team defaults, its upstream from the DAG: merged by id.
    expect(tasks.audit).toMatchObject({ upstream: ['extract'], config: { command: 'audit' } });
    expect(result?.inputs).toEqual([
      `${folder.dir}/team/sales.yaml`,
      `${folder.dir}/defaults.yaml`,
      `${folder.dir}/team/defaults.yaml`,
    ]);
  });

  it('applies the environment named by UPDRAFT_ENV, and nothing else without it', async () => {
    const files = {
      'defaults.yaml': ROOT_DEFAULTS,
      'team/defaults.yaml': TEAM_DEFAULTS,
      'team/sales.yaml': PIPELINE,
    };
    const prod = await yamlFolder(files, { env: { UPDRAFT_ENV: 'prod' } });
    const [result] = await prod.load('team/sales.yaml');
    const spec = result?.dags[0]?.spec;
    expect(spec?.owner).toBe('sales-oncall');
    expect(spec?.tasks.find((t) => t.taskId === 'extract')).toMatchObject({
      retries: 5,
      config: { command: 'prod-extract', returnOutput: 'last_line' },
    });
    const dev = await yamlFolder(files, { env: { UPDRAFT_ENV: 'dev' } });
    expect((await dev.load('team/sales.yaml'))[0]?.dags[0]?.spec.owner).toBe('platform');
  });

  it('points an error in a value from a defaults.yaml at that file', async () => {
    const folder = await yamlFolder({
      'defaults.yaml': 'defaults:\n  taskDefaults:\n    retryDelay: soon\n',
      'p.yaml': 'dags:\n  d:\n    tasks:\n      t: { operator: shell, config: { command: x } }\n',
    });
    const [result] = await folder.load('p.yaml');
    expect(result && allIssues(result)).toEqual([
      expect.objectContaining({
        file: `${folder.dir}/defaults.yaml`,
        line: 3,
        column: 17,
        taskId: 't',
        field: 'dags.d.taskDefaults.retryDelay',
        message: expect.stringMatching(/invalid duration 'soon'/),
      }),
    ]);
  });

  it('refuses DAGs in a defaults.yaml and stops the files below it', async () => {
    const folder = await yamlFolder({
      'defaults.yaml': 'dags:\n  nope: {}\n',
      'p.yaml': 'dags:\n  d:\n    tasks:\n      t: { operator: shell, config: { command: x } }\n',
    });
    const [result] = await folder.load('p.yaml');
    expect(result?.dags).toEqual([]);
    expect(result?.issues[0]).toMatchObject({
      file: `${folder.dir}/defaults.yaml`,
      line: 1,
      message: 'a defaults.yaml file cannot define DAGs',
    });
  });
});
