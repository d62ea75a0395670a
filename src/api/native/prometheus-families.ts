/**
 * The metric families of `GET /rtm/v1/prometheus`, named and labelled as fastly-exporter names
 * them (fastly_rt_* per service and datacenter, fastly_domain_* also per domain, fastly_origin_*
 * per origin), so existing dashboards and alerts keep working. Each family says which query
 * (src/query) fields it reads and how a row of sums becomes samples.
 */
import { EXACT_STATUSES, MISS_HISTOGRAM_EDGES, missHistogramField, OBJECT_SIZE_BUCKETS, ORIGIN_LATENCY_BUCKETS } from '../../model/fields.ts';

export type Scope = 'rt' | 'domain' | 'origin';

export interface Sample {
  /** Extra labels beyond service_id, service_name, datacenter (and domain / origin). */
  labels?: Readonly<Record<string, string>>;
  /** Suffix for histograms: _bucket, _sum, _count. */
  suffix?: string;
  value: number;
}

export interface Family {
  name: string;
  scope: Scope;
  type: 'counter' | 'histogram';
  help: string;
  /** Query metrics (stored fields of the scope's family) the samples are computed from. */
  fields: readonly string[];
  samples(get: (field: string) => number): Sample[];
}

const counter = (scope: Scope, name: string, field: string, help: string): Family => ({
  name,
  scope,
  type: 'counter',
  help,
  fields: [field],
  samples: (get) => [{ value: get(field) }],
});

const groups = ['1xx', '2xx', '3xx', '4xx', '5xx'];
const statusFamilies = (scope: Scope, prefix: string, field: string, what: string): Family[] => [
  {
    name: `${prefix}status_group_total`,
    scope,
    type: 'counter',
    help: `Number of ${what}, by status group e.g. 1xx, 2xx.`,
    fields: groups.map((g) => `${field}_${g}`),
    samples: (get) => groups.map((g) => ({ labels: { status_group: g }, value: get(`${field}_${g}`) })),
  },
  {
    name: `${prefix}status_code_total`,
    scope,
    type: 'counter',
    help: `Number of ${what}, by status code (the codes events.md counts one by one).`,
    fields: EXACT_STATUSES.map((s) => `${field}_${s}`),
    samples: (get) => EXACT_STATUSES.map((s) => ({ labels: { status_code: String(s) }, value: get(`${field}_${s}`) })),
  },
];

/** Cumulative buckets from per-bucket counts (`le` ascending; the last is +Inf). */
function histogram(buckets: readonly { le: string; count: number }[], sum: number | undefined): Sample[] {
  let total = 0;
  const out: Sample[] = buckets.map((b) => {
    total += b.count;
    return { suffix: '_bucket', labels: { le: b.le }, value: total };
  });
  if (sum !== undefined) out.push({ suffix: '_sum', value: sum });
  out.push({ suffix: '_count', value: total });
  return out;
}

/**
 * fastly-exporter's miss-duration bounds, moved to the nearest edge our miss_histogram has
 * (0.025 -> 0.02, 32 -> 30): a bound must be an edge, or a bucket would be split by a guess.
 */
const MISS_BOUNDS_S = [0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 30, 60];
const MISS_FIELDS = MISS_HISTOGRAM_EDGES.map(missHistogramField);

