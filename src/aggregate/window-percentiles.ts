/**
 * The percentile fields (distributions.ts) of one service's second in the window, grouped the
 * way the real-time APIs show them: over the whole service and per datacenter (channel), per
 * domain and per (datacenter, domain) (Domain Inspector), and of its origin rows per backend and
 * per (datacenter, backend) (Origin Inspector). Each group's values are one Float64Array in
 * EDGE_PERCENTILE_NAMES (ORIGIN_PERCENTILE_NAMES) order, NaN where nothing was counted.
 */
import { BucketCounts, CLIENT_CELLS_OFFSET, EDGE_DISTRIBUTIONS, EDGE_PERCENTILE_NAMES, ORIGIN_DISTRIBUTIONS, type DistributionSlice } from '../model/distributions.ts';
import type { ChannelPercentiles, DomainPercentiles, OriginPercentiles, PercentileValues } from './realtime-source.ts';
import { RowCursor, type SecondRows, visitVector } from './sparse-rows.ts';

const cursor = new RowCursor();

/** Calls `add(outer, inner, ids, counts)` for each row of the slot. */
function eachRow(rows: SecondRows, slot: number, add: (outer: number, inner: number, ids: number[], counts: number[]) => void): void {
  cursor.count = 0;
  rows.collect(slot, cursor);
  const ids: number[] = [];
  const counts: number[] = [];
  // The buckets follow the counters in each row's vector (model/delta.ts); the client cells after them are not ranked.
  const counters = rows.width;
  const cells = counters + CLIENT_CELLS_OFFSET;
  for (let r = 0; r < cursor.count; r++) {
    ids.length = 0;
    counts.length = 0;
    visitVector(cursor.inTail[r] === 1 ? rows.tailVec : rows.baseVec, cursor.start[r] as number, cursor.end[r] as number, (f, v) => {
      if (f < counters || f >= cells) return;
      ids.push(f - counters);
      counts.push(v);
    });
    if (ids.length === 0) continue;
    add(cursor.outer[r] as number, cursor.inner[r] as number, ids, counts);
  }
}

const counter = <K>(m: Map<K, BucketCounts>, k: K): BucketCounts => {
  let b = m.get(k);
  if (b === undefined) m.set(k, (b = new BucketCounts()));
  return b;
};

export function channelPercentiles(rows: SecondRows, slot: number, names: readonly string[]): ChannelPercentiles {
  const total = new BucketCounts();
  const byOuter = new Map<number, BucketCounts>();
  eachRow(rows, slot, (outer, _inner, ids, counts) => {
    total.add(ids, counts);
    counter(byOuter, outer).add(ids, counts);
  });
  return { aggregated: total.percentiles(EDGE_DISTRIBUTIONS), byDatacenter: new Map([...byOuter].map(([o, b]) => [names[o] as string, b.percentiles(EDGE_DISTRIBUTIONS)])) };
}

/** Per inner key (domain, backend) over all datacenters, and per (datacenter, inner key). */
function nestedPercentiles(rows: SecondRows, slot: number, names: readonly string[], slices: readonly DistributionSlice[]): { byInner: Map<string, PercentileValues>; byDatacenter: Map<string, Map<string, PercentileValues>> } {
  const byInner = new Map<number, BucketCounts>();
  const byLeaf = new Map<number, Map<number, BucketCounts>>();
  eachRow(rows, slot, (outer, inner, ids, counts) => {
    counter(byInner, inner).add(ids, counts);
    let m = byLeaf.get(outer);
    if (m === undefined) byLeaf.set(outer, (m = new Map()));
    counter(m, inner).add(ids, counts);
  });
  return {
    byInner: new Map([...byInner].map(([i, b]) => [names[i] as string, b.percentiles(slices)])),
    byDatacenter: new Map([...byLeaf].map(([o, m]) => [names[o] as string, new Map([...m].map(([i, b]) => [names[i] as string, b.percentiles(slices)]))])),
  };
}

export function domainPercentiles(rows: SecondRows, slot: number, names: readonly string[]): DomainPercentiles {
  const p = nestedPercentiles(rows, slot, names, EDGE_DISTRIBUTIONS);
  return { byDomain: p.byInner, byDatacenter: p.byDatacenter };
}

/** Origin time per backend and per (datacenter, backend), from a second's origin rows. */
export function originPercentiles(rows: SecondRows, slot: number, names: readonly string[]): OriginPercentiles {
  const p = nestedPercentiles(rows, slot, names, ORIGIN_DISTRIBUTIONS);
  return { byBackend: p.byInner, byDatacenter: p.byDatacenter };
}

/** channelPercentiles laid out as BorrowedChannelSecond.percentiles, datacenters in `order`. */
export function borrowedPercentiles(p: ChannelPercentiles, order: readonly string[]): Float64Array {
  const n = EDGE_PERCENTILE_NAMES.length;
  const out = new Float64Array((1 + order.length) * n).fill(Number.NaN);
  out.set(p.aggregated, 0);
  order.forEach((dc, k) => {
    const v = p.byDatacenter.get(dc);
    if (v !== undefined) out.set(v, (1 + k) * n);
  });
  return out;
}
