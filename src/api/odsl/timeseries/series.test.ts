import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CALENDARS, parseCalendar, type Calendar } from './calendar.ts';
import { OBSERVED, parseObserved, type Observed } from './observed.ts';
import { buildVarTimeSeries, type Point } from './series.ts';
import { formatZoned } from '../../../model/time-zone.ts';

const cal = (code: string): Calendar => {
  const r = parseCalendar(code);
  if (!r.ok) throw new Error(r.error);
  return r.calendar;
};
const at = (iso: string): number => Date.parse(iso);

describe('parseObserved', () => {
  it.each([
    ['summed', 'summed'],
    ['sum', 'summed'],
    ['SUM', 'summed'],
    ['averaged', 'averaged'],
    ['high', 'high'],
    ['none', 'none'],
    ['delta', 'delta'],
  ])('%s -> %s', (text, expected) => {
    const r = parseObserved(text);
    expect(r.ok && r.observed).toBe(expected);
  });
  it('rejects an unknown name and lists the known ones', () => {
    const r = parseObserved('median');
    expect(!r.ok && r.error).toBe('unknown observed "median" (use one of summed, averaged, high, low, beginning, end, delta, none, or sum)');
  });
});

describe('buildVarTimeSeries', () => {
  const points: Point[] = [
    { timestamp: at('2024-11-20T00:10:00Z'), value: 5 },
    { timestamp: at('2024-11-20T00:50:00Z'), value: 7 },
    { timestamp: at('2024-11-20T00:20:00Z'), value: 3 },
    { timestamp: at('2024-11-20T02:00:00Z'), value: 10 },
    { timestamp: at('2024-11-21T00:00:00Z'), value: 99 }, // outside the range
  ];
  const range = { from: at('2024-11-20T00:00:00Z'), to: at('2024-11-21T00:00:00Z') };

  it.each<[Observed, number, number]>([
    ['summed', 15, 10],
    ['averaged', 5, 10],
    ['high', 7, 10],
    ['low', 3, 10],
    ['beginning', 5, 10],
    ['end', 7, 10],
    ['delta', 2, 0],
  ])('%s: hour 00 = %d, hour 02 = %d, hour 01 (no points) left out', (observed, first, second) => {
    expect(buildVarTimeSeries(points, { calendar: cal('#PT1H'), observed, range, timeZone: 'UTC' })).toEqual({
      _type: 'VarTimeSeries',
      calendar: '#PT1H',
      timezone: 'UTC',
      observed,
      data: [
        { time: '2024-11-20T00:00:00Z', value: first },
        { time: '2024-11-20T02:00:00Z', value: second },
      ],
    });
  });

  it('none lists the points in time order at their own times', () => {
    const body = buildVarTimeSeries(points, { calendar: cal('#PT1H'), observed: 'none', range, timeZone: 'UTC' });
    expect(body.data).toEqual([
      { time: '2024-11-20T00:10:00Z', value: 5 },
      { time: '2024-11-20T00:20:00Z', value: 3 },
      { time: '2024-11-20T00:50:00Z', value: 7 },
      { time: '2024-11-20T02:00:00Z', value: 10 },
    ]);
  });

  it('renders local times with the offset outside UTC (a 25-hour day in Berlin)', () => {
    const body = buildVarTimeSeries(
      [
        { timestamp: at('2024-10-26T22:00:00Z'), value: 1 },
        { timestamp: at('2024-10-27T22:59:59Z'), value: 2 },
        { timestamp: at('2024-10-27T23:00:00Z'), value: 4 },
      ],
      { calendar: cal('#P1D'), observed: 'summed', range: { from: 0, to: at('2030-01-01T00:00:00Z') }, timeZone: 'Europe/Berlin' },
    );
    expect(body.data).toEqual([
      { time: '2024-10-27T00:00:00+02:00', value: 3 },
      { time: '2024-10-28T00:00:00+01:00', value: 4 },
    ]);
  });
});

/** The reference: every point on its own, grouped with a Map, each bucket reduced the obvious way. */
function naive(points: readonly Point[], calendar: Calendar, observed: Observed, from: number, to: number, tz: string) {
  const kept = points.filter((p) => p.timestamp >= from && p.timestamp < to);
  if (observed === 'none') {
    return [...kept].sort((a, b) => a.timestamp - b.timestamp).map((p) => ({ time: formatZoned(p.timestamp, tz), value: p.value }));
  }
  // UTC buckets are computed without the calendar module at all.
  const bucketOf = (t: number): number => (tz === 'UTC' ? t - (t % calendar.periodMs) : calendar.bucketStart(t, tz));
  const groups = new Map<number, Point[]>();
  for (const p of kept) groups.set(bucketOf(p.timestamp), [...(groups.get(bucketOf(p.timestamp)) ?? []), p]);
  return [...groups.keys()]
    .sort((a, b) => a - b)
    .map((b) => {
      const inBucket = [...(groups.get(b) ?? [])].sort((x, y) => x.timestamp - y.timestamp);
      const v = inBucket.map((p) => p.value);
      let sum = 0;
      for (const x of v) sum += x;
      const value = {
        summed: sum,
        averaged: sum / v.length,
        high: Math.max(...v),
        low: Math.min(...v),
        beginning: v[0],
        end: v[v.length - 1],
        delta: (v[v.length - 1] ?? 0) - (v[0] ?? 0),
      }[observed];
      return { time: formatZoned(b, tz), value };
    });
}

describe('aggregation equals a naive reference', () => {
  const start = at('2024-10-25T00:00:00Z'); // spans the Berlin and New York DST weekends
  const span = 10 * 86_400_000;
  // Distinct timestamps: points at the same instant have no defined first/last.
  const points = fc
    .uniqueArray(fc.integer({ min: 0, max: span - 1 }), { maxLength: 200 })
    .chain((ts) =>
      fc.tuple(fc.constant(ts), fc.array(fc.oneof(fc.integer({ min: -1000, max: 100_000 }), fc.double({ min: -1e6, max: 1e6, noNaN: true })), { minLength: ts.length, maxLength: ts.length })),
    )
    .map(([ts, vs]) => ts.map((t, i) => ({ timestamp: start + t, value: vs[i] ?? 0 })));

  it('for every _observed, calendar and zone', () => {
    fc.assert(
      fc.property(
        points,
        fc.constantFrom(...OBSERVED),
        fc.constantFrom(...Object.keys(CALENDARS)),
        fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata'),
        fc.integer({ min: 0, max: span }),
        fc.integer({ min: 0, max: span }),
        (pts, observed, code, tz, a, b) => {
          const calendar = cal(code);
          const range = { from: start + Math.min(a, b), to: start + Math.max(a, b) };
          const body = buildVarTimeSeries(pts, { calendar, observed, range, timeZone: tz });
          expect(body.data).toEqual(naive(pts, calendar, observed, range.from, range.to, tz));
        },
      ),
      { numRuns: 300 },
    );
  });
});
