/**
 * Buckets of an Azion query: whole buckets aligned to the epoch that cover the range, their size
 * chosen by the range's length (or `granularity`), each read from the coarsest store tier that
 * covers a bucket exactly.
 */
import { TIER_SECONDS, type Tier } from '../../store/store.ts';
import { DEFAULT_MAX_QUERY_RANGE_SECONDS, queryRangeProblem, type QueryRangeLimits } from '../../query/query-range.ts';
import type { AzionRange, Parsed } from './dates.ts';

export const GRANULARITIES: Readonly<Record<string, number>> = {
  minute: 60,
  '5minutes': 300,
  '15minutes': 900,
  hour: 3600,
  day: 86_400,
};

/** Most buckets one query may answer: a month of minutes fits, a year of minutes does not. */
export const MAX_BUCKETS = 50_000;

/** The bucket size a `granularity` parameter asks for; undefined when absent. */
export function parseGranularity(raw: string | undefined): Parsed<number | undefined> {
  if (raw === undefined || raw === '') return { ok: true, value: undefined };
  const size = Object.hasOwn(GRANULARITIES, raw) ? GRANULARITIES[raw] : undefined;
  if (size === undefined) return { ok: false, reason: `granularity must be one of ${Object.keys(GRANULARITIES).join(', ')}, got "${raw}"` };
  return { ok: true, value: size };
}

/** Bucket size for a range length (seconds), Azion's steps. */
export function bucketSecondsFor(rangeSeconds: number): number {
  if (rangeSeconds <= 3600) return 60;
  if (rangeSeconds <= 6 * 3600) return 300;
  if (rangeSeconds <= 24 * 3600) return 900;
  if (rangeSeconds <= 7 * 86_400) return 3600;
  return 86_400;
}

/** The coarsest tier whose width divides the bucket (every bucket is then a whole number of tier rows). */
export function tierFor(bucketSeconds: number): Tier {
  const coarseFirst: Tier[] = ['1d', '1h', '1m', '1s'];
  return coarseFirst.find((t) => bucketSeconds % TIER_SECONDS[t] === 0) ?? '1s';
}

export interface BucketPlan {
  /** Start of the first bucket, Unix seconds (aligned to the epoch). */
  start: number;
  bucketSeconds: number;
  count: number;
  tier: Tier;
}

/**
 * Plans the buckets of a range. Explicit dates: every bucket that meets [from, to), so the first
 * may start before `date_from`. Relative ranges end at the end of the bucket holding `now`, so
 * `last-hour` by minutes is exactly 60 buckets, the last one the current minute. `fixed` is the
 * `granularity` bucket size, if given. A range (date_to - date_from, or the relative length)
 * longer than `maxRangeSeconds` of the buckets' tier is refused before the bucket count.
 */
export function planBuckets(
  range: AzionRange,
  fixed: number | undefined,
  maxRangeSeconds: QueryRangeLimits = DEFAULT_MAX_QUERY_RANGE_SECONDS,
): Parsed<BucketPlan> {
  let from: number;
  let to: number;
  let size: number;
  if (range.kind === 'relative') {
    size = fixed ?? bucketSecondsFor(range.seconds);
    to = Math.ceil(range.nowMs / 1000 / size) * size;
    from = to - range.seconds;
  } else {
    from = range.fromMs / 1000;
    to = range.toMs / 1000;
    size = fixed ?? bucketSecondsFor(to - from);
  }
  const tier = tierFor(size);
  const tooLong = queryRangeProblem(to - from, tier, maxRangeSeconds, {
    narrow: 'narrow date_from..date_to',
    coarser: tier === '1h' ? 'use granularity=day' : 'use a coarser granularity (hour or day)',
  });
  if (tooLong !== undefined) return { ok: false, reason: tooLong };
  const start = Math.floor(from / size) * size;
  const count = to > from ? Math.ceil((to - start) / size) : 0;
  if (count > MAX_BUCKETS) return { ok: false, reason: `${count} buckets of ${size} s; at most ${MAX_BUCKETS}: use a coarser granularity` };
  return { ok: true, value: { start, bucketSeconds: size, count, tier } };
}
