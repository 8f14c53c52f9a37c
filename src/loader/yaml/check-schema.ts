/**
 * Checks a parsed YAML file against the pipeline schema (`document-schema.ts`) with ajv,
 * and turns ajv's findings into issues a person can act on: the line and column of the
 * value (or of the unknown key), the path in the document, what is expected, and the
 * closest valid key or value for a typo.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { closestMatch } from '../../core/closest-match.ts';
import type { SpecIssue } from '../../core/errors.ts';
import { partialConfigSchema, pipelineJsonSchema } from './document-schema.ts';
import { formatPath, pointerToPath } from './yaml-path.ts';
import { isYamlMap, locate, type YamlMap, type YamlValue } from './yaml-value.ts';

/** An issue with the document path it is about (for attributing it to a DAG). */
export interface SchemaIssue {
  path: (string | number)[];
  issue: SpecIssue;
}

const ajv = new Ajv2020({ allErrors: true, strict: false, verbose: true });
let quickValidator: ValidateFunction | undefined;
let fullValidator: ValidateFunction | undefined;
const configValidators = new Map<string, ValidateFunction | undefined>();

/**
 * Validates the document without operator configs. A quick validator (first error only,
 * half the compile time) runs first; the one that reports every error with its context
 * is compiled only when a file has errors.
 */
function validateDocument(value: YamlValue): ErrorObject[] {
  quickValidator ??= new Ajv2020({ strict: false }).compile(
    pipelineJsonSchema({ operatorConfigs: false }),
  );
  if (quickValidator(value)) return [];
  fullValidator ??= ajv.compile(pipelineJsonSchema({ operatorConfigs: false }));
  fullValidator(value);
  return fullValidator.errors ?? [];
}

/** The validator of operator `name`'s (partial) config, compiled on first use. */
function configSchema(name: string): ValidateFunction | undefined {
  if (!configValidators.has(name)) {
    const schema = partialConfigSchema(name);
    configValidators.set(name, schema === undefined ? undefined : ajv.compile(schema));
  }
  return configValidators.get(name);
}

/** Keys people write from other tools, and the key Updraft uses. */
const SYNONYMS: Record<string, string> = {
  depends_on: 'upstream',
  dependencies: 'upstream',
  dependsOn: 'upstream',
  default_args: 'taskDefaults',
  defaultArgs: 'taskDefaults',
  task_group: 'groups',
  task_groups: 'groups',
  template: 'extends',
  tz: 'timezone',
  cron: 'schedule',
  schedule_interval: 'schedule',
  map: 'mapOver',
  map_over: 'mapOver',
};

/**
 * Every problem of `value` (a pipeline or defaults file read from `file`): its shape, and
 * the config of every task or template that names its operator.
 */
export function checkSchema(value: YamlValue, file: string): SchemaIssue[] {
  const found = new Findings(value, file);
  found.add(validateDocument(value), []);
  for (const { path, task } of tasksIn(value)) {
    if (typeof task.operator !== 'string' || !isYamlMap(task.config)) continue;
    const validateConfig = configSchema(task.operator);
    if (validateConfig !== undefined && !validateConfig(task.config)) {
      found.add(validateConfig.errors ?? [], [...path, 'config']);
    }
  }
  return found.issues.sort(
    (a, b) =>
      (a.issue.line ?? 0) - (b.issue.line ?? 0) || (a.issue.column ?? 0) - (b.issue.column ?? 0),
  );
}

/** Turns ajv errors into located issues, one per path and message. */
class Findings {
  readonly issues: SchemaIssue[] = [];
  private readonly seen = new Set<string>();

  constructor(
    private readonly value: YamlValue,
    private readonly file: string,
  ) {}

  /** Adds `errors` of a value found at `base` in the document. */
  add(all: ErrorObject[], base: (string | number)[]): void {
    const errors = all.filter((error) => error.keyword !== 'if' && error.keyword !== 'then');
    // A union reports each branch; keep one finding per path: the union's own.
    const unions = new Set(
      errors
        .filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf')
        .map((e) => e.instancePath),
    );
    for (const error of errors) {
      if (
        unions.has(error.instancePath) &&
        error.keyword !== 'anyOf' &&
        error.keyword !== 'oneOf'
      ) {
        continue;
      }
      const described = describe(error);
      const path = [...base, ...pointerToPath(error.instancePath)];
      if (described.key !== undefined) path.push(described.key);
      const id = `${formatPath(path)}\0${described.message}`;
      if (this.seen.has(id)) continue;
      this.seen.add(id);
      const at = locate(this.value, path, described.key !== undefined ? 'key' : 'value');
      this.issues.push({
        path,
        issue: {
          ...(at ?? { file: this.file }),
          field: formatPath(path) || undefined,
          message: described.message,
          hint: described.hint,
        },
      });
    }
  }
}

