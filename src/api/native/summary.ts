/**
 * The handful of figures the dashboard shows, from an EDGE_FIELDS vector: stored counters plus
 * the derived fields (one rule for every reader: src/model/derived-fields.ts).
 */
import { derive } from '../../model/derived-fields.ts';

export const SUMMARY_FIELDS: readonly string[] = [
  'requests',
  'bandwidth',
  'hits',
  'miss',
  'pass',
  'errors',
  'status_4xx',
  'status_5xx',
  'edge_hit_ratio',
  'origin_offload',
];

/** Derived figures of `v`; an undefined ratio (nothing to divide by) reads as 0 on the dashboard. */
export function deriveSummary(v: Float64Array): Record<string, number> {
  const d = derive(v);
  return { bandwidth: d.bandwidth, edge_hit_ratio: d.edgeHitRatio ?? 0, origin_offload: d.originOffload ?? 0 };
}
