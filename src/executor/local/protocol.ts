/**
 * Messages between `LocalExecutor` and its worker processes, over the IPC channel of
 * `child_process.fork` (advanced serialisation, i.e. structured clone).
 *
 *   parent                                   worker
 *     │ ── fork(worker-main, [settings]) ──►  │
 *     │ ◄──────────── ready ────────────────  │  modules loaded, idle
 *     │ ── run {request} ──────────────────►  │  runAttempt(...)
 *     │ ◄──────────── heartbeat ────────────  │  every heartbeatIntervalMs while running
 *     │ ◄──────────── process_group ────────  │  a shell command's group started / ended
 *     │ ── abort {reason} ─────────────────►  │  cancel, or stop the executor
 *     │ ◄──────────── finished {outcome} ───  │  idle again (or retired by the parent)
 *     │ ◄──────────── fatal {error} ────────  │  uncaught error; the worker exits next
 *     │ ── disconnect ─────────────────────►  │  kills its process groups and exits
 */
import type { AttemptError, AttemptOutcome, AttemptRequest } from '../executor.ts';

/** Fixed for the life of a worker; passed as its first argument (JSON). */
export interface WorkerSettings {
  resultLimitBytes: number;
  abortGraceMs: number;
  heartbeatIntervalMs: number;
}

export type ToWorker =
  | { type: 'run'; request: AttemptRequest }
  | { type: 'abort'; reason: 'cancelled' | 'timeout'; message: string };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'heartbeat' }
  | { type: 'process_group'; pgid: number; alive: boolean }
  | {
      type: 'finished';
      outcome: AttemptOutcome;
      /** Distinct pipeline versions this worker has imported so far. */
      importedPipelineVersions: number;
    }
  | { type: 'fatal'; error: AttemptError };
