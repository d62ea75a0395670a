import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sparseVectorMaxBytes, writeSparseVector } from '../model/sparse-vector.ts';
import { readChannelGroups, readNestedGroups } from './grouped-rows.ts';
import { SecondRows } from './sparse-rows.ts';

const WIDTH = 40;
const names = Array.from({ length: 100 }, (_, i) => `n${i}`);

function encode(v: Float64Array): Uint8Array {
  const buf = new Uint8Array(sparseVectorMaxBytes(v.length));
  return buf.slice(0, writeSparseVector(buf, 0, v));
}

describe('second rows and their groupings', () => {
  it('sum to the naive sums per slot, in total, per outer, per inner and per leaf, across compactions', () => {
    const add = fc.record({
      slot: fc.integer({ min: 0, max: 3 }),
      outer: fc.integer({ min: 0, max: 9 }),
      inner: fc.integer({ min: 10, max: 19 }),
      fields: fc.array(fc.tuple(fc.integer({ min: 0, max: WIDTH - 1 }), fc.oneof(fc.integer({ min: 0, max: 2 ** 40 }), fc.double({ min: -1e6, max: 1e6, noNaN: true }))), {
        maxLength: 8,
      }),
      compactAfter: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(add, { minLength: 1, maxLength: 200 }), (adds) => {
        const rows = new SecondRows(WIDTH);
        const want = new Map<string, number[]>();
        const bump = (key: string, v: Float64Array): void => {
          const w = want.get(key) ?? new Array<number>(WIDTH).fill(0);
          v.forEach((x, i) => (w[i] = (w[i] as number) + x));
          want.set(key, w);
        };
        for (const a of adds) {
          const v = new Float64Array(WIDTH);
          for (const [f, x] of a.fields) v[f] = x;
          const bytes = encode(v);
          rows.append(a.slot, a.outer, a.inner, bytes, 0, bytes.length);
          bump(`${a.slot}|total`, v);
          bump(`${a.slot}|outer|n${a.outer}`, v);
          bump(`${a.slot}|inner|n${a.inner}`, v);
          bump(`${a.slot}|leaf|n${a.outer}|n${a.inner}`, v);
          if (a.compactAfter) rows.compact();
        }
        const got = new Map<string, number[]>();
        const near = (xs: Float64Array): number[] => [...xs];
        for (let slot = 0; slot < 4; slot++) {
          if (!rows.has(slot)) continue;
          const c = readChannelGroups(rows, slot, names);
          got.set(`${slot}|total`, near(c.total));
          for (const [o, v] of c.byOuter) got.set(`${slot}|outer|${o}`, near(v));
          const n = readNestedGroups(rows, slot, names);
          for (const [i, v] of n.byInner) got.set(`${slot}|inner|${i}`, near(v));
          for (const [o, m] of n.byOuter) for (const [i, v] of m) got.set(`${slot}|leaf|${o}|${i}`, near(v));
          // Every non-zero field is in the hint.
          for (const v of [c.total, ...c.byOuter.values()]) v.forEach((x, f) => x !== 0 && expect(c.fields).toContain(f));
        }
        expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
        // Sums in another order: equal to the last bits for integers, close for doubles.
        for (const [key, w] of want) (got.get(key) ?? []).forEach((x, f) => expect(x).toBeCloseTo(w[f] as number, 3));
        rows.compact();
        expect(rows.rows).toBe([...want.keys()].filter((k) => k.includes('|leaf|')).length);
      }),
      { numRuns: 150 },
    );
  });

  it('keeps the order of first appearance, and interns equal field lists', () => {
    const rows = new SecondRows(WIDTH);
    const v = new Float64Array(WIDTH);
    v[3] = 1;
    v[7] = 2;
    const bytes = encode(v);
    for (const [outer, inner] of [[5, 12], [2, 11], [5, 11]] as const) rows.append(0, outer, inner, bytes, 0, bytes.length);
    rows.append(1, 2, 12, bytes, 0, bytes.length);
    const before = readNestedGroups(rows, 0, names);
    expect([...before.byInner.keys()]).toEqual(['n12', 'n11']);
    expect([...before.byOuter].map(([o, m]) => [o, [...m.keys()]])).toEqual([['n5', ['n12', 'n11']], ['n2', ['n11']]]);
    rows.compact();
    const after = readNestedGroups(rows, 0, names);
    expect([...after.byOuter].map(([o, m]) => [o, [...m.keys()]])).toEqual([['n5', ['n12', 'n11']], ['n2', ['n11']]]);
    expect(after.fields).toBe(before.fields);
    expect([...after.fields]).toEqual([3, 7]);
    expect(readChannelGroups(rows, 1, names).total[7]).toBe(2);
  });
});
