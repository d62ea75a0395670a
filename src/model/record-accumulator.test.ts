import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dimensionRecord, edgeRecord, originRecord } from '../store/record-fixtures.ts';
import { createRecordAccumulator } from './record-accumulator.ts';

const T0 = 1_704_067_200;

describe('record accumulator', () => {
  it('sums deltas per key and re-buckets to its width', () => {
    const acc = createRecordAccumulator(60);
    const input = edgeRecord(T0 + 5, 's', { requests: 1 });
    acc.add({ edge: [input, edgeRecord(T0 + 59, 's', { requests: 2 }), edgeRecord(T0 + 60, 's', { requests: 4 })], origin: [originRecord(T0 + 1, 's', { responses: 1 })], dimension: [dimensionRecord(T0, 's', 'method', 'GET', 1, 10), dimensionRecord(T0 + 30, 's', 'method', 'GET', 2, 5)] });
    expect(acc.buckets()).toEqual([T0, T0 + 60]);
    const rs = acc.drain();
    expect(rs.edge.map((r) => [r.second, r.values[0]])).toEqual([
      [T0, 3],
      [T0 + 60, 4],
    ]);
    expect(rs.dimension).toEqual([dimensionRecord(T0, 's', 'method', 'GET', 3, 15)]);
    expect(input.values[0]).toBe(1);
    expect(acc.size).toBe(0);
  });

  it('never merges keys whose parts differ, whatever characters they hold', () => {
    const acc = createRecordAccumulator();
    acc.add({ edge: [edgeRecord(T0, 'a\u0000b', { requests: 1 }, 'c'), edgeRecord(T0, 'a', { requests: 1 }, 'b\u0000c')], origin: [], dimension: [] });
    expect(acc.size).toBe(2);
  });

  it('keeps exactly the distinct keys of random names (separators, digits, lengths inside names)', () => {
    const name = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('1:', ':', '|', '1:a', 'a1:', ''));
    const key = fc.tuple(fc.integer({ min: T0, max: T0 + 3 }), name, name, name, name);
    fc.assert(
      fc.property(fc.array(key, { maxLength: 30 }), (keys) => {
        const acc = createRecordAccumulator();
        acc.add({
          edge: keys.map(([second, service, datacenter, domain, product]) => ({ ...edgeRecord(second, service, { requests: 1 }, datacenter), domain, product })),
          origin: [],
          dimension: keys.map(([second, service, domain, product, value]) => ({ ...dimensionRecord(second, service, 'method', value, 1, 0), domain, product })),
        });
        const distinct = new Set(keys.map((k) => JSON.stringify(k))).size;
        const rs = acc.snapshot();
        expect(rs.edge).toHaveLength(distinct);
        expect(rs.dimension).toHaveLength(distinct);
        expect(rs.edge.reduce((t, r) => t + (r.values[0] ?? 0), 0)).toBe(keys.length);
      }),
      { numRuns: 200 },
    );
  });

  it('drains only the buckets asked for', () => {
    const acc = createRecordAccumulator();
    acc.add({ edge: [edgeRecord(T0, 's', { requests: 1 }), edgeRecord(T0 + 1, 's', { requests: 1 })], origin: [], dimension: [] });
    expect(acc.drain((b) => b <= T0).edge.map((r) => r.second)).toEqual([T0]);
    expect(acc.snapshot().edge.map((r) => r.second)).toEqual([T0 + 1]);
    expect(acc.size).toBe(1);
  });
});
