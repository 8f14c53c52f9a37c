/**
 * The task runner: runs one attempt in the calling process — a worker of an executor, or
 * the CLI's in-process `dags test`. It opens the attempt log, renders the templates in
 * the task config, validates it against the operator's schema, runs the operator and
 * classifies the end. It never touches the metadata store; the caller reports the
 * returned outcome.
 *
 * How an attempt ends:
 * - the operator returns → `success` with the result, provided it is JSON and fits in
 *   `resultLimitBytes`; otherwise `failed` / `result_too_large` or `error_no_retry`;
 * - a branch task's result is not a valid choice of its downstream tasks
 *   (`src/core/branching.ts`) → `error_no_retry`;
 * - it throws `SkipTask` → `skipped`; `TaskFailure` with `retry: false` →
 *   `error_no_retry`; anything else → `error` (message and stack);
 * - unknown operator, bad template, invalid config → `error_no_retry` (a retry would
 *   fail the same way);
 * - the signal aborts, or `executionTimeoutMs` elapses → `cancelled` / `timeout`. The
 *   operator gets `abortGraceMs` to stop; after that it is abandoned (the caller, a
 *   worker, is expected to exit so nothing of it survives).
 */
import { hostname } from 'node:os';
import { branchChoice } from '../core/branching.ts';
import type { Clock } from '../core/clock.ts';
import { systemClock } from '../core/clock.ts';
import type { Json } from '../core/dag-spec.ts';
import { formatSpecIssue, NotFoundError } from '../core/errors.ts';
import type { ConnectionInfo } from '../core/task-context.ts';
import { renderConfig, type TemplateVars, templateVariables } from '../core/templating.ts';
import { startAttemptSpan } from '../observability/tracing.ts';
import { connectionEnvVar, connectionFromEnv } from '../operators/connections.ts';
import type { OperatorContext } from '../operators/operator.ts';
import { parseOperatorConfig } from '../operators/registry.ts';
import { AttemptLog, type AttemptLogRecord } from './attempt-log.ts';
import type { AttemptEffect, AttemptError, AttemptOutcome, AttemptRequest } from './executor.ts';
import { captureProcessOutput } from './output-capture.ts';

/** Largest task result by default: 64 KiB of JSON. */
export const DEFAULT_RESULT_LIMIT_BYTES = 64 * 1024;

/** Time an aborted operator gets to stop before it is abandoned, by default. */
export const DEFAULT_ABORT_GRACE_MS = 5000;

/**
 * The reason to abort an attempt's signal with: `timeout` or `cancelled`. Any other
 * abort reason counts as `cancelled`.
 */
export class AttemptAbort extends Error {
  readonly exitReason: 'cancelled' | 'timeout';
  constructor(exitReason: 'cancelled' | 'timeout', message?: string) {
    super(message ?? (exitReason === 'timeout' ? 'attempt timed out' : 'attempt cancelled'));
    this.name = 'AttemptAbort';
    this.exitReason = exitReason;
  }
}

export interface RunAttemptOptions {
  /** Aborts the attempt (abort with an `AttemptAbort` to choose `timeout` over `cancelled`). */
  signal: AbortSignal;
  /** Largest JSON result in bytes (default `DEFAULT_RESULT_LIMIT_BYTES`, 64 KiB). */
  resultLimitBytes?: number;
  /** Time an aborted operator gets to stop (default `DEFAULT_ABORT_GRACE_MS`, 5 s). */
  abortGraceMs?: number;
  /** Also receives every log record (the CLI prints them). */
  onLog?: (record: AttemptLogRecord) => void;
  /**
   * Send this process's stdout/stderr (console output of task code) to the attempt log
   * while it runs. For workers, which run one attempt at a time. Default false.
   */
  captureOutput?: boolean;
  /** Clock for timestamps and the execution timeout (default the system clock). */
  clock?: Clock;
}

