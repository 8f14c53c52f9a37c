/**
 * Compiles one merged YAML DAG (defaults, `defaults` block and environment already
 * applied) into a `Dag` through the TypeScript authoring builder, so a YAML DAG and the
 * same DAG written in TypeScript give identical specs: defaults, durations, dates,
 * group edges and priority weights are computed in one place (`src/authoring/`).
 *
 * Before building it resolves each task's templates (`extends`) and load-time
 * expansion (`expand`); after building it runs the spec validator. Every issue is
 * pointed at the YAML line that wrote the value at fault (see `dag-locator.ts`).
 */
import path from 'node:path';
import { dag as buildDag } from '../../authoring/dag.ts';
import type {
  Dag,
  DagOptions,
  GroupOptions,
  OperatorConfig,
  SqlModelsTaskConfig,
  TaskDefaults,
  TaskOptions,
  TaskScope,
} from '../../authoring/types.ts';
import { didYouMean } from '../../core/closest-match.ts';
import type { SpecIssue } from '../../core/errors.ts';
import { SQL_MODELS_OPERATOR } from '../../data/sql-models.ts';
import { validateDagSpec } from '../validate-spec.ts';
import { DagLocator } from './dag-locator.ts';
import { type DagDoc, type TaskDoc, yamlOperators } from './document-schema.ts';
import { expandedIds, MAX_EXPANDED_TASKS, substitute } from './expand.ts';
import { omitKeys } from './merge.ts';
import type { TemplateResolver } from './templates.ts';
import { formatPath, type YamlPath } from './yaml-path.ts';
import { isYamlMap, locate, type YamlMap, type YamlValue } from './yaml-value.ts';

/** A task after templates and expansion. */
export interface ResolvedTaskEntry {
  localId: string;
  fullId: string;
  doc: YamlMap;
  /** Path of the task as written (an expanded copy: the task it came from). */
  path: YamlPath;
}

/** A group with its resolved content. */
interface ResolvedGroupEntry {
  localId: string;
  fullId: string;
  doc: YamlMap;
  path: YamlPath;
  scope: ResolvedScope;
}

interface ResolvedScope {
  tasks: ResolvedTaskEntry[];
  groups: ResolvedGroupEntry[];
}

/** The outcome of compiling one DAG. */
export interface CompiledDag {
  dagId: string;
  /** The built DAG; undefined when templates or expansion failed. */
  dag: Dag | undefined;
  issues: SpecIssue[];
  /** The DAG as resolved: templates, expansion, defaults and environment applied. */
  readonly resolved: YamlMap;
  /** Points issues about the built DAG at its YAML; undefined when it was not built. */
  locator: DagLocator | undefined;
}

/** What compiling a DAG needs besides the DAG itself. */
export interface CompileContext {
  file: string;
  templates: TemplateResolver;
}

/** DAG fields passed to `dag()` as they are (typed: the schema and the options agree). */
const DAG_OPTION_KEYS: readonly (keyof DagDoc & keyof DagOptions)[] = [
  'description',
  'owner',
  'tags',
  'schedule',
  'timezone',
  'startDate',
  'endDate',
  'catchup',
  'maxActiveRuns',
  'maxActiveTasks',
  'dagrunTimeout',
  'deadline',
  'notify',
  'params',
  'pausedOnCreation',
  'doc',
];

/** Task fields passed to the builder as they are. */
const TASK_OPTION_KEYS: readonly (keyof TaskDoc & keyof TaskOptions)[] = [
  'retries',
  'retryDelay',
  'retryExponentialBackoff',
  'maxRetryDelay',
  'executionTimeout',
  'triggerRule',
  'pool',
  'poolSlots',
  'priorityWeight',
  'weightRule',
  'queue',
  'doc',
  'inlets',
  'outlets',
  'connections',
  'branch',
  'notify',
  'deadline',
];

