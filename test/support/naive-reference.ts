/**
 * A deliberately naive reference for the aggregation (events.md section 2) and the comparisons of
 * the engine's records with it: the exactness tests of the aggregator (aggregate-batch.test.ts)
 * and of the ingest path on parse workers (parse-pool.test.ts) share it.
 */
import { expect } from 'vitest';
import { EDGE_FIELDS, MISS_HISTOGRAM_EDGES, ORIGIN_FIELDS } from '../../src/model/fields.ts';
import type { RecordSet } from '../../src/model/record.ts';
import type { PlainEvent } from './events.ts';

// A deliberately naive reference, straight from events.md section 2: plain objects, one `if`
// per field, nothing shared with the field table.
export type Sums = Record<string, number>;
const EXACT = [200, 204, 206, 301, 302, 304, 400, 401, 403, 404, 406, 416, 429, 500, 501, 502, 503, 504, 505, 530];

function bump(r: Sums, field: string, by = 1): void {
  r[field] = (r[field] ?? 0) + by;
}

function statusInto(r: Sums, prefix: string, status: number, exact: readonly number[]): void {
  const cls = Math.floor(status / 100);
  if (cls >= 1 && cls <= 5) bump(r, `${prefix}_${cls}xx`);
  if (exact.includes(status)) bump(r, `${prefix}_${status}`);
}

