/**
 * How an executor hands its events to the scheduler, as the `Executor` contract says:
 * to a single listener, asynchronously (in a microtask, never inside `submit` or
 * `cancel`), in order; events raised before the listener registers are kept for it.
 */
import type { Logger } from 'pino';
import type { ExecutorEvent, ExecutorListener } from './executor.ts';

export class EventDelivery {
  private listener: ExecutorListener | undefined;
  private undelivered: ExecutorEvent[] = [];

  /** `owner` names the executor in errors; a listener that throws is logged on `logger`. */
  constructor(
    private readonly owner: string,
    private readonly logger: Logger,
  ) {}

  /** Registers the one listener and hands it the events kept so far. */
  listen(listener: ExecutorListener): void {
    if (this.listener !== undefined) {
      throw new Error(
        `${this.owner}.onEvent: a listener is already registered (one consumer only)`,
      );
    }
    this.listener = listener;
    const events = this.undelivered;
    this.undelivered = [];
    for (const event of events) this.emit(event);
  }

  /** Delivers `event` in a microtask, or keeps it until a listener registers. */
  emit(event: ExecutorEvent): void {
    const listener = this.listener;
    if (listener === undefined) {
      this.undelivered.push(event);
      return;
    }
    queueMicrotask(() => {
      try {
        listener(event);
      } catch (error) {
        this.logger.error({ err: error, event: event.type }, 'executor event listener threw');
      }
    });
  }

  /** Drops every event from now on (an executor that handed its attempts over). */
  mute(): void {
    this.listener = () => {};
    this.undelivered = [];
  }
}
