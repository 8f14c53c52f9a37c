import { describe, expect, it } from 'vitest';
import type { PlannedRun } from '../../src/schedule/timetable.ts';
import { d, intervals, localTime, starts, timetable } from './helpers.ts';

const HOUR = 3_600_000;
const BERLIN = 'Europe/Berlin';
// 2026 in Europe/Berlin: clocks go 02:00 -> 03:00 on 29 March, 03:00 -> 02:00 on 25 October.

function localStarts(runs: PlannedRun[], tz: string): string[] {
  return runs.map((run) => localTime(run.logicalDate, tz));
}

function lengthMs(run: PlannedRun): number {
  return run.dataIntervalEnd.getTime() - run.dataIntervalStart.getTime();
}

/** Asserts each run starts where the previous one ended. */
function expectContiguous(runs: PlannedRun[]): void {
  for (let i = 1; i < runs.length; i++) {
    expect(runs[i]?.dataIntervalStart.getTime()).toBe(runs[i - 1]?.dataIntervalEnd.getTime());
  }
}

describe('daily schedules across DST: one run per local day, never zero, never two', () => {
  it('0 2 * * * in Berlin runs at 03:00 on the spring-forward day (02:00 does not exist)', () => {
    const table = timetable('0 2 * * *', { timezone: BERLIN });
    const runs = table.between(d('2026-03-27T00:00:00Z'), d('2026-03-30T23:00:00Z'), 10);
    expect(localStarts(runs, BERLIN)).toEqual([
      '2026-03-27 02:00',
      '2026-03-28 02:00',
      '2026-03-29 03:00',
      '2026-03-30 02:00',
    ]);
    expect(intervals(runs.slice(1, 3))).toEqual([
      ['2026-03-28T01:00:00.000Z', '2026-03-29T01:00:00.000Z'],
      ['2026-03-29T01:00:00.000Z', '2026-03-30T00:00:00.000Z'],
    ]);
  });

  it('30 2 * * * in Berlin: 03:00 on the spring-forward day, the first 02:30 on the fall-back day', () => {
    const table = timetable('30 2 * * *', { timezone: BERLIN });
    const spring = table.between(d('2026-03-28T00:00:00Z'), d('2026-03-30T23:00:00Z'), 10);
    expect(localStarts(spring, BERLIN)).toEqual([
      '2026-03-28 02:30',
      '2026-03-29 03:00',
      '2026-03-30 02:30',
    ]);
    const fall = table.between(d('2026-10-24T00:00:00Z'), d('2026-10-26T23:00:00Z'), 10);
    expect(starts(fall)).toEqual([
      '2026-10-24T00:30:00.000Z',
      '2026-10-25T00:30:00.000Z', // 02:30 CEST, the first of the two 02:30s
      '2026-10-26T01:30:00.000Z',
    ]);
    expect(fall.map(lengthMs)).toEqual([24 * HOUR, 25 * HOUR, 24 * HOUR]);
  });

  it('30 1 * * * in New York runs once on the fall-back day (01:30 exists twice)', () => {
    const tz = 'America/New_York'; // 2026-11-01: 02:00 EDT -> 01:00 EST
    const runs = timetable('30 1 * * *', { timezone: tz }).between(
      d('2026-10-31T00:00:00Z'),
      d('2026-11-02T23:00:00Z'),
      10,
    );
    expect(starts(runs)).toEqual([
      '2026-10-31T05:30:00.000Z',
      '2026-11-01T05:30:00.000Z',
      '2026-11-02T06:30:00.000Z',
    ]);
  });

  it('a fixed-time list (0 2,14 * * *) keeps both times on transition days', () => {
    const table = timetable('0 2,14 * * *', { timezone: BERLIN });
    const spring = table.between(d('2026-03-29T00:00:00Z'), d('2026-03-29T22:00:00Z'), 10);
    expect(localStarts(spring, BERLIN)).toEqual(['2026-03-29 03:00', '2026-03-29 14:00']);
    const fall = table.between(d('2026-10-24T22:00:00Z'), d('2026-10-25T22:00:00Z'), 10);
    expect(localStarts(fall, BERLIN)).toEqual(['2026-10-25 02:00', '2026-10-25 14:00']);
  });

  it('a fixed-time range (0 1-3 * * *): a gap time merges into the next, a repeated one runs once', () => {
    const table = timetable('0 1-3 * * *', { timezone: BERLIN });
    const spring = table.between(d('2026-03-28T23:00:00Z'), d('2026-03-29T21:00:00Z'), 10);
    expect(localStarts(spring, BERLIN)).toEqual(['2026-03-29 01:00', '2026-03-29 03:00']);
    const fall = table.between(d('2026-10-24T22:00:00Z'), d('2026-10-25T21:00:00Z'), 10);
    expect(starts(fall)).toEqual([
      '2026-10-24T23:00:00.000Z',
      '2026-10-25T00:00:00.000Z',
      '2026-10-25T02:00:00.000Z',
    ]);
  });

  it('midnight that does not exist (São Paulo, 4 Nov 2018) runs at 01:00 that day', () => {
    const tz = 'America/Sao_Paulo';
    const runs = timetable('@daily', { timezone: tz }).between(
      d('2018-11-03T00:00:00Z'),
      d('2018-11-05T12:00:00Z'),
      10,
    );
    expect(localStarts(runs, tz)).toEqual([
      '2018-11-03 00:00',
      '2018-11-04 01:00',
      '2018-11-05 00:00',
    ]);
  });

  it.each([
    ['Europe/Berlin', '30 2 * * *'],
    ['Europe/Berlin', '0 2 * * *'],
    ['Europe/Berlin', '0 3 * * *'],
    ['Europe/Berlin', '30 1 * * *'],
    ['America/New_York', '30 1 * * *'],
    ['America/New_York', '0 2 * * *'],
    ['Australia/Sydney', '30 2 * * *'],
    ['Australia/Lord_Howe', '45 1 * * *'],
    ['Asia/Kolkata', '@daily'],
  ])('%s %s: every local day of 2026 has exactly one run', (tz, schedule) => {
    const table = timetable(schedule, { timezone: tz, startDate: '2025-12-31T00:00:00Z' });
    const runs = table.between(d('2025-12-30T00:00:00Z'), d('2027-01-02T00:00:00Z'), 1000);
    const days = localStarts(runs, tz)
      .map((local) => local.slice(0, 10))
      .filter((day) => day.startsWith('2026'));
    expect(days).toHaveLength(365);
    expect(new Set(days).size).toBe(365);
    expectContiguous(runs);
  });
});

