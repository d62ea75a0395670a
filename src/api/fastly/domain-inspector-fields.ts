/**
 * The fields of a Domain Inspector real-time record, named and ordered as Fastly documents them
 * (seed 001, "entry data model": alphabetical). Fastly's list differs from EDGE_FIELDS: no
 * `status_406`, the Compute request count is `compute_request` (singular), and `bandwidth`,
 * `edge_hit_ratio`, `origin_offload` are derived when rendering. render.test.ts checks this list
 * against the seed's table, so a field cannot silently go missing.
 */
export const DOMAIN_INSPECTOR_FIELDS: readonly string[] = [
  'bandwidth', 'bereq_body_bytes', 'bereq_header_bytes', 'compute_bereq_body_bytes',
  'compute_bereq_errors', 'compute_bereq_header_bytes', 'compute_bereqs', 'compute_beresp_body_bytes',
  'compute_beresp_header_bytes', 'compute_execution_time_ms', 'compute_origin_status_1xx', 'compute_origin_status_200',
  'compute_origin_status_204', 'compute_origin_status_206', 'compute_origin_status_2xx', 'compute_origin_status_301',
  'compute_origin_status_302', 'compute_origin_status_304', 'compute_origin_status_3xx', 'compute_origin_status_400',
  'compute_origin_status_401', 'compute_origin_status_403', 'compute_origin_status_404', 'compute_origin_status_416',
  'compute_origin_status_429', 'compute_origin_status_4xx', 'compute_origin_status_500', 'compute_origin_status_501',
  'compute_origin_status_502', 'compute_origin_status_503', 'compute_origin_status_504', 'compute_origin_status_505',
  'compute_origin_status_530', 'compute_origin_status_5xx', 'compute_req_body_bytes', 'compute_req_header_bytes',
  'compute_request', 'compute_request_time_billed_ms', 'compute_request_time_ms', 'compute_resp_body_bytes',
  'compute_resp_header_bytes', 'compute_resp_status_103', 'compute_resp_status_1xx', 'compute_resp_status_200',
  'compute_resp_status_204', 'compute_resp_status_206', 'compute_resp_status_2xx', 'compute_resp_status_301',
  'compute_resp_status_302', 'compute_resp_status_304', 'compute_resp_status_3xx', 'compute_resp_status_400',
  'compute_resp_status_401', 'compute_resp_status_403', 'compute_resp_status_404', 'compute_resp_status_416',
  'compute_resp_status_429', 'compute_resp_status_4xx', 'compute_resp_status_500', 'compute_resp_status_501',
  'compute_resp_status_502', 'compute_resp_status_503', 'compute_resp_status_504', 'compute_resp_status_505',
  'compute_resp_status_530', 'compute_resp_status_5xx', 'edge_hit_ratio', 'edge_hit_requests',
  'edge_miss_requests', 'edge_requests', 'edge_resp_body_bytes', 'edge_resp_header_bytes',
  'origin_fetch_resp_body_bytes', 'origin_fetch_resp_header_bytes', 'origin_fetches', 'origin_offload',
  'origin_status_1xx', 'origin_status_200', 'origin_status_204', 'origin_status_206',
  'origin_status_2xx', 'origin_status_301', 'origin_status_302', 'origin_status_304',
  'origin_status_3xx', 'origin_status_400', 'origin_status_401', 'origin_status_403',
  'origin_status_404', 'origin_status_416', 'origin_status_429', 'origin_status_4xx',
  'origin_status_500', 'origin_status_501', 'origin_status_502', 'origin_status_503',
  'origin_status_504', 'origin_status_505', 'origin_status_530', 'origin_status_5xx',
  'requests', 'resp_body_bytes', 'resp_header_bytes', 'status_1xx',
  'status_200', 'status_204', 'status_206', 'status_2xx',
  'status_301', 'status_302', 'status_304', 'status_3xx',
  'status_400', 'status_401', 'status_403', 'status_404',
  'status_416', 'status_429', 'status_4xx', 'status_500',
  'status_501', 'status_502', 'status_503', 'status_504',
  'status_505', 'status_530', 'status_5xx',
];
