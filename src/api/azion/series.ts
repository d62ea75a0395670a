/**
 * Reads one metric series from the store: one query over all buckets of the plan, then one value
 * per bucket, empty buckets 0 (a percentile too).
 */
import { PERCENTILE_IDS, quantileOf } from '../../model/distributions.ts';
import type { MetricStore, RecordFilter } from '../../store/store.ts';
import type { BucketPlan } from './buckets.ts';
import type { Series } from './metrics.ts';

export async function readSeries(store: MetricStore, series: Series, plan: BucketPlan, filter: RecordFilter): Promise<number[]> {
  const sums = new Array<number>(plan.count).fill(0);
  if (plan.count === 0) return sums;
  const query = {
    tier: plan.tier,
    from: plan.start,
    to: plan.start + plan.count * plan.bucketSeconds,
    bucketSeconds: plan.bucketSeconds,
    filter,
  };
  // A store answers bucket starts it was asked for; anything else is ignored, not misplaced.
  const slot = (bucket: number): number | undefined => {
    const i = (bucket - plan.start) / plan.bucketSeconds;
    return Number.isInteger(i) && i >= 0 && i < plan.count ? i : undefined;
  };
  const { reading } = series;
  if (reading.kind === 'edge') {
    for (const row of await store.sumEdge({ ...query, fields: reading.fields })) {
      const i = slot(row.bucket);
      if (i !== undefined) sums[i] = (sums[i] ?? 0) + row.values.reduce((a, b) => a + b, 0);
    }
  } else if (reading.kind === 'dimension') {
    const rows = await store.sumDimension({ ...query, dimension: reading.dimension, values: [reading.value] });
    for (const row of rows) {
      const i = slot(row.bucket);
      if (i !== undefined && row.value === reading.value) sums[i] = (sums[i] ?? 0) + row.count;
    }
  } else if (reading.kind === 'percentile') {
    for (const row of await store.sumDistribution({ ...query, kind: 'edgeDist', ids: PERCENTILE_IDS })) {
      const i = slot(row.bucket);
      if (i !== undefined) sums[i] = quantileOf(reading.slice, row.ids, row.counts, reading.perMille) ?? 0;
    }
  } else {
    const domains = sums.map(() => new Set<string>());
    for (const row of await store.sumEdge({ ...query, fields: ['requests'], groupBy: ['domain'] })) {
      const i = slot(row.bucket);
      const domain = row.group[0];
      if (i !== undefined && domain !== undefined && (row.values[0] ?? 0) > 0) domains[i]?.add(domain);
    }
    domains.forEach((set, i) => (sums[i] = set.size));
  }
  if (series.scale === 'per-second') return sums.map((v) => v / plan.bucketSeconds);
  if (series.scale === 'bits-per-second') return sums.map((v) => (v * 8) / plan.bucketSeconds);
  return sums;
}
