/**
 * Durations in authoring APIs: a number of milliseconds, or a string such as
 * `'30s'`, `'5 minutes'`, `'1h30m'`, `'2 days'`, `'500ms'`.
 */
export type Duration = number | string;

const UNIT_MS: Record<string, number> = {
  ms: 1,
  millisecond: 1,
  milliseconds: 1,
  s: 1000,
  sec: 1000,
  secs: 1000,
  second: 1000,
  seconds: 1000,
  m: 60_000,
  min: 60_000,
  mins: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
  w: 604_800_000,
  week: 604_800_000,
  weeks: 604_800_000,
};

/** Parses a duration to milliseconds; throws a `RangeError` naming the bad text. */
export function parseDuration(value: Duration): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(`invalid duration ${value}: expected a non-negative number of ms`);
    }
    return value;
  }
  const text = value.trim().toLowerCase();
  const part = /(\d+(?:\.\d+)?)\s*([a-z]+)/gy;
  let total = 0;
  let matched = 0;
  for (let m = part.exec(text); m !== null; m = part.exec(text)) {
    const unit = UNIT_MS[m[2] ?? ''];
    if (unit === undefined) break;
    total += Number(m[1]) * unit;
    matched = part.lastIndex;
    while (text[matched] === ' ') matched++;
    part.lastIndex = matched;
  }
  if (matched === 0 || matched !== text.length) {
    throw new RangeError(
      `invalid duration '${value}': use a number of ms or text like '30s', '5 minutes', '1h30m'`,
    );
  }
  return Math.round(total);
}

/**
 * The start of a period: a duration back from `now` (`7d`, `24h`, `30 days`) or an ISO
 * date (`2026-01-31`, `2026-01-31T02:00:00Z`). Throws a `RangeError` naming the text.
 */
export function parseSince(text: string, now: number): Date {
  const trimmed = text.trim();
  if (/^\d{4}-\d{2}-\d{2}/.test(trimmed)) {
    const date = new Date(trimmed);
    if (!Number.isNaN(date.getTime())) return date;
  } else {
    try {
      return new Date(now - parseDuration(trimmed));
    } catch {
      // the message below says what is accepted
    }
  }
  throw new RangeError(
    `expected a duration such as 7d, 12h or 30 days, or an ISO date; got '${text}'`,
  );
}
