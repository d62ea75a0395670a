import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arbitraryEvent, batchOf, event, T0, type PlainEvent } from '../../test/support/events.ts';
import { createDictionaries } from '../model/dictionary.ts';
import { EDGE_FIELDS, edgeFieldIndex, MISS_HISTOGRAM_EDGES, ORIGIN_FIELDS, originFieldIndex } from '../model/fields.ts';
import type { RecordSet } from '../model/record.ts';
import { aggregateBatch, aggregateBatches } from './aggregate-batch.ts';

// A deliberately naive reference, straight from events.md section 2: plain objects, one `if`
// per field, nothing shared with the field table.
type Sums = Record<string, number>;
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

interface Naive {
  edge: Map<string, Sums>;
  origin: Map<string, Sums>;
  dimension: Map<string, { count: number; bytes: number }>;
}

function naive(events: PlainEvent[]): Naive {
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

/**
 * The engine's records, summed per key (a key may come back once per batch). `together`: all
 * batches in one aggregateBatches call (a group commit), which must give each key once.
 */
function engine(batches: PlainEvent[][], together = false): Naive {
  const out: Naive = { edge: new Map(), origin: new Map(), dimension: new Map() };
  const add = (m: Map<string, Sums>, key: string, fields: readonly string[], values: Float64Array): void => {
    const r = m.get(key) ?? {};
    fields.forEach((f, i) => {
      if (values[i] !== 0) r[f] = (r[f] ?? 0) + (values[i] as number);
    });
    m.set(key, r);
  };
  const dicts = createDictionaries();
  const sets: RecordSet[] = together
    ? [aggregateBatches(batches.map((events) => batchOf(events, dicts)), dicts)]
    : batches.map((events) => aggregateBatch(batchOf(events, dicts), dicts));
  if (together) {
    const rs = sets[0] as RecordSet;
    const distinct = (keys: string[]): number => new Set(keys).size;
    expect(distinct(rs.edge.map((r) => JSON.stringify([r.second, r.service, r.datacenter, r.domain, r.product])))).toBe(rs.edge.length);
    expect(distinct(rs.origin.map((r) => JSON.stringify([r.second, r.service, r.datacenter, r.backend])))).toBe(rs.origin.length);
    expect(distinct(rs.dimension.map((r) => JSON.stringify([r.second, r.service, r.domain, r.product, r.dimension, r.value])))).toBe(rs.dimension.length);
  }
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
function expectSame(actual: Map<string, Sums>, expected: Map<string, Sums>): void {
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

describe('aggregateBatch', () => {
  it('equals the naive reference on random events, split into random batches', () => {
    fc.assert(
      fc.property(fc.array(fc.array(arbitraryEvent, { maxLength: 60 }), { minLength: 1, maxLength: 4 }), (batches) => {
        const all = batches.flat();
        const want = naive(all);
        // Fields whose value is 0 are not in the engine's sparse view: drop them from the reference.
        for (const m of [want.edge, want.origin]) for (const r of m.values()) for (const f of Object.keys(r)) if (r[f] === 0) delete r[f];
        const got = engine(batches);
        expectSame(got.edge, want.edge);
        expectSame(got.origin, want.origin);
        expect(new Map([...got.dimension].sort())).toEqual(new Map([...want.dimension].sort()));
      }),
      { numRuns: 300 },
    );
  });

  it('aggregates several batches together (a group commit) into one record per key, equal to the naive reference', () => {
    fc.assert(
      fc.property(fc.array(fc.array(arbitraryEvent, { maxLength: 40 }), { minLength: 1, maxLength: 6 }), (batches) => {
        const want = naive(batches.flat());
        for (const m of [want.edge, want.origin]) for (const r of m.values()) for (const f of Object.keys(r)) if (r[f] === 0) delete r[f];
        const got = engine(batches, true);
        expectSame(got.edge, want.edge);
        expectSame(got.origin, want.origin);
        expect(new Map([...got.dimension].sort())).toEqual(new Map([...want.dimension].sort()));
      }),
      { numRuns: 300 },
    );
  });

  it('aggregates batches together with exact keys when they span too much for numeric keys', () => {
    const dicts = createDictionaries();
    for (let k = 0; k < 5000; k++) {
      dicts.service.id(`s${k}`);
      dicts.domain.id(`d${k}.com`);
      dicts.datacenter.id(`P${k}`);
    }
    const far = event({ second: 0, service: 's0', domain: 'd0.com', datacenter: 'P0' });
    const near = event({ second: T0, service: 's4999', domain: 'd4999.com', datacenter: 'P4999' });
    // The first batch alone fits numeric keys; only the group as a whole does not.
    const rs = aggregateBatches([batchOf([far, far], dicts), batchOf([near, far], dicts), batchOf([], dicts), batchOf([near], dicts)], dicts);
    const requests = edgeFieldIndex.get('requests') as number;
    expect(rs.edge.map((r) => [r.second, r.service, r.values[requests]])).toEqual([
      [0, 's0', 3],
      [T0, 's4999', 2],
    ]);
    expect(rs.dimension.filter((d) => d.dimension === 'status').map((d) => [d.second, d.count])).toEqual([
      [0, 3],
      [T0, 2],
    ]);
  });

  it('groups by (second, service, datacenter, domain, product) and fills the names', () => {
    const events = [
      event({ second: T0, datacenter: 'FRA' }),
      event({ second: T0, datacenter: 'FRA' }),
      event({ second: T0, datacenter: 'LHR' }),
      event({ second: T0 + 1, datacenter: 'FRA', product: 'image_processor', domain: 'img.example.com' }),
    ];
    const dicts = createDictionaries();
    const rs = aggregateBatch(batchOf(events, dicts), dicts);
    const requests = edgeFieldIndex.get('requests') as number;
    expect(rs.edge.map((r) => [r.second, r.service, r.datacenter, r.domain, r.product, r.values[requests]])).toEqual([
      [T0, 'svc', 'FRA', 'www.example.com', 'edge_application', 2],
      [T0, 'svc', 'LHR', 'www.example.com', 'edge_application', 1],
      [T0 + 1, 'svc', 'FRA', 'img.example.com', 'image_processor', 1],
    ]);
    expect(rs.edge.every((r) => r.values.length === EDGE_FIELDS.length)).toBe(true);
    expect(rs.origin).toEqual([]);
  });

  it('makes origin records for fetches only, per backend, and dimension records by method and status', () => {
    const events = [
      event({ origin_status: 200, backend: 'a', method: 'GET', resp_header_bytes: 10, resp_body_bytes: 5 }),
      event({ origin_status: 0, backend: 'b', method: 'POST', status: 503 }),
      event({ method: 'GET', status: 404, resp_body_bytes: 100 }),
    ];
    const dicts = createDictionaries();
    const rs = aggregateBatch(batchOf(events, dicts), dicts);
    const responses = originFieldIndex.get('responses') as number;
    expect(rs.origin.map((r) => [r.backend, r.values[responses]])).toEqual([
      ['a', 1],
      ['b', 1],
    ]);
    const dims = rs.dimension.map((d) => [d.dimension, d.value, d.count, d.bytes]);
    expect(dims).toEqual(
      expect.arrayContaining([
        ['method', 'GET', 2, 115],
        ['method', 'POST', 1, 0],
        ['status', '200', 1, 15],
        ['status', '503', 1, 0],
        ['status', '404', 1, 100],
      ]),
    );
    expect(dims).toHaveLength(5);
  });

  it('returns nothing for an empty batch', () => {
    expect(aggregateBatch(batchOf([]), createDictionaries())).toEqual({ edge: [], origin: [], dimension: [] });
  });

  it('stays exact when the batch spans too much for numeric keys (seconds years apart, many names)', () => {
    const dicts = createDictionaries();
    // Interned ids far apart: the mixed-radix key would pass 2^53.
    for (let k = 0; k < 5000; k++) {
      dicts.service.id(`s${k}`);
      dicts.domain.id(`d${k}.com`);
      dicts.datacenter.id(`P${k}`);
    }
    const events = [
      event({ second: 0, service: 's0', domain: 'd0.com', datacenter: 'P0' }),
      event({ second: T0, service: 's4999', domain: 'd4999.com', datacenter: 'P4999' }),
      event({ second: T0, service: 's4999', domain: 'd4999.com', datacenter: 'P4999', origin_status: 200 }),
      event({ second: 0, service: 's0', domain: 'd0.com', datacenter: 'P0' }),
    ];
    const rs = aggregateBatch(batchOf(events, dicts), dicts);
    const requests = edgeFieldIndex.get('requests') as number;
    expect(rs.edge.map((r) => [r.second, r.service, r.values[requests]])).toEqual([
      [0, 's0', 2],
      [T0, 's4999', 2],
    ]);
    expect(rs.origin).toHaveLength(1);
  });

  it('hands out vectors that are independent copies', () => {
    const dicts = createDictionaries();
    const rs = aggregateBatch(batchOf([event(), event({ datacenter: 'LHR' })], dicts), dicts);
    (rs.edge[0] as { values: Float64Array }).values[0] = 99;
    expect(rs.edge[1]?.values[0]).toBe(1);
  });

  it('sums keys across the chunks it works through (batches above 16,384 events)', () => {
    const events: PlainEvent[] = [];
    for (let i = 0; i < 40_000; i++) {
      events.push(event({ second: T0 + (i % 3), datacenter: i % 2 === 0 ? 'FRA' : 'LHR', resp_body_bytes: i, origin_status: i % 5 === 0 ? 200 : undefined }));
    }
    const want = naive(events);
    const got = engine([events]);
    expectSame(got.edge, want.edge);
    expectSame(got.origin, want.origin);
    expect(got.edge.size).toBe(6);
  });
});
