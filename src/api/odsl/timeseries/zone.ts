/**
 * Time-zone arithmetic on epoch milliseconds with the built-in Intl data (no dependency): the
 * offset of a zone at an instant, the instant of a local wall-clock time, and ISO rendering.
 * "Wall" values are local date-times encoded as if they were UTC epoch milliseconds, so the
 * Date.UTC / getUTC* functions do local calendar arithmetic.
 */

const MINUTE = 60_000;
const HOUR = 3_600_000;

const formatters = new Map<string, Intl.DateTimeFormat>();
const offsetCache = new Map<string, Map<number, number>>();
const MAX_CACHED_OFFSETS = 100_000;

function isUtc(tz: string): boolean {
  return tz === 'UTC' || tz === 'Etc/UTC' || tz === 'Z';
}

function formatterOf(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** The zone's canonical name, or an error when Intl does not know it. */
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

function computeOffset(ms: number, tz: string): number {
  const second = Math.floor(ms / 1000) * 1000;
  const parts = formatterOf(tz).formatToParts(new Date(second));
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return wall - second;
}

/**
 * Offset (ms, local minus UTC) of `tz` at instant `ms`. Cached per minute: zones change offset
 * on minute boundaries, and bucketing calls this once or twice per point.
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
    off = computeOffset(key * MINUTE, tz);
    if (cache.size >= MAX_CACHED_OFFSETS) cache.clear();
    cache.set(key, off);
  }
  return off;
}

/** The local wall-clock time of an instant. */
export const toWall = (ms: number, tz: string): number => ms + offsetMs(ms, tz);

/**
 * The instant of a local wall-clock time. In a fall-back overlap the earlier instant wins; a time
 * in a spring-forward gap moves forward by the gap (02:30 on the day Berlin skips 02:00-03:00
 * is 03:30 CEST), as java.time and Temporal do.
 */
export function fromWall(wall: number, tz: string): number {
  if (isUtc(tz)) return wall;
  // At most one transition within a day of any wall time in every real zone.
  const before = offsetMs(wall - 24 * HOUR, tz);
  const after = offsetMs(wall + 24 * HOUR, tz);
  const candidates = before === after ? [wall - before] : [wall - before, wall - after].sort((a, b) => a - b);
  for (const c of candidates) if (c + offsetMs(c, tz) === wall) return c;
  return wall - before;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

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
