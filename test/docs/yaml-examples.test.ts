/**
 * The YAML examples of the README and docs/yaml.md are real: they load without issues
 * and give what the text says.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readLintConfig } from '../../src/loader/checks/lint.ts';
import { YamlSource } from '../../src/loader/yaml/yaml-source.ts';
import { runCli } from '../cli/helpers.ts';

const root = path.resolve(import.meta.dirname, '../..');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const guide = readFileSync(path.join(root, 'docs/yaml.md'), 'utf8');
const dir = mkdtempSync(path.join(os.tmpdir(), 'updraft-yaml-docs-'));

/** The YAML code blocks of `text`. */
function yamlBlocks(text: string): string[] {
  return [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
}

/** Writes `files` into a fresh folder and loads `file` from it. */
async function load(files: Record<string, string>, file: string, env: Record<string, string> = {}) {
  const folder = path.join(dir, String(Math.random()).slice(2));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(folder, name)), { recursive: true });
    writeFileSync(path.join(folder, name), text);
  }
  const source = new YamlSource({ pipelinesDir: folder, env });
  const [result] = await source.load([path.join(folder, file)]);
  return { folder, result };
}

describe('README YAML example', () => {
  const example = /## Writing a pipeline[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads without issues, with the tasks and environment it describes', async () => {
    expect(example).toContain('orders_summary');
    const { result } = await load({ 'orders_summary.yaml': example }, 'orders_summary.yaml');
    expect(result?.issues).toEqual([]);
    const spec = result?.dags[0]?.spec;
    expect(result?.dags[0]?.issues).toEqual([]);
    expect(spec?.tasks.map((t) => t.taskId)).toEqual(['extract', 'export_eu', 'export_us']);
    expect(spec?.schedule).toBe('0 2 * * *');
    const dev = await load({ 'o.yaml': example }, 'o.yaml', { UPDRAFT_ENV: 'dev' });
    expect(dev.result?.dags[0]?.spec.schedule).toBeNull();
  });

  it('passes `updraft dags validate`', async () => {
    const folder = path.join(dir, 'validate');
    mkdirSync(folder, { recursive: true });
    writeFileSync(path.join(folder, 'orders_summary.yaml'), example);
    const result = await runCli([
      'dags',
      'validate',
      '--pipelines',
      folder,
      '--home',
      path.join(dir, 'home'),
    ]);
    expect(result.stdout).toContain('1 file(s), 1 valid DAG(s): 0 error(s), 0 warning(s)');
    expect(result.code).toBe(0);
  });

  it('runs to success with `updraft dags test`', async () => {
    const folder = path.join(dir, 'run');
    mkdirSync(folder, { recursive: true });
    writeFileSync(path.join(folder, 'orders_summary.yaml'), example);
    const result = await runCli([
      'dags',
      'test',
      'orders_summary',
      '--date',
      '2026-03-01',
      '--pipelines',
      folder,
      '--home',
      path.join(dir, 'home'),
    ]);
    expect(result.stdout).toContain('eu: 42 orders on 2026-03-01');
    expect(result.stdout).toMatch(/export_us\s+success/);
    expect(result.code).toBe(0);
  });
});

describe('docs/yaml.md examples', () => {
  const blocks = yamlBlocks(guide);

  it('the first file loads without issues', async () => {
    const first = blocks[0] ?? '';
    const { result } = await load({ 'orders.yaml': first }, 'orders.yaml');
    expect(result?.issues).toEqual([]);
    expect(result?.dags.map((d) => [d.spec.dagId, d.issues])).toEqual([['orders_report', []]]);
  });

  it('the merge example gives the result the text states', async () => {
    const files: Record<string, string> = {};
    for (const block of blocks) {
      const name = /^# pipelines\/(\S+)\n/.exec(block)?.[1];
      if (name !== undefined) files[name] = block;
    }
    expect(Object.keys(files).sort()).toEqual([
      'defaults.yaml',
      'sales/defaults.yaml',
      'sales/orders.yaml',
    ]);
    const plain = await load(files, 'sales/orders.yaml');
    const spec = plain.result?.dags[0]?.spec;
    expect(plain.result?.issues).toEqual([]);
    expect(spec).toMatchObject({ owner: 'platform', tags: ['sales'] });
    expect(spec?.tasks.map((t) => [t.taskId, t.retries, t.pool, t.upstream, t.config])).toEqual([
      ['extract', 3, 'etl', [], { command: 'extract', returnOutput: 'last_line' }],
      ['audit', 3, 'etl', ['extract'], { command: 'audit', returnOutput: 'last_line' }],
    ]);
    const prod = (await load(files, 'sales/orders.yaml', { UPDRAFT_ENV: 'prod' })).result?.dags[0]
      ?.spec;
    expect(prod?.owner).toBe('sales-oncall');
    expect(prod?.tasks[0]?.config).toEqual({
      command: 'extract --prod',
      returnOutput: 'last_line',
    });
  });

  it('the promote example loads without issues', async () => {
    const example = blocks.find((block) => block.includes('operator: promote')) ?? '';
    const { result } = await load({ 'promote.yaml': example }, 'promote.yaml');
    expect(result?.issues).toEqual([]);
    expect(result?.dags[0]?.spec.tasks.map((t) => [t.taskId, t.operator, t.config])).toContainEqual(
      ['promote', 'promote', { to: 'staging' }],
    );
  });

  it('the lint configuration example is valid', async () => {
    // The block is indented inside a list item.
    const config = (blocks.find((block) => block.trimStart().startsWith('rules:')) ?? '').replace(
      /^ {2}/gm,
      '',
    );
    const folder = path.join(dir, 'lint');
    mkdirSync(folder, { recursive: true });
    writeFileSync(path.join(folder, '.updraft-lint.yaml'), config);
    const rules = await readLintConfig(folder);
    expect(rules['tags-required']).toMatchObject({ level: 'warn', allowed: ['sales', 'finance'] });
    expect(rules['description-required']?.level).toBe('off');
  });
});
