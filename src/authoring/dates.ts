/**
 * Start and end dates of a DAG as ISO instants in UTC. A date written without an offset
 * is a wall-clock time in the DAG's time zone, as in Airflow: `'2026-01-01'` in
 * `Europe/Berlin` is `2025-12-31T23:00:00.000Z`.
 */

const LOCAL_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?$/;
const HAS_OFFSET = /(?:Z|[+-]\d{2}:?\d{2})$/i;

/**
 * Converts a `Date`, an ISO string with an offset, or a local date (time) read in
 * `timezone` to an ISO instant in UTC. Throws a `RangeError` naming the text when it is
 * not a date. An unknown time zone reads local dates as UTC (the validator reports it).
 */
export function toUtcInstant(value: string | Date, timezone: string): string {
  if (typeof value !== 'string') return instantOf(value, timezone);
  // Loading many DAGs converts the same few dates again and again.
  const key = `${timezone}\0${value}`;
  let instant = instants.get(key);
  if (instant === undefined) {
    instant = instantOf(value, timezone);
    if (instants.size < 10_000) instants.set(key, instant);
  }
  return instant;
}

/** Instants already converted, by time zone and text. */
const instants = new Map<string, string>();

function instantOf(value: string | Date, timezone: string): string {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new RangeError('is an invalid Date');
    return value.toISOString();
  }
  if (typeof value !== 'string') {
    throw new RangeError(`must be a date string or a Date, got ${typeof value}`);
  }
  const text = value.trim();
  const local = LOCAL_DATE_TIME.exec(text);
  if (local !== null) {
    const [, year, month, day, hour, minute, second, fraction] = local;
    const wall = Date.UTC(
      Number(year),
      Number(month) - 1,
      Number(day),
      Number(hour ?? 0),
      Number(minute ?? 0),
      Number(second ?? 0),
      Number((fraction ?? '0').padEnd(3, '0')),
    );
    const check = new Date(wall);
    const valid =
      check.getUTCDate() === Number(day) &&
      check.getUTCMonth() === Number(month) - 1 &&
      check.getUTCHours() === Number(hour ?? 0) &&
      check.getUTCMinutes() === Number(minute ?? 0) &&
      check.getUTCSeconds() === Number(second ?? 0);
    if (!valid) {
      throw new RangeError(`'${value}' is not a valid calendar date and time`);
    }
    return new Date(wall - offsetAt(wall, timezone)).toISOString();
  }
  const ms = HAS_OFFSET.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new RangeError(
      `'${value}' is not a date: use 'YYYY-MM-DD', 'YYYY-MM-DDTHH:mm' (in the DAG's time zone) or an ISO instant with an offset`,
    );
  }
  return new Date(ms).toISOString();
}

/**
 * Offset (ms, local minus UTC) of `timezone` for the wall-clock time `wall` (given as if
 * it were UTC). Refined once so the offset is the one in force at the resulting instant.
 */
function offsetAt(wall: number, timezone: string): number {
  const format = dateTimeFormat(timezone);
  if (format === undefined) return 0;
  const offsetOf = (instant: number): number => {
    const parts: Record<string, number> = {};
    for (const part of format.formatToParts(new Date(instant)))
      parts[part.type] = Number(part.value);
    const asUtc = Date.UTC(
      parts.year ?? 0,
      (parts.month ?? 1) - 1,
      parts.day ?? 1,
      parts.hour ?? 0,
      parts.minute ?? 0,
      parts.second ?? 0,
    );
    return asUtc - (instant - (instant % 1000));
  };
  const first = offsetOf(wall);
  return offsetOf(wall - first);
}

/** Formats by time zone: building one is slow, and loading many DAGs needs few zones. */
const formats = new Map<string, Intl.DateTimeFormat | undefined>();

/** A formatter of wall-clock parts in `timezone`; undefined for an unknown zone. */
function dateTimeFormat(timezone: string): Intl.DateTimeFormat | undefined {
  if (formats.has(timezone)) return formats.get(timezone);
  let format: Intl.DateTimeFormat | undefined;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    format = undefined;
  }
  if (formats.size < 1000) formats.set(timezone, format);
  return format;
}
