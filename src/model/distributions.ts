/**
 * The distributions of a per-second record (edge time, origin time, object size) as additive
 * bucket counters, so they merge exactly across seconds, tiers and nodes like every other field.
 *
 * Buckets are half-open intervals [lower, next lower) whose bounds grow by at most 1% (the
 * logarithmic mapping of DDSketch with relative accuracy 1%), with every integer below
 * EXACT_BELOW added as a bound of its own. A percentile is served as the lower bound of the
 * bucket holding it, so:
 *   - it is within 1% of the true value (x in [L, U) with U <= 1.01 L: (x - L) / x < 1%), and
 *     never above it;
 *   - it is exact for every integer below EXACT_BELOW (times in whole ms, small objects), since
 *     such an integer is a lower bound.
 * Outside the range: a time below 1 microsecond counts as 0; a value above `max` counts in the
 * last bucket and is served as `max` (docs/decisions.md "Percentile buckets", docs/events.md).
 *
 * A record's distribution vector holds the buckets of several distributions side by side, each
 * at its `offset`: the `edgeDist` vector (per edge key) is [edge_time | origin_time | object_size],
 * the `originDist` vector (per origin key) is [origin_time].
 */

import { HLL_CELLS, estimateClients } from './unique-clients.ts';

/** Relative accuracy of a served percentile. */
export const RELATIVE_ACCURACY = 0.01;
/** Integers below this are bucket bounds of their own: exact. */
export const EXACT_BELOW = 1024;

export type DistributionName = 'edge_time' | 'origin_time' | 'object_size';

/** The percentiles served for each distribution: `<name>_p50` ... `<name>_p999`. */
export const PERCENTILES = [
  ['p50', 500],
  ['p90', 900],
  ['p95', 950],
  ['p99', 990],
  ['p999', 999],
] as const;

export interface BucketLayout {
  /** Lower bound of each bucket, ascending; bucket i is [bounds[i], bounds[i + 1]) and the last one is [max, +inf). */
  readonly bounds: Float64Array;
  /** Values up to here keep their 1% (above: the last bucket). */
  readonly max: number;
  /** Bucket of a value >= 0 (anything below bounds[1] is bucket 0, NaN too). */
  bucketOf(value: number): number;
}

/**
 * Bounds from 0, then `min`, growing by 1%, up to `max`, with the integers below EXACT_BELOW.
 * `integers`: the values are whole numbers, so below EXACT_BELOW the integers alone are the bounds.
 */
