import { describe, expect, it } from 'vitest';
import { validateSchedule } from '../../src/schedule/timetable.ts';

describe('validateSchedule', () => {
  it.each([
    '@once',
    '@hourly',
    '@daily',
    '@midnight',
    '@weekly',
    '@monthly',
    '@yearly',
    '@annually',
    '0 2 * * *',
    ' 0 2 * * * ',
    '*/15 9-17 * * MON-FRI',
    '0 0 L * *',
    '0 0 1 JAN,JUL *',
    '*/30 * * * * *',
  ])('accepts %j', (schedule) => {
    expect(() => validateSchedule(schedule, 'Europe/Berlin')).not.toThrow();
  });

  it.each([
    ['61 * * * *', "invalid cron '61 * * * *': minute field '61' is not valid (allowed: 0-59"],
    ['0 25 * * *', "hour field '25' is not valid (allowed: 0-23"],
    ['0 0 0 * *', "day-of-month field '0' is not valid (allowed: 1-31"],
    ['0 0 1 13 *', "month field '13' is not valid (allowed: 1-12 or JAN-DEC"],
    ['0 0 * * 8', "day-of-week field '8' is not valid"],
    ['0 0 * * FUNDAY', "day-of-week field 'FUNDAY' is not valid"],
    ['*/0 * * * *', "minute field '*/0' is not valid"],
    ['60 0 0 * * *', "second field '60' is not valid (allowed: 0-59"],
    [
      '0 0 * *',
      'expected 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, got 4',
    ],
    ['0 0 0 1 1 * 2030', 'got 7'],
    ['', 'got 1'],
    ['2030-01-01T00:00:00', 'got 1'],
    ['@dayly', "unknown schedule preset '@dayly': use one of @once, @hourly, @daily"],
    ['0 0 30 2 *', "invalid cron '0 0 30 2 *': it never fires"],
  ])('rejects %j naming the bad part', (schedule, message) => {
    expect(() => validateSchedule(schedule, 'UTC')).toThrow(RangeError);
    expect(() => validateSchedule(schedule, 'UTC')).toThrow(message);
  });

  it.each(['Europe/Berln', '+01:00', 'Mars/Olympus_Mons', ''])('rejects the time zone %j', (tz) => {
    expect(() => validateSchedule('0 2 * * *', tz)).toThrow(RangeError);
    expect(() => validateSchedule('0 2 * * *', tz)).toThrow(`unknown time zone '${tz}'`);
  });

  it('checks the time zone of @once schedules too', () => {
    expect(() => validateSchedule('@once', 'Europe/Berln')).toThrow(
      "unknown time zone 'Europe/Berln'",
    );
  });
});