/** Runs one attempt to its end. Never throws: every problem becomes the outcome. */
export async function runAttempt(
  request: AttemptRequest,
  options: RunAttemptOptions,
): Promise<AttemptOutcome> {
  const clock = options.clock ?? systemClock;
  let log: AttemptLog;
  try {
    log = await AttemptLog.open(request.logPath, request.key, clock, options.onLog);
  } catch (error) {
    return failed('error', {
      message: `cannot open the attempt log ${request.logPath}: ${(error as Error).message}`,
      name: 'Error',
    });
  }
  const startedAt = clock.now();
  // Observability: the attempt's span (child of its run's) and trace ids in every log line.
  const span = startAttemptSpan({ ...request.key, operator: request.task.operator });
  log.correlate(span.logFields);
  const controller = new AbortController();
  const onAbort = () => controller.abort(asAttemptAbort(options.signal.reason));
  if (options.signal.aborted) onAbort();
  else options.signal.addEventListener('abort', onAbort, { once: true });
  const timeoutMs = request.task.executionTimeoutMs;
  const cancelTimeout =
    timeoutMs === null
      ? () => {}
      : clock.setTimer(timeoutMs, () =>
          controller.abort(
            new AttemptAbort(
              'timeout',
              `attempt timed out after ${timeoutMs} ms (executionTimeout)`,
            ),
          ),
        );
  const restoreOutput = options.captureOutput
    ? captureProcessOutput((stream, line) => log.info(line, { stream }))
    : () => {};

  let outcome: AttemptOutcome;
  try {
    log.info('attempt started', {
      operator: request.task.operator,
      fileloc: request.fileloc,
      code_hash: request.codeHash,
      pid: process.pid,
      hostname: hostname(),
    });
    outcome = await span.run(() => runOperator(request, log, controller.signal, clock, options));
  } catch (error) {
    outcome = failed('error', toAttemptError(error));
  } finally {
    restoreOutput();
    cancelTimeout();
    options.signal.removeEventListener('abort', onAbort);
  }
  const aborted = outcome.exitReason === 'cancelled' || outcome.exitReason === 'timeout';
  if (outcome.error && outcome.outcome === 'failed' && !aborted) {
    log.error(`attempt failed: ${outcome.error.message}`, {
      exit_reason: outcome.exitReason,
      error: outcome.error,
    });
  }
  log.info('attempt finished', {
    outcome: outcome.outcome,
    exit_reason: outcome.exitReason,
    duration_ms: clock.now() - startedAt,
  });
  span.end(outcome);
  const writeError = await log.close();
  if (writeError && outcome.outcome === 'success') {
    return failed('error', {
      message: `writing the attempt log ${request.logPath} failed: ${writeError.message}`,
      name: 'Error',
    });
  }
  return outcome;
}

async function runOperator(
  request: AttemptRequest,
  log: AttemptLog,
  signal: AbortSignal,
  clock: Clock,
  options: RunAttemptOptions,
): Promise<AttemptOutcome> {
  const { key, task, context } = request;
  const where = `dag '${key.dagId}' task '${key.taskId}'`;
  let vars: TemplateVars;
  let rendered: { [key: string]: Json };
  try {
    vars = templateVariables(key, context);
    rendered = renderConfig(task.config, vars);
  } catch (error) {
    return failed('error_no_retry', {
      message: `${where}: rendering the config templates failed: ${(error as Error).message}`,
      name: 'SpecError',
    });
  }
  const parsed = parseOperatorConfig(task.operator, rendered);
  if (!parsed.ok) {
    const issues = parsed.issues.map((issue) =>
      formatSpecIssue({ ...issue, dagId: key.dagId, taskId: key.taskId }),
    );
    return failed('error_no_retry', { message: issues.join('\n'), name: 'SpecError' });
  }
  if (signal.aborted) return abortedOutcome(signal, log);

  const effects: AttemptEffect[] = [];
  const ctx: OperatorContext = {
    dagId: key.dagId,
    taskId: key.taskId,
    runId: key.runId,
    runType: context.runType,
    tryNumber: key.tryNumber,
    maxTries: context.maxTries,
    logicalDate: new Date(context.logicalDate),
    dataIntervalStart: new Date(context.dataIntervalStart),
    dataIntervalEnd: new Date(context.dataIntervalEnd),
    ds: String(vars.ds),
    params: context.params,
    upstream: context.upstreamResults,
    inputs: context.inputs ?? {},
    mapIndex: key.mapIndex,
    item: context.mapItem,
    log,
    connection(name) {
      const connection = taskConnection(request, name);
      log.maskSecret(connection.password);
      return connection;
    },
    signal,
    addEffect: (effect) => {
      effects.push(structuredClone(effect));
    },
    attempt: request,
  };
  const work = (async () => parsed.operator.run(parsed.config, ctx))().then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  const abort = new Promise<void>((resolve) =>
    signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true }),
  );
  const end = await Promise.race([work, abort]);
  // `end` is undefined when the abort came first; a late abort also wins over the result.
  if (end === undefined || signal.aborted) {
    const outcome = abortedOutcome(signal, log);
    if (end === undefined) await waitToStop(work, options.abortGraceMs, clock, log);
    return outcome;
  }
  if (!end.ok) return errorOutcome(end.error);
  const outcome = resultOutcome(end.value, options.resultLimitBytes ?? DEFAULT_RESULT_LIMIT_BYTES);
  if (outcome.outcome !== 'success') return outcome;
  const chosen = checkBranch(request, outcome.result, log);
  if (chosen !== null) return chosen;
  return effects.length > 0 ? { ...outcome, effects } : outcome;
}

