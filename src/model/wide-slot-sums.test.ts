import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PartWriter, visitRow } from './delta.ts';
import { SlotVectors, WideSlotSums } from './delta-builder.ts';

/** Each slot's emitted vector as [field, value] pairs. */
function emitted(sums: WideSlotSums | SlotVectors, slots: number): [number, number][][] {
  const w = new PartWriter(1);
  for (let s = 0; s < slots; s++) {
    w.reserve(0);
    w.keys[w.rows] = s;
    sums.emit(s, w);
    w.endRow(0);
  }
  const part = w.finish();
  return Array.from({ length: slots }, (_, i) => {
    const out: [number, number][] = [];
    visitRow(part, i, sums.width, (f, v) => out.push([f, v]));
    return out;
  });
}

describe('WideSlotSums', () => {
  it('emits what SlotVectors emits for the same adds, over several builds (growth, rehash, clearing)', () => {
    const width = 3000;
    const add = fc.tuple(fc.integer({ min: 0, max: 299 }), fc.integer({ min: 0, max: width - 1 }), fc.oneof(fc.integer({ min: -3, max: 1000 }), fc.double({ min: -1e6, max: 1e6, noNaN: true })));
    const wide = new WideSlotSums(width);
    fc.assert(
      fc.property(fc.array(fc.array(add, { maxLength: 3000 }), { minLength: 1, maxLength: 3 }), (builds) => {
        for (const adds of builds) {
          const slots = adds.reduce((m, [s]) => Math.max(m, s + 1), 0);
          const dense = new SlotVectors(width, 4);
          wide.ensure(slots);
          dense.ensure(slots);
          for (const [s, f, v] of adds) {
            wide.add(s, f, v);
            dense.add(s, f, v);
          }
          expect(emitted(wide, slots)).toEqual(emitted(dense, slots));
        }
      }),
      { numRuns: 60 },
    );
  });

  it('leaves an emitted slot empty while other slots keep their sums', () => {
    const sums = new WideSlotSums(10_000);
    sums.ensure(2);
    sums.add(0, 9_999, 2);
    sums.add(1, 5, 1);
    sums.add(0, 3, 4);
    const w = new PartWriter(1);
    w.reserve(0);
    sums.emit(0, w);
    w.endRow(0);
    sums.add(0, 7, 1);
    for (const s of [0, 1]) {
      w.reserve(0);
      sums.emit(s, w);
      w.endRow(0);
    }
    const part = w.finish();
    const rows = [0, 1, 2].map((i) => {
      const out: [number, number][] = [];
      visitRow(part, i, 10_000, (f, v) => out.push([f, v]));
      return out;
    });
    expect(rows).toEqual([[[3, 4], [9_999, 2]], [[7, 1]], [[5, 1]]]);
  });
});
