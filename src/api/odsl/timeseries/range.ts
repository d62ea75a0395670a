/**
 * ODSL `_range` (doc.opendatadsl.com "Timeseries Ranges"), evaluated with an injected clock:
 *   from(date[,tz])          date .. the end of the current bucket
 *   between(date,date[,tz])  start of the first date's period .. end of the second's
 *   within(date[,tz]), date  the whole period of the date: 2024 = the year, 2024-10 = October
 *   last(n)                  the last n buckets of the calendar, the current one included
 * A date is `yyyy`, `yyyy-MM`, `yyyy-MM-dd`, `yyyy-MM-ddTHH`, `yyyy-MM-ddTHH:mm`,
 * `yyyy-MM-ddTHH:mm:ss` (local to the zone unless it ends in `Z` or `+hh:mm`), or a date rule
 * (./date-rule.ts, a one-second period). A start uses the start of its period, an end the end of
 * its period (ODSL "Date Bounds"). Ranges are [from, to) in epoch ms. A `tz` argument sets the
 * zone of the whole series (the buckets too).
 */
import type { Calendar } from './calendar.ts';
import { evaluateDateRule, isDateRule } from './date-rule.ts';
import { checkTimeZone, fromWall } from '../../../model/time-zone.ts';

export interface TimeRange {
  /** Inclusive, epoch ms. */
  from: number;
  /** Exclusive, epoch ms. */
  to: number;
}

export interface RangeContext {
  nowMs: number;
  timeZone: string;
  calendar: Calendar;
}

export type RangeResult = { ok: true; range: TimeRange; timeZone: string } | { ok: false; error: string };

/** Most buckets `last(n)` may ask for. */
export const MAX_LAST = 100_000;
const MAX_RANGE_TEXT = 200;

const DATE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2}))?)?(Z|[+-]\d{2}:?\d{2})?)?)?)?$/;

type Period = { ok: true; start: number; end: number } | { ok: false; error: string };

/** The period a date names, [start, end) in epoch ms. */
export function parseDatePeriod(raw: string, nowMs: number, tz: string): Period {
  const text = raw.trim().replace(/^(["'])(.*)\1$/, '$2');
  if (isDateRule(text)) {
    const r = evaluateDateRule(text, nowMs, tz);
    return r.ok ? { ok: true, start: r.ms, end: r.ms + 1000 } : r;
  }
  const m = DATE.exec(text);
  if (!m) {
    return { ok: false, error: `invalid date "${text.slice(0, 40)}" (expected yyyy, yyyy-MM, yyyy-MM-dd, yyyy-MM-ddTHH[:mm[:ss]] or a date rule such as T-1Dh0m0s0)` };
  }
  const [y, mo = 1, d = 1, h = 0, mi = 0, s = 0] = m.slice(1, 7).map((v) => (v === undefined ? undefined : Number(v)));
  const precision = m.slice(1, 7).filter((v) => v !== undefined).length; // 1 = year .. 6 = second
  const bad = (what: string): Period => ({ ok: false, error: `invalid date "${text}": ${what}` });
  if (y === undefined || y < 1970 || y > 9999) return bad('year out of range 1970-9999');
  if (mo < 1 || mo > 12) return bad('month out of range 01-12');
  if (d < 1 || d > new Date(Date.UTC(y, mo, 0)).getUTCDate()) return bad(`day out of range for ${y}-${String(mo).padStart(2, '0')}`);
  if (h > 23 || mi > 59 || s > 59) return bad('time out of range');
  const next = [y, mo - 1, d, h, mi, s];
  next[precision - 1] = (next[precision - 1] ?? 0) + 1;
  const wallStart = Date.UTC(y, mo - 1, d, h, mi, s);
  const [ny = y, nmo = 0, nd = 1, nh = 0, nmi = 0, ns = 0] = next;
  const wallEnd = Date.UTC(ny, nmo, nd, nh, nmi, ns);
  const offsetText = m[7];
  if (offsetText !== undefined) {
    const om = /^([+-])(\d{2}):?(\d{2})$/.exec(offsetText);
    const off = om ? (om[1] === '-' ? -1 : 1) * (Number(om[2]) * 60 + Number(om[3])) * 60_000 : 0;
    return { ok: true, start: wallStart - off, end: wallEnd - off };
  }
  return { ok: true, start: fromWall(wallStart, tz), end: fromWall(wallEnd, tz) };
}

/** The range when `_range` is absent: the last 24 hours, widened to whole buckets. */
export function defaultRange({ nowMs, timeZone, calendar }: RangeContext): TimeRange {
  const current = calendar.bucketStart(nowMs, timeZone);
  return { from: calendar.bucketStart(nowMs - 86_400_000, timeZone), to: calendar.nextBucket(current, timeZone) };
}

/** Parses `_range`; never throws. */
export function parseRange(text: string, ctx: RangeContext): RangeResult {
  const src = text.trim();
  if (src === '') return { ok: false, error: 'empty _range' };
  if (src.length > MAX_RANGE_TEXT) return { ok: false, error: `_range longer than ${MAX_RANGE_TEXT} characters` };
  const call = /^([A-Za-z]+)\s*\((.*)\)$/.exec(src);
  const fn = call ? (call[1] ?? '').toLowerCase() : 'within';
  const args = call ? (call[2] ?? '').split(',').map((a) => a.trim()) : [src];
  const arity: Readonly<Record<string, [number, number]>> = { from: [1, 2], between: [2, 3], within: [1, 2], last: [1, 1] };
  const bounds = Object.hasOwn(arity, fn) ? arity[fn] : undefined;
  if (!bounds) return { ok: false, error: `unknown range function "${fn}" (use from, between, within, last or a date)` };
  if (args.length < bounds[0] || args.length > bounds[1] || args.some((a) => a === '')) {
    return { ok: false, error: `${fn}() takes ${bounds[0] === bounds[1] ? bounds[0] : `${bounds[0]} or ${bounds[1]}`} arguments` };
  }

  let tz = ctx.timeZone;
  const tzArg = args.length > (fn === 'between' ? 2 : 1) ? args.pop() : undefined;
  if (tzArg !== undefined) {
    const z = checkTimeZone(tzArg.replace(/^(["'])(.*)\1$/, '$2'));
    if (!z.ok) return z;
    tz = z.timeZone;
  }
  const { nowMs, calendar } = ctx;
  const currentEnd = (): number => calendar.nextBucket(calendar.bucketStart(nowMs, tz), tz);

  const result = (from: number, to: number): RangeResult =>
    to > from ? { ok: true, range: { from, to }, timeZone: tz } : { ok: false, error: `_range "${src}" is empty: its end is not after its start` };

  if (fn === 'last') {
    const n = Number(args[0]);
    if (!Number.isInteger(n) || n < 1 || n > MAX_LAST) return { ok: false, error: `last(n) expects a whole number 1-${MAX_LAST}` };
    let start = calendar.bucketStart(nowMs, tz);
    for (let i = 1; i < n; i++) start = calendar.previousBucket(start, tz);
    return result(start, currentEnd());
  }
  const first = parseDatePeriod(args[0] ?? '', nowMs, tz);
  if (!first.ok) return first;
  if (fn === 'from') {
    const end = currentEnd();
    return first.start < end ? result(first.start, end) : { ok: false, error: `_range "${src}" starts in the future` };
  }
  if (fn === 'within') return result(first.start, first.end);
  const second = parseDatePeriod(args[1] ?? '', nowMs, tz);
  if (!second.ok) return second;
  return result(first.start, second.end);
}
