/**
 * The control socket protocol: newline-delimited JSON over a Unix domain socket
 * (`<home>/control.sock`, mode 0600).
 *
 *   request:  {"id": 1, "method": "listDags", "args": [{"tag": "etl"}]}
 *   response: {"id": 1, "result": [...]}
 *         or  {"id": 1, "error": {"code": "not_found", "name": "NotFoundError", "message": "..."}}
 *
 * The socket serves three interfaces (`ControlServices`): `Operations` under their own
 * names (`listDags`), `DatasetOperations` as `datasets.<method>` and `QualityOperations`
 * as `quality.<method>`. Only the methods in their arity tables can be called, plus
 * `$hello`, which answers `{ pid, version }` so a client can tell that a server is alive.
 * Requests are limited to `MAX_REQUEST_BYTES`, responses to `MAX_RESPONSE_BYTES`.
 * Errors cross the socket as `WireError` and are raised again client-side as the same
 * classes (`NotFoundError`, `ParamsError` with its field, `ConflictError`, ...).
 */
import path from 'node:path';
import {
  ConflictError,
  NotFoundError,
  ParamsError,
  SpecError,
  type SpecIssue,
  UpdraftError,
} from '../core/errors.ts';
import type { DatasetOperations } from '../data/dataset-operations.ts';
import type { Operations } from '../ops/operations.ts';
import type { QualityOperations } from '../quality/quality-operations.ts';

/** File name of the control socket inside the home folder. */
export const SOCKET_FILE = 'control.sock';

/** Largest request line accepted by the server: 1 MiB. */
export const MAX_REQUEST_BYTES = 1024 * 1024;

/** Largest response line accepted by the client: 32 MiB (run listings can be long). */
export const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

/** The protocol's own method: answers `HelloResult`. */
export const HELLO_METHOD = '$hello';

/** What `$hello` answers. */
export interface HelloResult {
  pid: number;
  /** Updraft version of the server. */
  version: string;
}

/**
 * `Operations` under their own names: the most arguments each takes. Being a `Record`
 * over `keyof Operations`, it must list every method, and nothing else.
 */
export const OPERATION_ARITY: Record<keyof Operations, number> = {
  listDags: 1,
  getDag: 1,
  listImportErrors: 0,
  setPaused: 2,
  triggerRun: 2,
  listRuns: 2,
  getRun: 2,
  markRun: 3,
  getTaskInstance: 4,
  clearTasks: 4,
  markTask: 4,
  taskLogPath: 5,
  createBackfill: 2,
  listBackfills: 1,
  cancelBackfill: 1,
  listPools: 0,
  setPool: 3,
  nextRuns: 2,
  listUsers: 0,
  createUser: 3,
  updateUser: 2,
  deleteUser: 1,
  health: 0,
  operationsReport: 1,
};

/**
 * `DatasetOperations` (connections included) as `datasets.<method>`: the most arguments
 * each takes. Being a `Record`, it must list every method, and nothing else.
 */
export const DATASET_OPERATION_ARITY: Record<keyof DatasetOperations, number> = {
  listDatasets: 0,
  listVersions: 2,
  showVersion: 1,
  promote: 4,
  rollback: 3,
  approve: 4,
  aliasHistory: 2,
  getAliasPolicy: 2,
  setAliasPolicy: 2,
  recordBlockingChecks: 3,
  vacuum: 1,
  compact: 3,
  lineage: 1,
  etlRuns: 1,
  listConnections: 0,
  putConnection: 2,
  deleteConnection: 2,
  rotateConnectionKey: 1,
};

/** `QualityOperations` as `quality.<method>`: the most arguments each takes. */
export const QUALITY_OPERATION_ARITY: Record<keyof QualityOperations, number> = {
  results: 2,
  latestResults: 2,
  runs: 2,
  run: 2,
  metricHistory: 3,
  metrics: 1,
  replay: 1,
};

/** The interfaces the control socket serves, by service name. */
export interface ControlServices {
  ops: Operations;
  datasets: DatasetOperations;
  quality: QualityOperations;
}

