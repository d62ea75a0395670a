/**
 * Counter vectors (EDGE_FIELDS / ORIGIN_FIELDS layout) -> the JSON records of Fastly's three
 * real-time APIs. Records are sparse like Fastly's: a field whose value is 0 is left out (a
 * reader treats a missing field as 0, events.md section 2), with two exceptions:
 * - `requests` (channel, Domain Inspector) and `responses` (Origin Inspector) are always
 *   present, so a client can read `aggregated.requests` without a default;
 * - the ratios `edge_hit_ratio` and `origin_offload` are present whenever their divisor is not
 *   0, even when they are 0: their absence means "undefined", not "0 %".
 *
 * Counts and byte sums are sums of integers in a Float64Array, exact below 2^53, so they
 * serialize as JSON integers; the `*_time` fields are seconds (floats), `*_ms` fields are as summed.
 */
import { edgeFieldIndex, EDGE_FIELDS, MISS_HISTOGRAM_EDGES, missHistogramField, ORIGIN_FIELDS } from '../../model/fields.ts';
import { DOMAIN_INSPECTOR_FIELDS } from './domain-inspector-fields.ts';

export type FieldValues = Record<string, number>;
/** A channel record: counters plus the `miss_histogram` object. */
export type ChannelFields = Record<string, number | FieldValues>;

const edgeIndex = (name: string): number => {
  const i = edgeFieldIndex.get(name);
  if (i === undefined) throw new Error(`EDGE_FIELDS has no ${name}`);
  return i;
};

const I = {
  requests: edgeIndex('requests'),
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

/** The fields computed from sums at render time (fields.ts: never stored). */
export interface Derived {
  bandwidth: number;
  /** Undefined when edge hits + misses is 0. */
  edgeHitRatio: number | undefined;
  /** Undefined when the edge delivered no bytes. */
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

function putDerived(out: FieldValues, d: Derived, name: 'bandwidth' | 'edge_hit_ratio' | 'origin_offload'): void {
  if (name === 'bandwidth') {
    if (d.bandwidth !== 0) out.bandwidth = d.bandwidth;
  } else {
    const value = name === 'edge_hit_ratio' ? d.edgeHitRatio : d.originOffload;
    if (value !== undefined) out[name] = value;
  }
}

// Which EDGE_FIELDS columns a channel record shows directly (all but the histogram columns).
const histogramColumns = new Set(MISS_HISTOGRAM_EDGES.map(missHistogramField));
const CHANNEL_COUNTERS: readonly (readonly [string, number])[] = EDGE_FIELDS.flatMap((name, i) =>
  histogramColumns.has(name) ? [] : [[name, i] as const],
);
const HISTOGRAM: readonly (readonly [string, number])[] = MISS_HISTOGRAM_EDGES.map(
  (edge) => [String(edge), edgeIndex(missHistogramField(edge))] as const,
);

/** A real-time analytics (`/v1/channel`) record. */
export function renderChannel(v: Float64Array): ChannelFields {
  const out: FieldValues = {};
  for (const [name, i] of CHANNEL_COUNTERS) {
    const value = at(v, i);
    if (value !== 0 || i === I.requests) out[name] = value;
  }
  if (out.resp_header_bytes !== undefined) out.header_size = out.resp_header_bytes;
  if (out.resp_body_bytes !== undefined) out.body_size = out.resp_body_bytes;
  const d = derive(v);
  putDerived(out, d, 'bandwidth');
  putDerived(out, d, 'edge_hit_ratio');
  putDerived(out, d, 'origin_offload');
  const histogram: FieldValues = {};
  let buckets = 0;
  for (const [edge, i] of HISTOGRAM) {
    const count = at(v, i);
    if (count !== 0) {
      histogram[edge] = count;
      buckets += 1;
    }
  }
  return buckets === 0 ? out : { ...out, miss_histogram: histogram };
}

type DomainSource = { kind: 'edge'; index: number } | { kind: 'derived'; name: 'bandwidth' | 'edge_hit_ratio' | 'origin_offload' };

/** Where each Domain Inspector field comes from, resolved once. */
const DOMAIN_PLAN: readonly (readonly [string, DomainSource])[] = DOMAIN_INSPECTOR_FIELDS.map((name) => {
  if (name === 'bandwidth' || name === 'edge_hit_ratio' || name === 'origin_offload') {
    return [name, { kind: 'derived', name }] as const;
  }
  return [name, { kind: 'edge', index: edgeIndex(name === 'compute_request' ? 'compute_requests' : name) }] as const;
});

/** A Domain Inspector record: exactly DOMAIN_INSPECTOR_FIELDS, sparse. */
export function renderDomain(v: Float64Array): FieldValues {
  const out: FieldValues = {};
  const d = derive(v);
  for (const [name, source] of DOMAIN_PLAN) {
    if (source.kind === 'derived') {
      putDerived(out, d, source.name);
    } else {
      const value = at(v, source.index);
      if (value !== 0 || source.index === I.requests) out[name] = value;
    }
  }
  return out;
}

const ORIGIN_RESPONSES = ORIGIN_FIELDS.indexOf('responses');

/** An Origin Inspector record: ORIGIN_FIELDS by name, sparse. */
export function renderOrigin(v: Float64Array): FieldValues {
  const out: FieldValues = {};
  ORIGIN_FIELDS.forEach((name, i) => {
    const value = at(v, i);
    if (value !== 0 || i === ORIGIN_RESPONSES) out[name] = value;
  });
  return out;
}

/** A Map rendered as a JSON object with sorted keys. Object.fromEntries defines own properties,
 * so a group named `__proto__` (backends are free-form) stays data. */
export function objectOf<V, R>(groups: ReadonlyMap<string, V>, render: (value: V) => R): Record<string, R> {
  const entries = [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries.map(([key, value]) => [key, render(value)]));
}
