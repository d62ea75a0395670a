/**
 * Which tier reads which part of a query's range. Every tier holds exact sums (rollups are sums
 * of the 1 s records), so any split gives the same numbers; the plan reads the fewest rows:
 * the in-memory window for the seconds it holds (never yet-unwritten seconds from the store),
 * then, below it, the coarsest tier whose buckets fit the granularity for the aligned middle,
 * and finer tiers for the unaligned head and tail (the tail of a coarse bucket from a finer
 * tier). Each tier's share must fit its range limit (RTM_MAX_QUERY_RANGE_*).
 */
import { checkQueryRange, type QueryRangeLimits } from './query-range.ts';
import { TIER_SECONDS, TIERS, type Tier } from '../store/store.ts';
import type { Granularity } from './resolve.ts';

export interface Part {
  source: 'window' | 'store';
  tier: Tier;
  /** Inclusive start, Unix seconds. */
  from: number;
  /** Exclusive end. */
  to: number;
}

export interface Plan {
  granularity: Granularity;
  /** Bucket width in seconds; undefined for 'all' (one bucket, the whole range). */
  bucketSeconds: number | undefined;
  /** Parts in time order; together they cover [from, min(to, finalThrough + 1)). */
  parts: Part[];
}

export interface PlanInput {
  from: number;
  to: number;
  granularity: Granularity | 'auto';
  /** Every second <= this one is complete in the sources the plan reads. */
  finalThrough: number;
  /** First second the window holds (it holds all later published ones); undefined when the query cannot read the window. */
  windowFrom: number | undefined;
  limits: QueryRangeLimits;
}

/** 'auto' picks the finest granularity with at most this many buckets. */
export const AUTO_MAX_BUCKETS = 1500;

export function chooseGranularity(from: number, to: number, limits: QueryRangeLimits): Tier {
  const range = to - from;
  for (const tier of TIERS) if (range / TIER_SECONDS[tier] <= AUTO_MAX_BUCKETS && range <= limits[tier]) return tier;
  return '1d';
}

/** [lo, hi) split over `tiers` (coarse to fine, the last one is 1s): aligned middle, finer edges. */
function split(lo: number, hi: number, tiers: readonly Tier[]): Part[] {
  if (lo >= hi) return [];
  const [tier, ...finer] = tiers;
  if (tier === undefined) return [];
  if (finer.length === 0) return [{ source: 'store', tier, from: lo, to: hi }];
  const w = TIER_SECONDS[tier];
  const a = Math.ceil(lo / w) * w;
  const b = Math.floor(hi / w) * w;
  if (a >= b) return split(lo, hi, finer);
  return [...split(lo, a, finer), { source: 'store', tier, from: a, to: b }, ...split(b, hi, finer)];
}

export function planQuery(input: PlanInput): Plan {
  const granularity = input.granularity === 'auto' ? chooseGranularity(input.from, input.to, input.limits) : input.granularity;
  const bucketSeconds = granularity === 'all' ? undefined : TIER_SECONDS[granularity];
  const end = Math.min(input.to, input.finalThrough + 1);
  const windowFrom = input.windowFrom ?? Number.POSITIVE_INFINITY;
  const storeEnd = Math.min(end, windowFrom);
  // Tiers whose buckets nest in the query's buckets, coarsest first.
  const usable = TIERS.filter((t) => bucketSeconds === undefined || bucketSeconds % TIER_SECONDS[t] === 0).reverse();
  const parts = split(input.from, storeEnd, usable);
  const windowStart = Math.max(input.from, windowFrom);
  if (windowStart < end) parts.push({ source: 'window', tier: '1s', from: windowStart, to: end });

  const perTier = new Map<Tier, number>();
  for (const p of parts) if (p.source === 'store') perTier.set(p.tier, (perTier.get(p.tier) ?? 0) + p.to - p.from);
  for (const [tier, seconds] of perTier) {
    checkQueryRange(seconds, tier, input.limits, {
      narrow: 'narrow from/to',
      coarser: granularity === '1d' || granularity === 'all' ? undefined : 'use a coarser granularity (or auto)',
    });
  }
  return { granularity, bucketSeconds, parts };
}