describe('hourly schedules across DST: intervals are real hours', () => {
  it('spring forward: the local day has 23 one-hour intervals', () => {
    const table = timetable('@hourly', { timezone: BERLIN });
    const runs = table.between(d('2026-03-28T23:00:00Z'), d('2026-03-29T21:59:00Z'), 100);
    expect(runs).toHaveLength(23);
    for (const run of runs) {
      expect(lengthMs(run)).toBe(HOUR);
    }
    expect(localStarts(runs.slice(0, 3), BERLIN)).toEqual([
      '2026-03-29 00:00',
      '2026-03-29 01:00',
      '2026-03-29 03:00',
    ]);
  });

  it('fall back: the local day has 25 one-hour intervals, two of them at 02:00', () => {
    const table = timetable('@hourly', { timezone: BERLIN });
    const runs = table.between(d('2026-10-24T22:00:00Z'), d('2026-10-25T22:59:00Z'), 100);
    expect(runs).toHaveLength(25);
    for (const run of runs) {
      expect(lengthMs(run)).toBe(HOUR);
    }
    expect(localStarts(runs, BERLIN).filter((t) => t.endsWith('02:00'))).toHaveLength(2);
  });

  it('nextRuns and dueRuns agree with between around the transition', () => {
    const table = timetable('@hourly', { timezone: BERLIN, startDate: '2026-10-24T00:00:00Z' });
    const expected = intervals(
      table.between(d('2026-10-24T23:00:00Z'), d('2026-10-25T02:00:00Z'), 10),
    );
    expect(intervals(table.nextRuns(d('2026-10-24T23:30:00Z'), 4))).toEqual(expected);
    const due = table.dueRuns(d('2026-10-24T23:00:00Z'), d('2026-10-25T03:00:00Z'), true, 10);
    expect(intervals(due)).toEqual(expected);
    const latest = table.dueRuns(null, d('2026-10-25T01:30:00Z'), false, 10);
    expect(intervals(latest)).toEqual([['2026-10-25T00:00:00.000Z', '2026-10-25T01:00:00.000Z']]);
    expect(
      table.nextRunAfter(d('2026-10-25T01:30:00Z'), d('2026-10-25T01:00:00Z'))?.toISOString(),
    ).toBe('2026-10-25T02:00:00.000Z');
  });

  it('daily dueRuns without catchup right after the spring-forward tick', () => {
    const table = timetable('30 2 * * *', { timezone: BERLIN });
    expect(intervals(table.dueRuns(null, d('2026-03-29T01:30:00Z'), false, 1))).toEqual([
      ['2026-03-28T01:30:00.000Z', '2026-03-29T01:00:00.000Z'],
    ]);
  });
});

