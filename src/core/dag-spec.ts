/**
 * `DagSpec` is the serialisable form of a pipeline: what the loader produces from a
 * TypeScript or YAML file, what the store keeps (with a version hash), and all the
 * scheduler ever sees. It holds no functions; user code is looked up again by the
 * worker that runs a task (by file, DAG id and task id).
 *
 * Vocabulary:
 * - DAG: a pipeline — tasks and their dependencies, with a schedule.
 * - task: one node of a DAG, run by an operator (`ts`, `shell`, ...).
 * - run (DAG run): one execution of a DAG for a logical date / data interval.
 * - task instance: one task in one run; it has a state and a try number.
 * - attempt: one try of a task instance, run by an executor in a worker process.
 * - pool: a named number of slots shared by tasks across DAGs.
 *
 * Durations in a spec are milliseconds; dates are ISO 8601 strings in UTC.
 */
import type { TriggerRule } from './trigger-rules.ts';

/** A JSON value: what task results, params and operator configs are made of. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** JSON Schema (draft 2020-12 subset accepted by ajv) for the params of a DAG. */
export type JsonSchema = { [key: string]: Json };

/** Operator names known to the engine. More arrive with the data layer. */
export type OperatorName = string;

export interface TaskSpec {
  /** Unique within the DAG. A task in a group is `group.task` (nested: `a.b.task`). */
  taskId: string;
  /** Operator that runs the task (`ts`, `shell`, ...). */
  operator: OperatorName;
  /**
   * Operator configuration, serialisable. String fields may hold run-time templates
   * (`{{ ds }}`, `{{ params.x }}`), rendered in the worker just before the task runs.
   * For `ts` tasks it is `{}`: the function is found by the worker in the DAG file.
   */
  config: { [key: string]: Json };
  /** Direct upstream task ids. */
  upstream: string[];
  triggerRule: TriggerRule;
  /** Number of retries after the first try (default 0). */
  retries: number;
  /** Base delay before a retry (default 300 000 ms, as Airflow). */
  retryDelayMs: number;
  /** Grow the delay exponentially with jitter (see `src/core/retry.ts`). Default false. */
  retryExponentialBackoff: boolean;
  /** Upper bound of the retry delay; null means 24 hours. */
  maxRetryDelayMs: number | null;
  /** Kill the attempt after this long; null means no limit. */
  executionTimeoutMs: number | null;
  /** Pool whose slots the task occupies while queued or running (default `default_pool`). */
  pool: string;
  /** Slots taken from the pool (default 1). */
  poolSlots: number;
  /** Effective priority: higher runs first when slots are scarce (default 1). */
  priorityWeight: number;
  /** Executor queue (for the distributed executor; default `default`). */
  queue: string;
  /** Id of the innermost task group holding the task, or null. */
  group: string | null;
  /** Human documentation (Markdown). */
  doc: string | null;
  /**
   * Datasets the task reads: `name`, `name@alias` or `name@v<N>` (default alias
   * `latest`), optional with a trailing `?` (absent while the dataset has no version).
   * Resolved to versions when the task is queued and pinned per run.
   */
  inlets: string[];
  /** Datasets the task writes (names). Lineage, and triggers for dataset-scheduled DAGs. */
  outlets: string[];
  /**
   * Connections the task uses (`ctx.connection(name)`; `UPDRAFT_CONN_<NAME>` for a shell
   * command), resolved when it is queued: stored, then the connections file, then the
   * environment. A data operator's `connection` field is resolved without being listed.
   * Specs stored before this field existed lack it: read it as `connections ?? []`.
   */
  connections: string[];
  /** Run-time mapping: one task instance per item of an upstream result; null when unmapped. */
  mapOver: MapOver | null;
  /**
   * Set on a branch task (`src/core/branching.ts`): its result names the direct downstream
   * tasks to follow; the others are skipped. Null for other tasks. Specs stored before
   * this field existed lack it: read it as `branch ?? null`.
   */
  branch: BranchSpec | null;
  /** Who hears about this task's success, failure, retries and deadline misses. */
  notify: NotifySpec;
  /** When the task should be done by; a miss alerts but stops nothing. Null: none. */
  deadline: DeadlineSpec | null;
}

