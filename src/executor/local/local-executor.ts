/**
 * `LocalExecutor`: runs attempts on this machine, in a pool of warm worker processes.
 *
 * - Each worker (a fork of `worker-main`) runs ONE attempt at a time, so a crash, an
 *   out-of-memory kill or a timeout kill costs only that attempt.
 * - Submitted attempts wait in a FIFO and go to an idle worker at once — preferably one
 *   that has already imported the attempt's pipeline version. No polling, no spawning
 *   per task: `started` is emitted as the attempt is handed over.
 * - Cancel: a waiting attempt is dropped (`finished`/`cancelled`, no `started`). A running
 *   one is aborted (its task sees `ctx.signal` abort, shell commands get SIGTERM) and its
 *   worker is killed with SIGKILL if the attempt has not finished `killGraceMs` later.
 * - Timeout: the task runner in the worker aborts the attempt after `executionTimeoutMs`;
 *   should the worker not report within `killGraceMs` after that (a busy loop), the
 *   executor kills it and reports `timeout` itself.
 * - A worker whose attempt was aborted is replaced rather than reused: whatever the task
 *   left behind (timers, sockets, abandoned promises) dies with it.
 * - A worker that dies unexpectedly fails its attempt with `worker_lost` and is
 *   replaced; other attempts are unaffected. Workers exit by themselves when the parent
 *   goes away. Replacements that keep dying at start are retried with backoff.
 * - A worker that has imported `maxPipelineVersions` distinct pipeline versions (ESM
 *   never frees modules) is retired after its attempt and replaced.
 */
import { availableParallelism, hostname } from 'node:os';
import type { Logger } from 'pino';
import { pino } from 'pino';
import type { Clock } from '../../core/clock.ts';
import { systemClock } from '../../core/clock.ts';
import { EventDelivery } from '../event-delivery.ts';
import {
  type AttemptError,
  type AttemptKey,
  type AttemptOutcome,
  type AttemptRequest,
  attemptKeyString,
  type Executor,
  type ExecutorListener,
} from '../executor.ts';
import { DEFAULT_RESULT_LIMIT_BYTES } from '../task-runner.ts';
import type { FromWorker, WorkerSettings } from './protocol.ts';
import { WorkerProcess } from './worker-process.ts';

export interface LocalExecutorOptions {
  /** Worker processes, i.e. attempts run at once (default `os.availableParallelism()`). */
  workers?: number;
  /** Updraft home directory, passed to workers as `UPDRAFT_HOME` (default: inherited). */
  home?: string;
  /** Clock for event times and the executor's kill timers (default the system clock). */
  clock?: Clock;
  /** Logger for pool events: worker deaths, replacements (default pino at `info`). */
  logger?: Logger;
  /** Time an aborted attempt gets to stop before its worker is killed (default 5000 ms). */
  killGraceMs?: number;
  /** Interval of `heartbeat` events while an attempt runs (default 5000 ms). */
  heartbeatIntervalMs?: number;
  /** Largest task result in bytes (default 64 KiB). */
  resultLimitBytes?: number;
  /** Distinct pipeline versions a worker may import before it is replaced (default 50). */
  maxPipelineVersions?: number;
}

/** Consecutive start failures after which waiting attempts are failed rather than kept. */
const MAX_START_FAILURES = 3;
/** Upper bound of the delay before spawning a replacement that keeps failing to start. */
const MAX_RESPAWN_DELAY_MS = 30_000;

interface Attempt {
  readonly request: AttemptRequest;
  readonly id: string;
  worker: WorkerProcess | undefined;
  /** Set once the executor has asked the attempt to stop. */
  stopping: { reason: 'cancelled' | 'timeout'; message: string } | undefined;
  timers: (() => void)[];
}

export class LocalExecutor implements Executor {
  readonly name = 'local';

  private readonly slots: number;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly killGraceMs: number;
  private readonly maxPipelineVersions: number;
  private readonly settings: WorkerSettings;
  private readonly env: NodeJS.ProcessEnv;
  private readonly hostname = hostname();

