/**
 * Cron expressions read in an IANA time zone, as a sequence of instants ("ticks") that
 * can be walked forwards and backwards. Parsing and calendar arithmetic are croner's;
 * this module adds Airflow's presets, strict 5/6-field input, errors that name the bad
 * field, and one DST policy (see docs/adr/0003-schedules-and-data-intervals.md):
 *
 * - Fixed-time schedules (no `*` and no step in the second, minute and hour fields, e.g.
 *   `30 2 * * *` or `0 6,18 * * *`) fire once per local day at each of their times: a time
 *   that falls in a spring-forward gap fires at the first valid instant after the gap
 *   (02:30 → 03:00), a time that occurs twice fires at its first occurrence.
 * - Interval schedules (a `*` or a step in those fields, e.g. `0 * * * *`) follow real
 *   time: wall-clock times in a gap do not exist and are skipped, a repeated hour fires
 *   twice, so every hourly interval is one real hour.
 */
import { Cron } from 'croner';

/** Airflow's cron presets. `@once` is not a cron expression and is handled by the timetable. */
export const CRON_PRESETS: Readonly<Record<string, string>> = {
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@weekly': '0 0 * * 0',
  '@monthly': '0 0 1 * *',
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
};

/** The preset for a single run at the start date. */
export const ONCE_PRESET = '@once';

const FIELDS_5 = ['minute', 'hour', 'day-of-month', 'month', 'day-of-week'] as const;
const FIELDS_6 = ['second', ...FIELDS_5] as const;

const ALLOWED: Record<(typeof FIELDS_6)[number], string> = {
  second: '0-59',
  minute: '0-59',
  hour: '0-23',
  'day-of-month': '1-31, L (last day), nW (nearest weekday)',
  month: '1-12 or JAN-DEC',
  'day-of-week': '0-7 or SUN-SAT (0 and 7 are Sunday), nL (last), n#k (k-th)',
};

/** Time zones found valid (checking one builds an `Intl.DateTimeFormat`, which is slow). */
const knownTimeZones = new Set<string>();

/** Throws a `RangeError` unless `timezone` is an IANA time zone this runtime knows. */
export function validateTimeZone(timezone: string): void {
  if (knownTimeZones.has(timezone)) return;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch (cause) {
    throw new RangeError(
      `unknown time zone '${timezone}': use an IANA name such as 'UTC', 'Europe/Berlin' or 'America/New_York'`,
      { cause },
    );
  }
  knownTimeZones.add(timezone);
}

/** Schedules (with their time zone) found valid, so loading many DAGs compiles each once. */
const validSchedules = new Set<string>();

/**
 * Checks a schedule (cron expression or preset, including `@once`) and its time zone.
 * Throws a `RangeError` naming the bad part, e.g. `invalid cron '61 * * * *': minute
 * field '61' is not valid (allowed: 0-59, with * , - /)` or `unknown time zone 'Europe/Berln': ...`.
 */
export function validateSchedule(schedule: string, timezone: string): void {
  const key = `${timezone}\0${schedule}`;
  if (validSchedules.has(key)) return;
  validateTimeZone(timezone);
  if (schedule.trim() !== ONCE_PRESET) compileCron(schedule, timezone);
  if (validSchedules.size < 10_000) validSchedules.add(key);
}

/**
 * Compiles a cron expression or cron preset (not `@once`) read in `timezone`.
 * Throws a `RangeError` naming the bad field, or saying the expression never fires.
 */
export function compileCron(schedule: string, timezone: string): CronTicks {
  validateTimeZone(timezone);
  const expression = expandPreset(schedule);
  const fields = expression.split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) {
    throw new RangeError(
      `invalid cron '${schedule}': expected 5 fields (minute hour day-of-month month day-of-week) ` +
        `or 6 with seconds first, got ${fields.length}`,
    );
  }
  let cron: Cron;
  try {
    cron = new Cron(expression, cronOptions(timezone));
  } catch (cause) {
    throw new RangeError(`invalid cron '${schedule}': ${describeBadField(fields)}`, { cause });
  }
  if (cron.nextRun(new Date(0)) === null) {
    throw new RangeError(
      `invalid cron '${schedule}': it never fires (no date matches every field, e.g. 30 February)`,
    );
  }
  return new CronTicks(cron);
}

/**
 * The ticks of a compiled cron expression, as epoch milliseconds. Every method returns
 * null when there is no such tick.
 */
export class CronTicks {
  constructor(private readonly cron: Cron) {}

  /** The first tick strictly after `ms`. */
  after(ms: number): number | null {
    return this.cron.nextRun(new Date(ms))?.getTime() ?? null;
  }

  /** The first tick at or after `ms`. */
  atOrAfter(ms: number): number | null {
    return this.after(ms - 1);
  }

  /** The last tick strictly before `ms`. */
  before(ms: number): number | null {
    return this.cron.previousRuns(1, new Date(ms))[0]?.getTime() ?? null;
  }

  /** The last tick at or before `ms`. */
  atOrBefore(ms: number): number | null {
    return this.before(ms + 1);
  }
}

function expandPreset(schedule: string): string {
  const text = schedule.trim();
  if (!text.startsWith('@')) return text;
  const cron = CRON_PRESETS[text];
  if (cron === undefined) {
    const known = [ONCE_PRESET, ...Object.keys(CRON_PRESETS)].join(', ');
    throw new RangeError(
      `unknown schedule preset '${text}': use one of ${known}, or a cron expression`,
    );
  }
  return cron;
}

function cronOptions(timezone: string) {
  return { timezone, mode: '5-or-6-parts', fixedTimeRule: 'no-wildcard' } as const;
}

/** Finds the first field that fails on its own (all other fields `*`) and describes it. */
function describeBadField(fields: string[]): string {
  const names = fields.length === 6 ? FIELDS_6 : FIELDS_5;
  for (const [index, name] of names.entries()) {
    const probe = fields.map((field, i) => (i === index ? field : '*')).join(' ');
    try {
      new Cron(probe, cronOptions('UTC'));
    } catch {
      return `${name} field '${fields[index]}' is not valid (allowed: ${ALLOWED[name]}, with * , - /)`;
    }
  }
  return 'the fields do not combine into a valid expression';
}
