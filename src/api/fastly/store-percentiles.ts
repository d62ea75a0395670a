/**
 * The percentile fields of seconds read from the store's 1 s tier (older than the window): the
 * same groups as the window gives (window-percentiles.ts), from sumDistribution rows of one
 * service per (second, datacenter) or (second, datacenter, domain).
 */
import type { ChannelSecond, DomainSecond } from '../../aggregate/realtime-source.ts';
import { BucketCounts, EDGE_DISTRIBUTIONS, EDGE_PERCENTILE_NAMES } from '../../model/distributions.ts';
import type { DistributionRow } from '../../store/store.ts';

const valuesOf = (b: BucketCounts): Float64Array => {
  const out = new Float64Array(EDGE_PERCENTILE_NAMES.length);
  b.percentilesInto(EDGE_DISTRIBUTIONS, out, 0);
  return out;
};

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
    s.percentiles = { aggregated: valuesOf(t), byDatacenter: new Map([...(byDc.get(s.second) ?? [])].map(([dc, b]) => [dc, valuesOf(b)])) };
  }
}

/** Sets `percentiles` on each domain second that has rows (grouped by datacenter, domain). */
export function attachDomainPercentiles(seconds: DomainSecond[], rows: readonly DistributionRow[]): void {
  const byDomain = new Map<number, Map<string, BucketCounts>>();
  const byLeaf = new Map<number, Map<string, Map<string, BucketCounts>>>();
  for (const r of rows) {
    const [dc, domain] = r.group as [string, string];
    counter(nested(byDomain, r.bucket), domain).add(r.ids, r.counts);
    counter(nested(nested(byLeaf, r.bucket), dc), domain).add(r.ids, r.counts);
  }
  for (const s of seconds) {
    const d = byDomain.get(s.second);
    if (d === undefined) continue;
    s.percentiles = {
      byDomain: new Map([...d].map(([domain, b]) => [domain, valuesOf(b)])),
      byDatacenter: new Map([...(byLeaf.get(s.second) ?? [])].map(([dc, m]) => [dc, new Map([...m].map(([domain, b]) => [domain, valuesOf(b)]))])),
    };
  }
}
