/**
 * ODSL calendars (`_calendar`): the bucket a time falls in, in a time zone. Sub-day calendars
 * divide the local day (`#PT6H` buckets start at 00:00, 06:00, 12:00 and 18:00 local time);
 * `#P1D` buckets start at local midnight, so a DST day is 23 or 25 hours long.
 */
import { fromWall, offsetMs, toWall } from '../../../model/time-zone.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Calendar code (with `#`) -> nominal bucket length, ms. Each divides a day. */
export const CALENDARS: Readonly<Record<string, number>> = Object.freeze({
  '#PT1M': MINUTE,
  '#PT5M': 5 * MINUTE,
  '#PT15M': 15 * MINUTE,
  '#PT30M': 30 * MINUTE,
  '#PT1H': HOUR,
  '#PT6H': 6 * HOUR,
  '#PT12H': 12 * HOUR,
  '#P1D': DAY,
});

export interface Calendar {
  /** Canonical code, e.g. `#PT1H`. */
  code: string;
  /** Nominal bucket length, ms (a DST day differs from it by the shift). */
  periodMs: number;
  /** Start of the bucket that holds `ms`. */
  bucketStart(ms: number, tz: string): number;
  /** Start of the bucket after the one starting at `start`. */
  nextBucket(start: number, tz: string): number;
  /** Start of the bucket before the one starting at `start`. */
  previousBucket(start: number, tz: string): number;
}

export type CalendarResult = { ok: true; calendar: Calendar } | { ok: false; error: string };

/** Parses `#PT1H`, `PT1H` or `%23PT1H` (when a client encoded twice); case-insensitive. */
export function parseCalendar(text: string): CalendarResult {
  const raw = text.trim().toUpperCase().replace(/^%23/, '#');
  const code = raw.startsWith('#') ? raw : `#${raw}`;
  const periodMs = Object.hasOwn(CALENDARS, code) ? CALENDARS[code] : undefined;
  if (periodMs === undefined) {
    return { ok: false, error: `unknown calendar "${text.slice(0, 32)}" (use one of ${Object.keys(CALENDARS).join(', ')})` };
  }
  return { ok: true, calendar: createCalendar(code, periodMs) };
}

function createCalendar(code: string, periodMs: number): Calendar {
  const mod = (a: number, n: number): number => ((a % n) + n) % n;

  function bucketStart(ms: number, tz: string): number {
    const off = offsetMs(ms, tz);
    const intoBucket = mod(ms + off, periodMs);
    const elapsed = ms - intoBucket;
    // No offset change inside the bucket so far: the bucket is `periodMs` of elapsed time, which
    // keeps the two 02:00 hours of a fall-back night apart.
    if (offsetMs(elapsed, tz) === off) return elapsed;
    // An offset change inside the bucket: start at the local boundary (local midnight for P1D).
    const start = fromWall(ms + off - intoBucket, tz);
    return start <= ms ? start : elapsed;
  }

  function nextBucket(start: number, tz: string): number {
    // Buckets are periodMs long except across a DST change (at most a few hours off).
    let t = start + periodMs;
    for (let i = 0; i < 32; i++) {
      const b = bucketStart(t, tz);
      if (b > start) return b;
      t += Math.min(periodMs, 15 * MINUTE);
    }
    return start + periodMs;
  }

  return {
    code,
    periodMs,
    bucketStart,
    nextBucket,
    previousBucket: (start, tz) => bucketStart(start - 1, tz),
  };
}

/** Whether every bucket of `calendar` in [from, to) is a whole number of `stepMs` steps from the epoch. */
export function alignsTo(calendar: Calendar, stepMs: number, tz: string, from: number, to: number): boolean {
  if (calendar.periodMs % stepMs !== 0) return false;
  // Sample the offset weekly (zones change offset at most a few times a year) and at both ends.
  const step = 7 * DAY;
  const samples = Math.min(Math.ceil((to - from) / step), 1000);
  for (let i = 0; i <= samples; i++) {
    const t = i === samples ? to - 1 : from + i * step;
    if (offsetMs(t, tz) % stepMs !== 0) return false;
  }
  return true;
}

/** The local calendar day (wall ms at 00:00) of an instant; exported for the range module. */
export const localMidnightWall = (ms: number, tz: string): number => Math.floor(toWall(ms, tz) / DAY) * DAY;