/** Compiles DAG `dagId` (merged document `doc`, written at `path`). */
export function compileDag(
  dagId: string,
  doc: YamlMap,
  path: YamlPath,
  context: CompileContext,
): CompiledDag {
  const problems: SpecIssue[] = [];
  const expansions = new Map<string, string[]>();
  const resolver = new ScopeResolver(dagId, doc, context, problems, expansions);
  const scope = resolver.scope(doc, null, path);
  // A task whose templates or expansion failed is still declared (as written), so the
  // other tasks are checked too; what is found about it is left out (it is already wrong).
  const failed = new Set(problems.map((problem) => problem.taskId));

  const locator = new DagLocator(dagId, doc, path, context.file);
  const rewrite = (ids: YamlValue | undefined): string[] =>
    (Array.isArray(ids) ? ids : []).flatMap((id) => expansions.get(String(id)) ?? [String(id)]);
  const own: SpecIssue[] = [];
  const declare = (target: TaskScope, content: ResolvedScope): void => {
    for (const task of content.tasks) {
      locator.addTask(task.fullId, task.doc, task.path);
      const operator = typeof task.doc.operator === 'string' ? task.doc.operator : '';
      if (operator === 'ts') {
        own.push(
          locator.taskIssue(task.fullId, ['operator'], {
            message: 'a ts task runs a TypeScript function, which a YAML pipeline cannot hold',
            hint: 'write this DAG in TypeScript, or run the code with a shell task (node script.js)',
          }),
        );
      }
      const config = (isYamlMap(task.doc.config) ? task.doc.config : {}) as OperatorConfig;
      if (operator === SQL_MODELS_OPERATOR) {
        declareSqlModels(target, task, config, taskOptions(task.doc, rewrite), context.file, own);
        continue;
      }
      target.operator(operator, task.localId, config, taskOptions(task.doc, rewrite));
    }
    for (const group of content.groups) {
      locator.addGroup(group.fullId, group.doc, group.path);
      const built = target.group(group.localId, groupOptions(group.doc), (inner) =>
        declare(inner, group.scope),
      );
      const upstream = rewrite(group.doc.upstream);
      if (upstream.length > 0) built.after(...upstream);
    }
  };
  const built = withoutStackTraces(() =>
    buildDag(dagOptions(dagId, doc), (d) => declare(d, scope)),
  );
  const known = yamlOperators().map((o) => o.name);
  // A value the builder could not convert (a bad date) is null in the spec; what the
  // validator then says about that field (a missing date) would only mislead.
  const converted = new Set(built.issues.map((issue) => issue.field));
  const checked = validateDagSpec(built.spec, context.file).filter(
    (issue) => issue.field === undefined || !converted.has(issue.field),
  );
  const issues = [...built.issues, ...checked].map((issue) => {
    // An issue in a SQL model names the model's file and line already.
    if (issue.file !== undefined && issue.file !== context.file) return { ...issue, dagId };
    const located = locator.locate(issue);
    if (issue.message.startsWith('unknown operator')) {
      const name = /'(.*)'/.exec(issue.message)?.[1] ?? '';
      located.hint = didYouMean(name, known, `known operators: ${known.join(', ')}`);
    }
    if (issue.message === 'must name an operator') {
      located.message = 'the task has no operator';
      located.hint = `set operator (one of ${known.join(', ')}), or extends a template that does`;
    }
    return located;
  });
  const all = [...problems, ...[...own, ...issues].filter((issue) => !failed.has(issue.taskId))];
  let resolved: YamlMap | undefined;
  return {
    dagId,
    dag: problems.length > 0 ? undefined : built,
    issues: all,
    // Only `updraft dags render` needs it.
    get resolved() {
      resolved ??= resolvedDocument(doc, scope);
      return resolved;
    },
    locator: problems.length > 0 ? undefined : locator,
  };
}

/** Resolves templates and expansion of every task of a DAG. */
class ScopeResolver {
  constructor(
    private readonly dagId: string,
    private readonly dagDoc: YamlMap,
    private readonly context: CompileContext,
    private readonly problems: SpecIssue[],
    private readonly expansions: Map<string, string[]>,
  ) {}

