/**
 * The objects the build function of `dag()` works with. They only record: tasks,
 * groups and dependency edges go into a `DagDraft`, and problems become `SpecIssue`s
 * with the line of the declaration. `finishDag` turns the draft into a `DagSpec` once
 * the build function has returned, when every edge can be resolved (a dependency on a
 * group needs all of the group's tasks).
 */
import path from 'node:path';
import type { BranchSpec, Json, MapOver } from '../core/dag-spec.ts';
import type { SpecIssue } from '../core/errors.ts';
import type { LoadInput } from '../core/load-inputs.ts';
import { DEFAULT_MAP_MAX_ITEMS } from '../core/mapping.ts';
import type { TaskFunction } from '../core/task-context.ts';
import {
  type ModelTask,
  planModelTasks,
  SQL_MODELS_OPERATOR,
  type SqlModelsConfig,
  sqlModelsConfigSchema,
} from '../data/sql-models.ts';
import { parseConfig } from '../operators/parse-config.ts';
import { type CallSite, callSiteLocation, captureCallSite } from './call-site.ts';
import { plainJson } from './json-values.ts';
import { TASK_DEFAULTS_FIELDS, TASK_OPTIONS_FIELDS } from './task-settings.ts';
import type {
  BranchOptions,
  DagBuilder,
  DependencyNode,
  GroupOptions,
  MapOverOptions,
  OperatorConfig,
  ShellTaskConfig,
  SqlModelsOptions,
  SqlModelsTaskConfig,
  TaskDefaults,
  TaskGroup,
  TaskOptions,
  TaskRef,
  TaskScope,
  Upstream,
} from './types.ts';
import { reportUnknownFields } from './unknown-fields.ts';

/** A task as declared, before defaults and dependencies are resolved. */
export interface TaskDraft {
  taskId: string;
  operator: string;
  config: { [key: string]: Json };
  groupId: string | null;
  /** The task's own settings over its scope's defaults. */
  settings: TaskDefaults;
  doc: string | null;
  inlets: string[];
  outlets: string[];
  connections: string[];
  mapOver: MapOver | null;
  branch: BranchSpec | null;
  fn: TaskFunction | undefined;
  site: CallSite;
}

/** A task group as declared. */
export interface GroupDraft {
  groupId: string;
  parent: string | null;
  tooltip: string | null;
  site: CallSite;
}

/** "`to` waits for `from`", as declared. */
export interface EdgeDraft {
  from: Upstream;
  to: DependencyNode;
  site: CallSite;
}

/** Everything declared for one DAG so far. */
export class DagDraft {
  readonly tasks = new Map<string, TaskDraft>();
  readonly groups = new Map<string, GroupDraft>();
  readonly edges: EdgeDraft[] = [];
  readonly issues: SpecIssue[] = [];
  /** Files and folders read while building (SQL models), by path. */
  readonly inputs = new Map<string, LoadInput>();
  /** Set when the build function has returned; later declarations are programming errors. */
  sealed = false;

  constructor(
    readonly dagId: string,
    readonly site: CallSite,
  ) {}

  /** Records a problem, located at `site` (default: the `dag()` call). */
  report(issue: Omit<SpecIssue, 'dagId'>, site: CallSite = this.site): void {
    this.issues.push({ ...callSiteLocation(site), dagId: this.dagId, ...issue });
  }

  /** Throws if the build function has already returned. */
  assertOpen(action: string): void {
    if (this.sealed) {
      throw new Error(
        `dag '${this.dagId}': cannot ${action} after its build function returned; ` +
          'declare tasks and dependencies inside the function passed to dag()',
      );
    }
  }
}

/** `value` without the fields set to undefined, so they do not hide defaults. */
function definedOnly<T extends object>(value: T | undefined): Partial<T> {
  const out: Partial<T> = {};
  if (value === undefined || value === null || typeof value !== 'object') return out;
  for (const [key, item] of Object.entries(value)) {
    if (item !== undefined) (out as Record<string, unknown>)[key] = item;
  }
  return out;
}

const GROUP_OPTIONS_FIELDS: Readonly<Record<keyof GroupOptions, true>> = {
  tooltip: true,
  defaults: true,
};

/** Reports misspelt fields of a `defaults` object (of the DAG or a group). */
export function reportDefaultsFields(
  draft: DagDraft,
  defaults: TaskDefaults | undefined,
  field: string,
  site: CallSite,
): void {
  reportUnknownFields(defaults, TASK_DEFAULTS_FIELDS, (key, hint) =>
    draft.report(
      { field: `${field}.${key}`, message: `unknown task setting '${key}'`, hint },
      site,
    ),
  );
}

