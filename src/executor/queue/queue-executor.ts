/**
 * `QueueExecutor`: hands attempts to `updraft worker` processes on any machine through
 * BullMQ queues on Redis, and turns their reports into executor events. The scheduler
 * side of distributed execution; `QueueWorker` is the other side. Vocabulary (job,
 * dispatch, token, claim, stop mark, lease) in `queue-protocol.ts`; decisions in ADR 9.
 *
 * An attempt goes through these phases:
 * - `waiting`: its job is in the BullMQ queue named by `task.queue`. A cancel removes
 *   the job (`finished`/`cancelled`, no `started`). A job that vanished without being
 *   claimed (Redis lost its data, or the add never reached Redis) is dispatched again.
 * - `accepted`: a worker claimed it; the lease runs from here on.
 * - `running`: the worker reported `started` (the pid of its pool process); heartbeats,
 *   log lines and finally `finished` follow. Log lines are appended to the request's
 *   `logPath` here, on the scheduler side, before `finished` is emitted.
 *
 * Lost workers: a claimed attempt without any report for `leaseMs` ends as
 * `worker_lost` (as `cancelled` if a cancel was pending) within `leaseMs + tickMs`; its
 * dispatch is revoked, so Redis refuses the stale worker's later reports, and a report
 * that gets through anyway (wrong token, older dispatch, other worker) is rejected here.
 *
 * Redis is not the source of truth: a Redis that comes back empty is noticed by the
 * missing epoch key, waiting attempts are dispatched again and running ones go on
 * (their workers re-claim them with their next report). After a scheduler restart,
 * `reconcile(requests)` takes over the attempts the store says are in flight.
 */
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import type { Logger } from 'pino';
import { pino } from 'pino';
import type { Clock } from '../../core/clock.ts';
import { systemClock } from '../../core/clock.ts';
import { EventDelivery } from '../event-delivery.ts';
import {
  type AttemptKey,
  type AttemptOutcome,
  type AttemptRequest,
  attemptKeyString,
  type Executor,
  type ExecutorListener,
} from '../executor.ts';
import {
  type DispatchJob,
  type DoneMark,
  jobIdOf,
  parseReport,
  QUEUE_NAME,
  QueueKeys,
  type ReportEnvelope,
  STOP_CANCEL,
  STOP_REVOKE,
  signDispatch,
  verifyDispatch,
} from './queue-protocol.ts';
import { assertNoEviction, type FencedRedis, openRedis } from './redis-connection.ts';

export interface QueueExecutorOptions {
  /** Redis URL (`redis://host:port/db`). */
  redisUrl: string;
  /**
   * Secret for the per-attempt tokens (at least 16 characters). Every scheduler of one
   * deployment uses the same; workers never need it.
   */
  secret: string;
  /** Prefix of every Redis key (default `updraft`); one deployment per prefix. */
  prefix?: string;
  /**
   * This executor's name: its workers report to `<prefix>:reports:<instanceId>`. Keep
   * it stable across restarts so a restarted scheduler finds the reports it missed
   * (default `<hostname>`).
   */
  instanceId?: string;
  /** Pipelines folder of the scheduler: files inside it travel as relative paths. */
  pipelinesDir?: string;
  /**
   * A claimed attempt with no report for this long ends as `worker_lost` (default
   * 20000 ms). Keep it above a few worker heartbeat intervals (default 5 s).
   */
  leaseMs?: number;
  /** Time a worker gets to report a cancelled attempt before it is given up (default 5000 ms). */
  killGraceMs?: number;
  /** Cluster-wide limit of attempts running at once, per queue (BullMQ global concurrency). */
  queueConcurrency?: { [queue: string]: number };
  /** Reports kept in a stream at most, a safety valve while nobody reads it (default 100000). */
  maxReports?: number;
  /** Lifetime of claim and stop marks (default 86400 s). */
  markTtlSeconds?: number;
  clock?: Clock;
  logger?: Logger;
}

type Phase = 'waiting' | 'accepted' | 'running';

