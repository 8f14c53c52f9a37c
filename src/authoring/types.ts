/**
 * The types of the TypeScript authoring API: what `dag(options, build)` takes, what its
 * build function works with, and the `Dag` it returns.
 *
 * Terminology:
 * - scope: where tasks are declared — the DAG itself (`DagBuilder`) or a task group.
 * - node: something a dependency can point at — a task (`TaskRef`) or a group
 *   (`TaskGroup`). A dependency on a group means its edge tasks: `group.after(x)` makes
 *   every task of the group without an upstream inside the group wait for `x`;
 *   `group.before(y)` makes `y` wait for every task of the group without a downstream
 *   inside it (as Airflow's task groups do).
 * - ids: a task declared as `clean` in group `transform` has the task id
 *   `transform.clean`; ids are explicit and never generated.
 */
import type { DagSpec, Json, JsonSchema } from '../core/dag-spec.ts';
import type { Duration } from '../core/duration.ts';
import type { SpecIssue, SpecLocation } from '../core/errors.ts';
import type { LoadInput } from '../core/load-inputs.ts';
import type { TaskFunction } from '../core/task-context.ts';
import type { TriggerRule } from '../core/trigger-rules.ts';
import type { SqlModelsConfig } from '../data/sql-models.ts';
import type { WeightRule } from '../loader/dag-graph.ts';
import type { ShellConfig } from '../operators/shell-operator.ts';

/** Task settings that can be given once for many tasks (`defaults` of a DAG or group). */
export interface TaskDefaults {
  /** Retries after the first try. Default 0. */
  retries?: number;
  /** Base delay before a retry. Default `'300s'`. */
  retryDelay?: Duration;
  /** Double the delay on each retry, with deterministic jitter. Default false. */
  retryExponentialBackoff?: boolean;
  /** Upper bound of the retry delay; null means 24 hours. Default null. */
  maxRetryDelay?: Duration | null;
  /** Kill an attempt that runs longer than this; null means no limit. Default null. */
  executionTimeout?: Duration | null;
  /** When the task runs, given its upstream tasks' states. Default `'all_success'`. */
  triggerRule?: TriggerRule;
  /** Pool whose slots the task takes while queued or running. Default `'default_pool'`. */
  pool?: string;
  /** Slots taken from the pool. Default 1. */
  poolSlots?: number;
  /** Own priority weight; combined with relatives' per `weightRule`. Default 1. */
  priorityWeight?: number;
  /** How `priorityWeight` becomes the effective priority. Default `'downstream'`. */
  weightRule?: WeightRule;
  /** Executor queue (for the distributed executor). Default `'default'`. */
  queue?: string;
  /** Notifier connections to tell about the task's events. Default none. */
  notify?: NotifyOptions;
  /** Deadline (SLA) of the task: alerts when it is not done in time. Default none. */
  deadline?: DeadlineOptions | null;
}

/** Notifier connection names per event (each a connection with a notifier URL). */
export interface NotifyOptions {
  onSuccess?: readonly string[];
  onFailure?: readonly string[];
  onRetry?: readonly string[];
  onDeadlineMiss?: readonly string[];
}

/** A deadline: `after` a run's start (default) or its logical date (see `DeadlineSpec`). */
export interface DeadlineOptions {
  after: Duration;
  from?: 'start' | 'logical_date';
}

/** Options of one task: the settings above plus its documentation and upstream. */
export interface TaskOptions extends TaskDefaults {
  /** Documentation shown in the UI (Markdown). Default none. */
  doc?: string;
  /**
   * Tasks or groups this task waits for. A string is a full task or group id of this
   * DAG (`'transform.clean'`). Same as calling `after(...)` on the task. Default none.
   */
  upstream?: readonly Upstream[];
  /**
   * Datasets read: `name`, `name@alias` or `name@v<N>` (alias `latest` by default); a
   * trailing `?` (`name?`) makes the inlet optional: absent, not an error, while the
   * dataset has no version. Default none.
   */
  inlets?: readonly string[];
  /** Datasets written (names). */
  outlets?: readonly string[];
  /**
   * Connections the task uses: stored (`updraft connections add`) and file connections
   * reach `ctx.connection(name)` only when listed here (environment ones always do).
   * Default none.
   */
  connections?: readonly string[];
  /**
   * Run one instance of this task per item of an upstream task's result (or of the array
   * at `path` in it); the upstream task becomes an upstream of this one. Default: unmapped.
   */
  mapOver?: MapOverOptions;
  /**
   * Make this a branch task (`src/core/branching.ts`): its result — or, with `{ path }`,
   * the value at that path in it — is the id, or list of ids, of the direct downstream
   * tasks to run; the others are skipped (an empty list skips them all). Default: not a
   * branch.
   */
  branch?: boolean | BranchOptions;
}

