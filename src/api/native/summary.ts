/**
 * The handful of figures the dashboard shows, derived from an EDGE_FIELDS vector.
 */
import { edgeFieldIndex } from '../../model/fields.ts';

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

const at = (v: Float64Array, name: string): number => v[edgeFieldIndex.get(name) ?? -1] ?? 0;

/** Derived figures (not stored): bandwidth and the two ratios, as events.md defines them. */
export function deriveSummary(v: Float64Array): Record<string, number> {
  const hit = at(v, 'edge_hit_requests');
  const miss = at(v, 'edge_miss_requests');
  const edgeBytes = at(v, 'edge_resp_header_bytes') + at(v, 'edge_resp_body_bytes');
  const originBytes = at(v, 'origin_fetch_resp_header_bytes') + at(v, 'origin_fetch_resp_body_bytes');
  return {
    bandwidth:
      at(v, 'resp_header_bytes') + at(v, 'resp_body_bytes') + at(v, 'bereq_header_bytes') + at(v, 'bereq_body_bytes'),
    edge_hit_ratio: hit + miss > 0 ? hit / (hit + miss) : 0,
    origin_offload: edgeBytes > 0 ? (edgeBytes - originBytes) / edgeBytes : 0,
  };
}
