/**
 * Sends alerts off the scheduler loop: `dispatch` only records the alert and returns;
 * delivery runs in the background.
 *
 * - Retries: a retryable failure (network, timeout, HTTP 429/5xx, SMTP 4xx) is tried again
 *   after `retryBaseMs · 2^(n−1)` (capped at `retryMaxMs`), up to `maxTries` tries in all;
 *   a failure that cannot improve (unknown connection, HTTP 4xx, SMTP 5xx) is logged at once.
 * - Grouping: the first alert of a kind (same target, kind, DAG, task and first error
 *   line, see `alertGroupKey`) is sent at once and opens a window of `groupWindowMs`.
 *   Identical alerts within the window are counted, not sent; when the window closes, one
 *   alert carrying the latest of them and the count (`repeats`) goes out and opens the
 *   next window. A DAG failing every minute the same way thus sends one message per
 *   window, not sixty.
 *
 * Timers run on the injected clock, so tests move time instead of sleeping.
 */
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.ts';
import { type Alert, alertGroupKey } from './alert.ts';
import { type Notifier, type NotifierType, NotifyError } from './notifier.ts';

export interface DispatcherOptions {
  /** Finds the notifier of a target name. */
  notifiers: { get(name: string): Promise<Notifier> };
  clock: Clock;
  log: Logger;
  /** Window in which identical alerts to one target are grouped (default 10 minutes). */
  groupWindowMs?: number;
  /** Tries per delivery, the first included (default 6). */
  maxTries?: number;
  /** Delay before the first retry (default 2 s); doubles each time. */
  retryBaseMs?: number;
  /** Longest delay between tries (default 5 minutes). */
  retryMaxMs?: number;
  /** Hears every outcome (metrics). */
  onOutcome?: (outcome: DeliveryOutcome) => void;
}

/** What became of one alert for one target. */
export interface DeliveryOutcome {
  target: string;
  /** Null when the notifier could not be found. */
  notifierType: NotifierType | null;
  alert: Alert;
  outcome: 'sent' | 'failed' | 'grouped';
  tries: number;
  error?: string;
}

interface Group {
  repeats: number;
  latest: Alert;
  cancel: () => void;
}

export class AlertDispatcher {
  private readonly groups = new Map<string, Group>();
  private readonly retryTimers = new Set<() => void>();
  private readonly inFlight = new Set<Promise<void>>();
  private idleWaiters: (() => void)[] = [];
  private pendingRetries = 0;
  private stopped = false;
  private readonly groupWindowMs: number;
  private readonly maxTries: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;

  constructor(private readonly options: DispatcherOptions) {
    this.groupWindowMs = options.groupWindowMs ?? 10 * 60_000;
    this.maxTries = options.maxTries ?? 6;
    this.retryBaseMs = options.retryBaseMs ?? 2000;
    this.retryMaxMs = options.retryMaxMs ?? 5 * 60_000;
  }

  /** Queues `alert` for each target (duplicates ignored). Never throws, never waits. */
  dispatch(alert: Alert, targets: readonly string[]): void {
    if (this.stopped) return;
    for (const target of new Set(targets)) {
      const key = `${target}\u0000${alertGroupKey(alert)}`;
      const group = this.groups.get(key);
      if (group) {
        group.repeats++;
        group.latest = alert;
        this.options.onOutcome?.({
          target,
          notifierType: null,
          alert,
          outcome: 'grouped',
          tries: 0,
        });
        continue;
      }
      this.openWindow(key, target, alert);
      this.deliver(target, alert, 1);
    }
  }

  /** Resolves once nothing is being sent or waiting for a retry (open windows aside). */
  whenIdle(): Promise<void> {
    if (this.inFlight.size === 0 && this.pendingRetries === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops: drops open windows and waiting retries, waits for sends in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const g of this.groups.values()) g.cancel();
    this.groups.clear();
    for (const cancel of this.retryTimers) cancel();
    this.retryTimers.clear();
    this.pendingRetries = 0;
    await Promise.allSettled([...this.inFlight]);
    this.checkIdle();
  }

  private openWindow(key: string, target: string, alert: Alert): void {
    const cancel = this.options.clock.setTimer(this.groupWindowMs, () => {
      const group = this.groups.get(key);
      this.groups.delete(key);
      if (!group || group.repeats === 0 || this.stopped) return;
      const summary: Alert = { ...group.latest, repeats: group.repeats };
      this.openWindow(key, target, summary);
      this.deliver(target, summary, 1);
    });
    this.groups.set(key, { repeats: 0, latest: alert, cancel });
  }

  private deliver(target: string, alert: Alert, tryNumber: number): void {
    const sending = this.sendOnce(target, alert, tryNumber).finally(() => {
      this.inFlight.delete(sending);
      this.checkIdle();
    });
    this.inFlight.add(sending);
  }

  private async sendOnce(target: string, alert: Alert, tryNumber: number): Promise<void> {
    let notifier: Notifier | null = null;
    try {
      notifier = await this.options.notifiers.get(target);
      await notifier.send(alert);
      this.options.onOutcome?.({
        target,
        notifierType: notifier.type,
        alert,
        outcome: 'sent',
        tries: tryNumber,
      });
    } catch (error) {
      const message = (error as Error).message;
      const retryable = error instanceof NotifyError && error.retryable;
      const fields = { target, kind: alert.kind, dagId: alert.dagId, runId: alert.runId };
      if (retryable && tryNumber < this.maxTries && !this.stopped) {
        const delay = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** (tryNumber - 1));
        this.options.log.warn(
          { ...fields, err: message, try: tryNumber, retryInMs: delay },
          'alert not delivered; retrying',
        );
        this.pendingRetries++;
        const cancel = this.options.clock.setTimer(delay, () => {
          this.retryTimers.delete(cancel);
          this.pendingRetries--;
          this.deliver(target, alert, tryNumber + 1);
        });
        this.retryTimers.add(cancel);
        return;
      }
      this.options.log.error(
        { ...fields, err: message, tries: tryNumber },
        'alert could not be delivered',
      );
      this.options.onOutcome?.({
        target,
        notifierType: notifier?.type ?? null,
        alert,
        outcome: 'failed',
        tries: tryNumber,
        error: message,
      });
    }
  }

  private checkIdle(): void {
    if (this.inFlight.size > 0 || this.pendingRetries > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
