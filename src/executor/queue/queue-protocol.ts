/**
 * What `QueueExecutor` (scheduler side) and `QueueWorker` (`updraft worker`) exchange
 * through Redis, and the names of the keys they use. Terminology:
 *
 * - **attempt**: one try of a task instance (`AttemptKey`), as the scheduler sees it.
 * - **job**: the BullMQ job that carries an attempt to a worker, in the BullMQ queue
 *   named by the task's `queue` (`default`, `gpu`, ...). Its id is derived from the
 *   attempt key, so one attempt has at most one job at a time.
 * - **dispatch**: one hand-over of an attempt to the queue. A random id; a re-submitted
 *   attempt (Redis lost its data, the job vanished) gets a new one, and reports of an
 *   older dispatch are rejected.
 * - **token**: HMAC-SHA256 over the attempt key and the dispatch id with the executor's
 *   secret. Put into the job by the executor, echoed by the worker in every report, and
 *   checked by the executor: a report that does not carry the token of the attempt's
 *   current dispatch is rejected. Workers never know the secret.
 * - **claim**: the worker that took a dispatch (`<prefix>:claim:<dispatch>`). Set once by
 *   the pickup script, so a dispatch runs on one worker only.
 * - **stop mark**: `<prefix>:stop:<dispatch>`, set by the executor. `cancel`: the worker
 *   stops the attempt and reports how it ended. `revoke`: the executor has already
 *   finished the attempt (its lease expired, or it was re-dispatched); the worker drops
 *   it and Redis refuses its reports.
 * - **lease**: from the pickup on, the executor expects a report (heartbeat, log,
 *   started, finished) at least every `leaseMs`; when none comes, the attempt ends as
 *   `worker_lost` and its dispatch is revoked.
 *
 * Reports travel on a Redis stream per executor (`<prefix>:reports:<owner>`), in order;
 * cancels are published on `<prefix>:control` (and found by the worker's next heartbeat
 * through the stop mark if the message was missed).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { AttemptKey, AttemptOutcome, AttemptRequest } from '../executor.ts';
import { attemptKeyString } from '../executor.ts';

/** The data of a BullMQ job: one dispatch of an attempt. */
export interface DispatchJob {
  request: AttemptRequest;
  /** The pipeline file relative to the scheduler's pipelines folder, when inside it. */
  relativeFileloc: string | null;
  dispatch: string;
  token: string;
  /** Instance id of the executor that reads the reports. */
  owner: string;
}

/** The done mark of an attempt: how it ended, as the executor emitted it. */
export interface DoneMark {
  dispatch: string;
  token: string;
  outcome: AttemptOutcome;
}

/** What a worker reports about a dispatch. */
export type Report =
  | { type: 'accepted' }
  | { type: 'started'; pid: number; hostname: string }
  | { type: 'heartbeat' }
  /** Complete JSON lines of the attempt log, in order. */
  | { type: 'log'; text: string }
  /** `log`: the last lines of the attempt log, when they fit in one report. */
  | { type: 'finished'; outcome: AttemptOutcome; log?: string };

/** A report with the envelope that identifies and authenticates it. */
export type ReportEnvelope = Report & {
  jobId: string;
  dispatch: string;
  token: string;
  worker: string;
  /** Worker's clock, for logs only. */
  at: number;
};

/** Values of a stop mark. */
export const STOP_CANCEL = 'cancel';
export const STOP_REVOKE = 'revoke';

/** Queue names BullMQ accepts and Redis keys carry without escaping. */
export const QUEUE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** Redis key names under one prefix (one Updraft deployment per prefix). */
export class QueueKeys {
  constructor(readonly prefix: string) {}

  /** Prefix handed to BullMQ for its own keys. */
  get bullPrefix(): string {
    return `${this.prefix}:bull`;
  }

  /** The BullMQ hash of a job (exists while the job waits, runs or is retained). */
  job(queue: string, jobId: string): string {
    return `${this.bullPrefix}:${queue}:${jobId}`;
  }

  reports(owner: string): string {
    return `${this.prefix}:reports:${owner}`;
  }

  claim(dispatch: string): string {
    return `${this.prefix}:claim:${dispatch}`;
  }

  stop(dispatch: string): string {
    return `${this.prefix}:stop:${dispatch}`;
  }

  /** How an attempt ended, kept for `reconcile` (JSON: dispatch, token, outcome). */
  done(jobId: string): string {
    return `${this.prefix}:done:${jobId}`;
  }

  /** Pub/sub channel of cancels (message: the dispatch id). */
  get control(): string {
    return `${this.prefix}:control`;
  }

  /** A random value set when the executor first sees this Redis; gone after data loss. */
  get epoch(): string {
    return `${this.prefix}:epoch`;
  }

  /** A live worker's registration (JSON, expires unless renewed). */
  worker(id: string): string {
    return `${this.prefix}:worker:${id}`;
  }

  /** The ids of workers that registered (some may have expired since). */
  get workers(): string {
    return `${this.prefix}:workers`;
  }
}

/** The BullMQ job id of an attempt: stable, so a lookup needs only the attempt key. */
export function jobIdOf(key: AttemptKey): string {
  return `a${createHash('sha256').update(attemptKeyString(key)).digest('hex').slice(0, 40)}`;
}

/** The token of one dispatch of an attempt. */
export function signDispatch(secret: string, key: AttemptKey, dispatch: string): string {
  return createHmac('sha256', secret)
    .update(`${attemptKeyString(key)}\n${dispatch}`)
    .digest('base64url');
}

/** Whether `token` is the token of this dispatch of this attempt (constant time). */
export function verifyDispatch(
  secret: string,
  key: AttemptKey,
  dispatch: string,
  token: string,
): boolean {
  const expected = Buffer.from(signDispatch(secret, key, dispatch));
  const given = Buffer.from(token);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** Parses a stream entry's `r` field; null for anything that is not a report envelope. */
export function parseReport(text: string): ReportEnvelope | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const r = value as { [key: string]: unknown };
  const fieldsOk =
    typeof r.jobId === 'string' &&
    typeof r.dispatch === 'string' &&
    typeof r.token === 'string' &&
    typeof r.worker === 'string' &&
    typeof r.at === 'number';
  if (!fieldsOk) return null;
  switch (r.type) {
    case 'accepted':
    case 'heartbeat':
      return value as ReportEnvelope;
    case 'started':
      return typeof r.pid === 'number' && typeof r.hostname === 'string'
        ? (value as ReportEnvelope)
        : null;
    case 'log':
      return typeof r.text === 'string' ? (value as ReportEnvelope) : null;
    case 'finished':
      return typeof r.outcome === 'object' &&
        r.outcome !== null &&
        (r.log === undefined || typeof r.log === 'string')
        ? (value as ReportEnvelope)
        : null;
    default:
      return null;
  }
}
