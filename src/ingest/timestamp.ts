/**
 * The event's second (events.md: `floor(timestamp)`), from Unix seconds or an RFC 3339
 * date-time. Both forms accept the same range, 1970-01-01T00:00:00Z ..
 * 9999-12-31T23:59:59Z, so a millisecond timestamp sent by mistake (year ~55000) is rejected
 * instead of landing in a second no one will ever query.
 */

export const MIN_SECOND = 0;
/** 9999-12-31T23:59:59Z, the last second RFC 3339 can write. */
export const MAX_SECOND = 253_402_300_799;

/** The second of a numeric timestamp, or -1 when it is not finite or out of range. */
export function secondOfNumber(t: number): number {
  // NaN fails both comparisons.
  if (!(t >= MIN_SECOND && t < MAX_SECOND + 1)) return -1;
  return Math.floor(t);
}

const DIGIT_0 = 48;

function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const d = s.charCodeAt(i) - DIGIT_0;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

function isLeapYear(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/**
 * The second of an RFC 3339 date-time (`2024-11-20T10:00:00Z`, `...T10:00:00.123+02:00`), or -1.
 * Accepts `T`, `t` or a space between date and time (RFC 3339 section 5.6 note) and `Z`/`z`.
 * A leap second (`:60`) counts in the second before it, so the event stays in its minute.
 * The fraction never changes the second: offsets are whole minutes.
 */
export function secondOfRfc3339(s: string): number {
  // YYYY-MM-DDTHH:MM:SS is 19 characters, the shortest zone is 1 more.
  if (s.length < 20 || s.length > 64) return -1;
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return -1;
  const sep = s.charCodeAt(10);
  if (sep !== 84 && sep !== 116 && sep !== 32) return -1; // T t space
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  const hour = digits(s, 11, 2);
  const minute = digits(s, 14, 2);
  let second = digits(s, 17, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59) return -1;
  if (second < 0 || second > 60) return -1;
  if (second === 60) second = 59;
  const monthDays = month === 2 && isLeapYear(year) ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
  if (day > monthDays) return -1;

  let i = 19;
  if (s.charCodeAt(i) === 46) {
    // '.' then at least one digit
    i++;
    const from = i;
    while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
    if (i === from) return -1;
  }
  let offsetSeconds: number;
  const zone = s.charCodeAt(i);
  if (zone === 90 || zone === 122) {
    // Z z
    if (i + 1 !== s.length) return -1;
    offsetSeconds = 0;
  } else if (zone === 43 || zone === 45) {
    // + -
    if (i + 6 !== s.length || s.charCodeAt(i + 3) !== 58) return -1;
    const oh = digits(s, i + 1, 2);
    const om = digits(s, i + 4, 2);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return -1;
    offsetSeconds = (oh * 3600 + om * 60) * (zone === 45 ? -1 : 1);
  } else {
    return -1;
  }
  const t = daysFromCivil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds;
  return t < MIN_SECOND || t > MAX_SECOND ? -1 : t;
}