const RT_COUNTERS: readonly [string, string, string][] = [
  ['requests_total', 'requests', 'Number of requests processed.'],
  ['hits_total', 'hits', 'Number of cache hits.'],
  ['miss_total', 'miss', 'Number of cache misses.'],
  ['pass_total', 'pass', 'Number of requests that passed through the CDN without being cached.'],
  ['synth_total', 'synth', 'Number of synthetic responses.'],
  ['errors_total', 'errors', 'Number of cache errors.'],
  ['hits_time_total', 'hits_time', 'Total amount of time spent processing cache hits (in seconds).'],
  ['miss_time_total', 'miss_time', 'Total amount of time spent processing cache misses (in seconds).'],
  ['pass_time_total', 'pass_time', 'Total amount of time spent processing cache passes (in seconds).'],
  ['header_size_total', 'resp_header_bytes', 'Total header bytes delivered (alias for resp_header_bytes).'],
  ['body_size_total', 'resp_body_bytes', 'Total body bytes delivered (alias for resp_body_bytes).'],
  ['resp_header_bytes_total', 'resp_header_bytes', 'Total header bytes delivered.'],
  ['resp_body_bytes_total', 'resp_body_bytes', 'Total body bytes delivered.'],
  ['req_header_bytes_total', 'req_header_bytes', 'Total header bytes received.'],
  ['req_body_bytes_total', 'req_body_bytes', 'Total body bytes received.'],
  ['bereq_header_bytes_total', 'bereq_header_bytes', 'Total header bytes sent to origin.'],
  ['bereq_body_bytes_total', 'bereq_body_bytes', 'Total body bytes sent to origin.'],
  ['hit_resp_body_bytes_total', 'hit_resp_body_bytes', 'Total body bytes delivered for cache hits.'],
  ['miss_resp_body_bytes_total', 'miss_resp_body_bytes', 'Total body bytes delivered for cache misses.'],
  ['pass_resp_body_bytes_total', 'pass_resp_body_bytes', 'Total body bytes delivered for cache passes.'],
  ['edge_total', 'edge_requests', 'Number of requests sent by end users to the edge.'],
  ['edge_hit_requests_total', 'edge_hit_requests', 'Number of requests that resulted in a hit at the edge.'],
  ['edge_miss_requests_total', 'edge_miss_requests', 'Number of requests that resulted in a miss at the edge.'],
  ['edge_resp_header_bytes_total', 'edge_resp_header_bytes', 'Total header bytes delivered from the edge to end users.'],
  ['edge_resp_body_bytes_total', 'edge_resp_body_bytes', 'Total body bytes delivered from the edge to end users.'],
  ['shield_total', 'shield', 'Number of requests from edge to the shield POP.'],
  ['origin_fetches_total', 'origin_fetches', 'Number of requests sent to origin.'],
  ['origin_fetch_header_bytes_total', 'origin_fetch_header_bytes', 'Total request header bytes sent to origin.'],
  ['origin_fetch_body_bytes_total', 'origin_fetch_body_bytes', 'Total request body bytes sent to origin.'],
  ['origin_fetch_resp_header_bytes_total', 'origin_fetch_resp_header_bytes', 'Total header bytes received from origin.'],
  ['origin_fetch_resp_body_bytes_total', 'origin_fetch_resp_body_bytes', 'Total body bytes received from origin.'],
  ['http2_total', 'http2', 'Number of requests received over HTTP2.'],
  ['http3_total', 'http3', 'Number of requests received over HTTP3.'],
  ['ipv6_total', 'ipv6', 'Number of requests that were received over IPv6.'],
  ['waf_blocked_total', 'waf_blocked', 'Number of requests that triggered a WAF rule and were blocked.'],
  ['waf_logged_total', 'waf_logged', 'Number of requests that triggered a WAF rule and were logged.'],
  ['waf_passed_total', 'waf_passed', 'Number of requests that triggered a WAF rule and were passed.'],
  ['compute_requests_total', 'compute_requests', 'Total number of requests received by Compute.'],
  ['compute_request_time_total', 'compute_request_time_ms', 'Total actual amount of time used to process Compute requests (in milliseconds).'],
  ['compute_execution_time_total', 'compute_execution_time_ms', 'Total amount of active CPU time used to process Compute requests (in milliseconds).'],
];

const TLS_VERSIONS: readonly [string, string][] = [
  ['1.0', 'tls_v10'],
  ['1.1', 'tls_v11'],
  ['1.2', 'tls_v12'],
  ['1.3', 'tls_v13'],
];

const DOMAIN_COUNTERS: readonly [string, string, string][] = [
  ['requests_total', 'requests', 'Number of requests processed.'],
  ['resp_header_bytes_total', 'resp_header_bytes', 'Total header bytes delivered.'],
  ['resp_body_bytes_total', 'resp_body_bytes', 'Total body bytes delivered.'],
  ['bereq_header_bytes_total', 'bereq_header_bytes', 'Total header bytes sent to origin.'],
  ['bereq_body_bytes_total', 'bereq_body_bytes', 'Total body bytes sent to origin.'],
  ['edge_requests_total', 'edge_requests', 'Number of requests sent by end users to the edge.'],
  ['edge_hit_requests_total', 'edge_hit_requests', 'Number of requests that resulted in a hit at the edge.'],
  ['edge_miss_requests_total', 'edge_miss_requests', 'Number of requests that resulted in a miss at the edge.'],
  ['edge_resp_header_bytes_total', 'edge_resp_header_bytes', 'Total header bytes delivered from the edge to end users.'],
  ['edge_resp_body_bytes_total', 'edge_resp_body_bytes', 'Total body bytes delivered from the edge to end users.'],
  ['origin_fetches_total', 'origin_fetches', 'Number of requests sent to origin.'],
  ['origin_fetch_resp_header_bytes_total', 'origin_fetch_resp_header_bytes', 'Total header bytes received from origin.'],
  ['origin_fetch_resp_body_bytes_total', 'origin_fetch_resp_body_bytes', 'Total body bytes received from origin.'],
  ['http2_total', 'http2', 'Number of requests received over HTTP/2.'],
  ['http3_total', 'http3', 'Number of requests received over HTTP/3.'],
];

