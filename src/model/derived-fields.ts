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

/** The stored fields `bandwidth` is the sum of (events.md section 2). */
export const BANDWIDTH_FIELDS: readonly string[] = ['resp_header_bytes', 'resp_body_bytes', 'bereq_header_bytes', 'bereq_body_bytes'];

export interface Derived {
  /** resp_header_bytes + resp_body_bytes + bereq_header_bytes + bereq_body_bytes. */
  bandwidth: number;
  /** edge_hit_requests / (edge_hit_requests + edge_miss_requests); undefined when the divisor is 0. */
  edgeHitRatio: number | undefined;
  /** (E - O) / E over edge and origin-fetch response bytes; undefined when the edge delivered no bytes. */
  originOffload: number | undefined;
}

export function derive(v: Float64Array): Derived {
  return deriveAt(v, 0);
}

/**
 * derive() of the vector at buf[offset, offset + EDGE_FIELDS.length): for readers that sum many
 * vectors into one scratch array (src/api/fastly/render-bytes.ts) and view none of them.
 */
export function deriveAt(buf: Float64Array, offset: number): Derived {
  // No helper closure: this runs for every record of a read.
  const edgeHits = buf[offset + I.edgeHits] ?? 0;
  const lookups = edgeHits + (buf[offset + I.edgeMisses] ?? 0);
  const edgeBytes = (buf[offset + I.edgeRespHeader] ?? 0) + (buf[offset + I.edgeRespBody] ?? 0);
  const originBytes = (buf[offset + I.originRespHeader] ?? 0) + (buf[offset + I.originRespBody] ?? 0);
  return {
    bandwidth: (buf[offset + I.respHeader] ?? 0) + (buf[offset + I.respBody] ?? 0) + (buf[offset + I.bereqHeader] ?? 0) + (buf[offset + I.bereqBody] ?? 0),
    edgeHitRatio: lookups === 0 ? undefined : edgeHits / lookups,
    originOffload: edgeBytes === 0 ? undefined : (edgeBytes - originBytes) / edgeBytes,
  };
}
