/**
 * Time is injected so tests move a clock instead of sleeping. Production code takes a
 * `Clock` and never calls `Date.now()` or `setTimeout` directly for scheduling decisions.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once `delayMs` from now on this clock; returns a cancel function. */
  setTimer(delayMs: number, fn: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(delayMs, fn) {
    // setTimeout overflows above 2^31-1 ms; re-arm in steps for far-away timers.
    const max = 2_147_483_647;
    let handle: NodeJS.Timeout;
    const target = Date.now() + delayMs;
    const arm = () => {
      const left = target - Date.now();
      handle = setTimeout(left > max ? arm : fn, Math.max(0, Math.min(left, max)));
      handle.unref?.();
    };
    arm();
    return () => clearTimeout(handle);
  },
};

/**
 * A clock that only moves when told. `advance(ms)` fires due timers in time order.
 * For tests.
 */
export class ManualClock implements Clock {
  private current: number;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 0;

  constructor(start: number | Date | string) {
    this.current = typeof start === 'number' ? start : new Date(start).getTime();
  }

  now(): number {
    return this.current;
  }

  setTimer(delayMs: number, fn: () => void): () => void {
    const id = this.nextId++;
    this.timers.push({ at: this.current + Math.max(0, delayMs), fn, id });
    return () => {
      this.timers = this.timers.filter((t) => t.id !== id);
    };
  }

  /** Moves time forward, firing every timer that falls due, earliest first. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.timers[0];
      if (!next || next.at > target) break;
      this.timers.shift();
      this.current = Math.max(this.current, next.at);
      next.fn();
    }
    this.current = target;
  }

  /** Moves to an absolute time (never backwards). */
  set(to: number | Date | string): void {
    const t = typeof to === 'number' ? to : new Date(to).getTime();
    this.advance(Math.max(0, t - this.current));
  }
}