  private readonly pool = new Set<WorkerProcess>();
  private readonly idle: WorkerProcess[] = [];
  private readonly queue: Attempt[] = [];
  private readonly attempts = new Map<string, Attempt>();
  private readonly running = new Map<WorkerProcess, Attempt>();
  private readonly respawnTimers = new Set<() => void>();
  /** Every worker process not yet exited, in the pool or retired. */
  private readonly processes = new Set<WorkerProcess>();
  private readonly readyWaiters = new Map<
    WorkerProcess,
    { resolve: () => void; reject: (error: Error) => void }
  >();
  private readonly events: EventDelivery;
  private phase: 'new' | 'started' | 'stopping' | 'stopped' = 'new';
  private startFailures = 0;
  private lastStartFailure = '';
  private drained: (() => void) | undefined;
  private stopped: Promise<void> | undefined;

  constructor(options: LocalExecutorOptions = {}) {
    this.slots = options.workers ?? availableParallelism();
    if (!Number.isInteger(this.slots) || this.slots < 1) {
      throw new RangeError(`LocalExecutor: workers must be a positive integer, got ${this.slots}`);
    }
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? pino({ name: 'updraft.executor' });
    this.events = new EventDelivery('LocalExecutor', this.logger);
    this.killGraceMs = options.killGraceMs ?? 5000;
    this.maxPipelineVersions = options.maxPipelineVersions ?? 50;
    this.settings = {
      resultLimitBytes: options.resultLimitBytes ?? DEFAULT_RESULT_LIMIT_BYTES,
      abortGraceMs: this.killGraceMs,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 5000,
    };
    this.env =
      options.home === undefined ? process.env : { ...process.env, UPDRAFT_HOME: options.home };
  }