interface Tracked {
  readonly request: AttemptRequest;
  readonly id: string;
  readonly jobId: string;
  dispatch: string;
  token: string;
  phase: Phase;
  worker: string | undefined;
  /** Last report (accepted and running attempts), or the cancel request. */
  lastSeen: number;
  /** Last time a waiting attempt's job was seen in Redis (or it was added). */
  checkedAt: number;
  cancelRequested: boolean;
  /** Log appends, in order; `finished` is emitted after them. */
  writes: Promise<void>;
}

/** What `reconcile` did with each request. */
export interface ReconcileSummary {
  /** Already tracked by this executor. */
  tracked: number;
  /** Found in Redis (waiting, or claimed by a worker) and taken over. */
  adopted: number;
  /** Finished while nobody listened: its `finished` event was emitted. */
  finished: number;
  /** Not found in Redis: dispatched again. */
  resubmitted: number;
}

/** Reports of attempts this executor does not track (yet), kept for `reconcile`. */
const MAX_ORPHAN_REPORTS = 10_000;

/** A report of an attempt this executor does not track (yet), and where it is. */
interface Orphan {
  stream: string;
  id: string;
  report: ReportEnvelope;
}

export class QueueExecutor implements Executor {
  readonly name = 'queue';

  /** Reports refused: bad token, older dispatch, another worker's. For tests and metrics. */
  rejectedReports = 0;

  private readonly keys: QueueKeys;
  private readonly owner: string;
  private readonly stream: string;
  private readonly leaseMs: number;
  private readonly tickMs: number;
  private readonly killGraceMs: number;
  private readonly maxReports: number;
  private readonly markTtl: number;
  private readonly clock: Clock;
  private readonly logger: Logger;

  private redis: FencedRedis | undefined;
  private reader: FencedRedis | undefined;
  private readonly queues = new Map<string, Queue>();
  private readonly byId = new Map<string, Tracked>();
  private readonly byJob = new Map<string, Tracked>();
  private readonly orphans = new Map<string, Orphan[]>();
  private orphanCount = 0;
  private readonly events: EventDelivery;
  private phase: 'new' | 'started' | 'stopping' | 'stopped' = 'new';
  private slots = 0;
  private epoch = '';
  /**
   * Report streams read, with the last entry id read from each: this executor's own,
   * and those of other schedulers whose attempts `reconcile` took over.
   */
  private readonly streams = new Map<string, string>();
  private caughtUp: Promise<void> = Promise.resolve();
  private reading: Promise<void> = Promise.resolve();
  private cancelTick: (() => void) | undefined;
  private ticking = false;
  private drained: (() => void) | undefined;
  private stopped: Promise<void> | undefined;

  constructor(private readonly options: QueueExecutorOptions) {
    if (options.secret.length < 16) {
      throw new RangeError(
        'QueueExecutor: the secret must have at least 16 characters (UPDRAFT_QUEUE_SECRET)',
      );
    }
    this.keys = new QueueKeys(options.prefix ?? 'updraft');
    this.owner = options.instanceId ?? hostname();
    this.stream = this.keys.reports(this.owner);
    this.streams.set(this.stream, '0');
    this.leaseMs = options.leaseMs ?? 20_000;
    this.tickMs = Math.max(20, Math.floor(this.leaseMs / 4));
    this.killGraceMs = options.killGraceMs ?? 5000;
    this.maxReports = options.maxReports ?? 100_000;
    this.markTtl = options.markTtlSeconds ?? 86_400;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? pino({ name: 'updraft.executor.queue' });
    this.events = new EventDelivery('QueueExecutor', this.logger);
    for (const queue of Object.keys(options.queueConcurrency ?? {})) assertQueueName(queue);
  }