  scope(doc: YamlMap, groupId: string | null, path: YamlPath): ResolvedScope {
    const tasks: ResolvedTaskEntry[] = [];
    const groups: ResolvedGroupEntry[] = [];
    const prefix = groupId === null ? '' : `${groupId}.`;
    const taskDocs = isYamlMap(doc.tasks) ? doc.tasks : {};
    for (const localId of Object.keys(taskDocs)) {
      const raw = taskDocs[localId];
      if (!isYamlMap(raw)) continue;
      const taskPath = [...path, 'tasks', localId];
      const resolved = this.context.templates.resolve(raw);
      if (!resolved.ok) {
        const { template, message, hint } = resolved.problem;
        const at =
          template === undefined
            ? { node: doc, where: ['tasks', localId, 'extends'], field: [...taskPath, 'extends'] }
            : {
                node: undefined,
                where: [template, 'extends'],
                field: ['templates', template, 'extends'],
              };
        this.report(
          at.node ?? this.templatesNode(),
          at.where,
          at.field,
          message,
          `${prefix}${localId}`,
          hint,
        );
        continue;
      }
      tasks.push(...this.expand(resolved.task, localId, prefix, taskPath, doc));
    }
    const groupDocs = isYamlMap(doc.groups) ? doc.groups : {};
    for (const localId of Object.keys(groupDocs)) {
      const groupDoc = groupDocs[localId];
      if (!isYamlMap(groupDoc)) continue;
      const groupPath = [...path, 'groups', localId];
      groups.push({
        localId,
        fullId: `${prefix}${localId}`,
        doc: groupDoc,
        path: groupPath,
        scope: this.scope(groupDoc, `${prefix}${localId}`, groupPath),
      });
    }
    return { tasks, groups };
  }

  /** The task as written, without templates or expansion (after a problem with them). */
  private asWritten(
    raw: YamlMap,
    localId: string,
    prefix: string,
    path: YamlPath,
  ): ResolvedTaskEntry {
    return {
      localId,
      fullId: `${prefix}${localId}`,
      doc: omitKeys(raw, ['extends', 'expand']),
      path,
    };
  }

  private templatesNode(): YamlMap {
    return this.context.templates.templates;
  }

  private expand(
    task: YamlMap,
    localId: string,
    prefix: string,
    path: YamlPath,
    scopeDoc: YamlMap,
  ): ResolvedTaskEntry[] {
    const spec = task.expand;
    if (!isYamlMap(spec)) return [{ localId, fullId: `${prefix}${localId}`, doc: task, path }];
    const where = ['tasks', localId, 'expand'];
    const fail = (message: string, hint?: string, key?: string): ResolvedTaskEntry[] => {
      const written = [this.asWritten(task, localId, prefix, path)];
      const at = locate(task, key === undefined ? ['expand'] : ['expand', key]);
      this.problems.push({
        ...(at ?? locate(scopeDoc, where) ?? { file: this.context.file }),
        dagId: this.dagId,
        taskId: `${prefix}${localId}`,
        field: formatPath([...path, 'expand', ...(key === undefined ? [] : [key])]),
        message,
        hint,
      });
      return written;
    };
    let items: YamlValue[];
    if (Array.isArray(spec.items) && spec.param === undefined) {
      items = spec.items;
    } else if (typeof spec.param === 'string' && spec.items === undefined) {
      const properties = isYamlMap(this.dagDoc.params) ? this.dagDoc.params.properties : undefined;
      const names = isYamlMap(properties) ? Object.keys(properties) : [];
      const param = isYamlMap(properties) ? properties[spec.param] : undefined;
      if (!isYamlMap(param)) {
        return fail(
          `param '${spec.param}' is not declared in the DAG's params`,
          didYouMean(spec.param, names, 'declare it under params.properties with a default list'),
          'param',
        );
      }
      if (!Array.isArray(param.default) || param.default.length === 0) {
        return fail(
          `param '${spec.param}' has no default list to expand over`,
          `give params.properties.${spec.param} a default: [...]`,
          'param',
        );
      }
      items = param.default;
    } else {
      return fail(
        'expand needs either items or param (one of them)',
        'expand: { items: [a, b] } or expand: { param: regions }',
      );
    }
    if (items.length > MAX_EXPANDED_TASKS) {
      return fail(
        `expands to ${items.length} tasks, more than the limit of ${MAX_EXPANDED_TASKS}`,
        'map over the values at run time with mapOver instead',
      );
    }
    const ids = expandedIds(localId, items);
    this.expansions.set(
      `${prefix}${localId}`,
      ids.map((id) => `${prefix}${id}`),
    );
    const base = omitKeys(task, ['expand']);
    return items.map((item, index) => ({
      localId: ids[index] ?? `${localId}_${index}`,
      fullId: `${prefix}${ids[index] ?? `${localId}_${index}`}`,
      doc: substitute(base, item, index, (message) => fail(message)) as YamlMap,
      path,
    }));
  }

