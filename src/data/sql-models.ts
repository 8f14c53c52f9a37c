/**
 * SQL models, the dbt-style layer: a folder of `.sql` files, one model each (named after
 * the file, without `.sql`; sub-folders only organise). A model is one SELECT that may
 * reference other models with `{{ ref('name') }}` and input datasets with
 * `{{ source('name') }}`.
 *
 * A `sql_models` task is compiled when its DAG is built (at load time; see
 * `sqlModels` in `src/authoring/builder.ts`, which YAML's `operator: sql_models` uses
 * too) into a task group with one `duckdb` task per model:
 *
 * - `compileSqlModels` reads the folder and returns the models in dependency order with
 *   their SQL compiled for DuckDB (`ref('x')` → the view of model `x`, `source('y')` →
 *   the view of dataset `y`), the levels of the graph, and what it read (load inputs,
 *   so a changed model reloads the pipeline and changes the DAG's version). A `ref` to a
 *   missing model, a cycle, two files with one model name, or anything else in `{{ }}`
 *   is an error naming the file and line.
 * - `planModelTasks` turns the models into tasks: each model's result becomes a dataset
 *   version (published models as `<datasetPrefix><model>`, the others as internal
 *   datasets `_models.<dag>.<group>.<model>`); a model reads the models it refs through
 *   inlets on their datasets, which resolve to exactly the versions its upstream model
 *   tasks wrote in the same run, pinned so that a re-run reads the same data.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import { closestMatch } from '../core/closest-match.ts';
import type { Json } from '../core/dag-spec.ts';
import { datasetNameProblem, parseDatasetRef, splitInlet } from '../core/dataset-ref.ts';
import type { SpecIssue } from '../core/errors.ts';
import {
  contentDigest,
  folderDigest,
  folderEntries,
  type LoadInput,
  MISSING,
} from '../core/load-inputs.ts';
import { sqlIdentifier } from './duckdb-session.ts';

/** The operator name a `sql_models` task is written with (in YAML, or `d.operator`). */
export const SQL_MODELS_OPERATOR = 'sql_models';

export const sqlModelsConfigSchema = Type.Object(
  {
    path: Type.String({
      minLength: 1,
      description: "Folder of .sql models; relative to the pipeline file's folder.",
    }),
    publish: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        description:
          'Models published as datasets named <datasetPrefix><model> (default: every model); the others are written as internal datasets _models.<dag>.<task>.<model>.',
      }),
    ),
    datasetPrefix: Type.String({
      default: '',
      description: "Prefix of the dataset names of published models (default '').",
    }),
    memoryLimit: Type.String({
      default: '1GB',
      description: "DuckDB memory limit of each model's task (default '1GB').",
    }),
    threads: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: "DuckDB threads of each model's task (default: one per core).",
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'Load time: a folder of dbt-style SQL models (ref/source) becomes a task group named after the task, with one duckdb task per model, run in dependency order (independent models in parallel).',
  },
);

export type SqlModelsConfig = Static<typeof sqlModelsConfigSchema>;

/** `sql_models` as YAML's schema and messages describe it (it is no run-time operator). */
export const sqlModelsTaskKind = {
  name: SQL_MODELS_OPERATOR,
  description: sqlModelsConfigSchema.description as string,
  configSchema: sqlModelsConfigSchema,
} as const;

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

/** What compiling a models folder gives. */
export interface SqlModelsCompilation {
  /** The models; null when there are issues. */
  plan: SqlModelPlan | null;
  /** Every problem found, each naming the file (and line). */
  issues: SpecIssue[];
  /** The folders and files read, with digests: also with issues, so a fix reloads. */
  inputs: LoadInput[];
}

const MODEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const TEMPLATE = /\{\{([\s\S]*?)\}\}/g;
const CALL = /^\s*(ref|source)\s*\(\s*(['"])([^'"]+)\2\s*\)\s*$/;

/** View name of model `name` in a model's DuckDB session. */
export function modelView(name: string): string {
  return name;
}

/** View name of source `name` in a model's DuckDB session. */
export function sourceView(name: string): string {
  return `source__${name}`;
}

/** Reads and compiles the models under `folder`; see the module doc. */
export function compileSqlModels(folder: string): SqlModelsCompilation {
  const inputs: LoadInput[] = [];
  let files: string[];
  try {
    files = listSqlFiles(folder, inputs);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Watched as missing: creating the folder reloads the pipeline.
    if (code === 'ENOENT') inputs.push({ path: folder, digest: MISSING });
    const message =
      code === 'ENOENT'
        ? 'the models folder does not exist'
        : `cannot read the models folder: ${(error as Error).message}`;
    return { plan: null, issues: [{ file: folder, message }], inputs };
  }
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
    const raw = readFileSync(file, 'utf8');
    inputs.push({ path: file, digest: contentDigest(raw) });
    byName.set(name, compileModel(name, file, raw, issues));
  }
  for (const model of byName.values()) {
    for (const ref of model.refs) {
      if (byName.has(ref)) continue;
      const guess = closestMatch(ref, byName.keys());
      issues.push({
        file: model.file,
        line: callLine(model, 'ref', ref),
        message: `model '${model.name}' refers to model '${ref}', which does not exist`,
        hint: guess ? `did you mean '${guess}'?` : `models: ${[...byName.keys()].join(', ')}`,
      });
    }
  }
  if (issues.length > 0) return { plan: null, issues, inputs };
  const levels = levelsOf(byName);
  if (!Array.isArray(levels)) return { plan: null, issues: [levels], inputs };
  const models = levels.flat().map((name) => byName.get(name) as SqlModel);
  const sources = [...new Set(models.flatMap((m) => m.sources))].sort();
  return { plan: { models, levels, sources }, issues: [], inputs };
}

/** One model's SQL with `ref` and `source` replaced; problems go to `issues`. */
function compileModel(name: string, file: string, raw: string, issues: SpecIssue[]): SqlModel {
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
      return sqlIdentifier(modelView(target));
    }
    if (!sources.includes(target)) sources.push(target);
    return sqlIdentifier(sourceView(target));
  });
  const unclosed = compiled.replace(TEMPLATE, '').indexOf('{{');
  if (unclosed >= 0) {
    issues.push({
      file,
      line: lineAt(compiled, unclosed),
      message: "a '{{' is never closed with '}}'",
      hint: "write {{ ref('model') }} or {{ source('dataset') }}",
    });
  }
  if (compiled.trim() === '') issues.push({ file, message: `model '${name}' is empty` });
  return { name, file, raw, compiled, refs, sources };
}

/** One task of a compiled `sql_models` task: a `duckdb` task running one model. */
export interface ModelTask {
  /** The model: the task's id inside the group. */
  model: string;
  /** The models it refs: its upstream tasks inside the group. */
  refs: string[];
  /** Whether it reads sources (it then also waits for what the `sql_models` task waited for). */
  readsSources: boolean;
  /** Config of the `duckdb` task. */
  config: { [key: string]: Json };
  inlets: string[];
  /** The dataset it writes. */
  output: string;
  doc: string;
}

/** What `planModelTasks` needs besides the folder. */
export interface ModelTaskContext {
  dagId: string;
  /** Id of the group the tasks go into (the `sql_models` task's id). */
  groupId: string;
  /** Folder `config.path` is relative to. */
  baseDir: string;
  /** The `sql_models` task's inlets: what `source()` reads. */
  inlets: readonly string[];
}

/**
 * Compiles the models of `config.path` and plans their tasks. `issues` lists every
 * problem (in the models, in `publish`, a `source` that is not an inlet); there are no
 * tasks then. `inputs` is what was read, in every case.
 */