  /**
   * Connects to Redis, refuses one that may evict keys, applies the per-queue limits and
   * starts reading reports (first those left in the stream while nobody read it).
   */
  async start(): Promise<void> {
    if (this.phase !== 'new') return;
    this.phase = 'started';
    const url = this.options.redisUrl;
    // No command of this connection blocks (BullMQ's Queue does not), so one without an
    // answer for 30 s fails instead of holding the tick or a submit forever.
    this.redis = await openRedis(url, {
      name: `updraft-executor-${this.owner}`,
      commandTimeoutMs: 30_000,
    });
    try {
      await assertNoEviction(this.redis, url);
      // A blocking read that never answers (a half-open connection) fails and is retried.
      this.reader = await openRedis(url, {
        name: `updraft-executor-reader-${this.owner}`,
        commandTimeoutMs: caughtUpBlockMs(this.tickMs) + 15_000,
      });
      await this.ensureEpoch();
      await this.applyQueueConcurrency();
      await this.refreshSlots();
    } catch (error) {
      this.phase = 'stopped';
      this.redis.disconnect();
      this.reader?.disconnect();
      throw error;
    }
    let markCaughtUp = () => {};
    this.caughtUp = new Promise((resolve) => {
      markCaughtUp = resolve;
    });
    this.reading = this.readReports(markCaughtUp);
    this.scheduleTick();
  }

  submit(request: AttemptRequest): void {
    const id = attemptKeyString(request.key);
    if (this.byId.has(id)) {
      this.logger.warn({ attempt: id }, 'attempt submitted twice; ignoring the second submit');
      return;
    }
    const tracked = this.track(request, this.newDispatch(request.key));
    if (this.phase !== 'started') {
      this.finish(tracked, cancelledOutcome('the executor is stopping'));
      return;
    }
    if (!QUEUE_NAME.test(request.task.queue)) {
      this.finish(tracked, {
        outcome: 'failed',
        exitReason: 'error_no_retry',
        error: {
          message: `task ${request.key.taskId}: queue name ${JSON.stringify(request.task.queue)} is not valid: use letters, digits, '_', '.' or '-' (at most 64)`,
          name: 'QueueError',
        },
      });
      return;
    }
    this.enqueue(tracked);
  }

  cancel(key: AttemptKey): void {
    const tracked = this.byId.get(attemptKeyString(key));
    if (tracked === undefined || tracked.cancelRequested) return;
    tracked.cancelRequested = true;
    tracked.lastSeen = this.clock.now();
    this.requestCancel(tracked).catch((error: unknown) =>
      this.logger.error({ err: error, attempt: tracked.id }, 'could not cancel an attempt'),
    );
  }

  onEvent(listener: ExecutorListener): void {
    this.events.listen(listener);
  }

  /** `slots`: the concurrency of the workers registered now (refreshed every tick). */
  capacity(): { slots: number; inFlight: number } {
    return { slots: this.slots, inFlight: this.byId.size };
  }

  /**
   * Takes over attempts the store says are queued or running, after a scheduler
   * restart or a Redis that lost its data. For each request: tracked already → nothing;
   * its finished report is waiting in the stream → `finished` is emitted; its job or
   * claim is in Redis → adopted (reports flow again, the lease applies); neither → it
   * is dispatched again. Call it after `start()` and `onEvent()`.
   */
  async reconcile(requests: readonly AttemptRequest[]): Promise<ReconcileSummary> {
    if (this.phase !== 'started') {
      throw new Error('QueueExecutor.reconcile: the executor is not running');
    }
    await this.caughtUp;
    const untracked = requests.filter((r) => !this.byId.has(attemptKeyString(r.key)));
    await this.collectForeignReports(new Set(untracked.map((r) => jobIdOf(r.key))));
    const summary: ReconcileSummary = { tracked: 0, adopted: 0, finished: 0, resubmitted: 0 };
    for (const request of requests) {
      if (this.byId.has(attemptKeyString(request.key))) {
        summary.tracked++;
        continue;
      }
      const outcome = await this.adopt(request);
      summary[outcome]++;
    }
    this.logger.info({ ...summary }, 'reconciled in-flight attempts with Redis');
    return summary;
  }

  /**
   * Cancels every attempt, waits up to `killGraceMs` plus one lease for the workers to
   * report them, ends the rest as `cancelled` itself and closes its connections.
   */
  stop(): Promise<void> {
    this.stopped ??= this.shutdown();
    return this.stopped;
  }

  /**
   * Stops reading reports and closes the connections WITHOUT cancelling anything: the
   * attempts go on on their workers, and their reports wait in this instance's stream
   * for the next executor with the same `instanceId`, which takes them over with
   * `reconcile`. For a scheduler that restarts (an upgrade) while workers keep running.
   * No event is emitted after it resolves.
   */
  detach(): Promise<void> {
    this.events.mute();
    this.stopped ??= this.closeConnections();
    return this.stopped;
  }

