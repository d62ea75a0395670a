import { TIERS, type MetricStore } from '../../src/store/store.ts';

/** Per tier, `"<tier> <requests> <responses> <dimension counts>"` summed over everything the store holds: what the fault tests compare. */
export async function storeTotals(store: MetricStore): Promise<string[]> {
  const all = { from: 0, to: 4_000_000_000, filter: {} };
  const out: string[] = [];
  for (const tier of TIERS) {
    const edge = (await store.readEdge({ ...all, tier })).reduce((s, r) => s + (r.values[0] ?? 0), 0);
    const origin = (await store.readOrigin({ ...all, tier })).reduce((s, r) => s + (r.values[0] ?? 0), 0);
    const dim = (await store.readDimension({ ...all, tier })).reduce((s, r) => s + r.count, 0);
    out.push(`${tier} ${edge} ${origin} ${dim}`);
  }
  return out;
}