/** Options of a branch task. */
export interface BranchOptions {
  /** Path of the choice inside the result (`'row.follow'`, `'0.follow'`). Default: the result. */
  path?: string;
}

/** Options of run-time mapping (see `MapOver` in `DagSpec`). */
export interface MapOverOptions {
  /** The task whose result is mapped over (a task or its full id). */
  upstream: TaskRef | string;
  /** Path of the array inside the result (`'rows'`, `'0.ids'`). Default: the result itself. */
  path?: string;
  /** Most instances to expand to. Default 1024; at most 10 000. */
  maxItems?: number;
}

/** A DAG's options: the `DagSpec` fields, with durations and dates in friendly forms. */
export interface DagOptions {
  /** DAG id: letters, digits, `_` and `-`. */
  id: string;
  /** One line for lists. Default none. */
  description?: string;
  /** Who looks after the DAG. Default `'updraft'`. */
  owner?: string;
  /** Labels for filtering. Default none. */
  tags?: readonly string[];
  /**
   * Cron expression (`'0 2 * * *'`, 6 fields with seconds first) or preset (`'@daily'`,
   * `'@once'`, ...), read in `timezone`; `{ datasets: [...] }` to run when each listed
   * dataset has a new version; null or absent for manual/triggered runs only.
   */
  schedule?: string | { datasets: readonly string[] } | null;
  /** IANA time zone of the schedule and of dates without an offset. Default `'UTC'`. */
  timezone?: string;
  /**
   * No data interval starts before this. A string without an offset (`'2026-01-01'`,
   * `'2026-01-01T06:00'`) is a wall-clock time in `timezone`. Required with a schedule.
   */
  startDate?: string | Date;
  /** No data interval starts after this (same forms as `startDate`). Default none. */
  endDate?: string | Date | null;
  /** One run per missed interval (true) or only the latest (false). Default false. */
  catchup?: boolean;
  /** Runs of this DAG running at once. Default 16. */
  maxActiveRuns?: number;
  /** Task instances of this DAG queued or running at once, across runs. Default 16. */
  maxActiveTasks?: number;
  /** Fail a run that has been running this long; null means never. Default null. */
  dagrunTimeout?: Duration | null;
  /** Deadline (SLA) of each run: alerts when a run is not done in time. Default none. */
  deadline?: DeadlineOptions | null;
  /** Notifier connections to tell about runs (success, failure, deadline miss). Default none. */
  notify?: NotifyOptions;
  /** JSON Schema (an object schema) of the run parameters. Default: no parameters. */
  params?: JsonSchema;
  /** Whether the DAG starts paused when first seen; absent follows the global setting. */
  pausedOnCreation?: boolean;
  /** Documentation shown in the UI (Markdown). Default none. */
  doc?: string;
  /** Settings for every task that does not set them itself. */
  defaults?: TaskDefaults;
}

/** Options of a task group. */
export interface GroupOptions {
  /** Shown when hovering the group in the graph. Default none. */
  tooltip?: string;
  /** Settings for the group's tasks, on top of the DAG's (and outer groups') defaults. */
  defaults?: TaskDefaults;
}

/** An operator configuration as written: JSON values; `undefined` fields are left out. */
export type OperatorConfig = { [key: string]: Json | undefined };

/** Config of a `shell` task: `command` is required, the rest have defaults. */
export type ShellTaskConfig = Pick<ShellConfig, 'command'> & Partial<Omit<ShellConfig, 'command'>>;

/** Config of a `sql_models` group: `path` is required, the rest have defaults. */
export type SqlModelsTaskConfig = Pick<SqlModelsConfig, 'path'> &
  Partial<Omit<SqlModelsConfig, 'path'>>;

/**
 * Options of a `sql_models` group (`sqlModels`): settings for every model's task, and
 * the group's dependencies and inlets.
 */
