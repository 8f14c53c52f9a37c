/**
 * The executor interface: how the scheduler hands an attempt to something that runs
 * it, and how it hears back. `LocalExecutor` (a pool of warm worker processes) is the
 * default; a distributed executor implements the same interface and passes the same
 * conformance suite (`test/executor/conformance.ts`).
 *
 * Contract:
 * - `submit` never throws for a well-formed request; every submitted attempt ends in
 *   exactly one `finished` event (success, failure, timeout, lost worker, cancel).
 * - `started` comes before `finished` for attempts that began running; an attempt
 *   cancelled while waiting gets only `finished` (`exitReason: 'cancelled'`).
 * - Events carry the attempt key with its try number, which the scheduler uses to
 *   fence stale reports.
 * - The executor never touches the metadata store.
 */
import type { Json, TaskSpec } from '../core/dag-spec.ts';
import type { ExitReason, RunType } from '../core/states.ts';
import type { TaskEffect } from '../core/task-context.ts';

/** Identifies one attempt: a task instance and its try number. */
export interface AttemptKey {
  dagId: string;
  runId: string;
  taskId: string;
  /** -1 for an unmapped task. */
  mapIndex: number;
  /** 1 for the first try. */
  tryNumber: number;
}

/** Everything a worker needs to run an attempt, without the metadata store. */
export interface AttemptRequest {
  key: AttemptKey;
  /** Absolute path of the pipeline file that defines the DAG. */
  fileloc: string;
  /** Code hash of the DAG version the run uses (the worker warns if the file moved on). */
  codeHash: string;
  task: TaskSpec;
  context: AttemptContext;
  /** Absolute path of the JSON-lines log file for this attempt. */
  logPath: string;
  /**
   * Absolute path of the local dataset storage, where operators stage the versions they
   * write (see `src/data/`).
   */
  datasetsRoot: string;
}

/** The run-time facts a task sees (the `ctx` of a `ts` task, the template variables). */
export interface AttemptContext {
  runType: RunType;
  /** Start of the data interval (ISO, UTC); for manual runs the trigger time. */
  logicalDate: string;
  dataIntervalStart: string;
  dataIntervalEnd: string;
  /** Validated run parameters, defaults applied. */
  params: { [key: string]: Json };
  /** 1 + retries. */
  maxTries: number;
  /**
   * Results of the direct upstream tasks, by task id (absent when none was returned). A
   * mapped upstream task's is the list of its instances' results (null for none).
   */
  upstreamResults: { [taskId: string]: Json };
  /** For an instance of a mapped task: its item (see `MapOver`). */
  mapItem?: Json;
  /** For a branch task: the ids of its direct downstream tasks, which it chooses from. */
  branchDownstream?: string[];
  /** What `AttemptHooks.prepareAttempt` resolved for the task: pinned input datasets. */
  inputs?: { [name: string]: Json };
  /** Stored connections the task may use, by name (URLs with secrets; never log them). */
  connections?: { [name: string]: string };
}

/**
 * Something an attempt produced that the engine commits together with its success, in
 * the same transaction (a staged dataset version, a watermark), through
 * `AttemptHooks.commitEffects`. Recorded by `ctx.addEffect`.
 */
export type AttemptEffect = TaskEffect;

/** A failure as reported by a worker. */
export interface AttemptError {
  message: string;
  stack?: string;
  /** The error's class name (`TaskFailure`, `Error`, ...). */
  name?: string;
}

/**
 * How an attempt ended, as the task runner reports it: the `finished` event without its
 * envelope. For `skipped`, `error` carries the `SkipTask` message (the reason).
 */
export interface AttemptOutcome {
  outcome: 'success' | 'skipped' | 'failed';
  exitReason: ExitReason;
  /** The task's JSON result (success only; absent when it returned nothing). */
  result?: Json;
  /** Effects to commit with the success (success only; absent when none). */
  effects?: AttemptEffect[];
  error?: AttemptError;
}

export type ExecutorEvent =
  | { type: 'started'; key: AttemptKey; at: number; pid: number; hostname: string }
  | { type: 'heartbeat'; key: AttemptKey; at: number }
  | {
      type: 'finished';
      key: AttemptKey;
      at: number;
      /** `success`, `skipped` (task threw SkipTask) or `failed`. */
      outcome: 'success' | 'skipped' | 'failed';
      exitReason: ExitReason;
      /** The task's JSON result (success only; absent when it returned nothing). */
      result?: Json;
      /** Effects to commit with the success (success only; absent when none). */
      effects?: AttemptEffect[];
      error?: AttemptError;
    };

export type ExecutorListener = (event: ExecutorEvent) => void;

export interface Executor {
  /** Short name for logs and metrics (`local`, `queue`). */
  readonly name: string;
  /** Starts workers; resolves when the executor can accept attempts. */
  start(): Promise<void>;
  /** Hands over an attempt. Returns at once; progress arrives as events. */
  submit(request: AttemptRequest): void;
  /** Stops an attempt (kills it if running). A `finished` event with `cancelled` follows. */
  cancel(key: AttemptKey): void;
  /** Registers the single consumer of events (the scheduler). */
  onEvent(listener: ExecutorListener): void;
  /** Attempts that can run at once, and how many are submitted and not yet finished. */
  capacity(): { slots: number; inFlight: number };
  /** Stops accepting work, cancels what runs (attempts end as `cancelled`), stops workers. */
  stop(): Promise<void>;
}

/** Stable string form of an attempt key, for maps and log correlation. */
export function attemptKeyString(key: AttemptKey): string {
  return `${key.dagId}/${key.runId}/${key.taskId}/${key.mapIndex}/${key.tryNumber}`;
}