/** Every task and template of a file, with its path: in templates, DAGs, defaults, groups, environments. */
function* tasksIn(file: YamlValue): Generator<{ path: (string | number)[]; task: YamlMap }> {
  if (!isYamlMap(file)) return;
  for (const [name, template] of entries(file.templates)) {
    if (isYamlMap(template)) yield { path: ['templates', name], task: template };
  }
  if (isYamlMap(file.defaults)) yield* inDag(file.defaults, ['defaults']);
  for (const [id, dag] of entries(file.dags)) {
    if (isYamlMap(dag)) yield* inDag(dag, ['dags', id]);
  }
}

function* inDag(
  dag: YamlMap,
  path: (string | number)[],
): Generator<{ path: (string | number)[]; task: YamlMap }> {
  yield* inScope(dag, path);
  for (const [name, environment] of entries(dag.environments)) {
    if (isYamlMap(environment)) yield* inScope(environment, [...path, 'environments', name]);
  }
}

function* inScope(
  scope: YamlMap,
  path: (string | number)[],
): Generator<{ path: (string | number)[]; task: YamlMap }> {
  for (const [id, task] of entries(scope.tasks)) {
    if (isYamlMap(task)) yield { path: [...path, 'tasks', id], task };
  }
  for (const [id, group] of entries(scope.groups)) {
    if (isYamlMap(group)) yield* inScope(group, [...path, 'groups', id]);
  }
}

function entries(value: YamlValue | undefined): [string, YamlValue][] {
  return isYamlMap(value) ? Object.entries(value) : [];
}

function describe(error: ErrorObject): { message: string; hint?: string; key?: string } {
  const got = error.data === undefined ? '' : `, got ${shown(error.data)}`;
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String((error.params as { additionalProperty: string }).additionalProperty);
      const known = Object.keys(
        (error.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties ??
          {},
      );
      return { key, message: `unknown key '${key}'`, hint: keyHint(key, known) };
    }
    case 'type': {
      const type = String((error.params as { type: string }).type);
      return { message: `must be ${article(type)}${got}`, hint: describedBy(error) };
    }
    case 'enum':
    case 'const': {
      const allowed =
        error.keyword === 'enum'
          ? ((error.params as { allowedValues: unknown[] }).allowedValues ?? []).map(String)
          : [String((error.params as { allowedValue: unknown }).allowedValue)];
      const match = typeof error.data === 'string' ? closestMatch(error.data, allowed) : undefined;
      return {
        message: `must be one of ${allowed.join(', ')}${got}`,
        hint: match === undefined ? describedBy(error) : `did you mean '${match}'?`,
      };
    }
    case 'anyOf':
    case 'oneOf': {
      const branches = (error.schema as { const?: unknown; type?: string }[]) ?? [];
      const consts = branches.filter((b) => b.const !== undefined).map((b) => String(b.const));
      if (consts.length === branches.length && consts.length > 0) {
        const match = typeof error.data === 'string' ? closestMatch(error.data, consts) : undefined;
        return {
          message: `must be one of ${consts.join(', ')}${got}`,
          hint: match === undefined ? describedBy(error) : `did you mean '${match}'?`,
        };
      }
      const description = (error.parentSchema as { description?: string } | undefined)?.description;
      const types = [...new Set(branches.map((b) => article(b.type ?? 'value')))];
      return {
        message: `must be ${types.join(' or ')}${got}`,
        hint: description,
      };
    }
    case 'required':
      return {
        message: `'${String((error.params as { missingProperty: string }).missingProperty)}' is required`,
      };
    default:
      return { message: `${error.message ?? 'is not valid'}${got}`, hint: describedBy(error) };
  }
}

/** The description of the schema the value failed, as a hint. */
function describedBy(error: ErrorObject): string | undefined {
  return (error.parentSchema as { description?: string } | undefined)?.description;
}

/** `did you mean` for an unknown key: known synonyms, snake_case, then edit distance. */
function keyHint(key: string, known: string[]): string | undefined {
  if (key === '<<') return 'YAML merge keys are not supported: use templates and extends';
  const synonym = SYNONYMS[key];
  if (synonym !== undefined && known.includes(synonym)) return `did you mean '${synonym}'?`;
  const squashed = key.replaceAll('_', '').toLowerCase();
  const camel = known.find((k) => k.toLowerCase() === squashed);
  const match = camel ?? closestMatch(key, known);
  if (match !== undefined) return `did you mean '${match}'?`;
  return known.length > 0 ? `known keys here: ${known.join(', ')}` : undefined;
}

function article(type: string): string {
  if (type === 'null') return 'null';
  if (type === 'array') return 'a list';
  if (type === 'object') return 'a map';
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function shown(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
