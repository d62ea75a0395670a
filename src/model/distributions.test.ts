import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EDGE_DISTRIBUTIONS,
  EDGE_DIST_WIDTH,
  EDGE_PERCENTILE_NAMES,
  percentilesInto,
  EXACT_BELOW,
  PERCENTILES,
  RELATIVE_ACCURACY,
  SIZE_LAYOUT,
  TIME_LAYOUT,
  quantileOf,
  type BucketLayout,
  type DistributionSlice,
} from './distributions.ts';

/** Nearest rank: the value of rank ceil(p * n) in sorted order. */
const exactPercentile = (values: readonly number[], perMille: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((perMille * sorted.length) / 1000));
  return sorted[rank - 1] as number;
};

/** Sparse counts (ids ascending) of `values` in `slice`, as a record would hold them. */
const countsOf = (slice: DistributionSlice, values: readonly number[]): { ids: number[]; counts: number[] } => {
  const byId = new Map<number, number>();
  for (const v of values) {
    const id = slice.offset + slice.layout.bucketOf(v);
    byId.set(id, (byId.get(id) ?? 0) + 1);
  }
  const ids = [...byId.keys()].sort((a, b) => a - b);
  return { ids, counts: ids.map((id) => byId.get(id) as number) };
};

const slice = (name: string): DistributionSlice => EDGE_DISTRIBUTIONS.find((s) => s.name === name) as DistributionSlice;

const checkAccuracy = (layout: BucketLayout, served: number, exact: number): void => {
  if (exact >= layout.max) return expect(served).toBe(layout.max);
  if (exact < (layout.bounds[1] as number)) return expect(served).toBe(0);
  expect(served).toBeLessThanOrEqual(exact);
  expect((exact - served) / exact).toBeLessThan(RELATIVE_ACCURACY);
};

describe('distribution buckets', () => {
  it('has ascending bounds growing by at most 1% from 1024 on, and every integer below 1024 as a bound', () => {
    for (const layout of [TIME_LAYOUT, SIZE_LAYOUT]) {
      const b = layout.bounds;
      for (let i = 1; i < b.length; i++) {
        expect(b[i] as number).toBeGreaterThan(b[i - 1] as number);
        if ((b[i - 1] as number) >= EXACT_BELOW - 1) expect((b[i] as number) / (b[i - 1] as number)).toBeLessThanOrEqual(1 + RELATIVE_ACCURACY + 1e-12);
      }
      for (let n = 1; n < EXACT_BELOW; n++) expect(b[layout.bucketOf(n)]).toBe(n);
    }
    // Times: below 1024 the bounds are the integers and the 1% steps together (fractions keep their 1%).
    for (let i = 2; i < TIME_LAYOUT.bounds.length; i++) {
      expect((TIME_LAYOUT.bounds[i] as number) / (TIME_LAYOUT.bounds[i - 1] as number)).toBeLessThanOrEqual(1 + RELATIVE_ACCURACY + 1e-12);
    }
  });

  it('puts every value in the bucket whose bounds hold it', () => {
    fc.assert(
      fc.property(fc.oneof(fc.double({ min: 0, max: 1e8, noNaN: true }), fc.integer({ min: 0, max: 2 ** 40 }).map(Number)), (v) => {
        for (const layout of [TIME_LAYOUT, SIZE_LAYOUT]) {
          const i = layout.bucketOf(v);
          const b = layout.bounds;
          if (v >= layout.max) expect(i).toBe(b.length - 1);
          else if (v < (b[1] as number)) expect(i).toBe(0);
          else {
            expect(b[i] as number).toBeLessThanOrEqual(v);
            expect(b[i + 1] as number).toBeGreaterThan(v);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('serves every percentile within 1% of the exact one (and never above it), for one stream and for merged streams', () => {
    const times = fc.array(fc.oneof(fc.double({ min: 0, max: 3_600_000, noNaN: true }), fc.integer({ min: 0, max: 5000 })), { minLength: 1, maxLength: 400 });
    fc.assert(
      fc.property(times, times, (a, b) => {
        const edge = slice('edge_time');
        // Merging two records' counts is adding them: the merged sketch is the sketch of the union.
        const merged = [...a, ...b];
        const ca = countsOf(edge, a);
        const cb = countsOf(edge, b);
        const sum = new Map<number, number>();
        for (const c of [ca, cb]) c.ids.forEach((id, k) => sum.set(id, (sum.get(id) ?? 0) + (c.counts[k] as number)));
        const ids = [...sum.keys()].sort((x, y) => x - y);
        const counts = ids.map((id) => sum.get(id) as number);
        for (const [, perMille] of PERCENTILES) {
          checkAccuracy(TIME_LAYOUT, quantileOf(edge, ca.ids, ca.counts, perMille) as number, exactPercentile(a, perMille));
          checkAccuracy(TIME_LAYOUT, quantileOf(edge, ids, counts, perMille) as number, exactPercentile(merged, perMille));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('is exact for whole numbers below 1024 (times in ms, small objects)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: EXACT_BELOW - 1 }), { minLength: 1, maxLength: 300 }), (values) => {
        for (const s of [slice('edge_time'), slice('object_size')]) {
          const c = countsOf(s, values);
          for (const [, perMille] of PERCENTILES) expect(quantileOf(s, c.ids, c.counts, perMille)).toBe(exactPercentile(values, perMille));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('reads only its own slice of a record vector, and nothing from an empty one', () => {
    const time = slice('edge_time');
    const size = slice('object_size');
    const t = countsOf(time, [5, 7, 9]);
    const z = countsOf(size, [100_000, 200_000]);
    const ids = [...t.ids, ...z.ids];
    const counts = [...t.counts, ...z.counts];
    expect(quantileOf(time, ids, counts, 500)).toBe(7);
    expect(quantileOf(size, ids, counts, 999)).toBeLessThanOrEqual(200_000);
    expect(quantileOf(size, ids, counts, 999)).toBeGreaterThan(200_000 * (1 - RELATIVE_ACCURACY));
    expect(quantileOf(slice('origin_time'), ids, counts, 500)).toBeUndefined();
  });

  it('counts values outside the range at its ends: times under 1 microsecond as 0, above one day as one day', () => {
    expect(TIME_LAYOUT.bounds[TIME_LAYOUT.bucketOf(0.0004)]).toBe(0);
    expect(TIME_LAYOUT.bounds[TIME_LAYOUT.bucketOf(2 * 86_400_000)]).toBe(86_400_000);
    expect(SIZE_LAYOUT.bounds[SIZE_LAYOUT.bucketOf(2 ** 41)]).toBe(2 ** 40);
  });
});

describe('percentilesInto', () => {
  it('equals quantileOf for every slice and percentile of random sparse counts', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: EDGE_DIST_WIDTH - 1 }), { maxLength: 40 }), fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 40, maxLength: 40 }), (raw, weights) => {
        const ids = Uint16Array.from(raw).sort();
        const counts = Float64Array.from(ids, (_, k) => weights[k] as number);
        const out = new Float64Array(EDGE_PERCENTILE_NAMES.length + 2);
        percentilesInto(EDGE_DISTRIBUTIONS, ids, counts, out, 2);
        let o = 2;
        for (const slice of EDGE_DISTRIBUTIONS) {
          for (const [, perMille] of PERCENTILES) {
            const want = quantileOf(slice, ids, counts, perMille);
            expect(out[o++]).toBe(want ?? Number.NaN);
          }
        }
      }),
    );
  });
});
