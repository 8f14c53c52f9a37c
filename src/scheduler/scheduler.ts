/**
 * The scheduler: creates runs (cron timers), moves task instances through the state
 * machine (`transitions.ts`) and hands attempts to the executor.
 *
 * It is event-driven, a single loop that sleeps until something happens:
 * - an executor event (started / finished) — a finished task schedules its downstream
 *   in the very next tick, not on a poll;
 * - a timer: the next cron interval end, the next retry, the next run timeout;
 * - a store signal (a run triggered or changed by the CLI/API, a DAG paused).
 *
 * Each tick applies everything that arrived since the previous one in ONE transaction
 * (so under load the events batch up and throughput grows), then submits the attempts
 * it queued to the executor after the commit. A tick that fails is retried with its
 * events; nothing is dropped.
 *
 * On start it resets attempts left in flight by a previous process (see
 * `resetInterruptedAttempts`), so a restarted scheduler resumes its runs.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.ts';
import type { Json } from '../core/dag-spec.ts';
import { resolveParams } from '../core/params.ts';
import { isFinishedTaskState, type RunState } from '../core/states.ts';
import {
  type AttemptKey,
  attemptKeyString,
  type Executor,
  type ExecutorEvent,
} from '../executor/executor.ts';
import { createTimetable } from '../schedule/timetable.ts';
import {
  type DagVersion,
  getDagVersion,
  type LoadedFile,
  removeDagFile,
  syncDagFile,
} from '../store/queries/dags.ts';
import type { Db, Store, StoreSignal } from '../store/store.ts';
import { commitAttemptEffects } from './attempt-effects.ts';
import type { AttemptHooks } from './attempt-hooks.ts';
import { createDatasetRuns, queueDatasetUpdates } from './dataset-triggers.ts';
import type { SchedulerEvent, SchedulerListener } from './scheduler-events.ts';
import {
  beat,
  lockDecisions,
  reapDeadSchedulers,
  registeredSchedulers,
  storeActiveCounts,
  unregister,
} from './scheduler-registry.ts';
import {
  type ActiveCounts,
  completeBackfills,
  createRun,
  type EnqueuedAttempt,
  enqueueScheduled,
  evaluateRuns,
  finishRun,
  type LocatedEvent,
  promoteDueRetries,
  recordFinished,
  recordStarted,
  resetInterruptedAttempts,
  type SpecLookup,
  startQueuedRuns,
  type Tx,
} from './transitions.ts';

export interface SchedulerOptions {
  store: Store;
  executor: Executor;
  clock: Clock;
  log: Logger;
  /** Folder for attempt logs (`<home>/logs`). */
  logsDir: string;
  /** Local dataset storage (`<home>/datasets`), passed to attempts. */
  datasetsDir: string;
  /** The data layer's attempt hooks (inputs, committing dataset versions); default none. */
  hooks?: AttemptHooks | null;
  /** Attempts queued or running at once across all DAGs (default 64). */
  parallelism?: number;
  /** Whether newly discovered DAGs start paused (default false). */
  pausedOnCreation?: boolean;
  /** At most this many catch-up runs are created for one DAG per tick (default 100). */
  maxCatchupRunsPerTick?: number;
  /** Safety-net period for work a lost signal could delay; also the heartbeat (default 5 s). */
  housekeepingMs?: number;
  /**
   * Share the store with other schedulers (default: on PostgreSQL): decisions under row
   * locks, limits counted from the store, attempts of dead schedulers reset (see
   * `scheduler-registry.ts`). Off, this scheduler assumes it is alone.
   */
  shared?: boolean;
  /** A scheduler whose heartbeat is older than this is dead (default 30 s). */
  leaseMs?: number;
}

/** Above this many runs with cached task results the cache is emptied (see `Scheduler.results`). */
const MAX_CACHED_RESULT_RUNS = 1_000;

/** Longest delay before a `started` report is recorded when nothing else wakes the loop. */
const STARTED_DELAY_MS = 20;

/** Period of the full pass that makes up for lost store signals. */
const FULL_PASS_MS = 60_000;

type StartedEvent = Extract<ExecutorEvent, { type: 'started' }>;
type FinishedEvent = Extract<ExecutorEvent, { type: 'finished' }>;

/** Observable scheduler facts (for health checks, benchmarks and tests). */
export interface SchedulerStatus {
  running: boolean;
  /** When the last tick completed (ms since epoch on the scheduler's clock). */
  lastTickAt: number | null;
  ticks: number;
  inFlight: number;
}