/**
 * Notification targets per event: names of notifier connections (`UPDRAFT_CONN_<NAME>`
 * with a `slack://`, `smtp://` or `webhook`/`https://` URL; see the alerting docs).
 */
export interface NotifySpec {
  onSuccess: string[];
  onFailure: string[];
  onRetry: string[];
  onDeadlineMiss: string[];
}

/**
 * A deadline (SLA): done within `afterMs` of the run's start (`from: 'start'`) or of its
 * logical date / data interval end (`from: 'logical_date'`: the interval end for
 * scheduled runs, when the data is complete; the logical date otherwise).
 */
export interface DeadlineSpec {
  afterMs: number;
  from: 'start' | 'logical_date';
}

/**
 * Dynamic task mapping at run time. When `upstream` succeeds, its result (or the value
 * at `path` inside it) must be an array: the task gets one instance per item (map index
 * 0..n-1), each seeing its item as `item` (`ctx.item`, `{{ item }}`). An empty array
 * skips the task; more than `maxItems` items fails it, naming the count and the cap.
 */
export interface MapOver {
  /** Task id of a direct upstream task whose result is mapped over. */
  upstream: string;
  /** Path inside the result (`rows`, `data.items`, `0.ids`); null maps the result itself. */
  path: string | null;
  /** Most instances the task may expand to (default 1024, at most 10 000). */
  maxItems: number;
}

/** How a branch task's result names the downstream tasks to follow. */
export interface BranchSpec {
  /**
   * Path of the choice inside the result (`row.follow`, `0.follow`: see
   * `src/core/result-path.ts`); null: the result itself is the choice.
   */
  path: string | null;
}

export interface TaskGroupSpec {
  /** Full id (`outer.inner`). */
  groupId: string;
  parent: string | null;
  tooltip: string | null;
}

export interface DagSpec {
  dagId: string;
  description: string | null;
  owner: string;
  tags: string[];
  /**
   * Cron expression (5 fields, or 6 with seconds) or a preset (`@hourly`, `@daily`,
   * `@weekly`, `@monthly`, `@yearly`), or null for manual/triggered runs only.
   */
  schedule: string | null;
  /**
   * Datasets whose new versions trigger a run (a `dataset` run once every listed dataset
   * has a new version since the previous such run). Empty when not dataset-scheduled;
   * exclusive with `schedule`.
   */
  datasetSchedule: string[];
  /** IANA time zone the schedule is read in (default `UTC`). */
  timezone: string;
  /** No interval starts before this instant (ISO, UTC). Required for a schedule. */
  startDate: string | null;
  /** No interval starts after this instant (ISO, UTC). */
  endDate: string | null;
  /** Create one run per missed interval (true) or only the latest (false, default). */
  catchup: boolean;
  /** Runs of this DAG in `running` at once (default 16). */
  maxActiveRuns: number;
  /** Task instances of this DAG queued or running at once, across runs (default 16). */
  maxActiveTasks: number;
  /** Fail the run when it has been running this long; null means never. */
  dagrunTimeoutMs: number | null;
  /** When a run should be done by; a miss alerts but stops nothing. Null: none. */
  deadline: DeadlineSpec | null;
  /** Who hears about runs that succeed or fail, and run deadline misses (`onRetry` unused). */
  notify: NotifySpec;
  /** JSON Schema of the run parameters (an object schema); defaults fill missing values. */
  params: JsonSchema;
  /** Whether a newly discovered DAG starts paused; null follows the global setting. */
  pausedOnCreation: boolean | null;
  tasks: TaskSpec[];
  groups: TaskGroupSpec[];
  doc: string | null;
}

/** Where a DAG came from. Kept beside the spec, not inside it (it does not change the hash). */
export interface DagSource {
  /** Absolute path of the pipeline file. */
  fileloc: string;
  /** Hash of the code the DAG was loaded from (the bundled file and its imports). */
  codeHash: string;
}