/**
 * For a branch task: logs the downstream tasks its result chose, or fails the attempt
 * (without retry) when the result is not a valid choice. Null when the attempt stands.
 */
function checkBranch(
  request: AttemptRequest,
  result: Json | undefined,
  log: AttemptLog,
): AttemptOutcome | null {
  // Specs stored before `branch` existed lack it.
  const branch = request.task.branch ?? null;
  if (branch === null) return null;
  const downstream = request.context.branchDownstream ?? [];
  const choice = branchChoice(request.key.taskId, branch, result, downstream);
  if (!choice.ok) return failed('error_no_retry', { message: choice.message, name: 'TaskFailure' });
  const skipped = downstream.filter((id) => !choice.follow.includes(id));
  log.info(
    `branch: follows ${choice.follow.join(', ') || 'no task'}; skips ${skipped.join(', ') || 'no task'}`,
    { follow: choice.follow, skip: skipped },
  );
  return null;
}

/**
 * Connection `name` for the attempt: the stored or file connection the scheduler
 * resolved for it, else the environment's. A missing one names every place to define
 * it, and says to declare it when the task did not.
 */
export function taskConnection(request: AttemptRequest, name: string): ConnectionInfo {
  const resolved = request.context.connections?.[name];
  if (resolved !== undefined)
    return connectionFromEnv(name, { [connectionEnvVar(name)]: resolved });
  try {
    return connectionFromEnv(name);
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    // Specs stored before `connections` existed lack it.
    const declared = (request.task.connections ?? []).includes(name);
    throw new NotFoundError(
      `connection '${name}' is not defined: store it (updraft connections add ${name}), add it to the connections file, or set ${connectionEnvVar(name)}` +
        (declared
          ? ''
          : `; a stored or file connection reaches task '${request.key.taskId}' only when the task lists it in its connections option (connections: ['${name}'])`),
    );
  }
}

/** Gives an aborted operator its grace period; logs when it has to be abandoned. */
async function waitToStop(
  work: Promise<unknown>,
  graceMs: number | undefined,
  clock: Clock,
  log: AttemptLog,
): Promise<void> {
  const ms = graceMs ?? DEFAULT_ABORT_GRACE_MS;
  let cancelTimer = () => {};
  const expired = new Promise<'expired'>((resolve) => {
    cancelTimer = clock.setTimer(ms, () => resolve('expired'));
  });
  const end = await Promise.race([work, expired]);
  cancelTimer();
  if (end === 'expired') {
    log.error(`the task did not stop within ${ms} ms of being aborted; abandoning it`);
  }
}