export class Scheduler {
  private readonly store: Store;
  private readonly executor: Executor;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly options: Required<
    Pick<
      SchedulerOptions,
      | 'parallelism'
      | 'pausedOnCreation'
      | 'maxCatchupRunsPerTick'
      | 'housekeepingMs'
      | 'shared'
      | 'leaseMs'
    >
  >;
  /** This scheduler's id in `schedulers` and on the attempts it queues. */
  readonly id = randomUUID();
  private readonly logsDir: string;
  private readonly datasetsDir: string;
  private readonly hooks: AttemptHooks | null;

  private readonly versions = new Map<string, DagVersion>();
  private readonly runVersions = new Map<number, { dagId: string; versionHash: string }>();
  /** Attempts handed to the executor and not yet finished, by attempt key string. */
  private readonly inFlight = new Map<string, EnqueuedAttempt>();
  /**
   * Results of tasks that finished while this scheduler ran, by run and task id, so
   * downstream attempts need not read them back. Dropped when the run ends, and all at
   * once past `MAX_CACHED_RESULT_RUNS` runs (the store has them all).
   */
  private readonly results = new Map<number, Map<string, Json | undefined>>();
  /** The `pools` table (slots by name); reloaded when pools change and on the full pass. */
  private pools: Map<string, number> | null = null;
  private pending: ExecutorEvent[] = [];
  private dirtyRuns = new Set<string>();
  /** Next cron check per DAG (ms). */
  private readonly cronDue = new Map<string, number>();
  private readonly runDeadlines = new Map<number, number>();
  private nextRetryAt: number | null = null;
  private needStartRuns = true;
  private needEnqueue = true;
  /** Dataset updates were queued, or a DAG changed: look for dataset runs to create. */
  private needDatasetRuns = true;
  private cronRefresh: Set<string> | 'all' = 'all';
  private lastHousekeeping = 0;
  private lastFullPass = 0;
  private readonly warnedPools = new Set<string>();

  private running = false;
  private wake: (() => void) | null = null;
  private soon: NodeJS.Timeout | null = null;
  private woken = false;
  private loopDone: Promise<void> | null = null;
  private cancelTimer: (() => void) | null = null;
  private timerAt: number | null = null;
  private unsubscribe: (() => void) | null = null;
  private status: SchedulerStatus = { running: false, lastTickAt: null, ticks: 0, inFlight: 0 };
  private readonly tickListeners = new Set<() => void>();
  private readonly listeners: SchedulerListener[] = [];

  constructor(options: SchedulerOptions) {
    this.store = options.store;
    this.executor = options.executor;
    this.clock = options.clock;
    this.log = options.log.child({ component: 'scheduler' });
    this.logsDir = options.logsDir;
    this.datasetsDir = options.datasetsDir;
    this.hooks = options.hooks ?? null;
    this.options = {
      parallelism: options.parallelism ?? 64,
      pausedOnCreation: options.pausedOnCreation ?? false,
      maxCatchupRunsPerTick: options.maxCatchupRunsPerTick ?? 100,
      housekeepingMs: options.housekeepingMs ?? 5000,
      shared: options.shared ?? options.store.kind === 'postgres',
      leaseMs: options.leaseMs ?? 30_000,
    };
    this.executor.onEvent((event) => {
      this.pending.push(event);
      if (event.type === 'finished') this.poke();
      else this.pokeSoon();
    });
  }

  /** Resets attempts interrupted by a previous process and starts the loop. */
  async start(): Promise<void> {
    if (this.running) return;
    const now = new Date(this.clock.now());
    await beat(this.store.db, this.self(), now);
    // Alone, every open attempt is a leftover of a previous process; shared, only those
    // of schedulers that are not registered (the others reap the dead ones on their own).
    const keep = this.options.shared ? await registeredSchedulers(this.store.db) : [this.id];
    const reset = await this.store.transaction((tx) =>
      resetInterruptedAttempts(tx, now, { keep, why: 'scheduler restarted' }),
    );
    if (reset.length)
      this.log.info({ runs: reset.length }, 'resumed runs interrupted by a restart');
    this.unsubscribe = await this.store.subscribe((signal) => this.onSignal(signal));
    await this.loadTimers();
    this.running = true;
    this.status.running = true;
    this.loopDone = this.loop();
  }

  /** Stops the loop after the current tick. Attempts in flight are left to the executor's own stop. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.status.running = false;
    this.unsubscribe?.();
    this.cancelTimer?.();
    if (this.soon) clearTimeout(this.soon);
    this.poke();
    await this.loopDone;
    await unregister(this.store.db, this.id).catch((err: unknown) =>
      this.log.warn({ err }, 'could not unregister the scheduler'),
    );
  }

  private self() {
    return { id: this.id, hostname: os.hostname(), pid: process.pid };
  }

  getStatus(): SchedulerStatus {
    return { ...this.status, inFlight: this.inFlight.size };
  }

  /** Adds a listener of committed scheduler events (notifications, metrics, traces). */
  onEvent(listener: SchedulerListener): void {
    this.listeners.push(listener);
  }

