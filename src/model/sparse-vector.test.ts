import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addSparsePrefix, addSparseTracked, addSparseVector, sparseVectorMaxBytes, writeSparseVector } from './sparse-vector.ts';

const LENGTH = 300;

/** A dense vector with a few non-zero fields: integers (varints, some above 2^31) and fractions (float64). */
const arbVector = fc
  .array(fc.tuple(fc.integer({ min: 0, max: LENGTH - 1 }), fc.oneof(fc.integer({ min: 1, max: 2 ** 40 }), fc.double({ min: -1e9, max: 1e9, noNaN: true }))), { maxLength: 40 })
  .map((fields) => {
    const v = new Float64Array(LENGTH);
    for (const [i, x] of fields) v[i] = x;
    return v;
  });

const encode = (v: Float64Array): Uint8Array => {
  const buf = new Uint8Array(sparseVectorMaxBytes(v.length));
  return buf.subarray(0, writeSparseVector(buf, 0, v));
};

describe('addSparseTracked', () => {
  it('adds like addSparseVector and lists each touched index once, over several vectors (property)', () => {
    fc.assert(
      fc.property(fc.array(arbVector, { minLength: 1, maxLength: 5 }), (vectors) => {
        const expected = new Float64Array(LENGTH);
        const into = new Float64Array(LENGTH);
        const seen = new Uint8Array(LENGTH);
        const touched = new Uint32Array(LENGTH);
        let count = 0;
        for (const v of vectors) {
          const bytes = encode(v);
          addSparseVector(bytes, expected);
          // At an offset inside a larger buffer, as the rollups read rows out of a block.
          const framed = new Uint8Array(bytes.length + 7);
          framed.set(bytes, 3);
          count = addSparseTracked(framed, 3, 3 + bytes.length, LENGTH, into, seen, touched, count);
        }
        expect(into).toEqual(expected);
        const listed = [...touched.subarray(0, count)].sort((a, b) => a - b);
        const nonZero = vectors.flatMap((v) => [...v.keys()].filter((i) => v[i] !== 0));
        expect(listed).toEqual([...new Set(nonZero)].sort((a, b) => a - b));
      }),
    );
  });

  it('throws a RangeError on a vector cut short, and on an index past the length', () => {
    const v = new Float64Array(LENGTH);
    v[5] = 1.5;
    v[200] = 2 ** 35;
    const bytes = encode(v);
    const fresh = (): [Float64Array, Uint8Array, Uint32Array] => [new Float64Array(LENGTH), new Uint8Array(LENGTH), new Uint32Array(LENGTH)];
    for (let cut = 0; cut < bytes.length; cut++) expect(() => addSparseTracked(bytes, 0, cut, LENGTH, ...fresh(), 0)).toThrow(RangeError);
    expect(() => addSparseTracked(bytes, 0, bytes.length, 100, ...fresh(), 0)).toThrow(/out of range/);
  });
});

describe('addSparsePrefix', () => {
  it('adds the fields below `counters` at `offset`, like a full add cut to them (property)', () => {
    fc.assert(
      fc.property(arbVector, fc.integer({ min: 0, max: LENGTH }), fc.integer({ min: 0, max: 5 }), (v, counters, offset) => {
        const full = new Float64Array(LENGTH);
        addSparseVector(encode(v), full);
        const into = new Float64Array(offset + counters);
        into.fill(1);
        const bytes = encode(v);
        addSparsePrefix(bytes, 0, bytes.length, into, offset, counters);
        const expected = new Float64Array(offset + counters).fill(1);
        for (let f = 0; f < counters; f++) expected[offset + f] = 1 + (full[f] as number);
        expect(into).toEqual(expected);
      }),
    );
  });

  it('throws a RangeError on a vector cut short', () => {
    const v = new Float64Array(LENGTH);
    v[3] = 0.25;
    v[90] = 7;
    const bytes = encode(v);
    for (let cut = 0; cut < bytes.length; cut++) expect(() => addSparsePrefix(bytes, 0, cut, new Float64Array(LENGTH), 0, LENGTH)).toThrow(RangeError);
  });
});