export interface SqlModelsOptions extends TaskDefaults {
  /** Shown with the group (its tooltip). Default none. */
  doc?: string;
  /** Tasks or groups the models wait for (as `TaskOptions.upstream`). Default none. */
  upstream?: readonly Upstream[];
  /** Datasets `{{ source('name') }}` reads: an inlet written `name`, else one of dataset `name`. */
  inlets?: readonly string[];
  /**
   * Folder a relative `path` is read from. Default: the folder of the file that calls
   * `sqlModels` (`import.meta.dirname`).
   */
  baseDir?: string;
}

/** Something a task can wait for: a task, a group, or the full id of one of them. */
export type Upstream = DependencyNode | string;

/** A task or a task group of a DAG being built. */
export type DependencyNode = TaskRef | TaskGroup;

/** Dependency methods shared by tasks and groups. */
export interface Dependable {
  /** Makes this wait for `upstream` (tasks, groups or their full ids). Returns this. */
  after(...upstream: Upstream[]): this;
  /**
   * Makes `downstream` (a node or several) wait for this. Returns `downstream`, so
   * `a.before(b).before(c)` reads as the order of work. (Not `then`: that would
   * make tasks look like promises to `await`.)
   */
  before<T extends DependencyNode | readonly DependencyNode[]>(downstream: T): T;
}

/** A task declared in a DAG. */
export interface TaskRef extends Dependable {
  readonly kind: 'task';
  /** Full task id (`group.task` inside a group). */
  readonly taskId: string;
}

/** Where tasks are declared: the DAG itself or a task group. */
export interface TaskScope {
  /** Declares a `ts` task running `fn`. `id` is local to this scope. */
  task(id: string, fn: TaskFunction): TaskRef;
  task(id: string, options: TaskOptions, fn: TaskFunction): TaskRef;
  /** Declares a `shell` task. */
  shell(id: string, config: ShellTaskConfig, options?: TaskOptions): TaskRef;
  /**
   * Declares a task run by operator `operator` with `config` (checked against the
   * operator's schema when the pipeline is loaded).
   */
  operator(operator: string, id: string, config: OperatorConfig, options?: TaskOptions): TaskRef;
  /**
   * Declares a folder of dbt-style SQL models as a task group `id` with one `duckdb`
   * task per model (`id.model`), run in dependency order, independent models in
   * parallel. The folder is read now (load time): a missing ref or a cycle is an issue
   * naming the file and line, and a changed model changes the DAG's version. Each model
   * becomes a dataset version; see `src/data/sql-models.ts`.
   */
  sqlModels(id: string, config: SqlModelsTaskConfig, options?: SqlModelsOptions): TaskGroup;
  /** Declares a nested task group; `build` declares its tasks (synchronously). */
  group(id: string, build: (group: TaskGroup) => void): TaskGroup;
  group(id: string, options: GroupOptions, build: (group: TaskGroup) => void): TaskGroup;
  /**
   * Makes each element wait for the one before it. An array element fans out or in:
   * `chain(a, [b, c], d)` is a→b, a→c, b→d, c→d.
   */
  chain(...nodes: (DependencyNode | readonly DependencyNode[])[]): void;
}

/** A task group: a scope for tasks and a node for dependencies. */
export interface TaskGroup extends TaskScope, Dependable {
  readonly kind: 'group';
  /** Full group id (`outer.inner` when nested). */
  readonly groupId: string;
}

/** What the build function of `dag()` receives. */
export interface DagBuilder extends TaskScope {
  readonly dagId: string;
}

/** Brand of `Dag` objects, shared by every copy of this module (`Symbol.for`). */
export const DAG_BRAND: unique symbol = Symbol.for('updraft.dag');

/** A built DAG: its serialisable spec plus the functions of its `ts` tasks. */
export interface Dag {
  readonly [DAG_BRAND]: true;
  /** The DAG id. */
  readonly dagId: string;
  /** The serialisable definition; tasks in a stable topological order. */
  readonly spec: DagSpec;
  /**
   * Problems found while building (duplicate ids, foreign tasks, bad durations or dates,
   * configs that are not JSON). The loader adds the spec validator's findings; a DAG with
   * any issue is not scheduled.
   */
  readonly issues: readonly SpecIssue[];
  /**
   * Files and folders read while building (SQL models), with digests of what was read:
   * the loader builds the DAG again when one changes.
   */
  readonly inputs: readonly LoadInput[];
  /** The function of `ts` task `taskId`, or undefined. */
  taskFunction(taskId: string): TaskFunction | undefined;
  /** Where the DAG (or one of its tasks or groups, by id) was declared, when known. */
  sourceLocation(id?: string): Pick<SpecLocation, 'file' | 'line' | 'column'>;
}