function naiveEdge(r: Sums, e: PlainEvent): void {
  const fetched = e.origin_status !== undefined;
  bump(r, 'requests');
  if (e.cache === 'hit') bump(r, 'hits');
  if (e.cache === 'miss') bump(r, 'miss');
  if (e.cache === 'pass') bump(r, 'pass');
  if (e.cache === 'synth') bump(r, 'synth');
  if (e.cache === 'error') bump(r, 'errors');
  if (e.cache === 'hit') bump(r, 'hits_time', e.time_ms / 1000);
  if (e.cache === 'miss') bump(r, 'miss_time', e.time_ms / 1000);
  if (e.cache === 'pass') bump(r, 'pass_time', e.time_ms / 1000);
  bump(r, 'resp_header_bytes', e.resp_header_bytes);
  bump(r, 'resp_body_bytes', e.resp_body_bytes);
  bump(r, 'req_header_bytes', e.req_header_bytes);
  bump(r, 'req_body_bytes', e.req_body_bytes);
  bump(r, 'bereq_header_bytes', e.bereq_header_bytes);
  bump(r, 'bereq_body_bytes', e.bereq_body_bytes);
  if (e.cache === 'hit') bump(r, 'hit_resp_header_bytes', e.resp_header_bytes);
  if (e.cache === 'hit') bump(r, 'hit_resp_body_bytes', e.resp_body_bytes);
  if (e.cache === 'miss') bump(r, 'miss_resp_body_bytes', e.resp_body_bytes);
  if (e.cache === 'pass') bump(r, 'pass_resp_body_bytes', e.resp_body_bytes);
  statusInto(r, 'status', e.status, EXACT);
  if (!e.shield) bump(r, 'edge_requests');
  if (!e.shield) bump(r, 'edge_resp_header_bytes', e.resp_header_bytes);
  if (!e.shield) bump(r, 'edge_resp_body_bytes', e.resp_body_bytes);
  if (!e.shield && e.cache === 'hit') bump(r, 'edge_hit_requests');
  if (!e.shield && e.cache === 'miss') bump(r, 'edge_miss_requests');
  if (e.shield) bump(r, 'shield');
  if (fetched) bump(r, 'origin_fetches');
  if (fetched) bump(r, 'origin_fetch_header_bytes', e.bereq_header_bytes);
  if (fetched) bump(r, 'origin_fetch_body_bytes', e.bereq_body_bytes);
  if (fetched) bump(r, 'origin_fetch_resp_header_bytes', e.beresp_header_bytes);
  if (fetched) bump(r, 'origin_fetch_resp_body_bytes', e.beresp_body_bytes);
  if (fetched) statusInto(r, 'origin_status', e.origin_status as number, EXACT);
  if (e.tls !== undefined) bump(r, 'tls');
  if (e.tls === '1.0') bump(r, 'tls_v10');
  if (e.tls === '1.1') bump(r, 'tls_v11');
  if (e.tls === '1.2') bump(r, 'tls_v12');
  if (e.tls === '1.3') bump(r, 'tls_v13');
  if (e.http === '2') bump(r, 'http2');
  if (e.http === '3') bump(r, 'http3');
  if (e.ipv6) bump(r, 'ipv6');
  if (e.waf === 'blocked') bump(r, 'waf_blocked');
  if (e.waf === 'logged') bump(r, 'waf_logged');
  if (e.waf === 'passed') bump(r, 'waf_passed');
  const size = e.resp_body_bytes;
  if (size < 1024) bump(r, 'object_size_1k');
  else if (size < 10240) bump(r, 'object_size_10k');
  else if (size < 102400) bump(r, 'object_size_100k');
  else if (size < 1048576) bump(r, 'object_size_1m');
  else if (size < 10485760) bump(r, 'object_size_10m');
  else if (size < 104857600) bump(r, 'object_size_100m');
  else if (size < 1073741824) bump(r, 'object_size_1g');
  else bump(r, 'object_size_other');
  if (fetched) {
    const t = e.origin_time_ms;
    const edge = t >= 60000 ? 60000 : MISS_HISTOGRAM_EDGES.find((x) => x > t);
    bump(r, `miss_histogram_${edge}`);
  }
  if (e.compute) {
    bump(r, 'compute_requests');
    bump(r, 'compute_request_time_ms', e.compute_time_ms);
    bump(r, 'compute_execution_time_ms', e.compute_cpu_ms);
    bump(r, 'compute_request_time_billed_ms', Math.ceil(e.compute_time_ms / 50) * 50);
    bump(r, 'compute_req_header_bytes', e.req_header_bytes);
    bump(r, 'compute_req_body_bytes', e.req_body_bytes);
    bump(r, 'compute_resp_header_bytes', e.resp_header_bytes);
    bump(r, 'compute_resp_body_bytes', e.resp_body_bytes);
    statusInto(r, 'compute_resp_status', e.status, [103, ...EXACT]);
    if (fetched) {
      bump(r, 'compute_bereqs');
      bump(r, 'compute_bereq_header_bytes', e.bereq_header_bytes);
      bump(r, 'compute_bereq_body_bytes', e.bereq_body_bytes);
      bump(r, 'compute_beresp_header_bytes', e.beresp_header_bytes);
      bump(r, 'compute_beresp_body_bytes', e.beresp_body_bytes);
      if (e.origin_status === 0 || (e.origin_status as number) >= 500) bump(r, 'compute_bereq_errors');
      statusInto(r, 'compute_origin_status', e.origin_status as number, EXACT);
    }
  }
}

function naiveOrigin(r: Sums, e: PlainEvent): void {
  bump(r, 'responses');
  bump(r, 'resp_header_bytes', e.beresp_header_bytes);
  bump(r, 'resp_body_bytes', e.beresp_body_bytes);
  bump(r, 'req_header_bytes', e.bereq_header_bytes);
  bump(r, 'req_body_bytes', e.bereq_body_bytes);
  statusInto(r, 'status', e.origin_status as number, EXACT);
  const t = e.origin_time_ms;
  const buckets: [string, number][] = [
    ['latency_0_to_1ms', 1],
    ['latency_1_to_5ms', 5],
    ['latency_5_to_10ms', 10],
    ['latency_10_to_50ms', 50],
    ['latency_50_to_100ms', 100],
    ['latency_100_to_250ms', 250],
    ['latency_250_to_500ms', 500],
    ['latency_500_to_1000ms', 1000],
    ['latency_1000_to_5000ms', 5000],
    ['latency_5000_to_10000ms', 10000],
    ['latency_10000_to_60000ms', 60000],
  ];
  bump(r, buckets.find(([, upper]) => t < upper)?.[0] ?? 'latency_60000ms');
}

