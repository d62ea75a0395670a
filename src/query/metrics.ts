/**
 * The metrics a query may ask for, by record family. A metric reads a few stored sums (its
 * inputs) and computes its value from them after every sum is done, so ratios of buckets, of
 * groups and of the `other` row are ratios of sums, never sums of ratios.
 *
 * Families follow the store's record kinds (src/model/record.ts): `edge` (EDGE_FIELDS, keyed by
 * service, datacenter, domain, product), `origin` (ORIGIN_FIELDS as `backend_*`, keyed by
 * service, datacenter, backend) and `dimension` (requests and response bytes by exact status or
 * method, keyed by service, domain, product) and `top` (the top values of `path` or `client_ip`,
 * per service: src/model/top-values.ts, read by read-top-values.ts). Distribution metrics (percentiles, unique
 * clients) read merged distribution counts instead of sums (`distribution`); nothing here
 * assumes a value is a sum beyond `inputs`.
 */
import { CLIENT_CELL_IDS, EDGE_DISTRIBUTIONS, ORIGIN_DISTRIBUTIONS, PERCENTILE_IDS, percentileDefs, quantileOf, uniqueClientsOf, type DistributionSlice, type IdRange } from '../model/distributions.ts';
import type { DistributionKind } from '../model/delta.ts';
import { EDGE_FIELDS, ORIGIN_FIELDS } from '../model/fields.ts';
import { TOP_VALUE_DIMENSIONS, type TopValueDimension } from '../model/top-values.ts';

export type Family = 'edge' | 'origin' | 'dimension' | 'top';

export type GroupField = 'service' | 'datacenter' | 'domain' | 'backend' | 'product' | 'status' | 'method' | TopValueDimension;
export const GROUP_FIELDS: readonly GroupField[] = ['service', 'datacenter', 'domain', 'backend', 'product', 'status', 'method', ...TOP_VALUE_DIMENSIONS];

/** The key fields each family's records carry: what it can be grouped and filtered by. */
export const FAMILY_KEYS: Readonly<Record<Family, readonly GroupField[]>> = {
  edge: ['service', 'datacenter', 'domain', 'product'],
  origin: ['service', 'datacenter', 'backend'],
  dimension: ['service', 'domain', 'product', 'status', 'method'],
  top: ['service', ...TOP_VALUE_DIMENSIONS],
};

export interface MetricDef {
  name: string;
  family: Family;
  /** Stored field names (of the family's vector) the value is computed from. */
  inputs: readonly string[];
  /** The value from its inputs' sums, in `inputs` order; undefined when it has no value (a ratio over 0). */
  compute(inputs: readonly number[]): number | undefined;
  /** One line for docs and OpenAPI. */
  description: string;
  /**
   * A distribution metric (a percentile, unique clients): its value comes from the merged
   * distribution counts of `kind` (never from `inputs`, which are empty): `value` of the
   * merged counts (`ids` ascending, distribution indexes; src/model/distributions.ts).
   */
  distribution?: { kind: DistributionKind; ids: IdRange; value(ids: ArrayLike<number>, counts: ArrayLike<number>): number | undefined };
}

const at = (v: readonly number[], i: number): number => v[i] ?? 0;

const counter = (family: Family, name: string, input: string, description: string): MetricDef => ({
  name,
  family,
  inputs: [input],
  compute: (v) => at(v, 0),
  description,
});

const sum = (family: Family, name: string, inputs: readonly string[], description: string): MetricDef => ({
  name,
  family,
  inputs,
  compute: (v) => v.reduce((s, x) => s + x, 0),
  description,
});

