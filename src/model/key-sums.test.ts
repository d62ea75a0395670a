import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatDeltas } from './delta-concat.ts';
import { deltaFromRecordSet } from './delta.ts';
import { EDGE_FIELDS } from './fields.ts';
import { sumByKey } from './key-sums.ts';
import type { EdgeRecord } from './record.ts';

const WIDTH = EDGE_FIELDS.length;

/** A record whose non-zero fields are `fields` (index -> value). */
const edge = (second: number, service: string, domain: string, fields: readonly [number, number][]): EdgeRecord => {
  const values = new Float64Array(WIDTH);
  for (const [f, v] of fields) values[f] = (values[f] as number) + v;
  return { second, service, datacenter: 'FRA', domain, product: 'edge_application', values };
};

const arbRecord = fc
  .record({
    second: fc.integer({ min: 1_700_000_000, max: 1_700_000_000 + 7_200 }),
    service: fc.constantFrom('a', 'b'),
    domain: fc.constantFrom('x.example', 'y.example', 'z.example'),
    fields: fc.array(fc.tuple(fc.integer({ min: 0, max: WIDTH - 1 }), fc.oneof(fc.integer({ min: 1, max: 1_000_000 }), fc.double({ min: 0.001, max: 1e6, noNaN: true }))), { maxLength: 20 }),
  })
  .map((r) => edge(r.second, r.service, r.domain, r.fields));

describe('sumByKey', () => {
  it('sums every field per bucket and key, sparse and ascending, in chunks (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.array(arbRecord, { maxLength: 30 }), { minLength: 1, maxLength: 4 }), fc.constantFrom(60, 3600), fc.integer({ min: 1, max: 5 }), (writes, width, chunkRows) => {
        const joined = concatDeltas(writes.map((edge) => deltaFromRecordSet({ edge, origin: [], dimension: [] })));
        const expected = new Map<string, Float64Array>();
        for (const r of writes.flat()) {
          const key = JSON.stringify([r.second - (r.second % width), r.service, r.datacenter, r.domain, r.product]);
          const sums = expected.get(key) ?? new Float64Array(WIDTH);
          for (let f = 0; f < WIDTH; f++) sums[f] = (sums[f] as number) + (r.values[f] as number);
          expected.set(key, sums);
        }
        const got = new Map<string, Float64Array>();
        for (const chunk of sumByKey(joined, 'edge', width, chunkRows)) {
          expect(chunk.rows).toBeLessThanOrEqual(chunkRows);
          for (let r = 0; r < chunk.rows; r++) {
            const key = JSON.stringify([chunk.bucket[r], ...Array.from(chunk.keys.subarray(r * 4, r * 4 + 4), (id) => chunk.names[id])]);
            expect(got.has(key)).toBe(false);
            const sums = new Float64Array(WIDTH);
            const ids = Array.from(chunk.ids.subarray(chunk.fieldStart[r], chunk.fieldStart[r + 1]));
            expect(ids).toEqual([...ids].sort((a, b) => a - b));
            expect(new Set(ids).size).toBe(ids.length);
            ids.forEach((f, k) => (sums[f] = chunk.sums[(chunk.fieldStart[r] as number) + k] as number));
            got.set(key, sums);
          }
        }
        // Keys whose fields are all zero have no fields to list but are still rows.
        expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
        for (const [key, sums] of expected) {
          const mine = got.get(key) as Float64Array;
          for (let f = 0; f < WIDTH; f++) expect(mine[f]).toBeCloseTo(sums[f] as number, 6);
        }
      }),
      { numRuns: 200 },
    );
  });
});
