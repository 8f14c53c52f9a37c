/**
 * What a running task sees: the `ctx` argument of a `ts` task function, and (flattened)
 * the variables of run-time templates in operator fields.
 */
import type { Json } from './dag-spec.ts';
import type { RunType } from './states.ts';
import type { TaskDatasets } from './task-datasets.ts';

/** A task's logger: JSON lines in the attempt's log file, with correlation ids. */
export interface TaskLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/**
 * A named connection (a URL): stored (`updraft connections add`), in the connections
 * file, or `UPDRAFT_CONN_<NAME>`, in that order. Stored and file connections reach a
 * task when it declares them in its `connections` option (a data operator's
 * `connection` field counts as declared).
 */
export interface ConnectionInfo {
  name: string;
  /** The full URL, secrets included: never log it. */
  url: string;
  /** URL scheme without the colon, e.g. `postgres`, `https`. */
  type: string;
  host: string;
  port: number | null;
  login: string | null;
  password: string | null;
  /** Path without the leading slash (a database name for SQL connections). */
  schema: string | null;
  extra: Record<string, string>;
}

export interface TaskContext {
  dagId: string;
  taskId: string;
  runId: string;
  runType: RunType;
  /** 1 for the first try. */
  tryNumber: number;
  maxTries: number;
  /** Start of the data interval (for manual runs, the trigger time). */
  logicalDate: Date;
  dataIntervalStart: Date;
  dataIntervalEnd: Date;
  /** `YYYY-MM-DD` of the logical date in UTC. */
  ds: string;
  /** Validated run parameters with defaults applied. */
  params: { [key: string]: Json };
  /** Results of direct upstream tasks, by task id (a mapped task's: the list of its results). */
  upstream: { [taskId: string]: Json };
  /** Input datasets pinned for this run by the data layer (from the task's `inlets`), by name. */
  inputs: { [name: string]: Json };
  /** Index of this instance of a mapped task (0, 1, ...); -1 for an unmapped task. */
  mapIndex: number;
  /** The item this instance of a mapped task runs for; undefined for an unmapped task. */
  item: Json | undefined;
  log: TaskLogger;
  /**
   * Looks up a connection by name; throws naming where to define it when missing. Its
   * password is masked in the attempt log from then on.
   */
  connection(name: string): ConnectionInfo;
  /**
   * Reads the pinned inlets (all rows, in batches, or by DuckDB SQL) and writes new
   * dataset versions, published when the attempt succeeds. DuckDB loads on first use.
   */
  datasets: TaskDatasets;
  /** Aborted when the attempt is cancelled or times out; pass it to fetch, child processes, ... */
  signal: AbortSignal;
  /**
   * Records an effect for the engine to commit with the attempt's success, in the same
   * transaction (a dataset version staged by the data layer). Effects of an attempt that
   * does not succeed are never committed. For operator and library authors.
   */
  addEffect(effect: TaskEffect): void;
}

/** An effect (see `addEffect`): `kind` selects who commits it; `data` is theirs. */
export interface TaskEffect {
  kind: string;
  data: Json;
}

/** The function of a `ts` task. Its return value (JSON, size-limited) is the task result. */
// biome-ignore lint/suspicious/noConfusingVoidType: a task may return nothing
export type TaskFunction = (ctx: TaskContext) => Promise<Json | void> | Json | void;
