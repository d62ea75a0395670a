/**
 * The layout of a per-second record's counter vector (events.md section 2). Every field here is
 * additive: a record is a Float64Array of EDGE_FIELDS.length (or ORIGIN_FIELDS.length) sums, so
 * records of the same key add element-wise (late events, rollups, aggregation across POPs).
 * Ratios (`edge_hit_ratio`, `origin_offload`), `bandwidth` and the aliases `header_size` /
 * `body_size` are computed from these sums when a record is rendered, never stored.
 *
 * The derivation rules (which event adds what to which field) live in src/aggregate/field-table.ts.
 * Names are the API names and, unchanged, the store's column names.
 */

/** Status codes that get a `status_NNN` field of their own (events.md). */
export const EXACT_STATUSES = [
  200, 204, 206, 301, 302, 304, 400, 401, 403, 404, 406, 416, 429, 500, 501, 502, 503, 504, 505, 530,
] as const;
/** Compute responses also count 103 Early Hints (Domain Inspector `compute_resp_status_103`). */
export const COMPUTE_RESP_EXACT_STATUSES = [103, ...EXACT_STATUSES] as const;

/** Upper edges (ms) of the `miss_histogram` buckets. */
export const MISS_HISTOGRAM_EDGES: readonly number[] = (() => {
  const edges: number[] = [];
  const run = (from: number, to: number, step: number): void => {
    for (let e = from; e <= to; e += step) edges.push(e);
  };
  run(1, 10, 1);
  run(20, 250, 10);
  run(300, 1000, 50);
  run(1100, 3000, 100);
  run(3500, 10000, 500);
  run(11000, 20000, 1000);
  run(25000, 60000, 5000);
  return edges;
})();

/** Upper bounds (exclusive) of the `object_size_*` buckets; the last field is `_other`. */
export const OBJECT_SIZE_BUCKETS = [
  ['object_size_1k', 1024],
  ['object_size_10k', 10240],
  ['object_size_100k', 102400],
  ['object_size_1m', 1048576],
  ['object_size_10m', 10485760],
  ['object_size_100m', 104857600],
  ['object_size_1g', 1073741824],
] as const;

const statusFields = (prefix: string, exact: readonly number[]): string[] => [
  ...[1, 2, 3, 4, 5].map((c) => `${prefix}_${c}xx`),
  ...exact.map((s) => `${prefix}_${s}`),
];

/** Name of the miss_histogram bucket column with upper edge `edge`. */
export const missHistogramField = (edge: number): string => `miss_histogram_${edge}`;

/** The counter vector of an edge record, keyed by (second, service, datacenter, domain, product). */
export const EDGE_FIELDS: readonly string[] = [
  'requests',
  'hits',
  'miss',
  'pass',
  'synth',
  'errors',
  'hits_time',
  'miss_time',
  'pass_time',
  'resp_header_bytes',
  'resp_body_bytes',
  'req_header_bytes',
  'req_body_bytes',
  'bereq_header_bytes',
  'bereq_body_bytes',
  'hit_resp_header_bytes',
  'hit_resp_body_bytes',
  'miss_resp_body_bytes',
  'pass_resp_body_bytes',
  ...statusFields('status', EXACT_STATUSES),
  'edge_requests',
  'edge_resp_header_bytes',
  'edge_resp_body_bytes',
  'edge_hit_requests',
  'edge_miss_requests',
  'shield',
  'origin_fetches',
  'origin_fetch_header_bytes',
  'origin_fetch_body_bytes',
  'origin_fetch_resp_header_bytes',
  'origin_fetch_resp_body_bytes',
  ...statusFields('origin_status', EXACT_STATUSES),
  'tls',
  'tls_v10',
  'tls_v11',
  'tls_v12',
  'tls_v13',
  'http2',
  'http3',
  'ipv6',
  'waf_blocked',
  'waf_logged',
  'waf_passed',
  ...OBJECT_SIZE_BUCKETS.map(([name]) => name),
  'object_size_other',
  'compute_requests',
  'compute_request_time_ms',
  'compute_execution_time_ms',
  'compute_request_time_billed_ms',
  'compute_req_header_bytes',
  'compute_req_body_bytes',
  'compute_resp_header_bytes',
  'compute_resp_body_bytes',
  ...statusFields('compute_resp_status', COMPUTE_RESP_EXACT_STATUSES),
  'compute_bereqs',
  'compute_bereq_header_bytes',
  'compute_bereq_body_bytes',
  'compute_beresp_header_bytes',
  'compute_beresp_body_bytes',
  'compute_bereq_errors',
  ...statusFields('compute_origin_status', EXACT_STATUSES),
  ...MISS_HISTOGRAM_EDGES.map(missHistogramField),
];

/** Origin Inspector latency buckets over `origin_time_ms`: [lower bound inclusive, upper exclusive). */
export const ORIGIN_LATENCY_BUCKETS = [
  ['latency_0_to_1ms', 0, 1],
  ['latency_1_to_5ms', 1, 5],
  ['latency_5_to_10ms', 5, 10],
  ['latency_10_to_50ms', 10, 50],
  ['latency_50_to_100ms', 50, 100],
  ['latency_100_to_250ms', 100, 250],
  ['latency_250_to_500ms', 250, 500],
  ['latency_500_to_1000ms', 500, 1000],
  ['latency_1000_to_5000ms', 1000, 5000],
  ['latency_5000_to_10000ms', 5000, 10000],
  ['latency_10000_to_60000ms', 10000, 60000],
  ['latency_60000ms', 60000, Number.POSITIVE_INFINITY],
] as const;

/**
 * The counter vector of an origin record, keyed by (second, service, datacenter, backend), over
 * the events fetched from origin only: `responses` = origin fetches, byte fields are the bytes
 * received from the origin (`beresp_*`), `status_*` by `origin_status` (0 counts in none).
 */
export const ORIGIN_FIELDS: readonly string[] = [
  'responses',
  'resp_header_bytes',
  'resp_body_bytes',
  'req_header_bytes',
  'req_body_bytes',
  ...statusFields('status', EXACT_STATUSES),
  ...ORIGIN_LATENCY_BUCKETS.map(([name]) => name),
];

/** Index of each field name in its vector. */
export const edgeFieldIndex: ReadonlyMap<string, number> = new Map(EDGE_FIELDS.map((f, i) => [f, i]));
export const originFieldIndex: ReadonlyMap<string, number> = new Map(ORIGIN_FIELDS.map((f, i) => [f, i]));

/** Index of an EDGE_FIELDS name; throws at module load for a misspelt name rather than reading 0 later. */
export function edgeIndex(name: string): number {
  const i = edgeFieldIndex.get(name);
  if (i === undefined) throw new Error(`EDGE_FIELDS has no ${name}`);
  return i;
}
