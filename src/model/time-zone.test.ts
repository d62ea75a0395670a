import { describe, expect, it } from 'vitest';
import { checkTimeZone, formatWallMinute, formatZoned, fromWall, isValidTimeZone, offsetAt, offsetMs, toWall, wallTimeToEpochMs } from './time-zone.ts';

const BERLIN = 'Europe/Berlin';
const iso = (ms: number): string => new Date(ms).toISOString().slice(0, 16) + 'Z';

describe('zoned time (Azion)', () => {
  it('offsets around the Berlin transitions', () => {
    expect(offsetAt(Date.parse('2021-03-28T00:59:59Z'), BERLIN)).toBe(3_600_000);
    expect(offsetAt(Date.parse('2021-03-28T01:00:00Z'), BERLIN)).toBe(7_200_000);
    expect(offsetAt(Date.parse('2021-10-31T00:59:59Z'), BERLIN)).toBe(7_200_000);
    expect(offsetAt(Date.parse('2021-10-31T01:00:00Z'), BERLIN)).toBe(3_600_000);
  });

  it('formats minutes in a zone, including both 02:30 of the fall-back night', () => {
    expect(formatWallMinute(Date.parse('2021-10-31T00:30Z'), BERLIN)).toBe('2021-10-31 02:30');
    expect(formatWallMinute(Date.parse('2021-10-31T01:30Z'), BERLIN)).toBe('2021-10-31 02:30');
    expect(formatWallMinute(Date.parse('2021-03-28T01:00Z'), BERLIN)).toBe('2021-03-28 03:00');
    expect(formatWallMinute(Date.parse('2021-05-19T17:36Z'), 'UTC')).toBe('2021-05-19 17:36');
    expect(formatWallMinute(Date.parse('2021-12-31T23:30Z'), BERLIN)).toBe('2022-01-01 00:30');
  });

  it('wall time round-trips for every minute-aligned quarter hour of a DST year', () => {
    for (let t = Date.UTC(2021, 0, 1); t < Date.UTC(2022, 0, 1); t += 15 * 60_000) {
      const text = formatWallMinute(t, BERLIN);
      const [y, mo, d, h, mi] = text.split(/[- :]/).map(Number) as [number, number, number, number, number];
      const back = wallTimeToEpochMs({ year: y, month: mo, day: d, hour: h, minute: mi }, BERLIN);
      // the repeated hour of the fall-back night reads as its first occurrence
      const repeated = t >= Date.parse('2021-10-31T01:00Z') && t < Date.parse('2021-10-31T02:00Z');
      expect(iso(back)).toBe(iso(repeated ? t - 3_600_000 : t));
    }
  });
});

describe('zoned time (ODSL)', () => {
  it('accepts IANA names and the UTC aliases, refuses the rest with a reason', () => {
    expect(checkTimeZone('Europe/Berlin')).toEqual({ ok: true, timeZone: 'Europe/Berlin' });
    expect(checkTimeZone('Z')).toEqual({ ok: true, timeZone: 'UTC' });
    expect(checkTimeZone('Etc/UTC')).toEqual({ ok: true, timeZone: 'UTC' });
    expect(checkTimeZone('Mars/Olympus')).toEqual({ ok: false, error: expect.stringContaining('unknown time zone "Mars/Olympus"') });
    expect(checkTimeZone('a b')).toEqual({ ok: false, error: 'unknown time zone "a b"' });
    // Azion has no `Z` alias: its dates carry `Z` in the text, not in the zone
    expect(isValidTimeZone('Z')).toBe(false);
    expect(isValidTimeZone(BERLIN)).toBe(true);
  });

  it('reads gap and overlap wall times as Azion does (the earlier instant, the offset before a gap)', () => {
    const wall = (text: string): number => Date.parse(`${text}Z`);
    expect(iso(fromWall(wall('2021-03-28T02:30'), BERLIN))).toBe('2021-03-28T01:30Z');
    expect(iso(fromWall(wall('2021-10-31T02:30'), BERLIN))).toBe('2021-10-31T00:30Z');
    expect(fromWall(wall('2021-10-31T02:30'), BERLIN)).toBe(
      wallTimeToEpochMs({ year: 2021, month: 10, day: 31, hour: 2, minute: 30 }, BERLIN),
    );
    expect(toWall(Date.parse('2021-10-31T01:30Z'), BERLIN)).toBe(wall('2021-10-31T02:30'));
  });

  it('renders ISO times with the offset, Z at zero, milliseconds only when present', () => {
    expect(formatZoned(Date.parse('2021-07-01T10:00:00Z'), BERLIN)).toBe('2021-07-01T12:00:00+02:00');
    expect(formatZoned(Date.parse('2021-07-01T10:00:00.5Z'), 'UTC')).toBe('2021-07-01T10:00:00.500Z');
    expect(formatZoned(Date.parse('2021-07-01T10:00:00Z'), 'America/St_Johns')).toBe('2021-07-01T07:30:00-02:30');
  });

  it('exact offsets see a transition inside a minute; the per-minute offsets read it from the next minute', () => {
    // Monrovia left -0:44:30 at 1972-01-07T00:44:30Z
    const t = Date.parse('1972-01-07T00:44:45Z');
    expect(offsetAt(t, 'Africa/Monrovia')).toBe(0);
    expect(offsetMs(t, 'Africa/Monrovia')).toBe(-2_670_000);
    expect(offsetMs(t + 60_000, 'Africa/Monrovia')).toBe(0);
  });
});
