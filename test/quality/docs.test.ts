/**
 * The examples of docs/quality.md and the README's data quality section are real: the
 * first pipeline loads without issues, and every check listed validates against the
 * `quality` operator's config schema and per-type rules.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { YamlSource } from '../../src/loader/yaml/yaml-source.ts';
import { parseOperatorConfig } from '../../src/operators/registry.ts';
import { CHECK_TYPES, type CheckSpec } from '../../src/quality/check-spec.ts';
import { validateChecks } from '../../src/quality/check-validation.ts';

const root = path.resolve(import.meta.dirname, '../..');
const guide = readFileSync(path.join(root, 'docs/quality.md'), 'utf8');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const blocks = [...guide.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
const dir = mkdtempSync(path.join(os.tmpdir(), 'updraft-quality-docs-'));

/** Every column the examples name, as a string (types do not matter to these rules). */
const COLUMNS = [
  'id',
  'email',
  'amount',
  'created_at',
  'embedding',
  'customer_id',
  'order_date',
  'status',
  'country',
].map((name) => ({ name, type: 'VARCHAR' }));

describe('docs/quality.md', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the first pipeline loads without issues', async () => {
    const file = path.join(dir, 'orders.yaml');
    writeFileSync(file, blocks[0] ?? '');
    const [result] = await new YamlSource({ pipelinesDir: dir, env: {} }).load([file]);
    expect(result?.issues ?? []).toEqual([]);
    expect(result?.dags.flatMap((d) => d.issues)).toEqual([]);
    expect(result?.dags.map((d) => d.spec.tasks.map((t) => t.operator))).toEqual([
      ['duckdb', 'quality', 'duckdb'],
    ]);
  });

  it('shows one example per check type, each valid', () => {
    const list = blocks.map((b) => parse(b)).find((doc) => Array.isArray(doc?.checks))
      ?.checks as CheckSpec[];
    expect(new Set(list.map((c) => c.type))).toEqual(new Set(CHECK_TYPES));
    const parsed = parseOperatorConfig('quality', { checks: list as never, dataset: 'orders' });
    expect(parsed.ok ? [] : parsed.issues).toEqual([]);
    expect(() =>
      validateChecks('orders', list, COLUMNS, ['orders', 'raw_orders', 'customers']),
    ).not.toThrow();
  });

  it("the README's quality task validates", () => {
    const snippet = /## Data quality[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    const task = parse(snippet).check;
    const parsed = parseOperatorConfig('quality', task.config);
    expect(parsed.ok ? [] : parsed.issues).toEqual([]);
    expect(() => validateChecks('orders', task.config.checks, COLUMNS, task.inlets)).not.toThrow();
  });
});
