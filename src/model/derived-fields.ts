/**
 * The per-second fields computed from an EDGE_FIELDS vector's sums when it is read, never stored
 * (events.md section 2): `bandwidth`, `edge_hit_ratio` and `origin_offload`. Every reader (the
 * Fastly renderers, the native API) computes them here, so the rule is written once.
 */
import { edgeIndex } from './fields.ts';


const I = {
  respHeader: edgeIndex('resp_header_bytes'),
  respBody: edgeIndex('resp_body_bytes'),
  bereqHeader: edgeIndex('bereq_header_bytes'),
  bereqBody: edgeIndex('bereq_body_bytes'),
  edgeHits: edgeIndex('edge_hit_requests'),
  edgeMisses: edgeIndex('edge_miss_requests'),
  edgeRespHeader: edgeIndex('edge_resp_header_bytes'),
  edgeRespBody: edgeIndex('edge_resp_body_bytes'),
  originRespHeader: edgeIndex('origin_fetch_resp_header_bytes'),
  originRespBody: edgeIndex('origin_fetch_resp_body_bytes'),
};

const at = (v: Float64Array, i: number): number => v[i] ?? 0;

export interface Derived {
  /** resp_header_bytes + resp_body_bytes + bereq_header_bytes + bereq_body_bytes. */
  bandwidth: number;
  /** edge_hit_requests / (edge_hit_requests + edge_miss_requests); undefined when the divisor is 0. */
  edgeHitRatio: number | undefined;
  /** (E - O) / E over edge and origin-fetch response bytes; undefined when the edge delivered no bytes. */
  originOffload: number | undefined;
}

export function derive(v: Float64Array): Derived {
  const lookups = at(v, I.edgeHits) + at(v, I.edgeMisses);
  const edgeBytes = at(v, I.edgeRespHeader) + at(v, I.edgeRespBody);
  const originBytes = at(v, I.originRespHeader) + at(v, I.originRespBody);
  return {
    bandwidth: at(v, I.respHeader) + at(v, I.respBody) + at(v, I.bereqHeader) + at(v, I.bereqBody),
    edgeHitRatio: lookups === 0 ? undefined : at(v, I.edgeHits) / lookups,
    originOffload: edgeBytes === 0 ? undefined : (edgeBytes - originBytes) / edgeBytes,
  };
}
