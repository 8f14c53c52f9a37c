import { describe, expect, it } from 'vitest';
import { createTimetable, manualRunInterval } from '../../src/schedule/timetable.ts';
import { d, intervals, starts, timetable } from './helpers.ts';

describe('createTimetable', () => {
  it('returns null for a DAG without a schedule', () => {
    expect(
      createTimetable({ schedule: null, timezone: 'UTC', startDate: null, endDate: null }),
    ).toBeNull();
  });

  it('throws a RangeError naming a bad cron, time zone or date', () => {
    expect(() => timetable('61 * * * *')).toThrow("minute field '61'");
    expect(() => timetable('0 2 * * *', { timezone: 'Europe/Berln' })).toThrow(
      "unknown time zone 'Europe/Berln'",
    );
    expect(() => timetable('@daily', { startDate: 'yesterday' })).toThrow(
      "invalid startDate 'yesterday'",
    );
    expect(() => timetable('@once', { endDate: '2026-13-01' })).toThrow(
      "invalid endDate '2026-13-01'",
    );
  });
});

describe('presets and cron fields', () => {
  const after = d('2026-01-07T12:00:00Z'); // a Wednesday
  it.each([
    ['@hourly', ['2026-01-07T12:00:00.000Z', '2026-01-07T13:00:00.000Z']],
    ['@daily', ['2026-01-07T00:00:00.000Z', '2026-01-08T00:00:00.000Z']],
    ['@midnight', ['2026-01-07T00:00:00.000Z', '2026-01-08T00:00:00.000Z']],
    ['@weekly', ['2026-01-04T00:00:00.000Z', '2026-01-11T00:00:00.000Z']],
    ['@monthly', ['2026-01-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z']],
    ['@yearly', ['2026-01-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z']],
    ['@annually', ['2026-01-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z']],
    ['15 */6 * * *', ['2026-01-07T06:15:00.000Z', '2026-01-07T12:15:00.000Z']],
    ['*/20 0 12 * * *', ['2026-01-07T12:00:00.000Z', '2026-01-07T12:00:20.000Z']],
  ])('%s: the next run covers [previous tick, next tick)', (schedule, first) => {
    const [run] = intervals(timetable(schedule).nextRuns(after, 1));
    expect(run).toEqual(first);
  });

  it('chains intervals: each starts where the previous ended', () => {
    const runs = intervals(timetable('0 6,18 * * *').nextRuns(d('2026-01-01T00:00:00Z'), 4));
    expect(runs).toEqual([
      ['2025-12-31T18:00:00.000Z', '2026-01-01T06:00:00.000Z'],
      ['2026-01-01T06:00:00.000Z', '2026-01-01T18:00:00.000Z'],
      ['2026-01-01T18:00:00.000Z', '2026-01-02T06:00:00.000Z'],
      ['2026-01-02T06:00:00.000Z', '2026-01-02T18:00:00.000Z'],
    ]);
  });

  it('counts a run whose runAfter equals `after` as past', () => {
    const runs = timetable('@daily').nextRuns(d('2026-01-08T00:00:00Z'), 1);
    expect(starts(runs)).toEqual(['2026-01-08T00:00:00.000Z']);
  });
});