const edge: MetricDef[] = [
  ...EDGE_FIELDS.map((f) => counter('edge', f, f, 'events.md section 2')),
  sum('edge', 'bandwidth', ['resp_header_bytes', 'resp_body_bytes', 'bereq_header_bytes', 'bereq_body_bytes'], 'resp_header_bytes + resp_body_bytes + bereq_header_bytes + bereq_body_bytes'),
  sum('edge', 'resp_bytes', ['resp_header_bytes', 'resp_body_bytes'], 'resp_header_bytes + resp_body_bytes'),
  counter('edge', 'header_size', 'resp_header_bytes', 'alias of resp_header_bytes'),
  {
    // Top-N over the edge keys (busiest domains, POPs) is ranked from exact counters: its bound is
    // 0, served under the name the top values of path and client_ip use for theirs.
    name: 'requests_error',
    family: 'edge',
    inputs: ['requests'],
    compute: () => 0,
    description: 'the error bound of requests: 0, edge counts are exact (groupBy path or client_ip serve their own)',
  },
  counter('edge', 'body_size', 'resp_body_bytes', 'alias of resp_body_bytes'),
  {
    name: 'edge_hit_ratio',
    family: 'edge',
    inputs: ['edge_hit_requests', 'edge_miss_requests'],
    compute: (v) => (at(v, 0) + at(v, 1) === 0 ? undefined : at(v, 0) / (at(v, 0) + at(v, 1))),
    description: 'edge_hit_requests / (edge_hit_requests + edge_miss_requests); null when both are 0',
  },
  {
    name: 'origin_offload',
    family: 'edge',
    inputs: ['edge_resp_header_bytes', 'edge_resp_body_bytes', 'origin_fetch_resp_header_bytes', 'origin_fetch_resp_body_bytes'],
    compute: (v) => {
      const e = at(v, 0) + at(v, 1);
      return e === 0 ? undefined : (e - at(v, 2) - at(v, 3)) / e;
    },
    description: '(E - O) / E over edge and origin-fetch response bytes; null when E is 0',
  },
];

const UNITS: Readonly<Record<DistributionSlice['name'], string>> = {
  edge_time: 'milliseconds, of time_ms',
  origin_time: 'milliseconds, of origin_time_ms over origin fetches',
  object_size: 'bytes, of resp_body_bytes',
};

/** `<prefix><slice>_p50` ... `_p999` of each slice of a distribution kind. */
const percentiles = (family: Family, kind: DistributionKind, slices: readonly DistributionSlice[], prefix = ''): MetricDef[] =>
  percentileDefs(slices).map(
    ({ name, slice, perMille }): MetricDef => ({
      name: `${prefix}${name}`,
      family,
      inputs: [],
      compute: () => undefined,
      description: `${perMille / 10}th percentile (${UNITS[slice.name]}); within 1%, exact for integers below 1024; null when nothing was counted`,
      distribution: { kind, ids: PERCENTILE_IDS, value: (ids, counts) => quantileOf(slice, ids, counts, perMille) },
    }),
  );
edge.push(...percentiles('edge', 'edgeDist', EDGE_DISTRIBUTIONS), {
  name: 'unique_clients',
  family: 'edge',
  inputs: [],
  compute: () => undefined,
  description: 'distinct client_ip values (HyperLogLog, precision 14: standard error 0.81%, exact in practice below a few hundred); 0 when no event had one',
  distribution: { kind: 'edgeDist', ids: CLIENT_CELL_IDS, value: uniqueClientsOf },
});

/** Origin Inspector fields, per backend: `backend_` + the ORIGIN_FIELDS name. */
const origin: MetricDef[] = [
  ...ORIGIN_FIELDS.map((f) => counter('origin', `backend_${f}`, f, `Origin Inspector ${f} (origin fetches per backend)`)),
  ...percentiles('origin', 'originDist', ORIGIN_DISTRIBUTIONS, 'backend_'),
];

/** The two sums a dimension record carries (DimensionRecord.count, .bytes). */
export const DIMENSION_INPUTS = ['count', 'bytes'] as const;
const dimension: MetricDef[] = [
  counter('dimension', 'requests', 'count', 'requests with that status or method'),
  counter('dimension', 'resp_bytes', 'bytes', 'resp_header_bytes + resp_body_bytes of those requests'),
];

/**
 * Top values: not sums of stored fields but the figures topValueOf (model/top-values.ts) serves
 * from them; read-top-values.ts computes both per bucket and group and hands them on as the
 * cell's inputs of the same names, so ranking and rows work as for any family.
 */
const top: MetricDef[] = [
  counter('top', 'requests', 'requests', 'requests of that path or client_ip (summed Space-Saving counts of its minutes)'),
  counter('top', 'requests_error', 'requests_error', 'the error bound of requests: the true count is within requests +- requests_error (0: exact)'),
];

const byFamily = (defs: readonly MetricDef[]): ReadonlyMap<string, MetricDef> => new Map(defs.map((d) => [d.name, d]));

export const METRICS: Readonly<Record<Family, ReadonlyMap<string, MetricDef>>> = {
  edge: byFamily(edge),
  origin: byFamily(origin),
  dimension: byFamily(dimension),
  top: byFamily(top),
};

/** Every metric name, for validation messages and docs. */
export const ALL_METRIC_NAMES: readonly string[] = [...new Set([...edge, ...origin].map((d) => d.name))];
