import type { DagSpec } from '../../src/core/dag-spec.ts';
import { createTimetable, type PlannedRun, type Timetable } from '../../src/schedule/timetable.ts';

type ScheduleSpec = Pick<DagSpec, 'schedule' | 'timezone' | 'startDate' | 'endDate'>;

/** A timetable for a schedule that must exist (UTC and no bounds unless given). */
export function timetable(schedule: string, options: Partial<ScheduleSpec> = {}): Timetable {
  const table = createTimetable({
    schedule,
    timezone: 'UTC',
    startDate: null,
    endDate: null,
    ...options,
  });
  if (table === null) throw new Error('expected a timetable');
  return table;
}

/** `[start, end)` of each run as ISO strings; asserts runAfter and logicalDate agree. */
export function intervals(runs: PlannedRun[]): [string, string][] {
  return runs.map((run) => {
    if (run.logicalDate.getTime() !== run.dataIntervalStart.getTime()) {
      throw new Error('logicalDate differs from dataIntervalStart');
    }
    if (run.runAfter.getTime() !== run.dataIntervalEnd.getTime()) {
      throw new Error('runAfter differs from dataIntervalEnd');
    }
    return [run.dataIntervalStart.toISOString(), run.dataIntervalEnd.toISOString()];
  });
}

/** Logical dates as ISO strings. */
export function starts(runs: PlannedRun[]): string[] {
  return runs.map((run) => run.logicalDate.toISOString());
}

/** `YYYY-MM-DD HH:mm` of an instant in a time zone. */
export function localTime(date: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('sv-SE', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(date);
}

export const d = (iso: string): Date => new Date(iso);
