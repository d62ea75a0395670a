/**
 * The CDN provider's metrics that are not sums: the percentiles (`edge_time_p99`, ... as in the
 * native API, events.md "Distributions and percentiles") and `Bandwidth95th`, the 95th
 * percentile of 5-minute bandwidth samples in bits per second (how transit is billed,
 * src/query/bandwidth-p95.ts). Each is one point per calendar bucket, computed from everything
 * in the bucket (the bucket counts merged, or the bucket's samples ranked), so `_observed` has a
 * single value to pick and the p99 of a day is the p99 of the day's requests, not a mix of
 * hourly p99s.
 */
import { EDGE_DISTRIBUTIONS, EDGE_PERCENTILE_NAMES, PERCENTILE_IDS, percentileDefs, quantileOf, type PercentileDef } from '../../model/distributions.ts';
import { createDistributionSums } from '../../model/distribution-sums.ts';
import { Errors, RtmError } from '../../http/errors.ts';
import { bandwidthSamples, nearestRankP95, SAMPLE_SECONDS } from '../../query/bandwidth-p95.ts';
import type { MetricStore, RecordFilter, Tier } from '../../store/store.ts';
import { TIER_SECONDS } from '../../store/store.ts';
import { alignsTo, type Calendar } from './timeseries/calendar.ts';
import type { TimeRange } from './timeseries/range.ts';
import type { Point } from './timeseries/series.ts';

export const BANDWIDTH_P95_METRIC = 'Bandwidth95th';

/** The CDN metrics this module answers. */
export const CDN_DISTRIBUTION_METRICS: readonly string[] = [...EDGE_PERCENTILE_NAMES, BANDWIDTH_P95_METRIC];

const PERCENTILE_OF: ReadonlyMap<string, PercentileDef> = new Map(percentileDefs(EDGE_DISTRIBUTIONS).map((d) => [d.name, d]));

export interface DistributionPointQuery {
  metric: string;
  calendar: Calendar;
  timeZone: string;
  /** Already widened to whole `tier` intervals. */
  range: TimeRange;
  tier: Tier;
  filter: RecordFilter;
  /** Every second <= this one is in the store (bandwidth samples stop there). */
  storedThrough: number;
}

/** Points of a percentile or `Bandwidth95th`, one per calendar bucket with traffic (or samples). */
export async function cdnDistributionPoints(store: Pick<MetricStore, 'sumDistribution' | 'sumEdge'>, q: DistributionPointQuery): Promise<Point[]> {
  return q.metric === BANDWIDTH_P95_METRIC ? bandwidthPoints(store, q) : percentilePoints(store, q);
}

async function percentilePoints(store: Pick<MetricStore, 'sumDistribution'>, q: DistributionPointQuery): Promise<Point[]> {
  const def = PERCENTILE_OF.get(q.metric);
  if (def === undefined) throw new RtmError(Errors.ODSL_UNKNOWN_METRIC, `provider CDN has no metric "${q.metric}"`);
  const width = TIER_SECONDS[q.tier];
  const from = q.range.from / 1000;
  const to = q.range.to / 1000;
  // Where calendar buckets are epoch-aligned multiples of the tier, the store merges whole buckets.
  const period = q.calendar.periodMs / 1000;
  const bucketSeconds = period % width === 0 && alignsTo(q.calendar, q.calendar.periodMs, q.timeZone, q.range.from, q.range.to) ? period : width;
  const rows = await store.sumDistribution({ kind: 'edgeDist', tier: q.tier, from, to, filter: q.filter, bucketSeconds, ids: PERCENTILE_IDS });
  const merged = createDistributionSums();
  for (const row of rows) merged.addRow({ ...row, bucket: q.calendar.bucketStart(row.bucket * 1000, q.timeZone) / 1000 });
  const points: Point[] = [];
  for (const row of merged.rows()) {
    const value = quantileOf(def.slice, row.ids, row.counts, def.perMille);
    // A bucket that counted nothing of this distribution (no origin fetch, say) has no point.
    if (value !== undefined) points.push({ timestamp: Math.max(row.bucket * 1000, q.range.from), value });
  }
  return points;
}

async function bandwidthPoints(store: Pick<MetricStore, 'sumEdge'>, q: DistributionPointQuery): Promise<Point[]> {
  if (!alignsTo(q.calendar, SAMPLE_SECONDS * 1000, q.timeZone, q.range.from, q.range.to)) {
    throw new RtmError(Errors.ODSL_BAD_CALENDAR, `${BANDWIDTH_P95_METRIC} ranks 5-minute samples: use a _calendar of #PT5M or longer`);
  }
  const first = Math.ceil(q.range.from / 1000 / SAMPLE_SECONDS) * SAMPLE_SECONDS;
  const last = Math.min(Math.floor(q.range.to / 1000 / SAMPLE_SECONDS), Math.floor((q.storedThrough + 1) / SAMPLE_SECONDS)) * SAMPLE_SECONDS;
  if (!(last > first)) return [];
  const samples = await bandwidthSamples(store, q.filter, first, last);
  const points: Point[] = [];
  let start = 0;
  while (start < samples.length) {
    const bucket = q.calendar.bucketStart((first + start * SAMPLE_SECONDS) * 1000, q.timeZone);
    const end = Math.min(samples.length, (q.calendar.nextBucket(bucket, q.timeZone) / 1000 - first) / SAMPLE_SECONDS);
    // Every bucket with samples is a point, traffic or not: a quiet day bills 0.
    points.push({ timestamp: Math.max(bucket, first * 1000), value: (nearestRankP95(samples.subarray(start, end)) / SAMPLE_SECONDS) * 8 });
    start = end;
  }
  return points;
}