function createLayout(min: number, max: number, integers: boolean): BucketLayout {
  const ratio = 1 + RELATIVE_ACCURACY;
  const set = new Set<number>([0]);
  for (let n = 1; n < EXACT_BELOW; n++) if (n >= min) set.add(n);
  // Integer steps of the exponent keep every geometric bound reproducible from its index.
  const lnRatio = Math.log(ratio);
  const firstExp = Math.ceil(Math.log(integers ? EXACT_BELOW : min) / lnRatio);
  const lastExp = Math.floor(Math.log(max) / lnRatio);
  for (let e = firstExp; e <= lastExp; e++) set.add(Math.exp(e * lnRatio));
  set.add(min);
  set.add(max);
  const bounds = Float64Array.from([...set].filter((b) => b >= 0 && b <= max).sort((a, b) => a - b));
  // The geometric bounds from EXACT_BELOW on have no integer among them: bucket = guess by log, then fix by a step.
  const firstGeometric = bounds.findIndex((b) => b >= EXACT_BELOW);
  const geometricFrom = firstGeometric < 0 ? Number.POSITIVE_INFINITY : (bounds[firstGeometric] as number);
  const geometricExp0 = Math.ceil(Math.log(EXACT_BELOW) / lnRatio);
  const last = bounds.length - 1;
  const search = (v: number, lo: number, hi: number): number => {
    // Largest i in [lo, hi] with bounds[i] <= v (bounds[lo] <= v holds).
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if ((bounds[mid] as number) <= v) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  return {
    bounds,
    max,
    bucketOf(value) {
      if (!(value >= (bounds[1] as number))) return 0;
      if (value >= max) return last;
      if (value < geometricFrom) return search(value, 0, firstGeometric < 0 ? last : firstGeometric);
      let i = firstGeometric + Math.floor(Math.log(value) / lnRatio) - geometricExp0;
      if (i < firstGeometric) i = firstGeometric;
      if (i > last) i = last;
      while (i > firstGeometric && (bounds[i] as number) > value) i--;
      while (i < last && (bounds[i + 1] as number) <= value) i++;
      return i;
    },
  };
}

/** Milliseconds: 1 microsecond to one day. */
export const TIME_LAYOUT: BucketLayout = createLayout(0.001, 86_400_000, false);
/** Bytes: 1 byte to 2^40 (the per-event byte cap of events.md). */
export const SIZE_LAYOUT: BucketLayout = createLayout(1, 2 ** 40, true);

export interface DistributionSlice {
  readonly name: DistributionName;
  readonly layout: BucketLayout;
  /** Index of its first bucket in the record's distribution vector. */
  readonly offset: number;
}

const slices = (names: readonly DistributionName[]): DistributionSlice[] => {
  let offset = 0;
  return names.map((name) => {
    const layout = name === 'object_size' ? SIZE_LAYOUT : TIME_LAYOUT;
    const slice = { name, layout, offset };
    offset += layout.bounds.length;
    return slice;
  });
};

/** The distributions of an edge key, in vector order. */
export const EDGE_DISTRIBUTIONS: readonly DistributionSlice[] = slices(['edge_time', 'origin_time', 'object_size']);
/** The distributions of an origin key (its fetches' origin time). */
export const ORIGIN_DISTRIBUTIONS: readonly DistributionSlice[] = slices(['origin_time']);

const widthOfSlices = (s: readonly DistributionSlice[]): number => s.reduce((n, d) => n + d.layout.bounds.length, 0);
/**
 * Where an edge row's unique-client cells (unique-clients.ts) start in its distribution vector:
 * after the buckets of EDGE_DISTRIBUTIONS, HLL_CELLS of them.
 */
export const CLIENT_CELLS_OFFSET = widthOfSlices(EDGE_DISTRIBUTIONS);
/** The edge distribution vector: the three bucket slices, then the unique-client cells. */
export const EDGE_DIST_WIDTH = CLIENT_CELLS_OFFSET + HLL_CELLS;

/** A span [from, to) of distribution indexes: what a read needs of the vector. */
export interface IdRange {
  readonly from: number;
  readonly to: number;
}
/** The percentile buckets (of either kind: an origin vector has only buckets). */
export const PERCENTILE_IDS: IdRange = { from: 0, to: CLIENT_CELLS_OFFSET };
/** The unique-client cells of an edge vector. */
export const CLIENT_CELL_IDS: IdRange = { from: CLIENT_CELLS_OFFSET, to: EDGE_DIST_WIDTH };
export const ORIGIN_DIST_WIDTH = widthOfSlices(ORIGIN_DISTRIBUTIONS);

/** The slice of `name` in `slicesOf`, or undefined. */
export const sliceOf = (slicesOf: readonly DistributionSlice[], name: DistributionName): DistributionSlice | undefined =>
  slicesOf.find((s) => s.name === name);

/** How many values `slice` counted in sparse counts (`ids` indexes into the distribution vector). */
function countIn(slice: DistributionSlice, ids: ArrayLike<number>, counts: ArrayLike<number>): number {
  const from = slice.offset;
  const to = from + slice.layout.bounds.length;
  let total = 0;
  for (let k = 0; k < ids.length; k++) {
    const id = ids[k] as number;
    if (id >= from && id < to) total += counts[k] as number;
  }
  return total;
}

/**
 * A percentile (`perMille` 500 = p50) of one distribution from sparse bucket counts: the lower
 * bound of the bucket holding the value of rank ceil(perMille * n / 1000) (nearest rank), or
 * undefined when it counted nothing. `ids` ascending, indexes into the record's distribution
 * vector; `counts` beside them (whole numbers: the rank is computed exactly).
 */
export function quantileOf(slice: DistributionSlice, ids: ArrayLike<number>, counts: ArrayLike<number>, perMille: number): number | undefined {
  const from = slice.offset;
  const to = from + slice.layout.bounds.length;
  const total = countIn(slice, ids, counts);
  if (total <= 0) return undefined;
  const rank = Math.max(1, Math.ceil((perMille * total) / 1000));
  let seen = 0;
  for (let k = 0; k < ids.length; k++) {
    const id = ids[k] as number;
    if (id < from || id >= to) continue;
    seen += counts[k] as number;
    if (seen >= rank) return slice.layout.bounds[id - from] as number;
  }
  return slice.layout.bounds[slice.layout.bounds.length - 1] as number;
}

/** The percentile field names of `slices`, in order: `<slice>_p50` ... `<slice>_p999` for each. */
/** One percentile of one distribution: its served name, the slice it ranks and its rank (per mille). */
export interface PercentileDef {
  name: string;
  slice: DistributionSlice;
  perMille: number;
}

/** `<slice>_p50` ... `<slice>_p999` for each of `slices`, in order. */
export const percentileDefs = (slices: readonly DistributionSlice[]): readonly PercentileDef[] =>
  slices.flatMap((slice) => PERCENTILES.map(([p, perMille]) => ({ name: `${slice.name}_${p}`, slice, perMille })));

export const percentileNames = (slices: readonly DistributionSlice[]): readonly string[] => percentileDefs(slices).map((d) => d.name);
/** edge_time_p50 ... object_size_p999: what an edge record serves. */
export const EDGE_PERCENTILE_NAMES = percentileNames(EDGE_DISTRIBUTIONS);
/** origin_time_p50 ... origin_time_p999: what an origin (Origin Inspector) record serves. */
export const ORIGIN_PERCENTILE_NAMES = percentileNames(ORIGIN_DISTRIBUTIONS);

/**
 * Every percentile of every slice (PERCENTILES order within each) from merged counts, `ids`
 * strictly ascending, into out[at, at + slices x PERCENTILES); NaN where a slice counted nothing.
 * One pass per slice.
 */
export function percentilesInto(slices: readonly DistributionSlice[], ids: ArrayLike<number>, counts: ArrayLike<number>, out: Float64Array, at: number): void {
  let o = at;
  for (const slice of slices) {
    const from = slice.offset;
    const to = from + slice.layout.bounds.length;
    const total = countIn(slice, ids, counts);
    if (total <= 0) {
      for (let p = 0; p < PERCENTILES.length; p++) out[o++] = Number.NaN;
      continue;
    }
    let p = 0;
    let rank = Math.max(1, Math.ceil(((PERCENTILES[0] as readonly [string, number])[1] * total) / 1000));
    let seen = 0;
    for (let k = 0; k < ids.length && p < PERCENTILES.length; k++) {
      const id = ids[k] as number;
      if (id < from || id >= to) continue;
      seen += counts[k] as number;
      while (p < PERCENTILES.length && seen >= rank) {
        out[o++] = slice.layout.bounds[id - from] as number;
        p++;
        if (p < PERCENTILES.length) rank = Math.max(1, Math.ceil(((PERCENTILES[p] as readonly [string, number])[1] * total) / 1000));
      }
    }
    for (; p < PERCENTILES.length; p++) out[o++] = slice.layout.max;
  }
}

/** Bucket counts merged from several rows (any order), read back with ids ascending. */
export class BucketCounts {
  private readonly counts = new Map<number, number>();
  add(ids: ArrayLike<number>, counts: ArrayLike<number>): void {
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k] as number;
      this.counts.set(id, (this.counts.get(id) ?? 0) + (counts[k] as number));
    }
  }
  /** Every percentile of `slices`, in percentileDefs(slices) order, in a new array (NaN where a slice counted nothing). */
  percentiles(slices: readonly DistributionSlice[]): Float64Array {
    const out = new Float64Array(slices.length * PERCENTILES.length);
    this.percentilesInto(slices, out, 0);
    return out;
  }
  /** Every percentile of `slices` into out[at...] (percentilesInto). */
  percentilesInto(slices: readonly DistributionSlice[], out: Float64Array, at: number): void {
    const ids = Float64Array.from(this.counts.keys()).sort();
    percentilesInto(slices, ids, Float64Array.from(ids, (id) => this.counts.get(id) as number), out, at);
  }
}

/** Unique clients from an edge distribution vector's sparse counts (`ids` ascending, distribution indexes). */
export function uniqueClientsOf(ids: ArrayLike<number>, counts: ArrayLike<number>): number {
  let from = 0;
  while (from < ids.length && (ids[from] as number) < CLIENT_CELLS_OFFSET) from++;
  const n = ids.length - from;
  const cells = new Float64Array(n);
  const cellCounts = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    cells[k] = (ids[from + k] as number) - CLIENT_CELLS_OFFSET;
    cellCounts[k] = counts[from + k] as number;
  }
  return estimateClients(cells, cellCounts);
}
