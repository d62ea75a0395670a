/**
 * Azion v3 `date_from` / `date_to`: `YYYY-MM-DDThh:mm` (local time of the configured zone),
 * `YYYY-MM-DDThh:mmZ` (UTC), either with a space for `T`; `date_from` may instead be a relative
 * `last-*` range (then `date_to` is ignored) and `date_to` may be `now` (the default).
 * Failures are values carrying the reason shown to the client.
 */
import { wallTimeToEpochMs } from '../../model/time-zone.ts';

/** The relative ranges of `date_from`, in seconds. */
export const RELATIVE_RANGES: Readonly<Record<string, number>> = {
  'last-hour': 3600,
  'last-3-hours': 3 * 3600,
  'last-6-hours': 6 * 3600,
  'last-24-hours': 24 * 3600,
  'last-3-days': 3 * 86_400,
  'last-7-days': 7 * 86_400,
  'last-15-days': 15 * 86_400,
  'last-30-days': 30 * 86_400,
};

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

/** One instant, and the zone its text was written in (UTC for a `Z` date). */
export interface ParsedDate {
  epochMs: number;
  zone: string;
}

export type AzionRange =
  /** Explicit dates: [fromMs, toMs). */
  | { kind: 'absolute'; fromMs: number; toMs: number; zone: string }
  /** `last-*`: the `seconds` up to `nowMs`. */
  | { kind: 'relative'; seconds: number; nowMs: number; zone: string };

const DATE_FORM = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(Z?)$/;

const daysInMonth = (year: number, month: number): number => new Date(Date.UTC(year, month, 0)).getUTCDate();

/** Parses one `YYYY-MM-DDThh:mm[Z]` date. */
export function parseAzionDate(raw: string, timeZone: string): Parsed<ParsedDate> {
  const m = DATE_FORM.exec(raw);
  if (!m) return { ok: false, reason: `"${raw}" is not YYYY-MM-DDThh:mm or YYYY-MM-DDThh:mmZ` };
  const [year, month, day, hour, minute] = m.slice(1, 6).map(Number) as [number, number, number, number, number];
  if (year < 1970) return { ok: false, reason: `"${raw}": the year must be 1970 or later` };
  if (month < 1 || month > 12) return { ok: false, reason: `"${raw}": no month ${month}` };
  if (day < 1 || day > daysInMonth(year, month)) return { ok: false, reason: `"${raw}": no day ${day} in that month` };
  if (hour > 23 || minute > 59) return { ok: false, reason: `"${raw}": no time ${m[4]}:${m[5]}` };
  const wall = { year, month, day, hour, minute };
  if (m[6] === 'Z') return { ok: true, value: { epochMs: Date.UTC(year, month - 1, day, hour, minute), zone: 'UTC' } };
  return { ok: true, value: { epochMs: wallTimeToEpochMs(wall, timeZone), zone: timeZone } };
}

export interface DateParams {
  date_from?: string | undefined;
  date_to?: string | undefined;
}

/** Parses the pair of date parameters against the current time and the configured zone. */
export function parseAzionRange(params: DateParams, nowMs: number, timeZone: string): Parsed<AzionRange> {
  const { date_from: rawFrom, date_to: rawTo } = params;
  if (rawFrom === undefined || rawFrom === '') return { ok: false, reason: 'date_from is required' };
  const relative = RELATIVE_RANGES[rawFrom];
  if (relative !== undefined) return { ok: true, value: { kind: 'relative', seconds: relative, nowMs, zone: timeZone } };

  const from = parseAzionDate(rawFrom, timeZone);
  if (!from.ok) return { ok: false, reason: `date_from ${from.reason}, nor one of ${Object.keys(RELATIVE_RANGES).join(', ')}` };
  let toMs = nowMs;
  if (rawTo !== undefined && rawTo !== '' && rawTo !== 'now') {
    const to = parseAzionDate(rawTo, timeZone);
    if (!to.ok) return { ok: false, reason: `date_to ${to.reason}, nor "now"` };
    toMs = to.value.epochMs;
  }
  if (from.value.epochMs > toMs) return { ok: false, reason: 'date_from is after date_to' };
  return { ok: true, value: { kind: 'absolute', fromMs: from.value.epochMs, toMs, zone: from.value.zone } };
}
