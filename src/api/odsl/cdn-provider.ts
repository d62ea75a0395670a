/**
 * The `CDN` usage provider: traffic per customer from the per-second records and rollups, so an
 * operator bills CDN traffic with the same virtual-timeseries calls as any usage metric.
 *
 * A point is the total of one store interval (the tier): the coarsest of 1 d, 1 h, 1 min, 1 s
 * whose intervals never straddle two calendar buckets in the zone (1 d only for P1D in a zone
 * at UTC+0, 1 h for P1D in Europe/Berlin, 1 min for PT1H in Asia/Kolkata). The range is widened
 * to whole intervals. So `high` of `#P1D` in UTC is the day total; use `#PT1H` for the peak hour.
 * Intervals without traffic have no row and are not points (averages are over active intervals).
 * The requested range must fit that tier's query range (config `maxQueryRangeSeconds`).
 */
import type { FilterNode, FilterValue } from '../../model/usage.ts';
import type { MetricStore, RecordFilter, Tier } from '../../store/store.ts';
import { TIER_SECONDS } from '../../store/store.ts';
import { hasScope, type Principal } from '../../http/auth.ts';
import { Errors, RtmError } from '../../http/errors.ts';
import { checkQueryRange, DEFAULT_MAX_QUERY_RANGE_SECONDS, type QueryRangeLimits } from '../../query/query-range.ts';
import type { FieldType } from './filter.ts';
import { alignsTo, type Calendar } from './timeseries/calendar.ts';
import type { Observed } from './timeseries/observed.ts';
import type { TimeRange } from './timeseries/range.ts';
import type { Point } from './timeseries/series.ts';
import { CDN_DISTRIBUTION_METRICS, cdnDistributionPoints } from './cdn-distribution-points.ts';

export const CDN_PROVIDER = 'CDN';

/** Metric -> the EDGE_FIELDS it sums. */
export const CDN_METRICS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  Requests: ['requests'],
  BytesDelivered: ['resp_header_bytes', 'resp_body_bytes'],
  BytesFromOrigin: ['origin_fetch_resp_header_bytes', 'origin_fetch_resp_body_bytes'],
  CacheHits: ['hits'],
  Errors5xx: ['status_5xx'],
});

/** Every CDN metric: the sums, then the percentiles and Bandwidth95th (cdn-distribution-points.ts). */
export const CDN_METRIC_NAMES: readonly string[] = [...Object.keys(CDN_METRICS), ...CDN_DISTRIBUTION_METRICS];

/** Fields a CDN `_filter` may name (pass to parseEntityFilter as `fields`). */
export const CDN_FILTER_FIELDS: Readonly<Record<string, FieldType>> = Object.freeze({
  service: 'string',
  domain: 'string',
  datacenter: 'string',
});

type KeyLists = { services?: string[]; domains?: string[]; datacenters?: string[] };
const LIST_OF: Readonly<Record<string, keyof KeyLists>> = { service: 'services', domain: 'domains', datacenter: 'datacenters' };

/**
 * A filter as key lists: `and` of `eq` / `in` on service, domain, datacenter. Two conditions on
 * one field intersect. Anything else (or, ne, ranges) is a 400 that says what is supported.
 */
export function cdnKeyLists(filter: FilterNode | undefined): KeyLists {
  const lists: KeyLists = {};
  const unsupported = (): RtmError =>
    new RtmError(Errors.ODSL_BAD_TS_FILTER, 'CDN filters take only equality or $in on service, domain and datacenter, combined with and');
  const walk = (n: FilterNode): void => {
    if (n.op === 'and') return n.args.forEach(walk);
    if (n.op === 'or') throw unsupported();
    let raw: FilterValue[];
    if (n.op === 'in') raw = n.values;
    else if (n.op === 'eq') raw = [n.value];
    else throw unsupported();
    const key = Object.hasOwn(LIST_OF, n.field) ? LIST_OF[n.field] : undefined;
    if (!key) throw unsupported();
    let values = raw.map(String);
    if (key === 'domains') values = values.map((v) => v.toLowerCase());
    const prev = lists[key];
    lists[key] = prev ? prev.filter((v) => values.includes(v)) : [...new Set(values)];
  };
  if (filter) walk(filter);
  return lists;
}