  private async closeConnections(): Promise<void> {
    this.cancelTick?.();
    this.phase = 'stopped';
    this.reader?.disconnect();
    await this.reading;
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
    await this.redis?.quit().catch(() => this.redis?.disconnect());
  }

  private async shutdown(): Promise<void> {
    if (this.phase === 'new') {
      this.phase = 'stopped';
      return;
    }
    this.phase = 'stopping';
    if (this.byId.size > 0) {
      const drained = new Promise<void>((resolve) => {
        this.drained = resolve;
      });
      for (const tracked of this.byId.values()) this.cancel(tracked.request.key);
      const giveUp = this.clock.setTimer(this.killGraceMs + this.leaseMs, () => {
        for (const tracked of [...this.byId.values()]) {
          this.revoke(tracked);
          this.finish(tracked, cancelledOutcome('the executor stopped before the worker reported'));
        }
      });
      await drained;
      giveUp();
    }
    await this.closeConnections();
    await new Promise<void>((resolve) => queueMicrotask(resolve));
  }

  /** Whether connections are open (started, or stopping but not yet stopped). */
  private active(): boolean {
    return this.phase === 'started' || this.phase === 'stopping';
  }

  // ---- dispatching -------------------------------------------------------------------

  private newDispatch(key: AttemptKey): { dispatch: string; token: string } {
    const dispatch = randomBytes(12).toString('base64url');
    return { dispatch, token: signDispatch(this.options.secret, key, dispatch) };
  }

  private track(request: AttemptRequest, dispatch: { dispatch: string; token: string }): Tracked {
    const now = this.clock.now();
    const tracked: Tracked = {
      request,
      id: attemptKeyString(request.key),
      jobId: jobIdOf(request.key),
      ...dispatch,
      phase: 'waiting',
      worker: undefined,
      lastSeen: now,
      checkedAt: now,
      cancelRequested: false,
      writes: Promise.resolve(),
    };
    this.byId.set(tracked.id, tracked);
    this.byJob.set(tracked.jobId, tracked);
    return tracked;
  }

  private queue(name: string): Queue {
    let queue = this.queues.get(name);
    if (queue === undefined) {
      queue = new Queue(name, { connection: this.redis!, prefix: this.keys.bullPrefix });
      queue.on('error', (error) => this.logger.warn({ err: error, queue: name }, 'queue error'));
      this.queues.set(name, queue);
    }
    return queue;
  }

  /** Adds the attempt's job; a failure is repaired by the tick (the job is missing). */
  private enqueue(tracked: Tracked): void {
    const { request } = tracked;
    const data: DispatchJob = {
      request,
      relativeFileloc: this.relativeFileloc(request.fileloc),
      dispatch: tracked.dispatch,
      token: tracked.token,
      owner: this.owner,
    };
    tracked.checkedAt = this.clock.now();
    this.queue(request.task.queue)
      .add('attempt', data, { jobId: tracked.jobId, removeOnComplete: true, removeOnFail: true })
      .then((job) => {
        const existing = job.data as DispatchJob;
        if (existing.dispatch !== tracked.dispatch && this.byId.get(tracked.id) === tracked) {
          // A job of this attempt was already there (a restart): keep its dispatch if it
          // is genuinely ours, else it is dispatched again once the old one is gone.
          if (verifyDispatch(this.options.secret, request.key, existing.dispatch, existing.token)) {
            tracked.dispatch = existing.dispatch;
            tracked.token = existing.token;
          } else {
            this.logger.warn({ attempt: tracked.id }, 'a foreign job holds this attempt id');
          }
        }
      })
      .catch((error: unknown) =>
        this.logger.warn(
          { err: error, attempt: tracked.id },
          'could not add the job of an attempt; retrying',
        ),
      );
  }

  private relativeFileloc(fileloc: string): string | null {
    const dir = this.options.pipelinesDir;
    if (dir === undefined) return null;
    const relative = path.relative(path.resolve(dir), fileloc);
    return relative.startsWith('..') || path.isAbsolute(relative) ? null : relative;
  }