describe('month ends and leap years', () => {
  it('0 0 31 * * fires only in months with 31 days; intervals span the gap', () => {
    const runs = timetable('0 0 31 * *').between(
      d('2026-01-01T00:00:00Z'),
      d('2026-08-31T00:00:00Z'),
      10,
    );
    expect(intervals(runs).slice(0, 2)).toEqual([
      ['2026-01-31T00:00:00.000Z', '2026-03-31T00:00:00.000Z'],
      ['2026-03-31T00:00:00.000Z', '2026-05-31T00:00:00.000Z'],
    ]);
    expect(starts(runs).map((s) => s.slice(0, 10))).toEqual([
      '2026-01-31',
      '2026-03-31',
      '2026-05-31',
      '2026-07-31',
      '2026-08-31',
    ]);
  });

  it('0 0 L * * fires on the last day of each month, 29 February in leap years', () => {
    const table = timetable('0 0 L * *');
    const leap = table.between(d('2024-01-01T00:00:00Z'), d('2024-04-30T00:00:00Z'), 10);
    expect(starts(leap).map((s) => s.slice(0, 10))).toEqual([
      '2024-01-31',
      '2024-02-29',
      '2024-03-31',
      '2024-04-30',
    ]);
    const common = table.between(d('2025-02-01T00:00:00Z'), d('2025-02-28T00:00:00Z'), 10);
    expect(starts(common).map((s) => s.slice(0, 10))).toEqual(['2025-02-28']);
  });

  it('0 0 29 2 * fires in leap years only (not in 2100)', () => {
    const table = timetable('0 0 29 2 *');
    expect(intervals(table.nextRuns(d('2024-03-01T00:00:00Z'), 1))).toEqual([
      ['2024-02-29T00:00:00.000Z', '2028-02-29T00:00:00.000Z'],
    ]);
    expect(starts(table.between(d('2097-01-01T00:00:00Z'), d('2105-01-01T00:00:00Z'), 10))).toEqual(
      ['2104-02-29T00:00:00.000Z'],
    );
  });

  it('@monthly in a time zone starts at local midnight of the 1st', () => {
    const runs = timetable('@monthly', { timezone: BERLIN }).between(
      d('2026-01-01T00:00:00Z'),
      d('2026-03-31T00:00:00Z'),
      10,
    );
    expect(intervals(runs)).toEqual([
      ['2026-01-31T23:00:00.000Z', '2026-02-28T23:00:00.000Z'],
      ['2026-02-28T23:00:00.000Z', '2026-03-31T22:00:00.000Z'],
    ]);
  });
});
