/**
 * Operations: what a person (CLI, REST API, UI) can ask of Updraft. One interface, one
 * implementation over the store (`StoreOperations`); the CLI reaches it either directly
 * or, when a running `updraft standalone` holds the embedded store, through the control
 * socket (`src/control/`), which calls the same methods in that process.
 *
 * Every method validates its input and throws `NotFoundError`, `ParamsError`,
 * `ConflictError` or `UpdraftError` with a message a person can act on.
 */
import type { UserInfo } from '../auth/users.ts';
import type { DagSpec, Json } from '../core/dag-spec.ts';
import type { SpecIssue } from '../core/errors.ts';
import type { ExitReason, RunState, RunType, TaskState } from '../core/states.ts';
import type { HealthReport } from '../observability/health-report.ts';
import type { OperationsReport } from '../observability/operations-report.ts';

export interface DagSummary {
  dagId: string;
  description: string | null;
  owner: string;
  tags: string[];
  schedule: string | null;
  timezone: string;
  isPaused: boolean;
  /** False when its file no longer defines it. */
  isActive: boolean;
  fileloc: string;
  versionHash: string;
  /** runAfter of the next scheduled run (ISO), null when none is planned. */
  nextRunAfter: string | null;
  /** States of the latest runs, newest first (at most 5). */
  recentRuns: { runId: string; state: RunState }[];
}

export interface DagDetail extends DagSummary {
  spec: DagSpec;
  codeHash: string;
  lastParsedAt: string;
}

export interface ImportErrorInfo {
  fileloc: string;
  issues: SpecIssue[];
  at: string;
}

export interface RunSummary {
  dagId: string;
  runId: string;
  runType: RunType;
  state: RunState;
  logicalDate: string;
  dataIntervalStart: string;
  dataIntervalEnd: string;
  runAfter: string;
  queuedAt: string | null;
  startedAt: string | null;
  endedAt: string | null;
  params: { [key: string]: Json };
  versionHash: string;
}

export interface AttemptInfo {
  tryNumber: number;
  state: TaskState;
  exitReason: ExitReason | null;
  error: string | null;
  queuedAt: string | null;
  startedAt: string | null;
  endedAt: string | null;
  hostname: string | null;
  pid: number | null;
  logPath: string;
}

export interface TaskInstanceInfo {
  taskId: string;
  mapIndex: number;
  state: TaskState;
  tryNumber: number;
  maxTries: number;
  operator: string;
  pool: string;
  priorityWeight: number;
  startedAt: string | null;
  endedAt: string | null;
  nextRetryAt: string | null;
}

export interface RunDetail extends RunSummary {
  tasks: TaskInstanceInfo[];
}

export interface TaskInstanceDetail extends TaskInstanceInfo {
  dagId: string;
  runId: string;
  attempts: AttemptInfo[];
  result: Json | undefined;
}

export type Reprocess = 'none' | 'failed' | 'all';

export interface BackfillInfo {
  id: number;
  dagId: string;
  from: string;
  to: string;
  reprocess: Reprocess;
  maxActiveRuns: number;
  state: 'running' | 'completed' | 'cancelled';
  /** Runs created or reset for the backfill, by run id. */
  runIds: string[];
}

export interface PoolInfo {
  name: string;
  slots: number;
  description: string | null;
  /** Slots taken by queued and running task instances. */
  occupied: number;
}

export interface PlannedRunInfo {
  dataIntervalStart: string;
  dataIntervalEnd: string;
  runAfter: string;
  logicalDate: string;
}

export interface Operations {
  listDags(filter?: { tag?: string; paused?: boolean }): Promise<DagSummary[]>;
  getDag(dagId: string): Promise<DagDetail>;
  listImportErrors(): Promise<ImportErrorInfo[]>;
  setPaused(dagId: string, paused: boolean): Promise<void>;
  /** Creates a manual run; params are validated against the DAG's schema (defaults applied). */
  triggerRun(
    dagId: string,
    options?: { params?: unknown; runId?: string; logicalDate?: string },
  ): Promise<RunSummary>;
  listRuns(dagId: string, options?: { limit?: number; state?: RunState }): Promise<RunSummary[]>;
  getRun(dagId: string, runId: string): Promise<RunDetail>;
  /** Sets the run's unfinished task instances to the state and ends the run. */
  markRun(dagId: string, runId: string, state: 'success' | 'failed'): Promise<RunDetail>;
  /** A task instance; of a mapped task, the one at `mapIndex` (default: the first). */
  getTaskInstance(
    dagId: string,
    runId: string,
    taskId: string,
    mapIndex?: number,
  ): Promise<TaskInstanceDetail>;
  /**
   * Clears task instances (and optionally everything downstream) so they run again; a
   * cleared branch task also clears the tasks it skipped, so it chooses again.
   */
  clearTasks(
    dagId: string,
    runId: string,
    taskIds: string[],
    options?: { downstream?: boolean; onlyFailed?: boolean },
  ): Promise<{ cleared: string[] }>;
  markTask(
    dagId: string,
    runId: string,
    taskId: string,
    state: 'success' | 'failed',
  ): Promise<TaskInstanceDetail>;
  /** Path of the attempt's log file (latest attempt when `tryNumber` is omitted). */
  taskLogPath(
    dagId: string,
    runId: string,
    taskId: string,
    tryNumber?: number,
    mapIndex?: number,
  ): Promise<string>;
  createBackfill(
    dagId: string,
    options: { from: string; to: string; reprocess?: Reprocess; maxActiveRuns?: number },
  ): Promise<BackfillInfo>;
  listBackfills(dagId?: string): Promise<BackfillInfo[]>;
  cancelBackfill(id: number): Promise<BackfillInfo>;
  listPools(): Promise<PoolInfo[]>;
  setPool(name: string, slots: number, description?: string): Promise<PoolInfo>;
  /** The next runs exactly as the scheduler will create them. */
  nextRuns(dagId: string, options?: { after?: string; count?: number }): Promise<PlannedRunInfo[]>;
  /** Store, scheduler heartbeats and executor slots (`updraft health`). */
  health(): Promise<HealthReport>;
  /** The operations report of a period (`since` ISO, default 7 days ago; `until` default now). */
  operationsReport(options?: { since?: string; until?: string }): Promise<OperationsReport>;
  /** Users of the web UI and API (`updraft users`); changes are audited as made by the CLI. */
  listUsers(): Promise<UserInfo[]>;
  createUser(username: string, role: string, password: string): Promise<UserInfo>;
  /** Changes the role and/or password; either ends the user's sessions. */
  updateUser(username: string, change: { role?: string; password?: string }): Promise<UserInfo>;
  deleteUser(username: string): Promise<void>;
}