/** The record filter a principal may read: its services only, whatever the filter asks for. */
export function cdnRecordFilter(filter: FilterNode | undefined, principal: Principal): RecordFilter | undefined {
  const lists = cdnKeyLists(filter);
  let services = lists.services;
  if (principal.services !== 'all') {
    const granted = principal.services;
    services = services ? services.filter((s) => granted.has(s)) : [...granted].sort();
  }
  const out: RecordFilter = {};
  if (services) out.services = services;
  if (lists.domains) out.domains = lists.domains;
  if (lists.datacenters) out.datacenters = lists.datacenters;
  // An empty list matches nothing: a service the token cannot read looks like one that does not exist.
  return Object.values(out).some((l: readonly string[]) => l.length === 0) ? undefined : out;
}

const TIERS_COARSE_FIRST: readonly Tier[] = ['1d', '1h', '1m', '1s'];

/** The coarsest tier whose intervals stay inside one calendar bucket over the range. */
export function chooseTier(calendar: Calendar, tz: string, range: TimeRange): Tier {
  return TIERS_COARSE_FIRST.find((t) => alignsTo(calendar, TIER_SECONDS[t] * 1000, tz, range.from, range.to)) ?? '1s';
}

export interface CdnQuery {
  metric: string;
  filter: FilterNode | undefined;
  principal: Principal;
  calendar: Calendar;
  observed: Observed;
  timeZone: string;
  range: TimeRange;
  /** Longest range per tier; default DEFAULT_MAX_QUERY_RANGE_SECONDS. */
  maxRangeSeconds?: QueryRangeLimits;
  /** Every second <= this one is in the store (Bandwidth95th samples stop there). */
  storedThrough(): number;
}

/** Points of a CDN metric and the range they cover (widened to whole tier intervals). */
export async function cdnPoints(store: MetricStore, q: CdnQuery): Promise<{ points: Point[]; range: TimeRange }> {
  const fields = Object.hasOwn(CDN_METRICS, q.metric) ? CDN_METRICS[q.metric] : undefined;
  const distribution = CDN_DISTRIBUTION_METRICS.includes(q.metric);
  if (!fields && !distribution) {
    throw new RtmError(Errors.ODSL_UNKNOWN_METRIC, `provider CDN has no metric "${q.metric}" (known: ${CDN_METRIC_NAMES.join(', ')})`);
  }
  if (!hasScope(q.principal, 'read')) throw new RtmError(Errors.AUTH_FORBIDDEN, 'reading CDN metrics needs the read scope');
  const tier = chooseTier(q.calendar, q.timeZone, q.range);
  checkQueryRange((q.range.to - q.range.from) / 1000, tier, q.maxRangeSeconds ?? DEFAULT_MAX_QUERY_RANGE_SECONDS, {
    narrow: 'narrow _range',
    // A #P1D calendar read from 1 h rows (a zone off UTC) has nothing coarser to offer.
    coarser: q.calendar.code === '#P1D' ? undefined : 'use a coarser _calendar',
  });
  const width = TIER_SECONDS[tier];
  const from = Math.floor(q.range.from / 1000 / width) * width;
  const to = Math.ceil(q.range.to / 1000 / width) * width;
  const range = { from: from * 1000, to: to * 1000 };
  const filter = cdnRecordFilter(q.filter, q.principal);
  if (!filter) return { points: [], range };
  if (!fields) return { points: await cdnDistributionPoints(store, { metric: q.metric, calendar: q.calendar, timeZone: q.timeZone, range, tier, filter, storedThrough: q.storedThrough() }), range };
  // A sum is the same whatever the points are, so let the store add whole calendar buckets when
  // they are fixed, epoch-aligned intervals; other aggregations need the tier's points.
  const period = q.calendar.periodMs / 1000;
  const bucketSeconds =
    q.observed === 'summed' && q.calendar.periodMs % (width * 1000) === 0 && alignsTo(q.calendar, q.calendar.periodMs, q.timeZone, range.from, range.to)
      ? period
      : width;
  const rows = await store.sumEdge({ tier, from, to, filter, bucketSeconds, fields });
  // A store bucket may start before the range; it lies in the same calendar bucket as range.from.
  const points = rows.map((r) => ({ timestamp: Math.max(r.bucket * 1000, range.from), value: r.values.reduce((a, b) => a + b, 0) }));
  return { points, range };
}