  private emit(events: readonly SchedulerEvent[]): void {
    for (const event of events) {
      for (const listener of this.listeners) {
        try {
          listener(event);
        } catch (err) {
          this.log.error({ err, event: event.type }, 'a scheduler event listener failed');
        }
      }
    }
  }

  /** Resolves after the next tick completes (for tests and benchmarks). */
  nextTick(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.tickListeners.delete(done);
        resolve();
      };
      this.tickListeners.add(done);
      this.poke();
    });
  }

  /** Records what the loader found in a file, and re-plans the schedules of changed DAGs. */
  async applyLoadedFile(file: LoadedFile): Promise<string[]> {
    const now = new Date(this.clock.now());
    const changed = await this.store.transaction((tx) =>
      syncDagFile(tx, file, now, this.options.pausedOnCreation),
    );
    this.refreshSchedules(changed);
    return changed;
  }

  /** Retires the DAGs of a deleted file. */
  async applyRemovedFile(fileloc: string): Promise<string[]> {
    const changed = await this.store.transaction((tx) => removeDagFile(tx, fileloc));
    this.refreshSchedules(changed);
    return changed;
  }

  /**
   * Wakes the loop a little later: a `started` report alone need not cost a tick of its
   * own — it rides along the next one (a short task's `finished` usually follows at
   * once), and a long task still shows as running within `STARTED_DELAY_MS`.
   */
  private pokeSoon(): void {
    if (this.soon) return;
    this.soon = setTimeout(() => {
      this.soon = null;
      this.poke();
    }, STARTED_DELAY_MS);
    this.soon.unref();
  }

  /** Wakes the loop (something changed). */
  poke(): void {
    this.woken = true;
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private refreshSchedules(dagIds: string[]): void {
    if (!dagIds.length) return;
    this.mergeCronRefresh(new Set(dagIds));
    this.poke();
  }

  private mergeCronRefresh(more: Set<string> | 'all'): void {
    if (this.cronRefresh === 'all') return;
    if (more === 'all') this.cronRefresh = 'all';
    else for (const id of more) this.cronRefresh.add(id);
  }

  private onSignal(signal: StoreSignal): void {
    if (signal.kind === 'run_created') this.needStartRuns = true;
    else if (signal.kind === 'pools_changed') this.pools = null;
    else if (signal.kind === 'datasets_updated') this.needDatasetRuns = true;
    else if (signal.kind === 'work_waiting' && signal.from === this.id) return;
    else if (signal.kind === 'run_changed')
      this.dirtyRuns.add(`${signal.dagId}\u0000${signal.runId}`);
    else if (signal.kind === 'dag_changed') {
      this.needDatasetRuns = true;
      this.refreshSchedules([signal.dagId]);
    }
    this.needEnqueue = true;
    this.poke();
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (this.running) {
      if (!this.woken) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        continue;
      }
      // Let pending I/O (executor messages, timers) in before each tick: PGlite answers
      // in microtasks only, so without this a busy loop could starve the event loop. It
      // also lets events that arrive together be applied in one tick.
      await new Promise<void>((resolve) => setImmediate(resolve));
      this.woken = false;
      try {
        await this.tick();
        failures = 0;
      } catch (err) {
        failures++;
        const delay = Math.min(30_000, 100 * 2 ** Math.min(failures, 9));
        this.log.error({ err, retryInMs: delay }, 'scheduler tick failed; retrying');
        await new Promise((r) => setTimeout(r, delay));
        this.woken = true;
      }
      this.status.lastTickAt = this.clock.now();
      this.status.ticks++;
      for (const l of [...this.tickListeners]) l();
      this.armTimer();
    }
  }

  private specs: SpecLookup = async (db, dagId, versionHash) => {
    const key = `${dagId}\u0000${versionHash}`;
    let v = this.versions.get(key);
    if (!v) {
      v = await getDagVersion(db, dagId, versionHash);
      if (!v) throw new Error(`DAG version ${dagId}@${versionHash} is missing from the store`);
      this.versions.set(key, v);
    }
    return v;
  };

  private logPathFor = (key: AttemptKey): string =>
    path.join(
      this.logsDir,
      `dag_id=${safe(key.dagId)}`,
      `run_id=${safe(key.runId)}`,
      `task_id=${safe(key.taskId)}${key.mapIndex >= 0 ? `/map_index=${key.mapIndex}` : ''}`,
      `attempt=${key.tryNumber}.log`,
    );

  /** One pass: apply events and due timers, evaluate touched runs, queue attempts. */
  private async tick(): Promise<void> {
    const now = new Date(this.clock.now());
    const events = this.pending;
    this.pending = [];
    const dirty = this.dirtyRuns;
    this.dirtyRuns = new Set();
    let started: LocatedEvent<StartedEvent>[] = [];
    const finished: LocatedEvent<FinishedEvent>[] = [];
    for (const event of events) {
      if (event.type === 'heartbeat') continue;
      const flight = this.inFlight.get(attemptKeyString(event.key));
      if (!flight) continue; // not ours (cancelled earlier, or from a previous process)
      if (event.type === 'started') {
        flight.startedAt = event.at;
        started.push({ attempt: flight, event });
      } else finished.push({ attempt: flight, event });
    }
    // An attempt that started and finished within one batch is recorded by one statement.
    if (started.length && finished.length) {
      const startedByKey = new Map(started.map((x) => [attemptKeyString(x.event.key), x.event]));
      for (const f of finished) {
        const s = startedByKey.get(attemptKeyString(f.event.key));
        if (!s) continue;
        f.started = s;
        startedByKey.delete(attemptKeyString(f.event.key));
      }
      started = started.filter((x) => startedByKey.has(attemptKeyString(x.event.key)));
    }
    const housekeeping = now.getTime() - this.lastHousekeeping >= this.options.housekeepingMs;
    if (housekeeping) {
      this.lastHousekeeping = now.getTime();
      this.needStartRuns = true;
      this.needEnqueue = true;
    }
    // Every minute, redo what a lost store signal (a dropped LISTEN connection) would
    // have asked for: re-plan every schedule and re-evaluate every running run.
    const fullPass = now.getTime() - this.lastFullPass >= FULL_PASS_MS;
    if (fullPass) {
      this.lastFullPass = now.getTime();
      this.mergeCronRefresh('all');
      this.pools = null;
    }
    const cronRefresh = this.cronRefresh;
    this.cronRefresh = new Set();

    let result: Awaited<ReturnType<typeof this.applyInTransaction>>;
    try {
      result = await this.store.transaction((tx) =>
        this.applyInTransaction(tx, now, {
          started,
          finished,
          dirty,
          cronRefresh,
          housekeeping,
          fullPass,
        }),
      );
    } catch (err) {
      // Put everything back for the retry.
      this.pending = events.concat(this.pending);
      for (const d of dirty) this.dirtyRuns.add(d);
      this.mergeCronRefresh(cronRefresh);
      throw err;
    }

    for (const { event } of finished) this.inFlight.delete(attemptKeyString(event.key));
    for (const key of result.cancel) {
      this.inFlight.delete(attemptKeyString(key));
      this.executor.cancel(key);
    }
    for (const attempt of result.attempts) {
      attempt.queuedAt = now.getTime();
      this.inFlight.set(attemptKeyString(attempt.request.key), attempt);
    }
    for (const attempt of result.attempts) {
      if (attempt.prepareError === undefined) this.executor.submit(attempt.request);
      else this.failUnrun(attempt.request.key, attempt.prepareError);
    }
    if (result.workWaiting && this.options.shared) {
      await this.store
        .notify({ kind: 'work_waiting', from: this.id })
        .catch((err: unknown) => this.log.warn({ err }, 'could not signal waiting work'));
    }
    if (events.length || result.attempts.length) {
      this.log.debug({ events: events.length, submitted: result.attempts.length }, 'tick');
    }
    if (this.listeners.length) {
      const at = this.clock.now();
      this.emit([
        ...[
          ...started,
          ...finished.flatMap((f) => (f.started ? [{ attempt: f.attempt, event: f.started }] : [])),
        ].map(({ attempt, event }) => ({
          type: 'attempt_started' as const,
          key: event.key,
          at: event.at,
          queuedAt: attempt.queuedAt ?? event.at,
          hostname: event.hostname,
        })),
        ...result.events,
        ...result.attempts.map(({ request }) => ({
          type: 'attempt_queued' as const,
          key: request.key,
          at: now.getTime(),
          pool: request.task.pool,
        })),
        { type: 'tick', durationMs: at - now.getTime(), at },
      ]);
    }
  }

  /** Ends an attempt that could not be handed over (its preparation failed) as failed. */
  private failUnrun(key: AttemptKey, message: string): void {
    this.pending.push({
      type: 'finished',
      key,
      at: this.clock.now(),
      outcome: 'failed',
      exitReason: 'error',
      error: { message, name: 'UpdraftError' },
    });
    this.poke();
  }

  private async applyInTransaction(
    tx: Tx,
    now: Date,
    work: {
      started: LocatedEvent<StartedEvent>[];
      finished: LocatedEvent<FinishedEvent>[];
      dirty: Set<string>;
      cronRefresh: Set<string> | 'all';
      housekeeping: boolean;
      fullPass: boolean;
    },
  ) {
    // Per run: the tasks that just finished (only their downstream can change), or 'all'.
    const touched = new Map<number, Set<string> | 'all'>();
    const touch = (runPk: number, taskId: string | 'all') => {
      const current = touched.get(runPk);
      if (current === 'all') return;
      if (taskId === 'all') touched.set(runPk, 'all');
      else touched.set(runPk, (current ?? new Set<string>()).add(taskId));
    };
    const cancel: AttemptKey[] = [];
    /** Events to emit once the transaction commits. */
    const events: SchedulerEvent[] = [];
    await recordStarted(tx, work.started, now);
    const committed = await commitAttemptEffects(tx, work.finished, this.hooks, this.specs, now);
    if (committed.updatedDatasets.length) {
      await queueDatasetUpdates(tx, committed.updatedDatasets, now);
      this.needDatasetRuns = true;
    }
    if (committed.triggeredDags.length) {
      this.needStartRuns = true;
      this.log.info({ dagIds: committed.triggeredDags }, 'created triggered runs');
    }
    const outcomes = await recordFinished(tx, committed.finished, now);
    if (this.results.size > MAX_CACHED_RESULT_RUNS) this.results.clear();
    for (const [i, o] of outcomes.entries()) {
      if (o.state === 'success') {
        const event = committed.finished[i]?.event;
        const run = this.results.get(o.ref.runPk) ?? new Map<string, Json | undefined>();
        // A mapped task's result is the list of its instances': read from the store.
        if (o.ref.mapIndex >= 0) run.delete(o.ref.taskId);
        else run.set(o.ref.taskId, event?.result);
        this.results.set(o.ref.runPk, run);
      }
      const f = committed.finished[i];
      if (o.state && f && this.listeners.length) {
        const { versionHash } = await this.runVersion(tx, o.ref.runPk);
        const { spec } = await this.specs(tx, f.event.key.dagId, versionHash);
        events.push({
          type: 'attempt_finished',
          key: f.event.key,
          spec,
          task: f.attempt.request.task,
          state: o.state,
          exitReason: f.event.exitReason,
          error: f.event.error?.message ?? null,
          queuedAt: f.attempt.queuedAt ?? f.event.at,
          startedAt: f.attempt.startedAt ?? f.started?.at ?? null,
          at: f.event.at,
        });
      }
      if (o.state && isFinishedTaskState(o.state)) touch(o.ref.runPk, o.ref.taskId);
      // Tasks a branch skipped are finished too: their downstream is decided next.
      for (const taskId of o.skipped) touch(o.ref.runPk, taskId);
      // A new retry may be due earlier than the known one: re-read the next retry time.
      if (o.state === 'up_for_retry') this.nextRetryAt = null;
    }
    if (work.finished.length) this.needEnqueue = true;

    if (work.housekeeping) {
      await beat(tx, this.self(), now);
      if (this.options.shared) await this.reapDeadSchedulers(tx, now);
    }
    // Shared: from here on, decide under the pool row locks (one scheduler at a time).
    if (this.options.shared) await lockDecisions(tx);

    if (work.fullPass) {
      if (this.options.shared) await this.loadRunDeadlines(tx);
      const running = await tx
        .selectFrom('dag_runs')
        .select(['dag_id', 'run_id'])
        .where('state', '=', 'running')
        .execute();
      for (const r of running) work.dirty.add(`${r.dag_id}\u0000${r.run_id}`);
    }
    if (work.dirty.size) {
      const { runPks, stale } = await this.reconcileDirtyRuns(tx, work.dirty);
      for (const pk of runPks) touch(pk, 'all');
      cancel.push(...stale);
      this.needStartRuns = true;
      this.needEnqueue = true;
    }

    if (this.nextRetryAt === null || this.nextRetryAt <= now.getTime() || work.housekeeping) {
      const promoted = await promoteDueRetries(tx, now);
      if (promoted.length) this.needEnqueue = true;
      const next = await tx
        .selectFrom('task_instances')
        .select((eb) => eb.fn.min('next_retry_at').as('at'))
        .where('state', '=', 'up_for_retry')
        .executeTakeFirst();
      this.nextRetryAt = next?.at ? new Date(next.at).getTime() : Number.POSITIVE_INFINITY;
    }

    if (work.cronRefresh === 'all' || work.cronRefresh.size)
      await this.planSchedules(tx, work.cronRefresh, now);
    if (await this.createDueRuns(tx, now)) this.needStartRuns = true;
    if (this.needDatasetRuns || work.housekeeping) {
      this.needDatasetRuns = false;
      const triggered = await createDatasetRuns(tx, this.specs, now);
      if (triggered.length) {
        this.needStartRuns = true;
        this.log.info({ dagIds: triggered }, 'created dataset-triggered runs');
      }
    }

    for (const [runPk, deadline] of this.runDeadlines) {
      if (deadline > now.getTime()) continue;
      this.runDeadlines.delete(runPk);
      const state = await tx
        .selectFrom('dag_runs')
        .select(['state'])
        .where('id', '=', runPk)
        .executeTakeFirst();
      if (state?.state !== 'running') continue;
      const orders = await finishRun(tx, runPk, 'failed', 'dagrunTimeout exceeded', now);
      cancel.push(...orders.map((o) => o.key));
      await this.pushRunFinished(tx, events, runPk, 'failed', 'dagrunTimeout exceeded', now);
      this.log.warn({ runPk }, 'run failed: dagrunTimeout exceeded');
      this.needStartRuns = true;
    }

    // Evaluate touched runs; tasks settled as skipped/upstream_failed cascade to their
    // downstream in the next round; finishing runs frees run slots, so queued runs start.
    let evaluate: Map<number, Set<string> | 'all'> = touched;
    for (;;) {
      if (this.needStartRuns) {
        this.needStartRuns = false;
        const startedRuns = await startQueuedRuns(tx, this.specs, now);
        for (const pk of startedRuns) {
          await this.trackRunDeadline(tx, pk, now);
          evaluate.set(pk, 'all');
        }
      }
      if (!evaluate.size) break;
      const evaluations = await evaluateRuns(tx, evaluate, this.specs, now);
      evaluate = new Map();
      this.needEnqueue = true;
      for (const e of evaluations) {
        if (!e.finished && e.settled.length) evaluate.set(e.runPk, new Set(e.settled));
      }
      const done = evaluations.filter((e) => e.finished);
      for (const e of done) {
        this.runDeadlines.delete(e.runPk);
        this.runVersions.delete(e.runPk);
        this.results.delete(e.runPk);
        this.log.info({ dagId: e.dagId, runId: e.runId, state: e.finished }, 'run finished');
        if (e.finished) await this.pushRunFinished(tx, events, e.runPk, e.finished, null, now);
      }
      const backfills = done.map((e) => e.backfillId).filter((b): b is number => b !== null);
      if (backfills.length) await completeBackfills(tx, backfills, now);
      if (done.length) this.needStartRuns = true;
    }

    let attempts: Awaited<ReturnType<typeof enqueueScheduled>>['attempts'] = [];
    let workWaiting = false;
    if (this.needEnqueue) {
      this.needEnqueue = false;
      this.pools ??= new Map(
        (await tx.selectFrom('pools').select(['name', 'slots']).execute()).map((p) => [
          p.name,
          p.slots,
        ]),
      );
      const queued = await enqueueScheduled(
        tx,
        this.specs,
        {
          parallelism: this.options.parallelism,
          // Attempts that finished in this tick leave `inFlight` after the commit.
          executorRoom: this.options.shared
            ? this.executor.capacity().slots - (this.inFlight.size - work.finished.length)
            : Number.POSITIVE_INFINITY,
          pools: this.pools,
          active: this.options.shared ? await storeActiveCounts(tx) : this.activeCounts(),
          results: this.results,
        },
        {
          logPathFor: this.logPathFor,
          datasetsRoot: this.datasetsDir,
          hooks: this.hooks,
          schedulerId: this.id,
        },
        now,
      );
      attempts = queued.attempts;
      // Shared: what this scheduler had no room for, another may run.
      workWaiting = queued.leftOver && queued.attempts.length > 0;
      for (const pool of queued.missingPools) {
        if (this.warnedPools.has(pool)) continue;
        this.warnedPools.add(pool);
        this.log.warn(
          { pool },
          `pool '${pool}' does not exist: its tasks wait; create it with 'updraft pools set ${pool} <slots>'`,
        );
      }
    }
    return { attempts, cancel, events, workWaiting };
  }

  /** Adds a `run_finished` event (when anyone listens). */
  private async pushRunFinished(
    tx: Tx,
    events: SchedulerEvent[],
    runPk: number,
    state: RunState,
    reason: string | null,
    now: Date,
  ): Promise<void> {
    if (!this.listeners.length) return;
    const run = await tx
      .selectFrom('dag_runs')
      .select(['dag_id', 'run_id', 'version_hash'])
      .where('id', '=', runPk)
      .executeTakeFirstOrThrow();
    const { spec } = await this.specs(tx, run.dag_id, run.version_hash);
    events.push({
      type: 'run_finished',
      dagId: run.dag_id,
      runId: run.run_id,
      spec,
      state,
      reason,
      at: now.getTime(),
    });
  }

  /**
   * Queued and running attempts, from the attempts this scheduler handed out (the store
   * holds no others: one scheduler per store, and a restart resets what was in flight).
   */
  private activeCounts(): ActiveCounts {
    const byPool = new Map<string, number>();
    const byDag = new Map<string, number>();
    for (const { request } of this.inFlight.values()) {
      byPool.set(request.task.pool, (byPool.get(request.task.pool) ?? 0) + request.task.poolSlots);
      byDag.set(request.key.dagId, (byDag.get(request.key.dagId) ?? 0) + 1);
    }
    return { total: this.inFlight.size, byPool, byDag };
  }

  /** Resolves dirty run ids and finds in-flight attempts that the store no longer wants. */
  private async reconcileDirtyRuns(tx: Tx, dirty: Set<string>) {
    const ids = [...dirty].map((d) => d.split('\u0000') as [string, string]);
    const runs = await tx
      .selectFrom('dag_runs')
      .select(['id', 'dag_id', 'run_id', 'state', 'version_hash'])
      .where((eb) =>
        eb.or(
          ids.map(([dagId, runId]) => eb.and([eb('dag_id', '=', dagId), eb('run_id', '=', runId)])),
        ),
      )
      .execute();
    const runPks = runs.map((r) => r.id);
    for (const r of runs)
      this.runVersions.set(r.id, { dagId: r.dag_id, versionHash: r.version_hash });
    const stale: AttemptKey[] = [];
    if (runPks.length) {
      const tis = await tx
        .selectFrom('task_instances')
        .select(['run_pk', 'task_id', 'map_index', 'try_number', 'state'])
        .where('run_pk', 'in', runPks)
        .where('state', 'in', ['queued', 'running'])
        .execute();
      const live = new Set(
        tis.map((t) => `${t.run_pk}/${t.task_id}/${t.map_index}/${t.try_number}`),
      );
      for (const { ref, request } of this.inFlight.values()) {
        if (!runPks.includes(ref.runPk)) continue;
        if (!live.has(`${ref.runPk}/${ref.taskId}/${ref.mapIndex}/${request.key.tryNumber}`)) {
          stale.push(request.key);
        }
      }
    }
    return { runPks, stale };
  }

  /** Recomputes the next cron check of the given DAGs (or all) from the store. */
  private async planSchedules(tx: Tx, which: Set<string> | 'all', now: Date): Promise<void> {
    let q = tx.selectFrom('dags').select(['dag_id', 'is_paused', 'is_active', 'spec']);
    if (which !== 'all') q = q.where('dag_id', 'in', [...which]);
    const rows = await q.execute();
    if (which === 'all') this.cronDue.clear();
    for (const row of rows) {
      this.cronDue.delete(row.dag_id);
      if (row.is_paused || !row.is_active || !row.spec.schedule) continue;
      this.cronDue.set(row.dag_id, now.getTime()); // check at once; createDueRuns sets the real time
    }
  }

  /** Creates the runs whose intervals have ended, per DAG due; returns whether any was created. */
  private async createDueRuns(tx: Tx, now: Date): Promise<boolean> {
    let created = false;
    for (const [dagId, dueAt] of this.cronDue) {
      if (dueAt > now.getTime()) continue;
      const dag = await tx
        .selectFrom('dags')
        .select(['version_hash', 'spec', 'is_paused', 'is_active'])
        .where('dag_id', '=', dagId)
        .executeTakeFirst();
      if (!dag || dag.is_paused || !dag.is_active) {
        this.cronDue.delete(dagId);
        continue;
      }
      const timetable = createTimetable(dag.spec);
      if (!timetable) {
        this.cronDue.delete(dagId);
        continue;
      }
      const last = await tx
        .selectFrom('dag_runs')
        .select((eb) => eb.fn.max('data_interval_end').as('end'))
        .where('dag_id', '=', dagId)
        .where('run_type', '=', 'scheduled')
        .executeTakeFirst();
      let lastEnd = last?.end ? new Date(last.end) : null;
      const due = timetable.dueRuns(
        lastEnd,
        now,
        dag.spec.catchup,
        this.options.maxCatchupRunsPerTick,
      );
      const version = await this.specs(tx, dagId, dag.version_hash);
      const params = resolveParams(dagId, dag.spec.params, {});
      for (const planned of due) {
        const pk = await createRun(
          tx,
          {
            version,
            runId: `scheduled__${planned.logicalDate.toISOString()}`,
            runType: 'scheduled',
            planned,
            params,
          },
          now,
        );
        if (pk !== null) created = true;
        if (!lastEnd || planned.dataIntervalEnd > lastEnd) lastEnd = planned.dataIntervalEnd;
      }
      // A capped catch-up continues on the next tick.
      const next =
        due.length >= this.options.maxCatchupRunsPerTick
          ? now
          : timetable.nextRunAfter(now, lastEnd);
      this.cronDue.set(dagId, next ? next.getTime() : Number.POSITIVE_INFINITY);
      await tx
        .updateTable('dags')
        .set({ next_run_after: next && next.getTime() > now.getTime() ? next : null })
        .where('dag_id', '=', dagId)
        .execute();
      if (due.length) this.log.info({ dagId, runs: due.length }, 'created scheduled runs');
    }
    return created;
  }

  private async trackRunDeadline(tx: Tx, runPk: number, now: Date): Promise<void> {
    const { dagId, versionHash } = await this.runVersion(tx, runPk);
    const { spec } = await this.specs(tx, dagId, versionHash);
    if (spec.dagrunTimeoutMs !== null)
      this.runDeadlines.set(runPk, now.getTime() + spec.dagrunTimeoutMs);
  }

  private runVersion = async (tx: Tx, runPk: number) => {
    const cached = this.runVersions.get(runPk);
    if (cached) return cached;
    const row = await tx
      .selectFrom('dag_runs')
      .select(['dag_id', 'version_hash'])
      .where('id', '=', runPk)
      .executeTakeFirstOrThrow();
    const v = { dagId: row.dag_id, versionHash: row.version_hash };
    this.runVersions.set(runPk, v);
    return v;
  };

  /** Resets the attempts of schedulers that stopped beating, and forgets them. */
  private async reapDeadSchedulers(tx: Tx, now: Date): Promise<void> {
    const dead = await reapDeadSchedulers(tx, this.id, this.options.leaseMs, now);
    if (!dead.length) return;
    const keep = await registeredSchedulers(tx);
    const runs = await resetInterruptedAttempts(tx, now, {
      keep,
      why: `scheduler stopped beating for over ${this.options.leaseMs} ms`,
    });
    if (runs.length) {
      const touched = await tx
        .selectFrom('dag_runs')
        .select(['dag_id', 'run_id'])
        .where('id', 'in', runs)
        .execute();
      for (const r of touched) this.dirtyRuns.add(`${r.dag_id}\u0000${r.run_id}`);
    }
    this.needEnqueue = true;
    this.log.warn({ schedulers: dead, runs: runs.length }, 'took over the runs of dead schedulers');
  }

  /** Deadlines (`dagrunTimeout`) of every running run, from the store; returns those runs. */
  private async loadRunDeadlines(db: Db) {
    const running = await db
      .selectFrom('dag_runs')
      .select(['id', 'dag_id', 'run_id', 'version_hash', 'started_at'])
      .where('state', '=', 'running')
      .execute();
    for (const run of running) {
      this.runVersions.set(run.id, { dagId: run.dag_id, versionHash: run.version_hash });
      const { spec } = await this.specs(db, run.dag_id, run.version_hash);
      if (spec.dagrunTimeoutMs !== null && run.started_at) {
        this.runDeadlines.set(run.id, new Date(run.started_at).getTime() + spec.dagrunTimeoutMs);
      }
    }
    return running;
  }

  /** Loads timers that live in the store: deadlines of running runs, the next retry. */
  private async loadTimers(): Promise<void> {
    const running = await this.loadRunDeadlines(this.store.db);
    this.nextRetryAt = null;
    this.cronRefresh = 'all';
    this.woken = true;
    // Running runs may have task instances ready (e.g. after the reset): evaluate them.
    for (const run of running) this.dirtyRuns.add(`${run.dag_id}\u0000${run.run_id}`);
  }

  /** Arms one timer for the earliest of: next cron check, next retry, next run deadline, housekeeping. */
  private armTimer(): void {
    if (!this.running) return;
    const now = this.clock.now();
    let at = this.lastHousekeeping + this.options.housekeepingMs;
    for (const t of this.cronDue.values()) at = Math.min(at, t);
    for (const t of this.runDeadlines.values()) at = Math.min(at, t);
    if (this.nextRetryAt !== null) at = Math.min(at, this.nextRetryAt);
    if (this.timerAt === at) return;
    this.cancelTimer?.();
    this.timerAt = at;
    this.cancelTimer = this.clock.setTimer(Math.max(0, at - now), () => {
      this.timerAt = null;
      this.cancelTimer = null;
      this.poke();
    });
  }
}

/** A path segment that cannot escape its folder. */
function safe(part: string): string {
  return part.replace(/[/\\\0]/g, '_').replace(/^\.\.?$/, '_');
}
