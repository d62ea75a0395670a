/**
 * The date forms access logs write, to Unix seconds: nginx `$time_local`
 * (`10/Oct/2000:13:55:36 -0700`), ISO 8601 with a `±HH:MM` or `±HHMM` zone or `Z` (nginx
 * `$time_iso8601`, Fastly's `%Y-%m-%dT%H:%M:%S%z`), and `$msec`-style Unix seconds. Logs repeat
 * the same second line after line, so each parser keeps the last text it decoded.
 */

const MONTHS: Readonly<Record<string, number>> = { Jan: 1, Feb: 2, Mar: 3, Apr: 4, May: 5, Jun: 6, Jul: 7, Aug: 8, Sep: 9, Oct: 10, Nov: 11, Dec: 12 };

const TIME_LOCAL = /^(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/;
const ISO = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$/;

function utcSeconds(y: number, mo: number, d: number, h: number, mi: number, s: number): number {
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 60) return NaN;
  const ms = Date.UTC(y, mo - 1, d, h, mi, Math.min(s, 59));
  // Date.UTC rolls 31 Feb over into March: a date that does not exist is refused instead.
  if (new Date(ms).getUTCDate() !== d) return NaN;
  return ms / 1000;
}

const offset = (sign: string | undefined, hh: string | undefined, mm: string | undefined): number =>
  sign === undefined ? 0 : (sign === '-' ? -1 : 1) * (Number(hh) * 3600 + Number(mm) * 60);

/** `10/Oct/2000:13:55:36 -0700` to Unix seconds, NaN when it is not that. */
export function parseTimeLocal(text: string): number {
  const m = TIME_LOCAL.exec(text);
  if (!m) return NaN;
  const month = MONTHS[m[2] as string];
  if (month === undefined) return NaN;
  const t = utcSeconds(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  return t - offset(m[7], m[8], m[9]);
}

/** ISO 8601 / RFC 3339 date-time with a zone to Unix seconds (fraction kept), NaN when it is not that. */
export function parseIsoTime(text: string): number {
  const m = ISO.exec(text);
  if (!m) return NaN;
  const t = utcSeconds(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  const fraction = m[7] === undefined ? 0 : Number(`0${m[7]}`);
  return t + fraction - (m[8] === undefined ? offset(m[9], m[10], m[11]) : 0);
}

/** Unix seconds with an optional fraction (`1700000000.123`), NaN when it is not that. */
export function parseUnixSeconds(text: string): number {
  return /^\d{1,12}(\.\d+)?$/.test(text) ? Number(text) : NaN;
}

/** A parser that remembers its last input: a log has thousands of lines per second. */
export function cachedTimeParser(parse: (text: string) => number): (text: string) => number {
  let lastText = '';
  let lastValue = NaN;
  return (text) => {
    if (text === lastText) return lastValue;
    lastText = text;
    lastValue = parse(text);
    return lastValue;
  };
}