export interface Naive {
  edge: Map<string, Sums>;
  origin: Map<string, Sums>;
  dimension: Map<string, { count: number; bytes: number }>;
}

export function naive(events: PlainEvent[]): Naive {
  const out: Naive = { edge: new Map(), origin: new Map(), dimension: new Map() };
  const sums = (m: Map<string, Sums>, key: string): Sums => {
    let r = m.get(key);
    if (r === undefined) m.set(key, (r = {}));
    return r;
  };
  const dim = (key: string, e: PlainEvent): void => {
    const d = out.dimension.get(key) ?? { count: 0, bytes: 0 };
    out.dimension.set(key, { count: d.count + 1, bytes: d.bytes + e.resp_header_bytes + e.resp_body_bytes });
  };
  for (const e of events) {
    naiveEdge(sums(out.edge, JSON.stringify([e.second, e.service, e.datacenter, e.domain, e.product])), e);
    if (e.origin_status !== undefined) naiveOrigin(sums(out.origin, JSON.stringify([e.second, e.service, e.datacenter, e.backend])), e);
    dim(JSON.stringify([e.second, e.service, e.domain, e.product, 'method', e.method]), e);
    dim(JSON.stringify([e.second, e.service, e.domain, e.product, 'status', String(e.status)]), e);
  }
  return out;
}


/** Record sets summed per key (a key may come back once per set, or several times in one). */
export function summed(sets: readonly RecordSet[]): Naive {
  const out: Naive = { edge: new Map(), origin: new Map(), dimension: new Map() };
  const add = (m: Map<string, Sums>, key: string, fields: readonly string[], values: Float64Array): void => {
    const r = m.get(key) ?? {};
    fields.forEach((f, i) => {
      if (values[i] !== 0) r[f] = (r[f] ?? 0) + (values[i] as number);
    });
    m.set(key, r);
  };
  for (const rs of sets) {
    for (const r of rs.edge) add(out.edge, JSON.stringify([r.second, r.service, r.datacenter, r.domain, r.product]), EDGE_FIELDS, r.values);
    for (const r of rs.origin) add(out.origin, JSON.stringify([r.second, r.service, r.datacenter, r.backend]), ORIGIN_FIELDS, r.values);
    for (const r of rs.dimension) {
      const key = JSON.stringify([r.second, r.service, r.domain, r.product, r.dimension, r.value]);
      const d = out.dimension.get(key) ?? { count: 0, bytes: 0 };
      out.dimension.set(key, { count: d.count + r.count, bytes: d.bytes + r.bytes });
    }
  }
  return out;
}

/** Integers exactly; time sums (floats summed in another order) to 1e-9 relative. */
export function expectSame(actual: Map<string, Sums>, expected: Map<string, Sums>): void {
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [key, want] of expected) {
    const got = actual.get(key) as Sums;
    expect(Object.keys(got).filter((f) => !(f in want))).toEqual([]);
    for (const [field, value] of Object.entries(want)) {
      if (Number.isInteger(value)) expect(got[field] ?? 0, `${key} ${field}`).toBe(value);
      else expect(Math.abs((got[field] ?? 0) - value), `${key} ${field}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(value)));
    }
  }
}


/** `got` (the engine's records, summed) equals the naive reference of `events`. */
export function expectNaive(got: Naive, events: PlainEvent[]): void {
  const want = naive(events);
  // Fields whose value is 0 are not in the engine's sparse view: drop them from the reference.
  for (const m of [want.edge, want.origin]) for (const r of m.values()) for (const f of Object.keys(r)) if (r[f] === 0) delete r[f];
  expectSame(got.edge, want.edge);
  expectSame(got.origin, want.origin);
  expect(new Map([...got.dimension].sort())).toEqual(new Map([...want.dimension].sort()));
}
