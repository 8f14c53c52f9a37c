/**
 * SQL models, the dbt-style layer: a folder of `.sql` files, one model each (named after
 * the file, without `.sql`; sub-folders only organise). A model is one SELECT that may
 * reference other models with `{{ ref('name') }}` and input datasets with
 * `{{ source('name') }}`.
 *
 * `compileSqlModels` reads the folder and returns the models in dependency order with
 * their SQL compiled for DuckDB (`ref('x')` → the table of model `x`, `source('y')` →
 * the view of dataset `y`), and the levels of the graph: the models of one level depend
 * only on earlier levels, so they can run in parallel. A `ref` to a missing model, a
 * cycle, two files with one model name, or anything else in `{{ }}` is an error naming
 * the file and line.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { closestMatch } from '../core/closest-match.ts';
import { SpecError, type SpecIssue } from '../core/errors.ts';

export interface SqlModel {
  name: string;
  /** Absolute path of the file. */
  file: string;
  /** SQL as written. */
  raw: string;
  /** SQL with `ref` and `source` replaced. */
  compiled: string;
  /** Models it references. */
  refs: string[];
  /** Sources (datasets) it references. */
  sources: string[];
}

export interface SqlModelPlan {
  /** Models in dependency order. */
  models: SqlModel[];
  /** Groups of model names; each depends only on earlier groups. */
  levels: string[][];
  /** Every source any model references. */
  sources: string[];
}

const MODEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const TEMPLATE = /\{\{([\s\S]*?)\}\}/g;
const CALL = /^\s*(ref|source)\s*\(\s*(['"])([^'"]+)\2\s*\)\s*$/;

/** Table name of model `name` in the DuckDB session. */
export function modelTable(name: string): string {
  return `"${name}"`;
}

/** View name of source `name` in the DuckDB session. */
export function sourceView(name: string): string {
  return `"source__${name.replaceAll('"', '""')}"`;
}

/** Reads and compiles the models under `folder`; see the module doc. Throws `SpecError`. */
export async function compileSqlModels(folder: string): Promise<SqlModelPlan> {
  const files = await listSqlFiles(folder).catch((error: NodeJS.ErrnoException) => {
    throw new SpecError([
      {
        file: folder,
        message:
          error.code === 'ENOENT'
            ? 'the models folder does not exist'
            : `cannot read the models folder: ${error.message}`,
      },
    ]);
  });
  const issues: SpecIssue[] = [];
  const byName = new Map<string, SqlModel>();
  for (const file of files) {
    const name = path.basename(file, '.sql');
    if (!MODEL_NAME.test(name)) {
      issues.push({
        file,
        message: `'${name}' is not a valid model name`,
        hint: 'name files with letters, digits and _ (e.g. daily_orders.sql)',
      });
      continue;
    }
    const other = byName.get(name);
    if (other !== undefined) {
      issues.push({
        file,
        message: `model '${name}' is defined twice`,
        hint: `also in ${other.file}`,
      });
      continue;
    }
    const raw = await readFile(file, 'utf8');
    const refs: string[] = [];
    const sources: string[] = [];
    const compiled = raw.replace(TEMPLATE, (whole, inner: string, offset: number) => {
      const call = CALL.exec(inner);
      if (call === null) {
        issues.push({
          file,
          line: lineAt(raw, offset),
          message: `'${whole}' is not {{ ref('model') }} or {{ source('dataset') }}`,
        });
        return whole;
      }
      const [, kind, , target = ''] = call;
      if (kind === 'ref') {
        if (!refs.includes(target)) refs.push(target);
        return modelTable(target);
      }
      if (!sources.includes(target)) sources.push(target);
      return sourceView(target);
    });
    if (compiled.trim() === '') issues.push({ file, message: `model '${name}' is empty` });
    byName.set(name, { name, file, raw, compiled, refs, sources });
  }
  for (const model of byName.values()) {
    for (const ref of model.refs) {
      if (byName.has(ref)) continue;
      const guess = closestMatch(ref, byName.keys());
      issues.push({
        file: model.file,
        line: lineAt(model.raw, model.raw.search(new RegExp(`ref\\s*\\(\\s*['"]${ref}['"]`))),
        message: `model '${model.name}' refers to model '${ref}', which does not exist`,
        hint: guess ? `did you mean '${guess}'?` : `models: ${[...byName.keys()].join(', ')}`,
      });
    }
  }
  if (issues.length > 0) throw new SpecError(issues);
  const levels = levelsOf(byName);
  const order = levels.flat();
  const models = order.map((name) => byName.get(name) as SqlModel);
  return { models, levels, sources: [...new Set(models.flatMap((m) => m.sources))].sort() };
}

/** Kahn's algorithm by levels; a leftover means a cycle, reported with its path. */
function levelsOf(models: Map<string, SqlModel>): string[][] {
  const remaining = new Map([...models.values()].map((m) => [m.name, new Set(m.refs)]));
  const levels: string[][] = [];
  while (remaining.size > 0) {
    const ready = [...remaining]
      .filter(([, deps]) => deps.size === 0)
      .map(([name]) => name)
      .sort();
    if (ready.length === 0) {
      const cycle = findCycle(remaining);
      const first = models.get(cycle[0] ?? '');
      throw new SpecError([
        {
          ...(first ? { file: first.file } : {}),
          message: `models refer to each other in a cycle: ${cycle.join(' → ')}`,
          hint: 'a model may only ref models that do not (indirectly) ref it',
        },
      ]);
    }
    for (const name of ready) remaining.delete(name);
    for (const deps of remaining.values()) for (const name of ready) deps.delete(name);
    levels.push(ready);
  }
  return levels;
}

function findCycle(graph: Map<string, Set<string>>): string[] {
  const start = [...graph.keys()].sort()[0] ?? '';
  const path: string[] = [];
  let node = start;
  while (!path.includes(node)) {
    path.push(node);
    node = [...(graph.get(node) ?? [])].sort()[0] ?? start;
  }
  return [...path.slice(path.indexOf(node)), node];
}

async function listSqlFiles(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.sql'))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

function lineAt(text: string, offset: number): number {
  return offset < 0 ? 1 : text.slice(0, offset).split('\n').length;
}