function isPromiseLike(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** Runs a build function, reporting one that returns a promise (it must be synchronous). */
function runBuild<T>(
  draft: DagDraft,
  build: ((scope: T) => void) | undefined,
  scope: T,
  what: string,
  site: CallSite,
): void {
  if (typeof build !== 'function') {
    draft.report({ message: `${what} needs a build function`, hint: 'pass (d) => { ... }' }, site);
    return;
  }
  const result: unknown = build(scope);
  if (isPromiseLike(result)) {
    draft.report(
      {
        message: `the build function of ${what} returned a promise; it must declare everything synchronously`,
        hint: 'do async work inside tasks, not while declaring them',
      },
      site,
    );
  }
}

function addEdges(
  draft: DagDraft,
  froms: readonly Upstream[],
  tos: readonly DependencyNode[],
  site: CallSite,
): void {
  draft.assertOpen('add dependencies');
  for (const from of froms) for (const to of tos) draft.edges.push({ from, to, site });
}

function asList<T>(value: T | readonly T[]): readonly T[] {
  return Array.isArray(value) ? (value as readonly T[]) : [value as T];
}

/** `node.after(...upstream)` of a task or group: `node` waits for each of `upstream`. */
function addAfter<N extends DraftNode & DependencyNode>(
  node: N,
  upstream: readonly Upstream[],
  site: CallSite,
): N {
  addEdges(node.draft, upstream, [node], site);
  return node;
}

/** `node.before(downstream)` of a task or group: each of `downstream` waits for `node`. */
function addBefore<T extends DependencyNode | readonly DependencyNode[]>(
  node: DraftNode & DependencyNode,
  downstream: T,
  site: CallSite,
): T {
  addEdges(node.draft, [node], asList<DependencyNode>(downstream), site);
  return downstream;
}

/** What already holds an id, for duplicate-id messages: "a task declared at line 12". */
function declaredAs(existing: TaskDraft | GroupDraft): string {
  const { line } = callSiteLocation(existing.site);
  const kind = 'taskId' in existing ? 'task' : 'group';
  return `a ${kind}${line === undefined ? '' : ` declared at line ${line}`}`;
}

/** Tasks and groups know their draft, so edges to another DAG's nodes can be refused. */
export abstract class DraftNode {
  constructor(readonly draft: DagDraft) {}
}

export class TaskRefImpl extends DraftNode implements TaskRef {
  readonly kind = 'task';

  constructor(
    draft: DagDraft,
    readonly taskId: string,
  ) {
    super(draft);
  }

  after(...upstream: Upstream[]): this {
    return addAfter(this, upstream, captureCallSite());
  }

  before<T extends DependencyNode | readonly DependencyNode[]>(downstream: T): T {
    return addBefore(this, downstream, captureCallSite());
  }
}

/** Task declaration methods shared by the DAG builder and groups. */
abstract class ScopeImpl extends DraftNode implements TaskScope {
  constructor(
    draft: DagDraft,
    /** Id of the group this scope is, or null for the DAG itself. */
    private readonly scopeGroupId: string | null,
    /** Task defaults in force in this scope. */
    private readonly scopeDefaults: TaskDefaults,
  ) {
    super(draft);
  }

  task(id: string, fn: TaskFunction): TaskRef;
  task(id: string, options: TaskOptions, fn: TaskFunction): TaskRef;
  task(id: string, optionsOrFn: TaskOptions | TaskFunction, maybeFn?: TaskFunction): TaskRef {
    const site = captureCallSite();
    const [options, fn] =
      typeof optionsOrFn === 'function' ? [{}, optionsOrFn] : [optionsOrFn, maybeFn];
    const ref = this.declare('ts', id, {}, options, site);
    if (typeof fn === 'function') {
      const task = this.draft.tasks.get(ref.taskId);
      if (task?.site === site) task.fn = fn;
    } else {
      this.draft.report(
        {
          taskId: ref.taskId,
          message: 'a ts task needs a function',
          hint: `write d.task('${id}', async (ctx) => { ... })`,
        },
        site,
      );
    }
    return ref;
  }

  shell(id: string, config: ShellTaskConfig, options?: TaskOptions): TaskRef {
    return this.declare('shell', id, config, options, captureCallSite());
  }

  operator(operator: string, id: string, config: OperatorConfig, options?: TaskOptions): TaskRef {
    const site = captureCallSite();
    if (operator === SQL_MODELS_OPERATOR) {
      this.draft.report(
        {
          taskId: this.childId(id, site),
          message: `${SQL_MODELS_OPERATOR} becomes a task group with one task per model`,
          hint: `declare it with d.sqlModels('${id}', config, options)`,
        },
        site,
      );
      return new TaskRefImpl(this.draft, this.childId(id, site));
    }
    return this.declare(operator, id, config, options, site);
  }

  sqlModels(id: string, config: SqlModelsTaskConfig, options?: SqlModelsOptions): TaskGroup {
    const site = captureCallSite();
    this.draft.assertOpen('declare SQL models');
    const groupId = this.childId(id, site);
    const report = (issue: SpecIssue) =>
      this.draft.report(
        {
          ...issue,
          // A model file's line is no column of the call site.
          ...(issue.file === undefined ? {} : { column: issue.column }),
          taskId: groupId,
          field: issue.field === undefined ? undefined : `tasks.${groupId}.${issue.field}`,
        },
        site,
      );
    reportUnknownFields(options, SQL_MODELS_OPTIONS_FIELDS, (key, hint) =>
      report({ field: key, message: `unknown sql_models option '${key}'`, hint }),
    );
    const { upstream = [], doc, inlets = [], baseDir, ...settings } = definedOnly(options);
    const json = plainJson(config, 'config', (field, message) => report({ field, message }));
    const parsed = parseConfig<SqlModelsConfig>(
      sqlModelsConfigSchema,
      json !== null && typeof json === 'object' && !Array.isArray(json) ? json : {},
    );
    if (!parsed.ok) {
      for (const issue of parsed.issues) {
        report({ ...issue, field: issue.field === undefined ? 'config' : `config.${issue.field}` });
      }
    }
    const base = baseDir ?? callerFolder(site);
    if (base === undefined) {
      report({
        field: 'baseDir',
        message: `cannot tell which folder the models path '${String(config?.path)}' is relative to`,
        hint: 'pass baseDir: import.meta.dirname, or an absolute path',
      });
    }
    let planned: ModelTask[] = [];
    if (parsed.ok && base !== undefined) {
      const plan = planModelTasks(parsed.config, {
        dagId: this.draft.dagId,
        groupId,
        baseDir: base,
        inlets,
      });
      for (const input of plan.inputs) this.draft.inputs.set(input.path, input);
      for (const issue of plan.issues) report(issue);
      planned = plan.tasks;
    }
    const group = this.group(
      id,
      { ...(doc === undefined ? {} : { tooltip: doc }), defaults: settings },
      (g) => {
        const refs = new Map<string, TaskRef>();
        for (const task of planned) {
          const ref = g.operator('duckdb', task.model, task.config as OperatorConfig, {
            inlets: task.inlets,
            outlets: [task.output],
            doc: task.doc,
          });
          refs.set(task.model, ref);
          const models = task.refs.flatMap((r) => refs.get(r) ?? []);
          // A model reading sources waits for what the group waits for, so its inlets
          // resolve to the versions those tasks wrote in the run (not only the roots do).
          const after = task.readsSources ? [...models, ...upstream] : models;
          if (after.length > 0) ref.after(...after);
        }
      },
    );
    if (upstream.length > 0) group.after(...upstream);
    return group;
  }

  group(id: string, build: (group: TaskGroup) => void): TaskGroup;
  group(id: string, options: GroupOptions, build: (group: TaskGroup) => void): TaskGroup;
  group(
    id: string,
    optionsOrBuild: GroupOptions | ((group: TaskGroup) => void),
    maybeBuild?: (group: TaskGroup) => void,
  ): TaskGroup {
    const site = captureCallSite();
    this.draft.assertOpen('declare a group');
    const [options, build] =
      typeof optionsOrBuild === 'function' ? [{}, optionsOrBuild] : [optionsOrBuild, maybeBuild];
    const groupId = this.childId(id, site);
    const existing = this.draft.groups.get(groupId) ?? this.draft.tasks.get(groupId);
    if (existing !== undefined) {
      this.draft.report(
        {
          field: `groups.${groupId}`,
          message: `id '${groupId}' is already used by ${declaredAs(existing)}`,
          hint: 'give every task and group a unique id',
        },
        site,
      );
    } else {
      this.draft.groups.set(groupId, {
        groupId,
        parent: this.scopeGroupId,
        tooltip: options?.tooltip ?? null,
        site,
      });
    }
    reportUnknownFields(options, GROUP_OPTIONS_FIELDS, (key, hint) =>
      this.draft.report(
        { field: `groups.${groupId}.${key}`, message: `unknown group option '${key}'`, hint },
        site,
      ),
    );
    reportDefaultsFields(this.draft, options?.defaults, `groups.${groupId}.defaults`, site);
    const group = new TaskGroupImpl(this.draft, groupId, {
      ...this.scopeDefaults,
      ...definedOnly(options?.defaults),
    });
    runBuild(this.draft, build, group, `group '${groupId}'`, site);
    return group;
  }

  chain(...nodes: (DependencyNode | readonly DependencyNode[])[]): void {
    const site = captureCallSite();
    for (let i = 1; i < nodes.length; i++) {
      const from = nodes[i - 1];
      const to = nodes[i];
      if (from === undefined || to === undefined) continue;
      addEdges(this.draft, asList<DependencyNode>(from), asList<DependencyNode>(to), site);
    }
  }

  /** Full id of a task or group declared in this scope as `id`. */
  private childId(id: string, site: CallSite): string {
    let local = id;
    if (typeof id !== 'string') {
      local = String(id);
      this.draft.report({ message: `an id must be a string, got ${typeof id} '${local}'` }, site);
    }
    return this.scopeGroupId === null ? local : `${this.scopeGroupId}.${local}`;
  }

  private declare(
    operator: string,
    id: string,
    config: OperatorConfig,
    options: TaskOptions | undefined,
    site: CallSite,
  ): TaskRef {
    this.draft.assertOpen('declare a task');
    const taskId = this.childId(id, site);
    const ref = new TaskRefImpl(this.draft, taskId);
    const existing = this.draft.tasks.get(taskId) ?? this.draft.groups.get(taskId);
    if (existing !== undefined) {
      this.draft.report(
        {
          taskId,
          message: `task id '${taskId}' is already used by ${declaredAs(existing)}`,
          hint: 'give every task a unique id',
        },
        site,
      );
      return ref;
    }
    reportUnknownFields(options, TASK_OPTIONS_FIELDS, (key, hint) =>
      this.draft.report(
        { taskId, field: `tasks.${taskId}.${key}`, message: `unknown task option '${key}'`, hint },
        site,
      ),
    );
    const { upstream, doc, inlets, outlets, connections, mapOver, branch, ...settings } =
      definedOnly(options);
    const json = plainJson(config, 'config', (path, message) =>
      this.draft.report({ taskId, field: `tasks.${taskId}.${path}`, message }, site),
    );
    this.draft.tasks.set(taskId, {
      taskId,
      operator,
      config: json !== null && typeof json === 'object' && !Array.isArray(json) ? json : {},
      groupId: this.scopeGroupId,
      settings: { ...this.scopeDefaults, ...settings },
      doc: doc ?? null,
      inlets: [...(inlets ?? [])],
      outlets: [...(outlets ?? [])],
      connections: [...(connections ?? [])],
      mapOver: mapOver === undefined ? null : mapOverSpec(mapOver),
      branch: branchSpec(branch),
      fn: undefined,
      site,
    });
    if (upstream !== undefined) addEdges(this.draft, asList(upstream), [ref], site);
    if (mapOver !== undefined) addEdges(this.draft, [mapOver.upstream], [ref], site);
    return ref;
  }
}

const SQL_MODELS_OPTIONS_FIELDS: Readonly<Record<keyof SqlModelsOptions, true>> = {
  ...TASK_DEFAULTS_FIELDS,
  doc: true,
  upstream: true,
  inlets: true,
  baseDir: true,
};

/** The folder of the user file a call site is in, or undefined. */
function callerFolder(site: CallSite): string | undefined {
  const { file } = callSiteLocation(site);
  return file === undefined ? undefined : path.dirname(file);
}

/** The spec form of a task's `mapOver` option (the validator checks the values). */
function mapOverSpec(options: MapOverOptions): MapOver {
  const { upstream, path, maxItems } = options;
  return {
    upstream: typeof upstream === 'string' ? upstream : upstream.taskId,
    path: path ?? null,
    maxItems: maxItems ?? DEFAULT_MAP_MAX_ITEMS,
  };
}

/**
 * The spec form of a task's `branch` option: `true` or `{ path? }` make a branch, `false`
 * or nothing does not; any other value is kept for the validator to report.
 */
function branchSpec(option: boolean | BranchOptions | undefined): BranchSpec | null {
  if (option === undefined || option === false) return null;
  if (option === true) return { path: null };
  if (option === null || typeof option !== 'object') return option as unknown as BranchSpec;
  return { path: option.path ?? null };
}

export class TaskGroupImpl extends ScopeImpl implements TaskGroup {
  readonly kind = 'group';

  constructor(
    draft: DagDraft,
    readonly groupId: string,
    defaults: TaskDefaults,
  ) {
    super(draft, groupId, defaults);
  }

  after(...upstream: Upstream[]): this {
    return addAfter(this, upstream, captureCallSite());
  }

  before<T extends DependencyNode | readonly DependencyNode[]>(downstream: T): T {
    return addBefore(this, downstream, captureCallSite());
  }
}

export class DagBuilderImpl extends ScopeImpl implements DagBuilder {
  constructor(draft: DagDraft, defaults: TaskDefaults) {
    super(draft, null, definedOnly(defaults));
  }

  get dagId(): string {
    return this.draft.dagId;
  }

  /** Runs the user's build function on this builder. */
  run(build: ((d: DagBuilder) => void) | undefined): void {
    runBuild(this.draft, build, this, `dag '${this.draft.dagId}'`, this.draft.site);
  }
}