  private report(
    node: YamlMap,
    where: YamlPath,
    field: YamlPath,
    message: string,
    taskId: string,
    hint?: string,
  ): void {
    this.problems.push({
      ...(locate(node, where, 'value') ?? { file: this.context.file }),
      dagId: this.dagId,
      taskId,
      field: formatPath(field),
      message,
      hint,
    });
  }
}

/**
 * Declares a `sql_models` task as the task group the builder makes of it, the models
 * folder relative to the YAML file. `outlets`, `mapOver` and `branch` do not apply to it.
 */
function declareSqlModels(
  target: TaskScope,
  task: ResolvedTaskEntry,
  config: OperatorConfig,
  options: TaskOptions,
  file: string,
  own: SpecIssue[],
): void {
  const { outlets, mapOver, branch, ...rest } = options;
  for (const [key, value] of Object.entries({ outlets, mapOver, branch })) {
    if (value === undefined) continue;
    own.push({
      ...(locate(task.doc, [key], 'key') ?? { file }),
      taskId: task.fullId,
      field: formatPath([...task.path, key]),
      message: `a ${SQL_MODELS_OPERATOR} task has no ${key}`,
      hint:
        key === 'outlets'
          ? 'each model writes its own dataset (see publish and datasetPrefix)'
          : `${key === 'mapOver' ? 'map over' : 'branch in'} a task that reads the models instead`,
    });
  }
  target.sqlModels(task.localId, config as SqlModelsTaskConfig, {
    ...rest,
    baseDir: path.dirname(file),
  });
}

function pick<K extends string>(doc: YamlMap, keys: readonly K[]): Partial<Record<K, YamlValue>> {
  const out: Partial<Record<K, YamlValue>> = {};
  for (const key of keys) if (Object.hasOwn(doc, key)) out[key] = doc[key] ?? null;
  return out;
}

function dagOptions(dagId: string, doc: YamlMap): DagOptions {
  const options = { id: dagId, ...pick(doc, DAG_OPTION_KEYS) } as DagOptions;
  if (isYamlMap(doc.taskDefaults)) options.defaults = doc.taskDefaults as TaskDefaults;
  return options;
}

function groupOptions(doc: YamlMap): GroupOptions {
  const options: GroupOptions = {};
  if (typeof doc.tooltip === 'string') options.tooltip = doc.tooltip;
  if (isYamlMap(doc.taskDefaults)) options.defaults = doc.taskDefaults as TaskDefaults;
  return options;
}

function taskOptions(doc: YamlMap, rewrite: (ids: YamlValue | undefined) => string[]): TaskOptions {
  const options = pick(doc, TASK_OPTION_KEYS) as TaskOptions;
  if (doc.upstream !== undefined) options.upstream = rewrite(doc.upstream);
  // The document passed the schema: `mapOver` has its shape.
  const mapOver = (doc as TaskDoc).mapOver;
  if (mapOver !== undefined) options.mapOver = { ...mapOver };
  return options;
}

/** The DAG document with tasks replaced by their resolved (and expanded) form. */
function resolvedDocument(doc: YamlMap, scope: ResolvedScope): YamlMap {
  const out = omitKeys(doc, ['tasks', 'groups', 'environments']);
  if (scope.tasks.length > 0) {
    const tasks: YamlMap = {};
    for (const task of scope.tasks) tasks[task.localId] = task.doc;
    out.tasks = tasks;
  }
  if (scope.groups.length > 0) {
    const groups: YamlMap = {};
    for (const group of scope.groups) {
      groups[group.localId] = resolvedDocument(group.doc, group.scope);
    }
    out.groups = groups;
  }
  return out;
}

/**
 * Runs `build` with stack traces off. The builder captures a stack at every declaration
 * to point TypeScript issues at their line; for YAML those frames are Updraft's own
 * (never shown), and capturing 10,000 of them is a third of the load time. `build` is
 * synchronous, so nothing else runs meanwhile.
 */
function withoutStackTraces<T>(build: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return build();
  } finally {
    Error.stackTraceLimit = limit;
  }
}