  /** Gives a dispatch up: Redis refuses its worker's reports from now on. */
  private revoke(tracked: Tracked): void {
    this.redis
      ?.set(this.keys.stop(tracked.dispatch), STOP_REVOKE, 'EX', this.markTtl)
      .catch((error: unknown) =>
        this.logger.warn({ err: error, attempt: tracked.id }, 'could not revoke a dispatch'),
      );
  }

  /** Dispatches an attempt again (its job vanished before any worker claimed it). */
  private redispatch(tracked: Tracked, why: string): void {
    this.revoke(tracked);
    const next = this.newDispatch(tracked.request.key);
    this.logger.warn({ attempt: tracked.id, why }, 'dispatching an attempt again');
    tracked.dispatch = next.dispatch;
    tracked.token = next.token;
    this.enqueue(tracked);
  }

  private async requestCancel(tracked: Tracked): Promise<void> {
    const redis = this.redis!;
    await redis.set(this.keys.stop(tracked.dispatch), STOP_CANCEL, 'EX', this.markTtl);
    await redis.publish(this.keys.control, tracked.dispatch);
    if (tracked.phase !== 'waiting') return;
    const removed = await this.queue(tracked.request.task.queue).remove(tracked.jobId);
    // 0: the job is locked, i.e. a worker has it and will report how it ended.
    if (removed === 1 && tracked.phase === 'waiting') {
      this.finish(tracked, cancelledOutcome('attempt cancelled before it started'), 'forget');
    }
  }

  // ---- reports -------------------------------------------------------------------------

  private async readReports(markCaughtUp: () => void): Promise<void> {
    const reader = this.reader!;
    while (this.active()) {
      const streams = [...this.streams.keys()];
      let batch: [string, [string, string[]][]][] | null;
      try {
        batch = (await reader.xread(
          'COUNT',
          1000,
          'BLOCK',
          caughtUpBlockMs(this.tickMs),
          'STREAMS',
          ...streams,
          ...streams.map((stream) => this.streams.get(stream) ?? '0'),
        )) as [string, [string, string[]][]][] | null;
      } catch (error) {
        if (!this.active()) return;
        this.logger.warn({ err: error }, 'reading worker reports failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, 200));
        continue;
      }
      if (batch === null) markCaughtUp();
      for (const [stream, entries] of batch ?? []) {
        const done: string[] = [];
        for (const [entryId, fields] of entries) {
          this.streams.set(stream, entryId);
          const report = parseReport(fields[1] ?? '');
          if (report === null) {
            this.rejectedReports++;
            this.logger.warn({ stream, entry: entryId }, 'rejected a malformed report');
            done.push(entryId);
          } else if (this.handle(report)) {
            done.push(entryId);
          } else {
            this.keepOrphan({ stream, id: entryId, report });
          }
        }
        if (done.length > 0) await this.redis?.xdel(stream, ...done).catch(() => {});
      }
    }
  }

  /** Applies a report; false when the attempt is not tracked here (kept for reconcile). */
  private handle(report: ReportEnvelope): boolean {
    const tracked = this.byJob.get(report.jobId);
    if (tracked === undefined) return false;
    const problem = this.refusal(tracked, report);
    if (problem !== null) {
      this.rejectedReports++;
      this.logger.warn(
        { attempt: tracked.id, worker: report.worker, report: report.type, problem },
        'rejected a worker report',
      );
      return true;
    }
    const now = this.clock.now();
    tracked.lastSeen = now;
    switch (report.type) {
      case 'accepted':
        if (tracked.phase === 'waiting') tracked.phase = 'accepted';
        tracked.worker = report.worker;
        return true;
      case 'started':
        tracked.phase = 'running';
        tracked.worker = report.worker;
        this.events.emit({
          type: 'started',
          key: tracked.request.key,
          at: now,
          pid: report.pid,
          hostname: report.hostname,
        });
        return true;
      case 'heartbeat':
        if (tracked.phase === 'running') {
          this.events.emit({ type: 'heartbeat', key: tracked.request.key, at: now });
        }
        return true;
      case 'log':
        this.appendLog(tracked, report.text);
        return true;
      case 'finished':
        if (report.log !== undefined) this.appendLog(tracked, report.log);
        this.finish(tracked, report.outcome, 'forget');
        return true;
    }
  }

  /** Appends lines to the attempt's log on this machine, after those before them. */
  private appendLog(tracked: Tracked, text: string): void {
    const logPath = tracked.request.logPath;
    tracked.writes = tracked.writes
      .then(() => mkdir(path.dirname(logPath), { recursive: true }))
      .then(() => appendFile(logPath, text))
      .catch((error: unknown) =>
        this.logger.error({ err: error, logPath }, 'could not write a remote attempt log'),
      );
  }

  /** Why a report of a tracked attempt is refused, or null. */
  private refusal(tracked: Tracked, report: ReportEnvelope): string | null {
    if (!verifyDispatch(this.options.secret, tracked.request.key, report.dispatch, report.token)) {
      return 'the token does not match the attempt';
    }
    if (report.dispatch !== tracked.dispatch) return 'the report is of an older dispatch';
    if (tracked.worker !== undefined && report.worker !== tracked.worker) {
      return `the attempt is held by worker ${tracked.worker}`;
    }
    return null;
  }

  private keepOrphan(orphan: Orphan): void {
    const list = this.orphans.get(orphan.report.jobId) ?? [];
    list.push(orphan);
    this.orphans.set(orphan.report.jobId, list);
    if (++this.orphanCount > MAX_ORPHAN_REPORTS) {
      const [oldest] = this.orphans.keys();
      if (oldest !== undefined) {
        this.orphanCount -= this.orphans.get(oldest)?.length ?? 0;
        this.orphans.delete(oldest);
      }
    }
  }

  /**
   * Reads the report streams of other schedulers (one that died, say) for reports of
   * the attempts in `jobIds`, so that `adopt` finds them as it finds this executor's own.
   */
  private async collectForeignReports(jobIds: ReadonlySet<string>): Promise<void> {
    const redis = this.redis!;
    const streams: string[] = [];
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(
        cursor,
        'MATCH',
        `${this.keys.reports('')}*`,
        'COUNT',
        1000,
        'TYPE',
        'stream',
      );
      cursor = next;
      streams.push(...found);
    } while (cursor !== '0');
    for (const stream of streams) {
      if (this.streams.has(stream)) continue;
      for (const [id, fields] of await redis.xrange(stream, '-', '+')) {
        const report = parseReport(fields[1] ?? '');
        if (report !== null && jobIds.has(report.jobId)) this.keepOrphan({ stream, id, report });
      }
    }
  }

