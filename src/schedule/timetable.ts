/**
 * Timetables: what runs a DAG's schedule asks for, and when. The scheduler creates
 * runs from `dueRuns`, arms its timer with `nextRunAfter`, the UI shows `nextRuns`, and
 * backfills use `between`. Semantics and DST behaviour:
 * docs/adr/0003-schedules-and-data-intervals.md.
 */
import type { DagSpec } from '../core/dag-spec.ts';
import { compileCron, ONCE_PRESET, validateTimeZone } from './cron-ticks.ts';
import { CronTimetable } from './cron-timetable.ts';
import { OnceTimetable } from './once-timetable.ts';
import { instantArg, type PlannedRun, plannedRun, type Timetable } from './planned-run.ts';

export { CRON_PRESETS, ONCE_PRESET, validateSchedule } from './cron-ticks.ts';
export type { PlannedRun, Timetable } from './planned-run.ts';

/**
 * The timetable of a DAG, or null when it has no schedule (manual runs only).
 * Throws a `RangeError` on an invalid cron expression, time zone, start or end date.
 */
export function createTimetable(
  spec: Pick<DagSpec, 'schedule' | 'timezone' | 'startDate' | 'endDate'>,
): Timetable | null {
  if (spec.schedule === null) return null;
  validateTimeZone(spec.timezone);
  const startMs = specDate(spec.startDate, 'startDate');
  const endMs = specDate(spec.endDate, 'endDate');
  if (spec.schedule.trim() === ONCE_PRESET) return new OnceTimetable(startMs, endMs);
  return new CronTimetable(compileCron(spec.schedule, spec.timezone), startMs, endMs);
}

/** Interval of a manual run triggered at `at` (Airflow 3 style: [at, at], logicalDate = at). */
export function manualRunInterval(at: Date): PlannedRun {
  const ms = instantArg(at, 'at');
  return plannedRun(ms, ms);
}

function specDate(value: string | null, field: string): number | null {
  if (value === null) return null;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) {
    throw new RangeError(`invalid ${field} '${value}': expected an ISO 8601 date-time in UTC`);
  }
  return ms;
}