describe('start and end dates', () => {
  it('starts with the first tick at or after startDate', () => {
    const off = timetable('@daily', { startDate: '2026-01-01T10:00:00Z' });
    expect(starts(off.nextRuns(d('2025-06-01T00:00:00Z'), 2))).toEqual([
      '2026-01-02T00:00:00.000Z',
      '2026-01-03T00:00:00.000Z',
    ]);
    const on = timetable('@daily', { startDate: '2026-01-01T00:00:00Z' });
    expect(starts(on.nextRuns(d('2025-06-01T00:00:00Z'), 1))).toEqual(['2026-01-01T00:00:00.000Z']);
  });

  it('starts no interval after endDate (one starting exactly at it is included)', () => {
    const table = timetable('@daily', {
      startDate: '2026-01-01T00:00:00Z',
      endDate: '2026-01-03T00:00:00Z',
    });
    expect(intervals(table.nextRuns(d('2025-01-01T00:00:00Z'), 10))).toEqual([
      ['2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z'],
      ['2026-01-02T00:00:00.000Z', '2026-01-03T00:00:00.000Z'],
      ['2026-01-03T00:00:00.000Z', '2026-01-04T00:00:00.000Z'],
    ]);
    expect(table.nextRuns(d('2026-01-04T00:00:00Z'), 10)).toEqual([]);
  });

  it('reads startDate with any UTC offset as an instant', () => {
    const table = timetable('@hourly', { startDate: '2026-01-01T10:30:00+02:00' });
    expect(starts(table.nextRuns(d('2025-01-01T00:00:00Z'), 1))).toEqual([
      '2026-01-01T09:00:00.000Z',
    ]);
  });
});

