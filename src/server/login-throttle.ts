/**
 * Slows password guessing: after `MAX_FAILURES` failed logins for one user name from
 * one address within `WINDOW_MS`, further tries are refused (429) until the window ends.
 * In memory, per process: enough for one standalone server.
 */
export const MAX_FAILURES = 10;
export const WINDOW_MS = 15 * 60 * 1000;
const MAX_KEYS = 10_000;

export class LoginThrottle {
  private readonly failures = new Map<string, { count: number; since: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Milliseconds until this key may try again, or 0. */
  retryAfterMs(username: string, ip: string): number {
    const entry = this.failures.get(`${ip}\n${username}`);
    if (!entry) return 0;
    const left = entry.since + WINDOW_MS - this.now();
    if (left <= 0) {
      this.failures.delete(`${ip}\n${username}`);
      return 0;
    }
    return entry.count >= MAX_FAILURES ? left : 0;
  }

  failed(username: string, ip: string): void {
    const key = `${ip}\n${username}`;
    const entry = this.failures.get(key);
    if (entry && entry.since + WINDOW_MS > this.now()) entry.count += 1;
    else this.failures.set(key, { count: 1, since: this.now() });
    if (this.failures.size > MAX_KEYS) {
      const oldest = this.failures.keys().next().value;
      if (oldest !== undefined) this.failures.delete(oldest);
    }
  }

  succeeded(username: string, ip: string): void {
    this.failures.delete(`${ip}\n${username}`);
  }
}
