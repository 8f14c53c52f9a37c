/**
 * `QueueWorker`: the process behind `updraft worker`. Takes attempts from BullMQ queues
 * on Redis, runs them in its own warm pool (a `LocalExecutor`: one process per attempt
 * at a time) and reports back to the executor that dispatched them. It never connects
 * to the metadata store. Vocabulary in `queue-protocol.ts`; decisions in ADR 9.
 *
 * For each job:
 * 1. *Pickup*: one Redis script claims the dispatch for this worker and appends the
 *    `accepted` report — or says it was revoked, claimed elsewhere, or cancelled.
 * 2. The attempt goes to the pool with the pipeline file mapped to this machine
 *    (`pipelinesDir`) and its log written to a spool file under `<home>/spool/`.
 * 3. Reports (`started`, `heartbeat`, `log`, `finished`) go through the report script,
 *    one after the other per dispatch: Redis refuses them once the dispatch is revoked,
 *    and the worker then stops the attempt. The spool file is shipped as `log` reports
 *    (complete lines, every `logFlushMs`) and removed after `finished`.
 * 4. Cancels arrive on the control channel (or as the answer of the next report).
 *
 * `stop()` takes no new jobs and gives running attempts `drainMs` to finish; the rest
 * are stopped and reported as `worker_lost`, so the scheduler retries them.
 */
import { mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { type Job, Worker } from 'bullmq';
import type { Logger } from 'pino';
import { pino } from 'pino';
import {
  type AttemptKey,
  type AttemptOutcome,
  attemptKeyString,
  type ExecutorEvent,
} from '../executor.ts';
import { LocalExecutor } from '../local/local-executor.ts';
import { LogTail } from './log-tail.ts';
import {
  type DispatchJob,
  jobIdOf,
  QUEUE_NAME,
  QueueKeys,
  type Report,
  type ReportEnvelope,
} from './queue-protocol.ts';
import {
  assertNoEviction,
  type FencedRedis,
  type FenceResult,
  type FenceScript,
  openRedis,
} from './redis-connection.ts';

/** A queue this worker takes attempts from, and how many it runs from it at once. */
export interface WorkerQueue {
  name: string;
  /** At most this many attempts of this queue at once on this worker (default: all slots). */
  concurrency?: number;
}

export interface QueueWorkerOptions {
  redisUrl: string;
  /** Prefix of every Redis key (default `updraft`); the executor's. */
  prefix?: string;
  /** Queues to take attempts from (default `[{ name: 'default' }]`). */
  queues?: WorkerQueue[];
  /** Pool processes, i.e. attempts run at once (default: the number of cores). */
  concurrency?: number;
  /** Home folder: bundle cache of pipelines, spooled logs (`<home>/spool`). */
  home: string;
  /**
   * This machine's pipelines folder. Attempts of files inside the scheduler's pipelines
   * folder run the same relative path here; without it, the scheduler's absolute path.
   */
  pipelinesDir?: string;
  /** Interval of heartbeats (default 5000 ms); the executor's lease must be several. */
  heartbeatIntervalMs?: number;
  /** Interval at which logs are shipped (default 250 ms). */
  logFlushMs?: number;
  /** Time a cancelled attempt gets to stop before its process is killed (default 5000 ms). */
  killGraceMs?: number;
  /** On `stop()`, time running attempts get to finish (default 25000 ms). */
  drainMs?: number;
  /** Reports kept in a stream at most (default 100000, as the executor). */
  maxReports?: number;
  /** Lifetime of claim marks (default 86400 s, as the executor). */
  markTtlSeconds?: number;
  /** A file touched at every heartbeat, for container health checks (default none). */
  aliveFile?: string;
  /** Name of this worker in claims and logs (default `<hostname>-<pid>-<random>`). */
  workerId?: string;
  logger?: Logger;
}

/** An attempt this worker has claimed. */
interface Held {
  readonly job: DispatchJob;
  readonly key: AttemptKey;
  readonly tail: LogTail;
  started: boolean;
  /** Reports of this dispatch, one after the other. */
  chain: Promise<void>;
  /** Set once Redis refused a report: nothing more is sent. */
  refused: boolean;
  done: () => void;
}

export class QueueWorker {
  readonly workerId: string;
  private readonly keys: QueueKeys;
  private readonly queues: WorkerQueue[];
  private readonly slots: number;
  private readonly heartbeatIntervalMs: number;
  private readonly logFlushMs: number;
  private readonly drainMs: number;
  private readonly maxReports: number;
  private readonly markTtl: number;
  private readonly spoolDir: string;
  private readonly logger: Logger;
  private readonly hostname = hostname();
  private readonly pool: LocalExecutor;

  private redis: FencedRedis | undefined;
  private subscriber: FencedRedis | undefined;
  private readonly workers: Worker[] = [];
  private readonly byDispatch = new Map<string, Held>();
  private readonly byAttempt = new Map<string, Held>();
  private readonly timers: NodeJS.Timeout[] = [];
  private stopping = false;
  private stopped: Promise<void> | undefined;

  constructor(private readonly options: QueueWorkerOptions) {
    this.keys = new QueueKeys(options.prefix ?? 'updraft');
    this.queues = options.queues ?? [{ name: 'default' }];
    if (this.queues.length === 0)
      throw new RangeError('QueueWorker: no queue to take attempts from');
    for (const queue of this.queues) {
      if (!QUEUE_NAME.test(queue.name)) {
        throw new RangeError(
          `QueueWorker: queue name ${JSON.stringify(queue.name)} is not valid: use letters, digits, '_', '.' or '-'`,
        );
      }
    }
    this.logger = options.logger ?? pino({ name: 'updraft.worker' });
    this.pool = new LocalExecutor({
      ...(options.concurrency === undefined ? {} : { workers: options.concurrency }),
      home: options.home,
      logger: this.logger,
      killGraceMs: options.killGraceMs ?? 5000,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 5000,
    });
    this.slots = this.pool.capacity().slots;
    this.workerId =
      options.workerId ??
      `${this.hostname}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 5000;
    this.logFlushMs = options.logFlushMs ?? 250;
    this.drainMs = options.drainMs ?? 25_000;
    this.maxReports = options.maxReports ?? 100_000;
    this.markTtl = options.markTtlSeconds ?? 86_400;
    this.spoolDir = path.join(options.home, 'spool', this.workerId);
  }

  /** Concurrency per queue name, as this worker runs it. */
  get queueConcurrency(): { [queue: string]: number } {
    return Object.fromEntries(
      this.queues.map((q) => [q.name, Math.min(this.slots, q.concurrency ?? this.slots)]),
    );
  }

  /** Connects, refuses a Redis that may evict keys, starts the pool, then takes jobs. */
  async start(): Promise<void> {
    const url = this.options.redisUrl;
    this.redis = await openRedis(url, { name: `updraft-worker-${this.workerId}` });
    try {
      await assertNoEviction(this.redis, url);
      this.subscriber = await openRedis(url, { name: `updraft-worker-sub-${this.workerId}` });
      mkdirSync(this.spoolDir, { recursive: true });
      this.pool.onEvent((event) => this.onPoolEvent(event));
      await this.pool.start();
      this.subscriber.on('message', (_channel: string, dispatch: string) =>
        this.onCancel(dispatch),
      );
      await this.subscriber.subscribe(this.keys.control);
      await this.register();
      this.timers.push(
        setInterval(() => this.heartbeat(), this.heartbeatIntervalMs),
        setInterval(() => this.shipLogs(), this.logFlushMs),
      );
      for (const [name, concurrency] of Object.entries(this.queueConcurrency)) {
        const worker = new Worker(name, (job: Job) => this.process(job), {
          connection: this.redis,
          prefix: this.keys.bullPrefix,
          concurrency,
          maxStalledCount: 0,
          name: this.workerId,
        });
        worker.on('error', (error) =>
          this.logger.warn({ err: error, queue: name }, 'queue worker error'),
        );
        this.workers.push(worker);
      }
      await Promise.all(this.workers.map((worker) => worker.waitUntilReady()));
    } catch (error) {
      await this.stop();
      throw error;
    }
    this.logger.info(
      { worker: this.workerId, queues: this.queueConcurrency, slots: this.slots },
      'worker taking attempts',
    );
  }

  /**
   * Takes no new jobs, lets running attempts finish for up to `drainMs`, stops the rest
   * (reported as `worker_lost`), and closes everything.
   */
  stop(): Promise<void> {
    this.stopped ??= this.shutdown();
    return this.stopped;
  }

  private async shutdown(): Promise<void> {
    this.stopping = true;
    const drainTimer = setTimeout(() => {
      for (const held of this.byDispatch.values()) this.pool.cancel(held.key);
    }, this.drainMs);
    // Closing a BullMQ worker waits for its running processors, i.e. reported attempts.
    await Promise.all(this.workers.map((worker) => worker.close()));
    clearTimeout(drainTimer);
    await this.pool.stop();
    for (const timer of this.timers) clearInterval(timer);
    await this.redis
      ?.multi()
      .del(this.keys.worker(this.workerId))
      .zrem(this.keys.workers, this.workerId)
      .exec()
      .catch(() => {});
    this.subscriber?.disconnect();
    await this.redis?.quit().catch(() => this.redis?.disconnect());
  }

  /** The BullMQ processor: runs one dispatch and resolves when it has been reported. */
  private async process(job: Job): Promise<void> {
    const data = job.data as DispatchJob;
    if (this.stopping) throw new Error('the worker is stopping');
    const key = data.request.key;
    const held: Held = {
      job: data,
      key,
      tail: new LogTail(path.join(this.spoolDir, `${job.id}.log`)),
      started: false,
      chain: Promise.resolve(),
      refused: false,
      done: () => {},
    };
    const finished = new Promise<void>((resolve) => {
      held.done = resolve;
    });
    const pickup = await this.fence(this.redis!.updraftPickup, data, { type: 'accepted' });
    if (pickup === 'revoke' || pickup === 'claimed') {
      this.logger.info({ attempt: attemptKeyString(key), pickup }, 'not running a dispatch');
      return;
    }
    this.byDispatch.set(data.dispatch, held);
    if (this.byAttempt.has(attemptKeyString(key))) {
      // An older dispatch of this attempt still runs here (it was revoked): the pool
      // runs one attempt key once, so this dispatch ends at once and is retried.
      this.report(held, {
        type: 'finished',
        outcome: {
          outcome: 'failed',
          exitReason: 'worker_lost',
          error: {
            message: `worker ${this.workerId} still runs an older dispatch of this attempt`,
            name: 'WorkerLost',
          },
        },
      });
      this.release(held);
      await finished;
      return;
    }
    this.byAttempt.set(attemptKeyString(key), held);
    if (pickup === 'cancel') {
      this.report(held, {
        type: 'finished',
        outcome: {
          outcome: 'failed',
          exitReason: 'cancelled',
          error: { message: 'attempt cancelled before it started', name: 'AttemptAbort' },
        },
      });
      this.release(held);
    } else {
      await held.tail.remove();
      this.pool.submit({
        ...data.request,
        fileloc: this.localFileloc(data),
        logPath: held.tail.file,
      });
    }
    await finished;
  }

  private localFileloc(data: DispatchJob): string {
    const dir = this.options.pipelinesDir;
    if (dir === undefined || data.relativeFileloc === null) return data.request.fileloc;
    return path.resolve(dir, data.relativeFileloc);
  }

  private onPoolEvent(event: ExecutorEvent): void {
    const held = this.byAttempt.get(attemptKeyString(event.key));
    if (held === undefined) return;
    switch (event.type) {
      case 'started':
        held.started = true;
        this.report(held, { type: 'started', pid: event.pid, hostname: event.hostname });
        return;
      case 'heartbeat':
        this.report(held, { type: 'heartbeat' });
        return;
      case 'finished': {
        const { type: _type, key: _key, at: _at, ...outcome } = event;
        const reported = this.asReported(outcome);
        this.inOrder(held, async () => {
          // The last lines ride with `finished` when they fit in one report.
          const pieces = await held.tail.read(true);
          const last = pieces.pop();
          for (const text of pieces) await this.send(held, { type: 'log', text });
          await this.send(held, {
            type: 'finished',
            outcome: reported,
            ...(last === undefined ? {} : { log: last }),
          });
        });
        this.release(held);
        return;
      }
    }
  }

  /** An attempt stopped because this worker is shutting down counts as lost, not cancelled. */
  private asReported(outcome: AttemptOutcome): AttemptOutcome {
    if (!this.stopping || outcome.exitReason !== 'cancelled') return outcome;
    return {
      outcome: 'failed',
      exitReason: 'worker_lost',
      error: {
        message: `worker ${this.workerId} stopped before the attempt finished`,
        name: 'WorkerLost',
      },
    };
  }

  /** Forgets a dispatch once its last report is out, then ends its BullMQ job. */
  private release(held: Held): void {
    this.inOrder(held, async () => {
      this.byDispatch.delete(held.job.dispatch);
      const id = attemptKeyString(held.key);
      if (this.byAttempt.get(id) === held) this.byAttempt.delete(id);
      await held.tail.remove().catch(() => {});
      held.done();
    });
  }

  /**
   * Runs `step` after the dispatch's earlier steps. A step that fails is logged and the
   * next ones still run, so the dispatch is always released.
   */
  private inOrder(held: Held, step: () => Promise<void>): void {
    held.chain = held.chain
      .then(step)
      .catch((error: unknown) =>
        this.logger.error({ err: error, attempt: attemptKeyString(held.key) }, 'reporting failed'),
      );
  }

  private onCancel(dispatch: string): void {
    const held = this.byDispatch.get(dispatch);
    if (held !== undefined) this.pool.cancel(held.key);
  }

  /** Keeps the lease of claimed attempts that wait for a pool process. */
  private heartbeat(): void {
    this.register().catch((error: unknown) =>
      this.logger.warn({ err: error }, 'could not renew the worker registration'),
    );
    for (const held of this.byDispatch.values()) {
      if (!held.started) this.report(held, { type: 'heartbeat' });
    }
  }

  private shipLogs(): void {
    for (const held of this.byDispatch.values()) if (held.started) this.shipLog(held);
  }

  private shipLog(held: Held): void {
    this.inOrder(held, async () => {
      for (const text of await held.tail.read()) await this.send(held, { type: 'log', text });
    });
  }

  private report(held: Held, report: Report): void {
    this.inOrder(held, () => this.send(held, report));
  }

  private async send(held: Held, report: Report): Promise<void> {
    if (held.refused) return;
    const data = held.job;
    let answer: FenceResult;
    try {
      answer = await this.fence(this.redis!.updraftReport, data, report);
    } catch (error) {
      this.logger.warn({ err: error, attempt: attemptKeyString(held.key) }, 'could not report');
      return;
    }
    if (answer === 'revoke' || answer === 'claimed') {
      held.refused = true;
      this.logger.warn(
        { attempt: attemptKeyString(held.key), answer },
        'the executor gave this attempt up (lease expired or re-dispatched): stopping it',
      );
      this.pool.cancel(held.key);
    } else if (answer === 'cancel' && report.type !== 'finished') {
      this.pool.cancel(held.key);
    }
  }

  /** Runs a fencing script on `data`'s dispatch with `report` as this worker's. */
  private fence(script: FenceScript, data: DispatchJob, report: Report): Promise<FenceResult> {
    return script.call(
      this.redis,
      this.keys.stop(data.dispatch),
      this.keys.claim(data.dispatch),
      this.keys.reports(data.owner),
      this.workerId,
      this.markTtl,
      this.maxReports,
      this.envelope(data, report),
    );
  }

  private envelope(data: DispatchJob, report: Report): string {
    const envelope: ReportEnvelope = {
      ...report,
      jobId: jobIdOf(data.request.key),
      dispatch: data.dispatch,
      token: data.token,
      worker: this.workerId,
      at: Date.now(),
    };
    return JSON.stringify(envelope);
  }

  private async register(): Promise<void> {
    if (this.options.aliveFile !== undefined) {
      await writeFile(this.options.aliveFile, `${new Date().toISOString()}\n`);
    }
    const registration = {
      host: this.hostname,
      pid: process.pid,
      queues: this.queueConcurrency,
      concurrency: this.slots,
    };
    await this.redis!.multi()
      .set(
        this.keys.worker(this.workerId),
        JSON.stringify(registration),
        'PX',
        this.heartbeatIntervalMs * 3,
      )
      .zadd(this.keys.workers, 0, this.workerId)
      .exec();
  }
}