  private async adopt(
    request: AttemptRequest,
  ): Promise<Exclude<keyof ReconcileSummary, 'tracked'>> {
    const jobId = jobIdOf(request.key);
    const orphans = this.orphans.get(jobId) ?? [];
    this.orphans.delete(jobId);
    this.orphanCount -= orphans.length;
    const genuine = orphans.filter(({ report }) =>
      verifyDispatch(this.options.secret, request.key, report.dispatch, report.token),
    );
    const finishedReport = genuine.find(({ report }) => report.type === 'finished');
    const doneText = await this.redis!.get(this.keys.done(jobId));
    const done = doneText === null ? undefined : (JSON.parse(doneText) as DoneMark);
    if (
      finishedReport === undefined &&
      done !== undefined &&
      verifyDispatch(this.options.secret, request.key, done.dispatch, done.token)
    ) {
      // It ended, and that was emitted before (the scheduler may not have recorded it).
      const tracked = this.track(request, { dispatch: done.dispatch, token: done.token });
      this.finish(tracked, done.outcome);
      return 'finished';
    }
    const job = await this.queue(request.task.queue).getJob(jobId);
    const jobData = job?.data as DispatchJob | undefined;
    const known =
      jobData && verifyDispatch(this.options.secret, request.key, jobData.dispatch, jobData.token)
        ? { dispatch: jobData.dispatch, token: jobData.token }
        : genuine.at(-1)?.report;
    if (known === undefined) {
      const tracked = this.track(request, this.newDispatch(request.key));
      this.enqueue(tracked);
      return 'resubmitted';
    }
    const tracked = this.track(request, { dispatch: known.dispatch, token: known.token });
    const claim = await this.redis!.get(this.keys.claim(known.dispatch));
    if (claim !== null) {
      tracked.phase = 'accepted';
      tracked.worker = claim;
    }
    // Its worker reports to the scheduler that dispatched it: follow that stream too.
    const owner = jobData ? this.keys.reports(jobData.owner) : genuine.at(-1)?.stream;
    if (owner !== undefined && !this.streams.has(owner)) this.streams.set(owner, '0');
    const replayed = genuine.filter(({ report }) => report.dispatch === known.dispatch);
    for (const { report } of replayed) this.handle(report);
    for (const { stream, id } of orphans) await this.redis!.xdel(stream, id);
    if (!this.byId.has(tracked.id)) return 'finished';
    if (job === undefined && claim === null) {
      this.redispatch(tracked, 'neither its job nor a claim is in Redis');
      return 'resubmitted';
    }
    return 'adopted';
  }