export function planModelTasks(
  config: SqlModelsConfig,
  context: ModelTaskContext,
): { tasks: ModelTask[]; issues: SpecIssue[]; inputs: LoadInput[] } {
  const folder = path.resolve(context.baseDir, config.path);
  const { plan, issues: compileIssues, inputs } = compileSqlModels(folder);
  if (plan === null) return { tasks: [], issues: compileIssues, inputs };
  const issues: SpecIssue[] = [];
  const names = plan.models.map((m) => m.name);
  const publish = config.publish ?? names;
  for (const name of publish) {
    if (names.includes(name)) continue;
    issues.push({
      field: 'config.publish',
      message: `publish names model '${name}', which does not exist`,
      hint: didYouMean(name, names),
    });
  }
  const datasetOf = new Map(
    plan.models.map((m) => [
      m.name,
      publish.includes(m.name)
        ? `${config.datasetPrefix}${m.name}`
        : `_models.${context.dagId}.${context.groupId}.${m.name}`,
    ]),
  );
  for (const [model, dataset] of datasetOf) {
    const problem = datasetNameProblem(dataset);
    if (problem !== null) {
      issues.push({ field: 'config.datasetPrefix', message: `model '${model}': ${problem}` });
    }
  }
  const inletOf = new Map<string, string>();
  for (const source of plan.sources) {
    const inlet =
      context.inlets.find((ref) => ref === source) ??
      context.inlets.find((ref) => datasetNameOf(ref) === source);
    if (inlet !== undefined) {
      inletOf.set(source, inlet);
      continue;
    }
    const user = plan.models.find((m) => m.sources.includes(source)) as SqlModel;
    issues.push({
      file: user.file,
      line: callLine(user, 'source', source),
      message: `source('${source}') (in model '${user.name}') is not among the task's inlets (${context.inlets.join(', ') || 'none'})`,
      hint: `add '${source}' (or '${source}@<alias>') to the inlets of the sql_models task`,
    });
  }
  if (issues.length > 0) return { tasks: [], issues, inputs };
  const tasks = plan.models.map((model): ModelTask => {
    const output = datasetOf.get(model.name) as string;
    const views: { [view: string]: Json } = {};
    for (const ref of model.refs) views[modelView(ref)] = datasetOf.get(ref) as string;
    for (const source of model.sources) views[sourceView(source)] = inletOf.get(source) as string;
    const file = path.isAbsolute(config.path)
      ? model.file
      : path.join(config.path, path.relative(folder, model.file));
    return {
      model: model.name,
      refs: model.refs,
      readsSources: model.sources.length > 0,
      config: {
        query: model.compiled,
        inputs: views,
        output,
        memoryLimit: config.memoryLimit,
        ...(config.threads === undefined ? {} : { threads: config.threads }),
        origin: `model '${model.name}' in ${file}`,
      },
      inlets: [...new Set(Object.values(views) as string[])],
      output,
      doc: `SQL model \`${model.name}\` (${file}), written to dataset \`${output}\`.`,
    };
  });
  return { tasks, issues: [], inputs };
}

/** The dataset name of a reference, or undefined when it is not one. */
function datasetNameOf(ref: string): string | undefined {
  try {
    return parseDatasetRef(splitInlet(ref).ref).name;
  } catch {
    return undefined; // the spec validator reports a bad inlet
  }
}

function didYouMean(name: string, names: readonly string[]): string {
  const guess = closestMatch(name, names);
  return guess ? `did you mean '${guess}'?` : `models: ${names.join(', ')}`;
}

/** Kahn's algorithm by levels; a leftover means a cycle, returned as an issue with its path. */
function levelsOf(models: Map<string, SqlModel>): string[][] | SpecIssue {
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
      const next = cycle[1] ?? '';
      return {
        ...(first ? { file: first.file, line: callLine(first, 'ref', next) } : {}),
        message: `models refer to each other in a cycle: ${cycle.join(' → ')}`,
        hint: 'a model may only ref models that do not (indirectly) ref it',
      };
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

/** The `.sql` files under `folder`, sorted; records each folder's listing in `inputs`. */
function listSqlFiles(folder: string, inputs: LoadInput[]): string[] {
  const files: string[] = [];
  const entries = folderEntries(folder);
  inputs.push({ path: folder, digest: folderDigest(entries) });
  for (const entry of entries) {
    if (entry.endsWith('/'))
      files.push(...listSqlFiles(path.join(folder, entry.slice(0, -1)), inputs));
    else if (entry.endsWith('.sql')) files.push(path.join(folder, entry));
  }
  return files.sort();
}

/** Line of the first `ref('target')` / `source('target')` call in a model. */
function callLine(model: SqlModel, kind: 'ref' | 'source', target: string): number {
  const at = model.raw.search(
    new RegExp(`${kind}\\s*\\(\\s*['"]${target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}['"]`),
  );
  return lineAt(model.raw, at);
}

function lineAt(text: string, offset: number): number {
  return offset < 0 ? 1 : text.slice(0, offset).split('\n').length;
}
