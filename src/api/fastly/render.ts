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
 *
 * The routes write these records straight to JSON text with render-json.ts (same bytes, faster);
 * the object forms here are its reference and serve the other readers.
 */
import { edgeIndex, EDGE_FIELDS, MISS_HISTOGRAM_EDGES, missHistogramField, ORIGIN_FIELDS } from '../../model/fields.ts';
import { derive, type Derived } from '../../model/derived-fields.ts';
import { EDGE_PERCENTILE_NAMES, ORIGIN_PERCENTILE_NAMES } from '../../model/distributions.ts';
import { DOMAIN_INSPECTOR_FIELDS } from './domain-inspector-fields.ts';

export { derive, type Derived };

export type FieldValues = Record<string, number>;
/** A channel record: counters plus the `miss_histogram` object. */
export type ChannelFields = Record<string, number | FieldValues>;


const I = {
  requests: edgeIndex('requests'),
};

const at = (v: Float64Array, i: number): number => v[i] ?? 0;

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

type DomainSource = { kind: 'edge'; index: number } | { kind: 'derived'; name: 'bandwidth' | 'edge_hit_ratio' | 'origin_offload' };

/** Where each Domain Inspector field comes from, resolved once. */
const DOMAIN_PLAN: readonly (readonly [string, DomainSource])[] = DOMAIN_INSPECTOR_FIELDS.map((name) => {
  if (name === 'bandwidth' || name === 'edge_hit_ratio' || name === 'origin_offload') {
    return [name, { kind: 'derived', name }] as const;
  }
  return [name, { kind: 'edge', index: edgeIndex(name === 'compute_request' ? 'compute_requests' : name) }] as const;
});

const ORIGIN_RESPONSES = ORIGIN_FIELDS.indexOf('responses');
const ORIGIN_COLUMNS: readonly (readonly [string, number])[] = ORIGIN_FIELDS.map((name, i) => [name, i] as const);

/**
 * The renderers' columns for one `fields` hint (SecondHints.fields: every field that may be
 * non-zero, ascending), kept by the hint's identity: the window hands the same array for a
 * second as long as its fields do not change, so a plan is built once per block, and a record
 * then visits ~20 columns, not 265. Without a hint, every column.
 */
interface Plan {
  channel: readonly (readonly [string, number])[];
  histogram: readonly (readonly [string, number])[];
  domain: readonly (readonly [string, DomainSource])[];
  origin: readonly (readonly [string, number])[];
}

const planOf = (has: (i: number) => boolean): Plan => ({
  channel: CHANNEL_COUNTERS.filter(([, i]) => has(i) || i === I.requests),
  histogram: HISTOGRAM.filter(([, i]) => has(i)),
  domain: DOMAIN_PLAN.filter(([, source]) => source.kind === 'derived' || has(source.index) || source.index === I.requests),
  origin: ORIGIN_COLUMNS.filter(([, i]) => has(i) || i === ORIGIN_RESPONSES),
});
const FULL_PLAN = planOf(() => true);
const plans = new WeakMap<Uint16Array, Plan>();

/** The channel record's columns for a `fields` hint (renderChannel's, for render-bytes.ts). */
export function channelColumns(fields: Uint16Array | undefined): Pick<Plan, 'channel' | 'histogram'> {
  return plan(fields);
}

function plan(fields: Uint16Array | undefined): Plan {
  if (fields === undefined) return FULL_PLAN;
  let p = plans.get(fields);
  if (p === undefined) {
    const set = new Set(fields);
    plans.set(fields, (p = planOf((i) => set.has(i))));
  }
  return p;
}

/**
 * A real-time analytics (`/v1/channel`) record. `fields`, when given, lists (ascending) every
 * field of `v` that may be non-zero (SecondHints.fields); the others are not looked at.
 */
/**
 * The percentile fields (edge_time_p50 ... object_size_p999) of `pct[at...]` into `out`, after
 * every other field; a percentile with nothing counted (NaN) is left out, as zero counters are.
 */
export function putPercentiles(out: FieldValues, pct: Float64Array | undefined, at = 0, names: readonly string[] = EDGE_PERCENTILE_NAMES): void {
  if (pct === undefined) return;
  for (let k = 0; k < names.length; k++) {
    const v = pct[at + k] as number;
    if (!Number.isNaN(v)) out[names[k] as string] = v;
  }
}

export function renderChannel(v: Float64Array, fields?: Uint16Array, pct?: Float64Array): ChannelFields {
  const p = plan(fields);
  const out: FieldValues = {};
  for (const [name, i] of p.channel) {
    const value = at(v, i);
    if (value !== 0 || i === I.requests) out[name] = value;
  }
  if (out.resp_header_bytes !== undefined) out.header_size = out.resp_header_bytes;
  if (out.resp_body_bytes !== undefined) out.body_size = out.resp_body_bytes;
  const d = derive(v);
  putDerived(out, d, 'bandwidth');
  putDerived(out, d, 'edge_hit_ratio');
  putDerived(out, d, 'origin_offload');
  let histogram: FieldValues | undefined;
  for (const [edge, i] of p.histogram) {
    const count = at(v, i);
    if (count !== 0) (histogram ??= {})[edge] = count;
  }
  if (histogram !== undefined) (out as ChannelFields).miss_histogram = histogram;
  putPercentiles(out, pct);
  return out;
}

/** A Domain Inspector record: exactly DOMAIN_INSPECTOR_FIELDS, sparse. `fields` as for renderChannel. */
export function renderDomain(v: Float64Array, fields?: Uint16Array, pct?: Float64Array): FieldValues {
  const out: FieldValues = {};
  const d = derive(v);
  for (const [name, source] of plan(fields).domain) {
    if (source.kind === 'derived') {
      putDerived(out, d, source.name);
    } else {
      const value = at(v, source.index);
      if (value !== 0 || source.index === I.requests) out[name] = value;
    }
  }
  putPercentiles(out, pct);
  return out;
}

/** An Origin Inspector record: ORIGIN_FIELDS by name, sparse, then origin_time_p50 ... (`pct`). `fields` as for renderChannel. */
export function renderOrigin(v: Float64Array, fields?: Uint16Array, pct?: Float64Array): FieldValues {
  const out: FieldValues = {};
  for (const [name, i] of plan(fields).origin) {
    const value = at(v, i);
    if (value !== 0 || i === ORIGIN_RESPONSES) out[name] = value;
  }
  putPercentiles(out, pct, 0, ORIGIN_PERCENTILE_NAMES);
  return out;
}

/** A Map rendered as a JSON object with sorted keys. Object.fromEntries defines own properties,
 * so a group named `__proto__` (backends are free-form) stays data. */
export function objectOf<V, R>(groups: ReadonlyMap<string, V>, render: (value: V, key: string) => R): Record<string, R> {
  const entries = [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries.map(([key, value]) => [key, render(value, key)]));
}
