import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CALENDARS, parseCalendar, type Calendar } from './calendar.ts';
import { formatZoned, offsetMs } from '../../../model/time-zone.ts';

const cal = (code: string): Calendar => {
  const r = parseCalendar(code);
  if (!r.ok) throw new Error(r.error);
  return r.calendar;
};

describe('parseCalendar', () => {
  it.each(['#PT1H', 'PT1H', '%23PT1H', 'pt1h', ' #PT1H '])('accepts %j as #PT1H', (text) => {
    expect(cal(text).code).toBe('#PT1H');
  });
  it.each(['P1W', '#PT2H', '', 'HOURLY'])('rejects %j and lists the calendars', (text) => {
    const r = parseCalendar(text);
    expect(!r.ok && r.error).toContain('#PT1M, #PT5M, #PT15M, #PT30M, #PT1H, #PT6H, #PT12H, #P1D');
  });
});

describe('bucket of a time', () => {
  // calendar, zone, instant, bucket start, next bucket start (local times)
  const table: [string, string, string, string, string][] = [
    ['#PT1M', 'UTC', '2024-07-08T16:23:07Z', '2024-07-08T16:23:00Z', '2024-07-08T16:24:00Z'],
    ['#PT5M', 'UTC', '2024-07-08T16:23:07Z', '2024-07-08T16:20:00Z', '2024-07-08T16:25:00Z'],
    ['#PT15M', 'UTC', '2024-07-08T16:23:07Z', '2024-07-08T16:15:00Z', '2024-07-08T16:30:00Z'],
    ['#PT30M', 'UTC', '2024-07-08T16:23:07Z', '2024-07-08T16:00:00Z', '2024-07-08T16:30:00Z'],
    ['#PT1H', 'UTC', '2024-07-08T16:23:07Z', '2024-07-08T16:00:00Z', '2024-07-08T17:00:00Z'],
    ['#PT6H', 'UTC', '2024-07-08T16:23:07Z', '2024-07-08T12:00:00Z', '2024-07-08T18:00:00Z'],
    ['#PT12H', 'UTC', '2024-07-08T16:23:07Z', '2024-07-08T12:00:00Z', '2024-07-09T00:00:00Z'],
    ['#P1D', 'UTC', '2024-07-08T16:23:07Z', '2024-07-08T00:00:00Z', '2024-07-09T00:00:00Z'],
    ['#P1D', 'UTC', '2024-07-08T00:00:00Z', '2024-07-08T00:00:00Z', '2024-07-09T00:00:00Z'],
    ['#P1D', 'Europe/Berlin', '2024-07-08T23:30:00Z', '2024-07-09T00:00:00+02:00', '2024-07-10T00:00:00+02:00'],
    // Spring forward in Berlin: a 23-hour day, a 5-hour first PT6H bucket.
    ['#P1D', 'Europe/Berlin', '2024-03-31T10:00:00Z', '2024-03-31T00:00:00+01:00', '2024-04-01T00:00:00+02:00'],
    ['#PT6H', 'Europe/Berlin', '2024-03-31T03:30:00Z', '2024-03-31T00:00:00+01:00', '2024-03-31T06:00:00+02:00'],
    ['#PT1H', 'Europe/Berlin', '2024-03-31T01:30:00Z', '2024-03-31T03:00:00+02:00', '2024-03-31T04:00:00+02:00'],
    // Fall back: a 25-hour day; the two 02:00 hours stay two PT1H buckets.
    ['#P1D', 'Europe/Berlin', '2024-10-27T12:00:00Z', '2024-10-27T00:00:00+02:00', '2024-10-28T00:00:00+01:00'],
    ['#P1D', 'Europe/Berlin', '2024-10-27T22:59:59Z', '2024-10-27T00:00:00+02:00', '2024-10-28T00:00:00+01:00'],
    ['#PT1H', 'Europe/Berlin', '2024-10-27T00:30:00Z', '2024-10-27T02:00:00+02:00', '2024-10-27T02:00:00+01:00'],
    ['#PT1H', 'Europe/Berlin', '2024-10-27T01:30:00Z', '2024-10-27T02:00:00+01:00', '2024-10-27T03:00:00+01:00'],
    ['#PT12H', 'Europe/Berlin', '2024-10-27T05:00:00Z', '2024-10-27T00:00:00+02:00', '2024-10-27T12:00:00+01:00'],
    ['#P1D', 'America/New_York', '2024-11-03T12:00:00Z', '2024-11-03T00:00:00-04:00', '2024-11-04T00:00:00-05:00'],
    // Half-hour offset: hours start at :30 UTC.
    ['#PT1H', 'Asia/Kolkata', '2024-07-08T16:23:07Z', '2024-07-08T21:00:00+05:30', '2024-07-08T22:00:00+05:30'],
    ['#P1D', 'Asia/Kolkata', '2024-07-08T20:00:00Z', '2024-07-09T00:00:00+05:30', '2024-07-10T00:00:00+05:30'],
  ];
  it.each(table)('%s in %s: %s is in [%s, %s)', (code, tz, instant, start, next) => {
    const c = cal(code);
    const s = c.bucketStart(Date.parse(instant), tz);
    expect(formatZoned(s, tz)).toBe(start);
    expect(formatZoned(c.nextBucket(s, tz), tz)).toBe(next);
    expect(c.previousBucket(c.nextBucket(s, tz), tz)).toBe(s);
  });

  it('every instant lies in its bucket, buckets tile time, and start at a local boundary', () => {
    const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe'];
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.keys(CALENDARS)),
        fc.constantFrom(...zones),
        fc.integer({ min: Date.parse('2000-01-01T00:00:00Z'), max: Date.parse('2040-01-01T00:00:00Z') }),
        (code, tz, t) => {
          const c = cal(code);
          const s = c.bucketStart(t, tz);
          const next = c.nextBucket(s, tz);
          expect(s).toBeLessThanOrEqual(t);
          expect(next).toBeGreaterThan(t);
          expect(c.bucketStart(s, tz)).toBe(s);
          expect(c.bucketStart(next, tz)).toBe(next);
          // Within a few hours of the nominal length (DST shifts are at most 1 h in these zones).
          expect(Math.abs(next - s - c.periodMs)).toBeLessThanOrEqual(Math.min(c.periodMs, 3_600_000));
          const local = s + offsetMs(s, tz);
          const step = Math.min(c.periodMs, 3_600_000);
          // Local boundaries, except where DST skipped the boundary itself.
          if (offsetMs(s - 1, tz) === offsetMs(s, tz)) expect(((local % step) + step) % step).toBe(0);
        },
      ),
    );
  });
});