/** The outcome of an aborted attempt; logs why it was aborted. */
function abortedOutcome(signal: AbortSignal, log: AttemptLog): AttemptOutcome {
  const reason = asAttemptAbort(signal.reason);
  log.warn(reason.message, { exit_reason: reason.exitReason });
  return failed(reason.exitReason, { message: reason.message, name: reason.name });
}

function asAttemptAbort(reason: unknown): AttemptAbort {
  if (reason instanceof AttemptAbort) return reason;
  if (
    reason instanceof Error &&
    reason.name === 'AttemptAbort' &&
    ((reason as AttemptAbort).exitReason === 'timeout' ||
      (reason as AttemptAbort).exitReason === 'cancelled')
  ) {
    return new AttemptAbort((reason as AttemptAbort).exitReason, reason.message);
  }
  return new AttemptAbort('cancelled');
}

function errorOutcome(error: unknown): AttemptOutcome {
  if (error instanceof Error && error.name === 'SkipTask') {
    return { outcome: 'skipped', exitReason: 'success', error: toAttemptError(error) };
  }
  const noRetry =
    error instanceof Error &&
    error.name === 'TaskFailure' &&
    (error as Error & { retry?: unknown }).retry === false;
  return failed(noRetry ? 'error_no_retry' : 'error', toAttemptError(error));
}

function resultOutcome(value: Json | undefined, limitBytes: number): AttemptOutcome {
  if (value === undefined) return { outcome: 'success', exitReason: 'success' };
  const problem = findNonJson(value, 'result', new Set());
  if (problem !== undefined) {
    return failed('error_no_retry', {
      message: `the task result is not JSON: ${problem}`,
      name: 'TypeError',
    });
  }
  const json = JSON.stringify(value);
  const size = Buffer.byteLength(json);
  if (size > limitBytes) {
    return failed('result_too_large', {
      message:
        `the task result is ${size} bytes of JSON, over the limit of ${limitBytes} bytes: ` +
        'write large data to a dataset or a file and return a reference to it',
      name: 'RangeError',
    });
  }
  return { outcome: 'success', exitReason: 'success', result: JSON.parse(json) as Json };
}

/** Describes the first value under `path` that JSON cannot carry faithfully, if any. */
function findNonJson(value: unknown, path: string, ancestors: Set<object>): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : `${path} is ${value} (not a finite number)`;
    case 'object': {
      if (value === null) return undefined;
      if (ancestors.has(value)) return `${path} refers back to one of its parents (a cycle)`;
      if (Array.isArray(value)) {
        ancestors.add(value);
        for (let i = 0; i < value.length; i++) {
          const problem = findNonJson(value[i], `${path}[${i}]`, ancestors);
          if (problem !== undefined) return problem;
        }
        ancestors.delete(value);
        return undefined;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        const kind = (value as object).constructor?.name ?? 'object';
        const hint = value instanceof Date ? ' (return date.toISOString())' : '';
        return `${path} is a ${kind}, not a plain object${hint}`;
      }
      ancestors.add(value);
      for (const [name, item] of Object.entries(value)) {
        if (item === undefined) continue; // dropped, as JSON.stringify does
        const problem = findNonJson(item, `${path}.${name}`, ancestors);
        if (problem !== undefined) return problem;
      }
      ancestors.delete(value);
      return undefined;
    }
    case 'undefined':
      return `${path} is undefined (use null)`;
    default:
      return `${path} is a ${typeof value}`;
  }
}

function failed(exitReason: AttemptOutcome['exitReason'], error: AttemptError): AttemptOutcome {
  return { outcome: 'failed', exitReason, error };
}

/** An `AttemptError` from anything thrown; the stack includes the `cause` chain. */
export function toAttemptError(error: unknown): AttemptError {
  if (!(error instanceof Error)) return { message: String(error) };
  let stack = error.stack;
  for (let cause = error.cause, depth = 0; cause instanceof Error && depth < 5; depth++) {
    stack = `${stack ?? ''}\nCaused by: ${cause.stack ?? cause.message}`;
    cause = cause.cause;
  }
  return { message: error.message, name: error.name, ...(stack ? { stack } : {}) };
}
