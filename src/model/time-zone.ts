/**
 * Time-zone arithmetic on epoch milliseconds with the built-in Intl data (no dependency), shared
 * by the API dialects: Azion reads dates without `Z` as local time of the configured zone and
 * shows `human_readable` minutes in a zone; ODSL buckets by local calendar and renders ISO
 * times with an offset. "Wall" numbers are local date-times encoded as if they were UTC epoch
 * milliseconds, so the Date.UTC / getUTC* functions do local calendar arithmetic.
 */

const MINUTE = 60_000;
const DAY_MS = 86_400_000;
const MAX_CACHED_OFFSETS = 100_000;

/** A wall-clock minute: year, month 1-12, day, hour 0-23, minute. */
export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

interface WallParts extends WallTime {
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const offsetCache = new Map<string, Map<number, number>>();

function isUtc(tz: string): boolean {
  return tz === 'UTC' || tz === 'Etc/UTC' || tz === 'Z';
}

function formatterOf(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    // Throws RangeError for an unknown zone: isValidTimeZone and checkTimeZone rely on it.
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Whether Intl knows the zone (Azion: no aliases, any name Intl accepts). */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatterOf(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The zone's canonical name, or an error when Intl does not know it (ODSL: `Z` and `Etc/UTC` are UTC). */
export function checkTimeZone(tz: string): { ok: true; timeZone: string } | { ok: false; error: string } {
  if (isUtc(tz)) return { ok: true, timeZone: 'UTC' };
  if (tz.length > 64 || !/^[A-Za-z0-9_+\-/]+$/.test(tz)) return { ok: false, error: `unknown time zone "${tz.slice(0, 64)}"` };
  try {
    formatterOf(tz);
    return { ok: true, timeZone: tz };
  } catch {
    return { ok: false, error: `unknown time zone "${tz}" (use an IANA name such as Europe/Berlin)` };
  }
}

function wallPartsAt(epochMs: number, timeZone: string): WallParts {
  const parts: Record<string, number> = {};
  for (const p of formatterOf(timeZone).formatToParts(new Date(epochMs))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return {
    year: parts['year'] ?? 1970,
    month: parts['month'] ?? 1,
    day: parts['day'] ?? 1,
    hour: parts['hour'] ?? 0,
    minute: parts['minute'] ?? 0,
    second: parts['second'] ?? 0,
  };
}

/**
 * The zone's offset from UTC at an instant, in ms (Berlin in summer: +7,200,000), exact to the
 * second: some transitions fall inside a minute (Monrovia 1972 moved from -0:44:30 at 00:44:30 UTC).
 */
export function offsetAt(epochMs: number, timeZone: string): number {
  const w = wallPartsAt(epochMs, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - (epochMs - (((epochMs % 1000) + 1000) % 1000));
}

/**
 * Offset (ms, local minus UTC) of `tz` at instant `ms`, taken at the start of its minute and
 * cached per minute: ODSL bucketing calls this once or twice per point, and the rare
 * transition inside a minute is read from the minute after it.
 */
export function offsetMs(ms: number, tz: string): number {
  if (isUtc(tz)) return 0;
  let cache = offsetCache.get(tz);
  if (!cache) {
    cache = new Map();
    offsetCache.set(tz, cache);
  }
  const key = Math.floor(ms / MINUTE);
  let off = cache.get(key);
  if (off === undefined) {
    off = offsetAt(key * MINUTE, tz);
    if (cache.size >= MAX_CACHED_OFFSETS) cache.clear();
    cache.set(key, off);
  }
  return off;
}

/** The local wall-clock time of an instant (ODSL's cached offsets). */
export const toWall = (ms: number, tz: string): number => ms + offsetMs(ms, tz);

/**
 * The instant of a wall time, given the zone's offset function. Temporal's `compatible` rule,
 * as java.time does too: a time repeated when clocks go back is the earlier instant; a time
 * skipped when clocks go forward is read with the offset before the change (02:30 on the day
 * Berlin skips 02:00-03:00 is 03:30 CEST).
 */
function instantOfWall(wall: number, offsetOf: (ms: number) => number): number {
  // At most one transition within a day of any wall time in every real zone.
  const before = offsetOf(wall - DAY_MS);
  const after = offsetOf(wall + DAY_MS);
  if (before !== after) {
    const candidates = [wall - before, wall - after].sort((a, b) => a - b);
    for (const c of candidates) if (c + offsetOf(c) === wall) return c;
  }
  return wall - before;
}

/** The instant a wall-clock minute names in a zone (Azion: exact offsets, see instantOfWall). */
export function wallTimeToEpochMs(wall: WallTime, timeZone: string): number {
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute);
  return instantOfWall(asUtc, (t) => offsetAt(t, timeZone));
}

/** The instant of a local wall-clock time (ODSL: cached offsets, see instantOfWall). */
export function fromWall(wall: number, tz: string): number {
  if (isUtc(tz)) return wall;
  return instantOfWall(wall, (t) => offsetMs(t, tz));
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** "YYYY-MM-DD hh:mm" of an instant in a zone: Azion's `human_readable` form. */
export function formatWallMinute(epochMs: number, timeZone: string): string {
  const w = wallPartsAt(epochMs, timeZone);
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)} ${pad(w.hour)}:${pad(w.minute)}`;
}

/** ISO-8601 in the zone's local time with its offset (`Z` when the offset is zero); ms only when non-zero. */
export function formatZoned(ms: number, tz: string): string {
  const off = offsetMs(ms, tz);
  const d = new Date(ms + off);
  const frac = d.getUTCMilliseconds() === 0 ? '' : `.${pad(d.getUTCMilliseconds(), 3)}`;
  const base =
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` +
    `T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${frac}`;
  if (off === 0) return `${base}Z`;
  const abs = Math.abs(off) / MINUTE;
  return `${base}${off < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}
