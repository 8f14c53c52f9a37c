/**
 * The run a schedule asks for, and the timetable interface the scheduler plans with.
 * Re-exported by `timetable.ts`, which also creates timetables.
 *
 * Data intervals follow Airflow: a cron schedule's ticks t0 < t1 < ... define the
 * intervals [t_i, t_{i+1}); the run for one has `logicalDate = dataIntervalStart = t_i`
 * and starts once the interval is over, at `runAfter = dataIntervalEnd = t_{i+1}`.
 */

/** One run of a DAG a schedule asks for. All dates are instants (UTC inside `Date`). */
export interface PlannedRun {
  /** The run's logical date: the start of its data interval. */
  logicalDate: Date;
  dataIntervalStart: Date;
  /** Exclusive end of the data interval (equal to the start for `@once` and manual runs). */
  dataIntervalEnd: Date;
  /** The run may start at this instant, not before. */
  runAfter: Date;
}

/**
 * A schedule with its start and end dates, answering the scheduler's questions.
 * Pure: no clock, no I/O; "now" is always an argument.
 */
export interface Timetable {
  /** The next `count` runs whose runAfter is strictly after `after`, respecting start/end dates. */
  nextRuns(after: Date, count: number): PlannedRun[];
  /**
   * Runs the scheduler must create at `now`, given the dataIntervalEnd of the latest
   * scheduled run already created (null if none). catchup=true: every complete interval
   * (runAfter <= now) from `lastIntervalEnd` (or from startDate); catchup=false: only the
   * latest complete interval, and only if it starts at or after `lastIntervalEnd`.
   * Oldest first, at most `limit` (call again after creating them to get the rest).
   * Without a startDate, catchup has nothing to start from and acts as catchup=false.
   */
  dueRuns(lastIntervalEnd: Date | null, now: Date, catchup: boolean, limit: number): PlannedRun[];
  /**
   * The earliest runAfter strictly after `now` of an interval not yet created (for the
   * scheduler's timer), or null when the schedule has ended. Complete intervals that are
   * still missing are `dueRuns`' business, not this timer's.
   */
  nextRunAfter(now: Date, lastIntervalEnd: Date | null): Date | null;
  /**
   * Backfill: runs whose logicalDate is within [from, to] (inclusive), respecting
   * start/end dates, oldest first, at most `limit`. Does not look at the clock: a range
   * reaching into the future yields runs whose runAfter is still ahead.
   */
  between(from: Date, to: Date, limit: number): PlannedRun[];
}

/** A run for the interval [startMs, endMs). */
export function plannedRun(startMs: number, endMs: number): PlannedRun {
  return {
    logicalDate: new Date(startMs),
    dataIntervalStart: new Date(startMs),
    dataIntervalEnd: new Date(endMs),
    runAfter: new Date(endMs),
  };
}

/** Epoch ms of a `Date` argument; a `RangeError` naming the argument when it is invalid. */
export function instantArg(value: Date, name: string): number {
  const ms = value instanceof Date ? value.getTime() : Number.NaN;
  if (Number.isNaN(ms)) throw new RangeError(`${name} must be a valid Date, got ${String(value)}`);
  return ms;
}

/** Checks a count or limit argument: a non-negative integer. */
export function countArg(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  }
  return value;
}
