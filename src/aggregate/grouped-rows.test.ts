import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createGroupedRows, type GroupedRows } from './grouped-rows.ts';

const WIDTH = 40;

function dense(g: GroupedRows, row: number): number[] {
  const out = new Float64Array(WIDTH);
  g.rows.writeDense(row, out, 0);
  return [...out];
}

describe('grouped rows', () => {
  it('keep leaves and their sums (per outer, per inner, total) equal to naive sums, past the indexed sizes', () => {
    const add = fc.record({
      outer: fc.integer({ min: 0, max: 49 }),
      inner: fc.integer({ min: 0, max: 39 }),
      fields: fc.array(fc.tuple(fc.integer({ min: 0, max: WIDTH - 1 }), fc.integer({ min: -5, max: 1e6 })), { maxLength: 12 }),
    });
    fc.assert(
      fc.property(fc.array(add, { minLength: 1, maxLength: 300 }), (adds) => {
        const g = createGroupedRows(WIDTH);
        const want = new Map<string, number[]>();
        const bump = (key: string, v: Float64Array): void => {
          const w = want.get(key) ?? new Array<number>(WIDTH).fill(0);
          v.forEach((x, i) => (w[i] = (w[i] as number) + x));
          want.set(key, w);
        };
        for (const a of adds) {
          const v = new Float64Array(WIDTH);
          for (const [f, x] of a.fields) v[f] = (v[f] as number) + x;
          g.add(`o${a.outer}`, `i${a.inner}`, v);
          bump(`leaf|o${a.outer}|i${a.inner}`, v);
          bump(`outer|o${a.outer}`, v);
          bump(`inner|i${a.inner}`, v);
          bump('total', v);
        }
        const got = new Map<string, number[]>();
        g.forEachLeaf((o, i, row) => got.set(`leaf|${o}|${i}`, dense(g, row)));
        g.forEachOuter((o, row) => got.set(`outer|${o}`, dense(g, row)));
        g.forEachInner((i, row) => got.set(`inner|${i}`, dense(g, row)));
        got.set('total', dense(g, g.totalRow()));
        expect(new Map([...got].sort())).toEqual(new Map([...want].sort()));
        expect(g.leafCount).toBe([...want.keys()].filter((k) => k.startsWith('leaf|')).length);
      }),
      { numRuns: 150 },
    );
  });

  it('shares the row of a single child until a second child appears', () => {
    const g = createGroupedRows(WIDTH);
    const v = new Float64Array(WIDTH).fill(1);
    g.add('FRA', 'a.com', v);
    g.add('LHR', 'b.com', v);
    // Two leaves; FRA, LHR, a.com, b.com each alias their only leaf; only the total has its own row.
    expect(g.rows.rowCount).toBe(3);
    g.add('FRA', 'c.com', v);
    // FRA now sums two leaves: it gets its own row (and c.com's leaf is a new row).
    expect(g.rows.rowCount).toBe(5);
  });
});