  // ---- the tick: leases, vanished jobs, Redis resets, registered workers ----------------

  private scheduleTick(): void {
    this.cancelTick = this.clock.setTimer(this.tickMs, () => {
      if (!this.active()) return;
      if (this.ticking) {
        this.scheduleTick();
        return;
      }
      this.ticking = true;
      this.tick()
        .catch((error: unknown) => this.logger.warn({ err: error }, 'executor tick failed'))
        .finally(() => {
          this.ticking = false;
          if (this.active()) this.scheduleTick();
        });
    });
  }

  private async tick(): Promise<void> {
    await this.checkEpoch();
    const now = this.clock.now();
    const stale: Tracked[] = [];
    for (const tracked of this.byId.values()) {
      const leased = tracked.phase !== 'waiting' || tracked.cancelRequested;
      if (leased && now - tracked.lastSeen > this.leaseMs) {
        this.loseLease(tracked, now);
      } else if (!leased && now - tracked.checkedAt > this.leaseMs) {
        stale.push(tracked);
      }
    }
    if (stale.length > 0) await this.checkWaiting(stale);
    await this.refreshSlots();
  }

  private loseLease(tracked: Tracked, now: number): void {
    const silent = now - tracked.lastSeen;
    const holder =
      tracked.worker === undefined ? 'its worker' : `worker ${JSON.stringify(tracked.worker)}`;
    this.revoke(tracked);
    this.logger.warn(
      { attempt: tracked.id, worker: tracked.worker, silent },
      'attempt lease expired',
    );
    this.finish(
      tracked,
      tracked.cancelRequested
        ? cancelledOutcome(
            `attempt cancelled; ${holder} did not report within ${this.leaseMs} ms, so it was given up`,
          )
        : {
            outcome: 'failed',
            exitReason: 'worker_lost',
            error: {
              message: `no report from ${holder} for ${silent} ms (lease ${this.leaseMs} ms): the worker died, froze or lost Redis`,
              name: 'WorkerLost',
            },
          },
    );
  }

  /** Waiting attempts whose job vanished unclaimed are dispatched again. */
  private async checkWaiting(stale: Tracked[]): Promise<void> {
    const pipeline = this.redis!.pipeline();
    for (const tracked of stale) {
      pipeline.exists(this.keys.job(tracked.request.task.queue, tracked.jobId));
      pipeline.get(this.keys.claim(tracked.dispatch));
    }
    const answers = (await pipeline.exec()) ?? [];
    const now = this.clock.now();
    stale.forEach((tracked, i) => {
      if (this.byId.get(tracked.id) !== tracked || tracked.phase !== 'waiting') return;
      const jobExists = answers[2 * i]?.[1] === 1;
      const claim = answers[2 * i + 1]?.[1];
      tracked.checkedAt = now;
      if (jobExists) return;
      if (typeof claim === 'string') {
        // Claimed, but the accepted report was lost: the lease decides from here on.
        tracked.phase = 'accepted';
        tracked.worker = claim;
        tracked.lastSeen = now;
      } else {
        this.redispatch(tracked, 'its job is no longer in Redis and no worker claimed it');
      }
    });
  }

  private async ensureEpoch(): Promise<void> {
    const fresh = randomBytes(8).toString('hex');
    await this.redis!.set(this.keys.epoch, fresh, 'NX');
    this.epoch = (await this.redis!.get(this.keys.epoch)) ?? fresh;
  }

