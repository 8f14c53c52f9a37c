import { describe, expect, it } from 'vitest';
import { LoginThrottle, MAX_FAILURES, WINDOW_MS } from '../../src/server/login-throttle.ts';

describe('LoginThrottle', () => {
  it('refuses a name from an address after too many failures, until the window ends', () => {
    let now = 1_000_000;
    const throttle = new LoginThrottle(() => now);
    for (let i = 0; i < MAX_FAILURES - 1; i++) throttle.failed('ada', '10.0.0.1');
    expect(throttle.retryAfterMs('ada', '10.0.0.1')).toBe(0);
    throttle.failed('ada', '10.0.0.1');
    expect(throttle.retryAfterMs('ada', '10.0.0.1')).toBe(WINDOW_MS);
    // Another address or another name is not affected.
    expect(throttle.retryAfterMs('ada', '10.0.0.2')).toBe(0);
    expect(throttle.retryAfterMs('bob', '10.0.0.1')).toBe(0);
    now += WINDOW_MS - 1;
    expect(throttle.retryAfterMs('ada', '10.0.0.1')).toBe(1);
    now += 1;
    expect(throttle.retryAfterMs('ada', '10.0.0.1')).toBe(0);
  });

  it('forgets the failures of a name after a successful login', () => {
    const throttle = new LoginThrottle(() => 0);
    for (let i = 0; i < MAX_FAILURES; i++) throttle.failed('ada', 'a');
    throttle.succeeded('ada', 'a');
    expect(throttle.retryAfterMs('ada', 'a')).toBe(0);
  });
});