  /** Forks the workers; resolves when all are ready, rejects if one dies on the way. */
  async start(): Promise<void> {
    if (this.phase !== 'new') return;
    this.phase = 'started';
    const workers = Array.from({ length: this.slots }, () => this.spawn());
    try {
      await Promise.all(workers.map((worker) => this.whenReady(worker)));
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  submit(request: AttemptRequest): void {
    const id = attemptKeyString(request.key);
    if (this.attempts.has(id)) {
      this.logger.warn({ attempt: id }, 'attempt submitted twice; ignoring the second submit');
      return;
    }
    const attempt: Attempt = { request, id, worker: undefined, stopping: undefined, timers: [] };
    this.attempts.set(id, attempt);
    if (this.phase === 'stopping' || this.phase === 'stopped') {
      this.finish(attempt, cancelled('the executor is stopping'));
      return;
    }
    this.queue.push(attempt);
    this.dispatch();
  }

  cancel(key: AttemptKey): void {
    const attempt = this.attempts.get(attemptKeyString(key));
    if (attempt === undefined) return;
    if (attempt.worker === undefined) {
      this.queue.splice(this.queue.indexOf(attempt), 1);
      this.finish(attempt, cancelled('attempt cancelled before it started'));
    } else {
      this.abort(attempt, 'cancelled', 'attempt cancelled');
    }
  }

  onEvent(listener: ExecutorListener): void {
    this.events.listen(listener);
  }

  capacity(): { slots: number; inFlight: number } {
    return { slots: this.slots, inFlight: this.attempts.size };
  }

  /**
   * Cancels waiting attempts, aborts running ones (killing workers that do not stop
   * within `killGraceMs`), then stops every worker. Resolves when all have exited and
   * every `finished` event has been delivered.
   */
  stop(): Promise<void> {
    this.stopped ??= this.shutdown();
    return this.stopped;
  }

  private async shutdown(): Promise<void> {
    this.phase = 'stopping';
    for (const cancelTimer of this.respawnTimers) cancelTimer();
    this.respawnTimers.clear();
    for (const attempt of this.queue.splice(0)) {
      this.finish(attempt, cancelled('the executor is stopping'));
    }
    if (this.attempts.size > 0) {
      const drained = new Promise<void>((resolve) => {
        this.drained = resolve;
      });
      for (const attempt of this.attempts.values()) {
        this.abort(attempt, 'cancelled', 'the executor is stopping');
      }
      await drained;
    }
    for (const worker of this.pool) this.retire(worker, 'disconnect');
    const cancelKill = this.clock.setTimer(this.killGraceMs, () => {
      for (const worker of this.processes) worker.kill();
    });
    await Promise.all([...this.processes].map((worker) => worker.exited));
    cancelKill();
    this.phase = 'stopped';
    // Let queued event deliveries run before resolving.
    await new Promise<void>((resolve) => queueMicrotask(resolve));
  }

  private spawn(): WorkerProcess {
    const worker = new WorkerProcess(this.settings, this.env, {
      message: (w, message) => this.onMessage(w, message),
      exit: (w, code, signal) => this.onExit(w, code, signal),
    });
    this.pool.add(worker);
    this.processes.add(worker);
    return worker;
  }

  private whenReady(worker: WorkerProcess): Promise<void> {
    return new Promise((resolve, reject) => this.readyWaiters.set(worker, { resolve, reject }));
  }

  private onMessage(worker: WorkerProcess, message: FromWorker): void {
    switch (message.type) {
      case 'ready': {
        worker.state = 'idle';
        this.startFailures = 0;
        this.readyWaiters.get(worker)?.resolve();
        this.readyWaiters.delete(worker);
        if (this.phase === 'started') {
          this.idle.push(worker);
          this.dispatch();
        } else {
          this.retire(worker, 'disconnect');
        }
        return;
      }
      case 'heartbeat': {
        const attempt = this.running.get(worker);
        if (attempt)
          this.events.emit({ type: 'heartbeat', key: attempt.request.key, at: this.clock.now() });
        return;
      }
      case 'finished': {
        const attempt = this.running.get(worker);
        this.running.delete(worker);
        if (attempt) this.finish(attempt, message.outcome);
        if (attempt?.stopping) {
          this.retire(worker, 'kill');
        } else if (message.importedPipelineVersions >= this.maxPipelineVersions) {
          this.logger.info(
            { workerPid: worker.pid, versions: message.importedPipelineVersions },
            'recycling a worker that has imported many pipeline versions',
          );
          this.retire(worker, 'disconnect');
        } else if (worker.state === 'busy') {
          worker.state = 'idle';
          this.idle.push(worker);
          this.dispatch();
        }
        return;
      }
      case 'fatal':
      case 'process_group':
        return; // kept by WorkerProcess
    }
  }

  private onExit(worker: WorkerProcess, code: number | null, signal: NodeJS.Signals | null): void {
    const expected = !this.pool.has(worker);
    const neverReady = worker.state === 'starting';
    this.processes.delete(worker);
    this.pool.delete(worker);
    this.removeIdle(worker);
    const how = signal === null ? `exited with code ${code}` : `was killed by ${signal}`;
    const reason = worker.fatalError ? `${how}: ${worker.fatalError.message}` : how;
    const attempt = this.running.get(worker);
    this.running.delete(worker);
    if (attempt) {
      const stopping = attempt.stopping;
      this.finish(
        attempt,
        stopping
          ? {
              outcome: 'failed',
              exitReason: stopping.reason,
              error: { message: stopping.message, name: 'AttemptAbort' },
            }
          : {
              outcome: 'failed',
              exitReason: 'worker_lost',
              error: {
                message: `the worker process running the attempt (pid ${worker.pid}) ${reason}`,
                ...(worker.fatalError?.stack ? { stack: worker.fatalError.stack } : {}),
                name: 'WorkerLost',
              },
            },
      );
    }
    if (neverReady) {
      this.startFailures++;
      this.lastStartFailure = reason;
      this.readyWaiters
        .get(worker)
        ?.reject(new Error(`LocalExecutor: a worker process ${reason} before it was ready`));
      this.readyWaiters.delete(worker);
    }
    if (expected || this.phase !== 'started') return;
    this.logger.warn({ workerPid: worker.pid, attempt: attempt?.id }, `worker process ${reason}`);
    this.replace();
  }

  /** Spawns a replacement, with backoff while replacements keep dying at start. */
  private replace(): void {
    if (this.startFailures >= MAX_START_FAILURES && !this.hasLiveWorker()) {
      for (const attempt of this.queue.splice(0)) {
        this.finish(attempt, {
          outcome: 'failed',
          exitReason: 'worker_lost',
          error: { message: `no worker process could start: ${this.lastStartFailure}` },
        });
      }
    }
    if (this.startFailures === 0) {
      this.spawn();
      return;
    }
    const delay = Math.min(MAX_RESPAWN_DELAY_MS, 250 * 2 ** (this.startFailures - 1));
    const cancelTimer = this.clock.setTimer(delay, () => {
      this.respawnTimers.delete(cancelTimer);
      if (this.phase === 'started') this.spawn();
    });
    this.respawnTimers.add(cancelTimer);
  }

  private hasLiveWorker(): boolean {
    for (const worker of this.pool) if (worker.state !== 'starting') return true;
    return false;
  }

  /** Takes a worker out of the pool and replaces it (when running); it exits soon. */
  private retire(worker: WorkerProcess, how: 'disconnect' | 'kill'): void {
    const inPool = this.pool.delete(worker);
    this.removeIdle(worker);
    if (how === 'kill') worker.kill();
    else worker.disconnect();
    if (inPool && this.phase === 'started') this.spawn();
  }

  private removeIdle(worker: WorkerProcess): void {
    const index = this.idle.indexOf(worker);
    if (index !== -1) this.idle.splice(index, 1);
  }

  /** Hands waiting attempts to idle workers, oldest attempt first. */
  private dispatch(): void {
    while (this.idle.length > 0) {
      const attempt = this.queue.shift();
      if (attempt === undefined) return;
      this.runOn(this.pickWorker(attempt.request), attempt);
    }
  }

  /** An idle worker that has this pipeline version loaded if any, else the latest idle. */
  private pickWorker(request: AttemptRequest): WorkerProcess {
    const version = versionKey(request);
    let index = this.idle.length - 1;
    for (let i = index; i >= 0; i--) {
      if (this.idle[i]?.versions.has(version)) {
        index = i;
        break;
      }
    }
    const [worker] = this.idle.splice(index, 1);
    return worker!;
  }

  private runOn(worker: WorkerProcess, attempt: Attempt): void {
    worker.state = 'busy';
    worker.versions.add(versionKey(attempt.request));
    attempt.worker = worker;
    this.running.set(worker, attempt);
    worker.send({ type: 'run', request: attempt.request });
    this.events.emit({
      type: 'started',
      key: attempt.request.key,
      at: this.clock.now(),
      pid: worker.pid,
      hostname: this.hostname,
    });
    const timeoutMs = attempt.request.task.executionTimeoutMs;
    if (timeoutMs !== null) {
      // The runner in the worker times the attempt out; this only catches a worker
      // too busy to do so.
      attempt.timers.push(
        this.clock.setTimer(timeoutMs + this.killGraceMs, () => {
          attempt.stopping ??= {
            reason: 'timeout',
            message: `attempt timed out after ${timeoutMs} ms (executionTimeout)`,
          };
          this.kill(attempt);
        }),
      );
    }
  }

  /** Asks a running attempt to stop; kills its worker if it has not after `killGraceMs`. */
  private abort(attempt: Attempt, reason: 'cancelled' | 'timeout', message: string): void {
    if (attempt.stopping !== undefined || attempt.worker === undefined) return;
    attempt.stopping = { reason, message };
    attempt.worker.send({ type: 'abort', reason, message });
    attempt.timers.push(this.clock.setTimer(this.killGraceMs, () => this.kill(attempt)));
  }

  private kill(attempt: Attempt): void {
    const worker = attempt.worker;
    if (worker === undefined || attempt.stopping === undefined || !this.attempts.has(attempt.id)) {
      return;
    }
    attempt.stopping.message += `; it did not stop within ${this.killGraceMs} ms, so its worker was killed`;
    this.logger.warn(
      { workerPid: worker.pid, attempt: attempt.id },
      `killing the worker of an attempt that did not stop within ${this.killGraceMs} ms`,
    );
    this.retire(worker, 'kill'); // its exit finishes the attempt with `stopping.reason`
  }

  private finish(attempt: Attempt, outcome: AttemptOutcome): void {
    if (!this.attempts.delete(attempt.id)) return;
    for (const cancelTimer of attempt.timers) cancelTimer();
    this.events.emit({
      type: 'finished',
      key: attempt.request.key,
      at: this.clock.now(),
      ...outcome,
    });
    if (this.attempts.size === 0) this.drained?.();
  }
}

function cancelled(message: string): AttemptOutcome {
  const error: AttemptError = { message, name: 'AttemptAbort' };
  return { outcome: 'failed', exitReason: 'cancelled', error };
}

function versionKey(request: AttemptRequest): string {
  return `${request.fileloc}\0${request.codeHash}`;
}
