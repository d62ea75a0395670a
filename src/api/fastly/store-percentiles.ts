/**
 * The percentile fields of seconds read from the store's 1 s tier (older than the window): the
 * same groups as the window gives (window-percentiles.ts), from sumDistribution rows of one
 * service per (second, datacenter), (second, datacenter, domain) or (second, datacenter, backend).
 */
import type { ChannelSecond, DomainSecond, OriginSecond, PercentileValues } from '../../aggregate/realtime-source.ts';
import { BucketCounts, EDGE_DISTRIBUTIONS, ORIGIN_DISTRIBUTIONS, type DistributionSlice } from '../../model/distributions.ts';
import type { DistributionRow } from '../../store/store.ts';

function counter<K>(m: Map<K, BucketCounts>, k: K): BucketCounts {
  let b = m.get(k);
  if (b === undefined) m.set(k, (b = new BucketCounts()));
  return b;
}

function nested<K, V>(m: Map<K, Map<string, V>>, k: K): Map<string, V> {
  let inner = m.get(k);
  if (inner === undefined) m.set(k, (inner = new Map()));
  return inner;
}

/** Sets `percentiles` on each channel second that has rows (grouped by datacenter). */
export function attachChannelPercentiles(seconds: ChannelSecond[], rows: readonly DistributionRow[]): void {
  const total = new Map<number, BucketCounts>();
  const byDc = new Map<number, Map<string, BucketCounts>>();
  for (const r of rows) {
    counter(total, r.bucket).add(r.ids, r.counts);
    counter(nested(byDc, r.bucket), r.group[0] as string).add(r.ids, r.counts);
  }
  for (const s of seconds) {
    const t = total.get(s.second);
    if (t === undefined) continue;
    s.percentiles = { aggregated: t.percentiles(EDGE_DISTRIBUTIONS), byDatacenter: new Map([...(byDc.get(s.second) ?? [])].map(([dc, b]) => [dc, b.percentiles(EDGE_DISTRIBUTIONS)])) };
  }
}

type Nested = { byInner: Map<string, PercentileValues>; byDatacenter: Map<string, Map<string, PercentileValues>> };

/** Per second: the percentiles per inner key (domain, backend) and per (datacenter, inner key), from rows grouped by (datacenter, inner). */
function nestedBySecond(rows: readonly DistributionRow[], slices: readonly DistributionSlice[]): Map<number, Nested> {
  const byInner = new Map<number, Map<string, BucketCounts>>();
  const byLeaf = new Map<number, Map<string, Map<string, BucketCounts>>>();
  for (const r of rows) {
    const [dc, inner] = r.group as [string, string];
    counter(nested(byInner, r.bucket), inner).add(r.ids, r.counts);
    counter(nested(nested(byLeaf, r.bucket), dc), inner).add(r.ids, r.counts);
  }
  const out = new Map<number, Nested>();
  for (const [second, d] of byInner) {
    out.set(second, {
      byInner: new Map([...d].map(([inner, b]) => [inner, b.percentiles(slices)])),
      byDatacenter: new Map([...(byLeaf.get(second) ?? [])].map(([dc, m]) => [dc, new Map([...m].map(([inner, b]) => [inner, b.percentiles(slices)]))])),
    });
  }
  return out;
}

/** Sets `percentiles` on each domain second that has rows (grouped by datacenter, domain). */
export function attachDomainPercentiles(seconds: DomainSecond[], rows: readonly DistributionRow[]): void {
  const by = nestedBySecond(rows, EDGE_DISTRIBUTIONS);
  for (const s of seconds) {
    const p = by.get(s.second);
    if (p !== undefined) s.percentiles = { byDomain: p.byInner, byDatacenter: p.byDatacenter };
  }
}

/** Sets `percentiles` on each origin second that has rows (originDist grouped by datacenter, backend). */
export function attachOriginPercentiles(seconds: OriginSecond[], rows: readonly DistributionRow[]): void {
  const by = nestedBySecond(rows, ORIGIN_DISTRIBUTIONS);
  for (const s of seconds) {
    const p = by.get(s.second);
    if (p !== undefined) s.percentiles = { byBackend: p.byInner, byDatacenter: p.byDatacenter };
  }
}
