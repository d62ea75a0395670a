import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arbitraryEvent, batchOf, event, T0, type PlainEvent } from '../../test/support/events.ts';
import { expectSame, naive, summed, type Naive } from '../../test/support/naive-reference.ts';
import { createDictionaries } from '../model/dictionary.ts';
import { EDGE_FIELDS, edgeFieldIndex, originFieldIndex } from '../model/fields.ts';
import type { RecordSet } from '../model/record.ts';
import { EDGE_DISTRIBUTIONS, ORIGIN_DISTRIBUTIONS } from '../model/distributions.ts';
import { aggregateBatch, aggregateBatches } from './aggregate-batch.ts';

/**
 * The engine's records, summed per key (a key may come back once per batch). `together`: all
 * batches in one aggregateBatches call (a group commit), which must give each key once.
 */
function engine(batches: PlainEvent[][], together = false): Naive {
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
  return summed(sets);
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
    expect(aggregateBatch(batchOf([]), createDictionaries())).toEqual({ edge: [], origin: [], dimension: [], edgeDist: [], originDist: [] });
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

  it('counts every event in the distribution buckets of its edge key and every fetch in its origin key (random events, batches together)', () => {
    const [edgeTime, originTime, objectSize] = EDGE_DISTRIBUTIONS as [(typeof EDGE_DISTRIBUTIONS)[number], (typeof EDGE_DISTRIBUTIONS)[number], (typeof EDGE_DISTRIBUTIONS)[number]];
    const originOnly = ORIGIN_DISTRIBUTIONS[0] as (typeof ORIGIN_DISTRIBUTIONS)[number];
    fc.assert(
      fc.property(fc.array(fc.array(arbitraryEvent, { maxLength: 60 }), { minLength: 1, maxLength: 3 }), (batches) => {
        const want = { edge: new Map<string, Map<number, number>>(), origin: new Map<string, Map<number, number>>() };
        const bump = (m: Map<string, Map<number, number>>, key: string, id: number): void => {
          let b = m.get(key);
          if (b === undefined) m.set(key, (b = new Map()));
          b.set(id, (b.get(id) ?? 0) + 1);
        };
        for (const e of batches.flat()) {
          const edgeKey = JSON.stringify([e.second, e.service, e.datacenter, e.domain, e.product]);
          bump(want.edge, edgeKey, edgeTime.offset + edgeTime.layout.bucketOf(e.time_ms));
          bump(want.edge, edgeKey, objectSize.offset + objectSize.layout.bucketOf(e.resp_body_bytes));
          if (e.origin_status !== undefined) {
            bump(want.edge, edgeKey, originTime.offset + originTime.layout.bucketOf(e.origin_time_ms));
            bump(want.origin, JSON.stringify([e.second, e.service, e.datacenter, e.backend]), originOnly.offset + originOnly.layout.bucketOf(e.origin_time_ms));
          }
        }
        const dicts = createDictionaries();
        const rs = aggregateBatches(batches.map((events) => batchOf(events, dicts)), dicts);
        const sorted = (m: Map<number, number>): [number, number][] => [...m].sort((a, b) => a[0] - b[0]);
        const got = (records: readonly { ids: Uint32Array; counts: Float64Array }[], keyOf: (r: never) => string): Map<string, [number, number][]> => {
          const out = new Map<string, [number, number][]>();
          for (const r of records) {
            const key = keyOf(r as never);
            expect(out.has(key), `one row per key: ${key}`).toBe(false);
            expect([...r.ids]).toEqual([...r.ids].sort((a, b) => a - b));
            out.set(key, Array.from(r.ids, (id, k) => [id, r.counts[k] as number]));
          }
          return out;
        };
        const edgeGot = got(rs.edgeDist ?? [], (r: { second: number; service: string; datacenter: string; domain: string; product: string }) => JSON.stringify([r.second, r.service, r.datacenter, r.domain, r.product]));
        const originGot = got(rs.originDist ?? [], (r: { second: number; service: string; datacenter: string; backend: string }) => JSON.stringify([r.second, r.service, r.datacenter, r.backend]));
        expect(new Map([...edgeGot].sort())).toEqual(new Map([...want.edge].map(([k, v]) => [k, sorted(v)] as const).sort()));
        expect(new Map([...originGot].sort())).toEqual(new Map([...want.origin].map(([k, v]) => [k, sorted(v)] as const).sort()));
      }),
      { numRuns: 150 },
    );
  });
});
