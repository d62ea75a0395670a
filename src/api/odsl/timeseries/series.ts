/**
 * Points -> the ODSL `VarTimeSeries` body: points inside the range are grouped into calendar
 * buckets and each bucket becomes one value by `observed`. Buckets without a point are left out
 * (a sparse series, as ODSL shows a missing observation; JSON has no NaN), so an average or a
 * high is never invented for an empty bucket. `none` lists every point at its own time.
 */
import type { Calendar } from './calendar.ts';
import { aggregate, type Observed } from './observed.ts';
import type { TimeRange } from './range.ts';
import { formatZoned } from '../../../model/time-zone.ts';

export interface Point {
  /** Epoch ms. */
  timestamp: number;
  value: number;
}

export interface VarTimeSeriesBody {
  _type: 'VarTimeSeries';
  calendar: string;
  timezone: string;
  observed: Observed;
  data: { time: string; value: number }[];
}

export interface SeriesOptions {
  calendar: Calendar;
  observed: Observed;
  range: TimeRange;
  timeZone: string;
}

/** Groups points in time order (ties keep their input order) and aggregates each bucket. */
export function buildVarTimeSeries(points: readonly Point[], opts: SeriesOptions): VarTimeSeriesBody {
  const { calendar, observed, range, timeZone } = opts;
  const inRange = points
    .filter((p) => p.timestamp >= range.from && p.timestamp < range.to && Number.isFinite(p.value))
    .map((p, i) => ({ p, i }))
    .sort((a, b) => a.p.timestamp - b.p.timestamp || a.i - b.i)
    .map(({ p }) => p);
  const body: VarTimeSeriesBody = { _type: 'VarTimeSeries', calendar: calendar.code, timezone: timeZone, observed, data: [] };
  if (observed === 'none') {
    body.data = inRange.map((p) => ({ time: formatZoned(p.timestamp, timeZone), value: p.value }));
    return body;
  }
  let bucket = Number.NaN;
  let bucketEnd = Number.NaN;
  let values: number[] = [];
  const flush = (): void => {
    if (values.length > 0) body.data.push({ time: formatZoned(bucket, timeZone), value: aggregate(observed, values) });
    values = [];
  };
  for (const p of inRange) {
    // Points are sorted: only look a bucket up when leaving the current one.
    if (!(p.timestamp >= bucket && p.timestamp < bucketEnd)) {
      flush();
      bucket = calendar.bucketStart(p.timestamp, timeZone);
      bucketEnd = calendar.nextBucket(bucket, timeZone);
    }
    values.push(p.value);
  }
  flush();
  return body;
}