const tlsFamily = (scope: Scope, name: string): Family => ({
  name,
  scope,
  type: 'counter',
  help: 'Number of requests received over TLS, by TLS version.',
  fields: TLS_VERSIONS.map(([, f]) => f),
  samples: (get) => TLS_VERSIONS.map(([version, f]) => ({ labels: { tls_version: version }, value: get(f) })),
});

export const FAMILIES: readonly Family[] = [
  ...RT_COUNTERS.map(([name, field, help]) => counter('rt', `fastly_rt_${name}`, field, help)),
  ...statusFamilies('rt', 'fastly_rt_', 'status', 'responses delivered'),
  tlsFamily('rt', 'fastly_rt_tls_total'),
  {
    name: 'fastly_rt_miss_duration_seconds',
    scope: 'rt',
    type: 'histogram',
    help: 'Histogram of origin fetch times of cache misses (in seconds); _sum is miss_time.',
    fields: [...MISS_FIELDS, 'miss_time'],
    samples(get) {
      const counts = MISS_BOUNDS_S.map(() => 0);
      let inf = 0;
      MISS_HISTOGRAM_EDGES.forEach((edge, i) => {
        const n = get(MISS_FIELDS[i] as string);
        const b = MISS_BOUNDS_S.findIndex((bound) => edge <= bound * 1000);
        if (b >= 0) counts[b] = (counts[b] ?? 0) + n;
        else inf += n;
      });
      return histogram([...MISS_BOUNDS_S.map((le, i) => ({ le: String(le), count: counts[i] ?? 0 })), { le: '+Inf', count: inf }], get('miss_time'));
    },
  },
  {
    name: 'fastly_rt_object_size_bytes',
    scope: 'rt',
    type: 'histogram',
    help: 'Histogram of count of objects served, bucketed by object size range; _sum is resp_body_bytes.',
    fields: [...OBJECT_SIZE_BUCKETS.map(([f]) => f), 'object_size_other', 'resp_body_bytes'],
    samples: (get) =>
      histogram([...OBJECT_SIZE_BUCKETS.map(([f, le]) => ({ le: String(le), count: get(f) })), { le: '+Inf', count: get('object_size_other') }], get('resp_body_bytes')),
  },
  ...DOMAIN_COUNTERS.map(([name, field, help]) => counter('domain', `fastly_domain_${name}`, field, help)),
  ...statusFamilies('domain', 'fastly_domain_', 'status', 'responses'),
  ...statusFamilies('domain', 'fastly_domain_origin_', 'origin_status', 'responses from origin'),
  tlsFamily('domain', 'fastly_domain_tls_total'),
  counter('origin', 'fastly_origin_responses_total', 'backend_responses', 'Number of responses from origin.'),
  counter('origin', 'fastly_origin_resp_header_bytes_total', 'backend_resp_header_bytes', 'Number of header bytes from origin.'),
  counter('origin', 'fastly_origin_resp_body_bytes_total', 'backend_resp_body_bytes', 'Number of body bytes from origin.'),
  ...statusFamilies('origin', 'fastly_origin_', 'backend_status', 'responses from origin'),
  {
    name: 'fastly_origin_latency_seconds',
    scope: 'origin',
    type: 'histogram',
    help: 'Response time from origin in seconds (no _sum: only the bucket counts are kept).',
    fields: ORIGIN_LATENCY_BUCKETS.map(([f]) => `backend_${f}`),
    samples: (get) => histogram(ORIGIN_LATENCY_BUCKETS.map(([f, , upper]) => ({ le: Number.isFinite(upper) ? String(upper / 1000) : '+Inf', count: get(`backend_${f}`) })), undefined),
  },
];
