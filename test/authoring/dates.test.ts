import { describe, expect, it } from 'vitest';
import { toUtcInstant } from '../../src/authoring/dates.ts';

describe('toUtcInstant', () => {
  it.each([
    ['2026-01-01', 'UTC', '2026-01-01T00:00:00.000Z'],
    ['2026-01-01', 'Europe/Berlin', '2025-12-31T23:00:00.000Z'],
    ['2026-07-01T06:30', 'Europe/Berlin', '2026-07-01T04:30:00.000Z'],
    ['2026-07-01 06:30:15.5', 'America/New_York', '2026-07-01T10:30:15.500Z'],
    ['2026-03-29T03:30', 'Europe/Berlin', '2026-03-29T01:30:00.000Z'],
    ['2026-10-25T01:30', 'Europe/Berlin', '2026-10-24T23:30:00.000Z'],
    ['2026-01-01T00:00:00Z', 'Asia/Tokyo', '2026-01-01T00:00:00.000Z'],
    ['2026-01-01T09:00:00+09:00', 'UTC', '2026-01-01T00:00:00.000Z'],
  ])('reads %s in %s as %s', (text, timezone, expected) => {
    expect(toUtcInstant(text, timezone)).toBe(expected);
  });

  it('takes a Date as the instant it is', () => {
    expect(toUtcInstant(new Date('2026-05-05T05:05:05Z'), 'Europe/Berlin')).toBe(
      '2026-05-05T05:05:05.000Z',
    );
  });

  it('reads local dates as UTC when the time zone is unknown (the validator reports the zone)', () => {
    expect(toUtcInstant('2026-01-01', 'Mars/Olympus')).toBe('2026-01-01T00:00:00.000Z');
  });

  it.each([
    ['2026-13-01', "'2026-13-01' is not a valid calendar date and time"],
    ['2026-01-01T25:00', "'2026-01-01T25:00' is not a valid calendar date and time"],
    ['yesterday', "'yesterday' is not a date: use 'YYYY-MM-DD'"],
    ['2026-01-01T00:00:00', ''],
  ])('rejects %j', (text, message) => {
    if (message === '') {
      expect(toUtcInstant(text, 'UTC')).toBe('2026-01-01T00:00:00.000Z');
      return;
    }
    expect(() => toUtcInstant(text, 'UTC')).toThrow(RangeError);
    expect(() => toUtcInstant(text, 'UTC')).toThrow(message);
  });

  it('rejects an invalid Date', () => {
    expect(() => toUtcInstant(new Date('nope'), 'UTC')).toThrow('is an invalid Date');
  });
});
