/**
 * The Azion v3 metrics of each product and their dimensions, as readings of the store:
 * sums of EDGE_FIELDS, exact status / method counts, or distinct domains, optionally turned
 * into a per-second rate (docs/api-azion.md has the table).
 */
import type { Product } from '../../model/event.ts';
import { EDGE_DISTRIBUTIONS, percentileDefs, type DistributionSlice } from '../../model/distributions.ts';

export type Reading =
  /** The sum of these EDGE_FIELDS. */
  | { kind: 'edge'; fields: readonly string[] }
  /** Requests with this exact value of an open-ended dimension. */
  | { kind: 'dimension'; dimension: 'status' | 'method'; value: string }
  /** Domains with at least one request in the bucket. */
  | { kind: 'distinct-domains' }
  /** A percentile of the bucket's merged distribution (per mille: 990 = p99); 0 where it counted nothing. */
  | { kind: 'percentile'; slice: DistributionSlice; perMille: number };

/** `count`: the bucket's sum; `per-second`: sum / bucket seconds; `bits-per-second`: sum * 8 / bucket seconds. */
export type Scale = 'count' | 'per-second' | 'bits-per-second';

export interface Series {
  reading: Reading;
  scale: Scale;
}

export interface MetricDef {
  /** The series without a dimension. */
  series: Series;
  /** The series of a dimension, or undefined when the metric has no such dimension. */
  dimension(name: string): Series | undefined;
  /** Accepted dimensions, for docs and error messages. */
  dimensionsHelp: string;
}

const edge = (fields: readonly string[], scale: Scale = 'count'): Series => ({ reading: { kind: 'edge', fields }, scale });

const IN = ['req_header_bytes', 'req_body_bytes'];
const OUT = ['resp_header_bytes', 'resp_body_bytes'];
const TOTAL = [...IN, ...OUT];
const BYTES: Readonly<Record<string, readonly string[]>> = { total: TOTAL, in: IN, out: OUT };
const WAF = ['waf_blocked', 'waf_logged', 'waf_passed'];

const plain = (series: Series): MetricDef => ({ series, dimension: () => undefined, dimensionsHelp: 'none' });

/** Bytes with dimensions `total`, `in` (request bytes), `out` (response bytes); default total. */
const bytesMetric = (scale: Scale = 'count'): MetricDef => ({
  series: edge(TOTAL, scale),
  dimension: (name) => (Object.hasOwn(BYTES, name) ? edge(BYTES[name] ?? TOTAL, scale) : undefined),
  dimensionsHelp: 'total, in, out',
});

const statusCode: MetricDef = {
  series: edge(['requests']),
  dimension(name) {
    const klass = /^([1-5])xx$/i.exec(name);
    if (klass) return edge([`status_${klass[1]}xx`]);
    if (/^[1-5]\d\d$/.test(name)) return { reading: { kind: 'dimension', dimension: 'status', value: name }, scale: 'count' };
    return undefined;
  },
  dimensionsHelp: '1xx, 2xx, 3xx, 4xx, 5xx, or a status code such as 404',
};

const httpMethod: MetricDef = {
  series: edge(['requests']),
  dimension: (name) =>
    /^[A-Za-z]{1,16}$/.test(name) ? { reading: { kind: 'dimension', dimension: 'method', value: name.toUpperCase() }, scale: 'count' } : undefined,
  dimensionsHelp: 'a request method such as GET',
};

const waf: MetricDef = {
  series: edge(WAF),
  dimension: (name) => (WAF.includes(`waf_${name}`) ? edge([`waf_${name}`]) : undefined),
  dimensionsHelp: 'blocked, logged, passed',
};

/** edge_time_p50 ... object_size_p999, named as in every dialect (events.md "Distributions and percentiles"). */
const PERCENTILE_METRICS: Readonly<Record<string, MetricDef>> = Object.fromEntries(
  percentileDefs(EDGE_DISTRIBUTIONS).map(({ name, slice, perMille }) => [name, plain({ reading: { kind: 'percentile', slice, perMille }, scale: 'count' })]),
);

export const AZION_METRICS: Readonly<Record<Product, Readonly<Record<string, MetricDef>>>> = {
  edge_application: {
    data_transferred: bytesMetric(),
    data_transferred_total: plain(edge(TOTAL)),
    data_offloaded: plain(edge(['hit_resp_header_bytes', 'hit_resp_body_bytes'])),
    cdn_requests: plain(edge(['requests'])),
    requests_per_second: plain(edge(['requests'], 'per-second')),
    requests_offloaded: plain(edge(['hits'])),
    status_code: statusCode,
    http_method: httpMethod,
    waf,
    bandwidth: bytesMetric('bits-per-second'),
    ...PERCENTILE_METRICS,
  },
  data_streaming: {
    data_streaming_data_streamed: plain(edge(OUT)),
    data_streaming_requests: plain(edge(['requests'])),
  },
  live_streaming: { live_streaming_data_transferred: bytesMetric() },
  edge_functions: { invocations: plain(edge(['requests'])) },
  intelligent_dns: {
    idns_queries: plain(edge(['requests'])),
    hosted_zones: plain({ reading: { kind: 'distinct-domains' }, scale: 'count' }),
  },
  image_processor: { images_processed: plain(edge(['status_2xx'])) },
  l2_caching: { l2_data_transferred: bytesMetric() },
  load_balancer: { load_balancer_data_transferred: bytesMetric() },
};

export function findMetric(product: Product, name: string): MetricDef | undefined {
  const metrics = AZION_METRICS[product];
  return Object.hasOwn(metrics, name) ? metrics[name] : undefined;
}