export type ServiceName = keyof ControlServices;

/** Each service's prefix on the wire and its arity table. */
export const SERVICES: {
  [S in ServiceName]: { prefix: string; arity: Record<keyof ControlServices[S], number> };
} = {
  ops: { prefix: '', arity: OPERATION_ARITY },
  datasets: { prefix: 'datasets.', arity: DATASET_OPERATION_ARITY },
  quality: { prefix: 'quality.', arity: QUALITY_OPERATION_ARITY },
};

/** A callable method, as a wire name resolves to it. */
export interface ResolvedMethod {
  service: ServiceName;
  /** The method's name in its interface. */
  method: string;
  /** The most arguments it takes. */
  arity: number;
}

/**
 * The service method a wire name calls, or null when it names none (own keys of the
 * arity tables only, so `constructor` or `toString` never resolve).
 */
export function resolveMethod(wireName: string): ResolvedMethod | null {
  for (const service of Object.keys(SERVICES) as ServiceName[]) {
    const { prefix, arity } = SERVICES[service];
    if (!wireName.startsWith(prefix)) continue;
    const method = wireName.slice(prefix.length);
    if (Object.hasOwn(arity, method)) {
      return { service, method, arity: (arity as Record<string, number>)[method] as number };
    }
  }
  return null;
}

export type RequestId = number | string;

export interface Request {
  id: RequestId;
  method: string;
  args: unknown[];
}

/** An error as it crosses the socket: the class name, code, message and its fields. */
export interface WireError {
  code: string;
  name: string;
  message: string;
  /** ParamsError */
  dagId?: string;
  field?: string;
  /** SpecError */
  issues?: SpecIssue[];
}

export type Response = { id: RequestId; result?: unknown } | { id: RequestId; error: WireError };

/** Path of the control socket in a home folder. */
export function socketPath(home: string): string {
  return path.resolve(home, SOCKET_FILE);
}

/**
 * Parses and checks one request line. A bad request gives an `UpdraftError('bad_request')`
 * naming what is wrong, with the request id when it could be read (else 0).
 */
export function parseRequest(line: string): Request | { id: RequestId; error: UpdraftError } {
  const bad = (id: RequestId, message: string) => ({
    id,
    error: new UpdraftError('bad_request', message),
  });
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return bad(0, `request is not JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return bad(0, 'request must be an object {id, method, args}');
  }
  const { id, method, args } = value as Record<string, unknown>;
  if (typeof id !== 'number' && typeof id !== 'string') {
    return bad(0, 'request id must be a number or a string');
  }
  if (typeof method !== 'string') return bad(id, 'request method must be a string');
  if (args !== undefined && !Array.isArray(args)) return bad(id, 'request args must be an array');
  return { id, method, args: args ?? [] };
}

/** Turns any thrown value into a `WireError`, keeping the fields the client re-raises with. */
export function errorToWire(error: unknown): WireError {
  if (error instanceof UpdraftError) {
    const wire: WireError = { code: error.code, name: error.name, message: error.message };
    if (error instanceof ParamsError) {
      wire.dagId = error.dagId;
      wire.field = error.field;
    }
    if (error instanceof SpecError) wire.issues = error.issues;
    return wire;
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'internal', name: 'Error', message: `internal error in the server: ${message}` };
}

/** Raises a `WireError` again as the error class it came from (an `UpdraftError` otherwise). */
export function errorFromWire(wire: WireError): UpdraftError {
  let error: UpdraftError;
  switch (wire.name) {
    case 'NotFoundError':
      error = new NotFoundError(wire.message);
      break;
    case 'ConflictError':
      error = new ConflictError(wire.message);
      break;
    case 'ParamsError':
      error = new ParamsError(wire.dagId ?? '', wire.field ?? '', '');
      break;
    case 'SpecError':
      error = new SpecError(wire.issues ?? []);
      break;
    default:
      error = new UpdraftError(wire.code, wire.message);
  }
  // The server composed the message already; keep it word for word.
  error.message = wire.message;
  return error;
}
