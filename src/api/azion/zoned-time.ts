/**
 * Wall-clock time in an IANA zone with the Intl APIs only (no tz dependency): Azion dates
 * without `Z` are local time of the configured zone, and `human_readable` timestamps are shown
 * in the zone the request's dates were given in.
 */

/** A wall-clock minute: year, month 1-12, day, hour 0-23, minute. */
export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    // Throws RangeError for an unknown zone: isValidTimeZone relies on it.
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

export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

interface WallParts extends WallTime {
  second: number;
}

function wallPartsAt(epochMs: number, timeZone: string): WallParts {
  const parts: Record<string, number> = {};
  for (const p of formatterFor(timeZone).formatToParts(new Date(epochMs))) {
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

/** The zone's offset from UTC at an instant, in ms (Berlin in summer: +7,200,000). */
export function offsetAt(epochMs: number, timeZone: string): number {
  const w = wallPartsAt(epochMs, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - (epochMs - (((epochMs % 1000) + 1000) % 1000));
}

const DAY_MS = 86_400_000;

/**
 * The instant a wall-clock time names in a zone. Follows Temporal's `compatible`
 * disambiguation: a time repeated when clocks go back is the earlier instant; a time skipped
 * when clocks go forward is read with the offset before the change (02:30 in a gap that jumps
 * from 02:00 to 03:00 is 03:30 after it).
 */
export function wallTimeToEpochMs(wall: WallTime, timeZone: string): number {
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute);
  // Zone offsets change at most once within a day on either side.
  const before = offsetAt(asUtc - DAY_MS, timeZone);
  const after = offsetAt(asUtc + DAY_MS, timeZone);
  const candidates = [asUtc - before, asUtc - after].filter((t) => t + offsetAt(t, timeZone) === asUtc);
  if (candidates.length > 0) return Math.min(...candidates);
  return asUtc - before;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** "YYYY-MM-DD hh:mm" of an instant in a zone: Azion's `human_readable` form. */
export function formatWallMinute(epochMs: number, timeZone: string): string {
  const w = wallPartsAt(epochMs, timeZone);
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)} ${pad(w.hour)}:${pad(w.minute)}`;
}