  /** Notices a Redis that lost its data (restart without persistence, flush). */
  private async checkEpoch(): Promise<void> {
    const epoch = await this.redis!.get(this.keys.epoch);
    if (epoch === this.epoch) return;
    this.logger.warn(
      { waiting: [...this.byId.values()].filter((t) => t.phase === 'waiting').length },
      'Redis lost its data: dispatching waiting attempts again',
    );
    await assertNoEviction(this.redis!, this.options.redisUrl);
    await this.ensureEpoch();
    await this.applyQueueConcurrency();
    for (const stream of this.streams.keys()) this.streams.set(stream, '0');
    for (const tracked of this.byId.values()) {
      if (tracked.phase === 'waiting') tracked.checkedAt = -Infinity;
    }
    const waiting = [...this.byId.values()].filter(
      (t) => t.phase === 'waiting' && !t.cancelRequested,
    );
    if (waiting.length > 0) await this.checkWaiting(waiting);
  }

  private async applyQueueConcurrency(): Promise<void> {
    for (const [name, limit] of Object.entries(this.options.queueConcurrency ?? {})) {
      await this.queue(name).setGlobalConcurrency(limit);
    }
  }

  /** Sums the concurrency of the registered workers; forgets registrations that expired. */
  private async refreshSlots(): Promise<void> {
    const redis = this.redis!;
    const ids = await redis.zrange(this.keys.workers, '0', '-1');
    if (ids.length === 0) {
      this.slots = 0;
      return;
    }
    const values = await redis.mget(...ids.map((id) => this.keys.worker(id)));
    let slots = 0;
    const gone: string[] = [];
    values.forEach((value, i) => {
      if (value === null) {
        gone.push(ids[i]!);
        return;
      }
      const concurrency = (JSON.parse(value) as { concurrency?: unknown }).concurrency;
      if (typeof concurrency === 'number') slots += concurrency;
    });
    if (gone.length > 0) await redis.zrem(this.keys.workers, ...gone);
    this.slots = slots;
  }

  // ---- events ------------------------------------------------------------------------

  /**
   * Emits `finished` once the attempt's log lines are written, and leaves a done mark so
   * a `reconcile` after a scheduler crash replays the outcome instead of running the
   * attempt again. `forget`: the worker reported the end (or the job was removed before
   * any worker took it), so its claim and stop mark have nothing left to fence.
   */
  private finish(
    tracked: Tracked,
    outcome: AttemptOutcome,
    marks: 'keep' | 'forget' = 'keep',
  ): void {
    if (this.byId.get(tracked.id) !== tracked) return;
    this.byId.delete(tracked.id);
    this.byJob.delete(tracked.jobId);
    if (this.redis !== undefined && this.active()) {
      const done: DoneMark = { dispatch: tracked.dispatch, token: tracked.token, outcome };
      const pipeline = this.redis
        .pipeline()
        .set(this.keys.done(tracked.jobId), JSON.stringify(done), 'EX', this.markTtl);
      if (marks === 'forget') {
        pipeline.del(this.keys.claim(tracked.dispatch), this.keys.stop(tracked.dispatch));
      }
      pipeline
        .exec()
        .catch((error: unknown) =>
          this.logger.warn({ err: error, attempt: tracked.id }, 'could not record an attempt end'),
        );
    }
    void tracked.writes.then(() => {
      this.events.emit({
        type: 'finished',
        key: tracked.request.key,
        at: this.clock.now(),
        ...outcome,
      });
      if (this.byId.size === 0) this.drained?.();
    });
  }
}

function cancelledOutcome(message: string): AttemptOutcome {
  return { outcome: 'failed', exitReason: 'cancelled', error: { message, name: 'AttemptAbort' } };
}

function assertQueueName(name: string): void {
  if (!QUEUE_NAME.test(name)) {
    throw new RangeError(
      `QueueExecutor: queue name ${JSON.stringify(name)} is not valid: use letters, digits, '_', '.' or '-' (at most 64)`,
    );
  }
}

/** How long one XREAD blocks: short enough to notice a stop within a tick. */
function caughtUpBlockMs(tickMs: number): number {
  return Math.max(50, Math.min(1000, tickMs));
}