describe('dueRuns', () => {
  const table = timetable('@daily', { startDate: '2026-01-01T00:00:00Z' });
  const now = d('2026-01-04T05:00:00Z');

  it('catchup: every complete interval from startDate, oldest first', () => {
    expect(intervals(table.dueRuns(null, now, true, 100))).toEqual([
      ['2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z'],
      ['2026-01-02T00:00:00.000Z', '2026-01-03T00:00:00.000Z'],
      ['2026-01-03T00:00:00.000Z', '2026-01-04T00:00:00.000Z'],
    ]);
  });

  it('catchup: continues from lastIntervalEnd', () => {
    expect(starts(table.dueRuns(d('2026-01-03T00:00:00Z'), now, true, 100))).toEqual([
      '2026-01-03T00:00:00.000Z',
    ]);
    expect(table.dueRuns(d('2026-01-04T00:00:00Z'), now, true, 100)).toEqual([]);
  });

  it('an interval is due exactly when now reaches its end', () => {
    const at = d('2026-01-02T00:00:00Z');
    expect(starts(table.dueRuns(null, at, true, 10))).toEqual(['2026-01-01T00:00:00.000Z']);
    expect(table.dueRuns(null, new Date(at.getTime() - 1), true, 10)).toEqual([]);
  });

  it('catchup: returns at most `limit`, oldest first, and the rest on the next call', () => {
    const later = d('2028-01-01T00:00:00Z');
    const first = table.dueRuns(null, later, true, 10);
    expect(first).toHaveLength(10);
    expect(first[0]?.logicalDate.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    const next = table.dueRuns(first[9]!.dataIntervalEnd, later, true, 10);
    expect(next[0]?.logicalDate.toISOString()).toBe('2026-01-11T00:00:00.000Z');
    expect(table.dueRuns(null, later, true, 0)).toEqual([]);
  });

  it('catchup: starts at the next tick when lastIntervalEnd is not on one (schedule changed)', () => {
    expect(starts(table.dueRuns(d('2026-01-02T06:00:00Z'), now, true, 10))).toEqual([
      '2026-01-03T00:00:00.000Z',
    ]);
  });

  it('no catchup: only the latest complete interval', () => {
    expect(intervals(table.dueRuns(null, now, false, 10))).toEqual([
      ['2026-01-03T00:00:00.000Z', '2026-01-04T00:00:00.000Z'],
    ]);
    expect(starts(table.dueRuns(d('2026-01-02T00:00:00Z'), now, false, 10))).toEqual([
      '2026-01-03T00:00:00.000Z',
    ]);
  });

  it('no catchup: nothing when the latest interval already exists or starts too early', () => {
    expect(table.dueRuns(d('2026-01-04T00:00:00Z'), now, false, 10)).toEqual([]);
    const late = timetable('@daily', { startDate: '2026-01-03T12:00:00Z' });
    expect(late.dueRuns(null, now, false, 10)).toEqual([]);
    expect(late.dueRuns(null, now, true, 10)).toEqual([]);
  });

  it('respects endDate with and without catchup', () => {
    const ended = timetable('@daily', {
      startDate: '2026-01-01T00:00:00Z',
      endDate: '2026-01-02T00:00:00Z',
    });
    const much = d('2026-03-01T00:00:00Z');
    expect(starts(ended.dueRuns(null, much, true, 10))).toEqual([
      '2026-01-01T00:00:00.000Z',
      '2026-01-02T00:00:00.000Z',
    ]);
    expect(starts(ended.dueRuns(null, much, false, 10))).toEqual(['2026-01-02T00:00:00.000Z']);
    expect(ended.dueRuns(d('2026-01-03T00:00:00Z'), much, false, 10)).toEqual([]);
    expect(ended.dueRuns(d('2026-01-03T00:00:00Z'), much, true, 10)).toEqual([]);
  });

  it('without a startDate, catchup has nothing to start from and takes the latest interval', () => {
    const open = timetable('@daily');
    expect(starts(open.dueRuns(null, now, true, 10))).toEqual(['2026-01-03T00:00:00.000Z']);
    expect(starts(open.dueRuns(d('2026-01-02T00:00:00Z'), now, true, 10))).toEqual([
      '2026-01-02T00:00:00.000Z',
      '2026-01-03T00:00:00.000Z',
    ]);
  });

  it('rejects bad arguments with a RangeError naming them', () => {
    expect(() => table.dueRuns(null, now, true, -1)).toThrow(
      'limit must be a non-negative integer',
    );
    expect(() => table.dueRuns(null, now, true, 1.5)).toThrow('limit');
    expect(() => table.dueRuns(null, new Date('nope'), true, 1)).toThrow(
      'now must be a valid Date',
    );
    expect(() => table.nextRuns(now, Number.NaN)).toThrow('count');
    expect(() => table.between(new Date(Number.NaN), now, 1)).toThrow('from must be a valid Date');
  });
});

describe('nextRunAfter', () => {
  const table = timetable('@daily', { startDate: '2026-01-01T00:00:00Z' });

  it('is the end of the interval in progress', () => {
    const now = d('2026-01-04T05:00:00Z');
    expect(table.nextRunAfter(now, d('2026-01-04T00:00:00Z'))?.toISOString()).toBe(
      '2026-01-05T00:00:00.000Z',
    );
    expect(table.nextRunAfter(d('2026-01-05T00:00:00Z'), null)?.toISOString()).toBe(
      '2026-01-06T00:00:00.000Z',
    );
  });

  it('waits for the first interval after the start date or the last created run', () => {
    const future = timetable('@daily', { startDate: '2026-02-01T00:00:00Z' });
    expect(future.nextRunAfter(d('2026-01-04T05:00:00Z'), null)?.toISOString()).toBe(
      '2026-02-02T00:00:00.000Z',
    );
    expect(
      table.nextRunAfter(d('2026-01-04T05:00:00Z'), d('2026-01-06T00:00:00Z'))?.toISOString(),
    ).toBe('2026-01-07T00:00:00.000Z');
  });

  it('is null once the schedule has ended', () => {
    const ended = timetable('@daily', {
      startDate: '2026-01-01T00:00:00Z',
      endDate: '2026-01-02T00:00:00Z',
    });
    expect(ended.nextRunAfter(d('2026-01-02T12:00:00Z'), null)?.toISOString()).toBe(
      '2026-01-03T00:00:00.000Z',
    );
    expect(ended.nextRunAfter(d('2026-01-03T00:00:00Z'), null)).toBeNull();
    expect(ended.nextRunAfter(d('2026-01-01T12:00:00Z'), d('2026-01-03T00:00:00Z'))).toBeNull();
  });
});

describe('between (backfill)', () => {
  const table = timetable('@daily', {
    startDate: '2026-01-01T00:00:00Z',
    endDate: '2026-01-31T00:00:00Z',
  });

  it('includes logical dates on both bounds', () => {
    expect(
      starts(table.between(d('2026-01-05T00:00:00Z'), d('2026-01-07T00:00:00Z'), 100)),
    ).toEqual(['2026-01-05T00:00:00.000Z', '2026-01-06T00:00:00.000Z', '2026-01-07T00:00:00.000Z']);
  });

  it('clips to start and end dates and to the limit', () => {
    const all = table.between(d('2025-01-01T00:00:00Z'), d('2027-01-01T00:00:00Z'), 100);
    expect(all).toHaveLength(31);
    expect(all[0]?.logicalDate.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(all[30]?.logicalDate.toISOString()).toBe('2026-01-31T00:00:00.000Z');
    expect(starts(table.between(d('2025-01-01T00:00:00Z'), d('2027-01-01T00:00:00Z'), 2))).toEqual([
      '2026-01-01T00:00:00.000Z',
      '2026-01-02T00:00:00.000Z',
    ]);
  });

  it('is empty for a reversed or tick-free range', () => {
    expect(table.between(d('2026-01-07T00:00:00Z'), d('2026-01-05T00:00:00Z'), 10)).toEqual([]);
    expect(table.between(d('2026-01-05T01:00:00Z'), d('2026-01-05T23:00:00Z'), 10)).toEqual([]);
  });
});

describe('@once', () => {
  const once = timetable('@once', { startDate: '2026-03-01T09:00:00Z' });
  const at = '2026-03-01T09:00:00.000Z';

  it('is a single run with interval [startDate, startDate]', () => {
    expect(intervals(once.nextRuns(d('2026-01-01T00:00:00Z'), 5))).toEqual([[at, at]]);
    expect(once.nextRuns(d(at), 5)).toEqual([]);
    expect(once.nextRunAfter(d('2026-01-01T00:00:00Z'), null)?.toISOString()).toBe(at);
    expect(once.nextRunAfter(d(at), null)).toBeNull();
  });

  it('is due from the start date until it has been created', () => {
    expect(once.dueRuns(null, d('2026-02-28T00:00:00Z'), true, 10)).toEqual([]);
    expect(intervals(once.dueRuns(null, d(at), false, 10))).toEqual([[at, at]]);
    expect(once.dueRuns(d(at), d('2026-04-01T00:00:00Z'), true, 10)).toEqual([]);
    expect(once.nextRunAfter(d('2026-01-01T00:00:00Z'), d(at))).toBeNull();
  });

  it('backfills its one date when in range', () => {
    expect(starts(once.between(d(at), d(at), 10))).toEqual([at]);
    expect(once.between(d('2026-03-02T00:00:00Z'), d('2026-04-01T00:00:00Z'), 10)).toEqual([]);
    expect(once.between(d(at), d(at), 0)).toEqual([]);
  });

  it('never runs when the end date is before the start date', () => {
    const never = timetable('@once', {
      startDate: '2026-03-01T09:00:00Z',
      endDate: '2026-02-01T00:00:00Z',
    });
    expect(never.dueRuns(null, d('2027-01-01T00:00:00Z'), true, 10)).toEqual([]);
    expect(never.nextRunAfter(d('2026-01-01T00:00:00Z'), null)).toBeNull();
  });

  it('without a startDate, runs once as soon as the scheduler asks', () => {
    const asap = timetable('@once');
    const now = d('2026-05-05T05:05:05Z');
    expect(intervals(asap.dueRuns(null, now, false, 1))).toEqual([
      [now.toISOString(), now.toISOString()],
    ]);
    expect(asap.dueRuns(now, now, false, 1)).toEqual([]);
    expect(asap.nextRuns(now, 1)).toEqual([]);
  });
});

describe('manualRunInterval', () => {
  it('is [at, at] with logicalDate and runAfter at the trigger time', () => {
    const at = d('2026-01-02T03:04:05.678Z');
    const run = manualRunInterval(at);
    expect(intervals([run])).toEqual([[at.toISOString(), at.toISOString()]]);
    expect(run.logicalDate).not.toBe(at);
    expect(() => manualRunInterval(new Date(Number.NaN))).toThrow(RangeError);
  });
});
