/**
 * Compiles one YAML pipeline file, given the `defaults.yaml` files above it, into DAGs.
 *
 * The layers of a DAG, each merged onto the one before (maps deeply, lists replace):
 * 1. the `defaults` blocks of the `defaults.yaml` files from the pipelines folder down
 *    to the file's folder (nearest last, so nearest wins);
 * 2. the file's own `defaults` block;
 * 3. the DAG under `dags.<id>`;
 * 4. the DAG's `environments.<UPDRAFT_ENV>` block, if there is one.
 * Templates merge the same way by name: `defaults.yaml` files first, then the file's.
 *
 * A problem in a `defaults.yaml` file or outside `dags` stops every DAG of the file; a
 * problem inside one DAG stops that DAG only.
 */
import type { SpecIssue } from '../../core/errors.ts';
import type { SourceDag } from '../pipeline-source.ts';
import type { SchemaIssue } from './check-schema.ts';
import { type CompiledDag, compileDag } from './compile-dag.ts';
import { mergeMaps, mergeValues, omitKeys } from './merge.ts';
import { TemplateResolver } from './templates.ts';
import { isYamlMap, locate, type YamlMap } from './yaml-value.ts';

/** One parsed and schema-checked YAML file (a pipeline file or a `defaults.yaml`). */
export interface YamlLayer {
  file: string;
  /** The file's content (an empty map for an empty file or one that did not parse). */
  value: YamlMap;
  /** Problems found while parsing (fatal for the file). */
  parseIssues: SpecIssue[];
  /** Problems found by the schema, with their document paths. */
  schemaIssues: SchemaIssue[];
}

/** What one pipeline file compiles to. */
export interface CompiledFile {
  /** DAGs that compiled (each with its own issues, possibly some). */
  dags: SourceDag[];
  /** Problems of the file as a whole, and of DAGs that could not be compiled at all. */
  issues: SpecIssue[];
  /** Every DAG of the file as compiled (for `updraft dags render`). */
  compiled: CompiledDag[];
}

/** Compiles pipeline file `own` under the `defaults.yaml` layers `above` (root first). */
export function compileFile(
  own: YamlLayer,
  above: readonly YamlLayer[],
  environment: string | undefined,
): CompiledFile {
  const fatal: SpecIssue[] = [];
  for (const layer of above) {
    fatal.push(...layer.parseIssues, ...layer.schemaIssues.map((s) => s.issue));
    if (Object.hasOwn(layer.value, 'dags')) {
      fatal.push({
        ...(locate(layer.value, ['dags'], 'key') ?? { file: layer.file }),
        field: 'dags',
        message: 'a defaults.yaml file cannot define DAGs',
        hint: 'move the DAGs to a pipeline file; defaults.yaml holds defaults and templates',
      });
    }
  }
  fatal.push(...own.parseIssues);
  const byDag = new Map<string, SpecIssue[]>();
  for (const { path, issue } of own.schemaIssues) {
    const dagId = path[0] === 'dags' && path.length >= 2 ? String(path[1]) : undefined;
    if (dagId === undefined) {
      fatal.push(issue);
      continue;
    }
    byDag.set(dagId, [...(byDag.get(dagId) ?? []), { ...issue, dagId }]);
  }
  if (fatal.length > 0) return { dags: [], issues: fatal, compiled: [] };

  const layers = [...above, own];
  const templates = new TemplateResolver(
    mergeMaps(...layers.map((layer) => asMap(layer.value.templates))),
  );
  const defaults = mergeMaps(...layers.map((layer) => asMap(layer.value.defaults)));
  const dagDocs = asMap(own.value.dags) ?? {};
  const dags: SourceDag[] = [];
  const issues: SpecIssue[] = [];
  const compiled: CompiledDag[] = [];
  for (const dagId of Object.keys(dagDocs)) {
    const schemaIssues = byDag.get(dagId);
    if (schemaIssues !== undefined) {
      issues.push(...schemaIssues);
      continue;
    }
    const doc = withEnvironment(
      mergeValues(defaults, asMap(dagDocs[dagId]) ?? {}) as YamlMap,
      environment,
    );
    const result = compileDag(dagId, doc, ['dags', dagId], { file: own.file, templates });
    compiled.push(result);
    if (result.dag === undefined) issues.push(...result.issues);
    else {
      const { spec, inputs } = result.dag;
      dags.push({
        spec,
        issues: result.issues,
        ...(inputs.length > 0 ? { inputs: [...inputs] } : {}),
      });
    }
  }
  return { dags, issues, compiled };
}

/** `doc` with its `environments.<name>` block merged on, and `environments` removed. */
function withEnvironment(doc: YamlMap, environment: string | undefined): YamlMap {
  const environments = asMap(doc.environments);
  const base = environments === undefined ? doc : omitKeys(doc, ['environments']);
  const overlay =
    environment === undefined || environments === undefined
      ? undefined
      : asMap(environments[environment]);
  return overlay === undefined ? base : (mergeValues(base, overlay) as YamlMap);
}

function asMap(value: YamlMap[string] | undefined): YamlMap | undefined {
  return isYamlMap(value) ? value : undefined;
}
