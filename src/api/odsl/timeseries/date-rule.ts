/**
 * ODSL date rules (doc.opendatadsl.com "Date Rule Grammar"): `T[+|-][relative][absolute]`, e.g.
 * `T-1Dh0m0s0` = yesterday 00:00:00. T is now (to the second) in the time zone; the relative
 * part `[nY][nQ][nM][nW][nD][nh][nm][ns]` moves by whole periods (all in the direction of the
 * sign); the absolute part `[Ynnnn][Qn][Mnn][Wnn][Dnn][hnn][mnn][snn]` then sets fields: `Qn`
 * the first month of quarter n, `Wnn` the Monday of ISO week nn of the year, `Dnn` the day of
 * the month. Parts come in that order, each at most once. Arithmetic is on the local calendar
 * and clock (`T-1D` is the same local time yesterday, also across a DST change); a day past the
 * end of a month is clamped to its last day (31 March - 1M = 29 February in a leap year).
 */
import { fromWall, toWall } from '../../../model/time-zone.ts';

const DAY = 86_400_000;
const UNITS = 'YQMWDhms';
const REL = UNITS.split('').map((u) => `(?:(\\d{1,6})${u})?`).join('');
const ABS = UNITS.split('').map((u) => `(?:${u}(\\d{1,4}))?`).join('');
const RULE = new RegExp(`^T([+-])?${REL}${ABS}$`);

export const DATE_RULE_SYNTAX = 'T[+|-][nY][nQ][nM][nW][nD][nh][nm][ns][Ynnnn][Qn][Mnn][Wnn][Dnn][hnn][mnn][snn]';

export type DateRuleResult = { ok: true; ms: number } | { ok: false; error: string };

interface Fields {
  y: number;
  mo: number; // 0-11
  d: number;
  h: number;
  mi: number;
  s: number;
}

const daysInMonth = (y: number, mo: number): number => new Date(Date.UTC(y, mo + 1, 0)).getUTCDate();
const clampDay = (f: Fields): void => {
  f.d = Math.min(f.d, daysInMonth(f.y, f.mo));
};
const toWallMs = (f: Fields): number => Date.UTC(f.y, f.mo, f.d, f.h, f.mi, f.s);
function fromWallMs(wall: number): Fields {
  const d = new Date(wall);
  return { y: d.getUTCFullYear(), mo: d.getUTCMonth(), d: d.getUTCDate(), h: d.getUTCHours(), mi: d.getUTCMinutes(), s: d.getUTCSeconds() };
}

/** Monday (wall ms) of ISO week `week` of ISO year `year`. */
function isoWeekMonday(year: number, week: number): number {
  const jan4 = Date.UTC(year, 0, 4);
  const weekday = (new Date(jan4).getUTCDay() + 6) % 7; // Monday = 0
  return jan4 - weekday * DAY + (week - 1) * 7 * DAY;
}

export function isDateRule(text: string): boolean {
  return /^T([+-]|$|[YQMWDhms])/.test(text);
}

/** Evaluates a date rule at `nowMs` in `tz`; the result is whole seconds. */
export function evaluateDateRule(text: string, nowMs: number, tz: string): DateRuleResult {
  const m = RULE.exec(text);
  const bad = (why: string): DateRuleResult => ({ ok: false, error: `invalid date rule "${text.slice(0, 64)}": ${why}` });
  if (!m) return bad(`expected ${DATE_RULE_SYNTAX}`);
  const num = (i: number): number | undefined => (m[i] === undefined ? undefined : Number(m[i]));
  const rel = UNITS.split('').map((_, i) => num(i + 2));
  const abs = UNITS.split('').map((_, i) => num(i + 2 + UNITS.length));
  const [rY = 0, rQ = 0, rM = 0, rW = 0, rD = 0, rh = 0, rm = 0, rs = 0] = rel;
  const [aY, aQ, aM, aW, aD, ah, am, as] = abs;
  const hasRel = rel.some((v) => v !== undefined);
  if (hasRel && m[1] === undefined) return bad('a relative part needs a sign (T-1D or T+1D)');
  const sign = m[1] === '-' ? -1 : 1;

  const f = fromWallMs(toWall(Math.floor(nowMs / 1000) * 1000, tz));
  // Relative: months (with the day clamped), then days, then the clock.
  const months = f.mo + sign * (12 * rY + 3 * rQ + rM);
  f.y += Math.floor(months / 12);
  f.mo = ((months % 12) + 12) % 12;
  clampDay(f);
  let wall = toWallMs(f) + sign * ((7 * rW + rD) * DAY + rh * 3_600_000 + rm * 60_000 + rs * 1000);
  const g = fromWallMs(wall);

  // Absolute setters, in grammar order.
  if (aY !== undefined) {
    if (aY < 1970 || aY > 9999) return bad(`Y${aY} out of range 1970-9999`);
    g.y = aY;
    clampDay(g);
  }
  if (aQ !== undefined) {
    if (aQ < 1 || aQ > 4) return bad(`Q${aQ} out of range 1-4`);
    g.mo = 3 * (aQ - 1);
    clampDay(g);
  }
  if (aM !== undefined) {
    if (aM < 1 || aM > 12) return bad(`M${aM} out of range 1-12`);
    g.mo = aM - 1;
    clampDay(g);
  }
  if (aW !== undefined) {
    if (aW < 1 || aW > 53) return bad(`W${aW} out of range 1-53`);
    const monday = fromWallMs(isoWeekMonday(g.y, aW));
    g.y = monday.y;
    g.mo = monday.mo;
    g.d = monday.d;
  }
  if (aD !== undefined) {
    if (aD < 1 || aD > 31) return bad(`D${aD} out of range 1-31`);
    g.d = Math.min(aD, daysInMonth(g.y, g.mo));
  }
  const clock: [number | undefined, number, string][] = [
    [ah, 23, 'h'],
    [am, 59, 'm'],
    [as, 59, 's'],
  ];
  for (const [v, max, unit] of clock) if (v !== undefined && v > max) return bad(`${unit}${v} out of range 0-${max}`);
  if (ah !== undefined) g.h = ah;
  if (am !== undefined) g.mi = am;
  if (as !== undefined) g.s = as;
  wall = toWallMs(g);
  if (!Number.isFinite(wall) || g.y < 1970 || g.y > 9999) return bad('the date falls outside the years 1970-9999');
  return { ok: true, ms: fromWall(wall, tz) };
}
