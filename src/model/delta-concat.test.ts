import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dimensionRecord, edgeRecord, originRecord } from '../store/record-fixtures.ts';
import { decodeDelta, encodeDelta } from './delta-bytes.ts';
import { concatDeltas, splitToBlockBytes } from './delta-concat.ts';
import { deltaFromRecordSet, deltaStrings, deltaToRecordSet, type Delta } from './delta.ts';
import { createRecordAccumulator } from './record-accumulator.ts';
import type { RecordSet } from './record.ts';

const T0 = 1_704_067_200;

const name = fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom('\uFEFF', 'a"b', '', 'é', 's1'));
const recordSets = fc
  .array(fc.tuple(fc.integer({ min: T0, max: T0 + 3 }), name, name, fc.integer({ min: 0, max: 1000 }), fc.double({ min: 0, max: 10, noNaN: true })), { maxLength: 20 })
  .map(
    (rows): RecordSet => ({
      edge: rows.map(([s, svc, dc, n, t]) => edgeRecord(s, svc, { requests: n, hits_time: t }, dc)),
      origin: rows.filter(([, , , n]) => n % 2 === 0).map(([s, svc, dc, n]) => originRecord(s, svc, { responses: n }, dc)),
      dimension: rows.filter(([, , , n]) => n % 3 === 0).map(([s, svc, , n]) => dimensionRecord(s, svc, 'status', String(n % 5), n, n * 2)),
    }),
  );

/** The sums per key of some deltas, as plain data (what every reader must agree on). */
function sums(deltas: readonly Delta[]): unknown {
  const acc = createRecordAccumulator(1);
  for (const d of deltas) acc.add(deltaToRecordSet(d));
  const rs = acc.snapshot();
  const key = (r: object): string => JSON.stringify(r);
  const plain = (list: readonly object[]) => list.map((r) => ('values' in r ? { ...r, values: Array.from((r as { values: Float64Array }).values) } : r)).map(key).sort();
  return { edge: plain(rs.edge), origin: plain(rs.origin), dimension: plain(rs.dimension) };
}

describe('concatDeltas', () => {
  it('keeps every row of every delta, with one string table (property)', () => {
    fc.assert(
      fc.property(fc.array(recordSets, { minLength: 1, maxLength: 4 }), (sets) => {
        const deltas = sets.map(deltaFromRecordSet);
        const joined = concatDeltas(deltas);
        expect(joined.edge.rows).toBe(deltas.reduce((n, d) => n + d.edge.rows, 0));
        expect(joined.dimension.rows).toBe(deltas.reduce((n, d) => n + d.dimension.rows, 0));
        expect(new Set(deltaStrings(joined)).size).toBe(deltaStrings(joined).length);
        expect(sums([joined])).toEqual(sums(deltas));
        // Row order is kept: the first delta's rows come first.
        const first = deltaToRecordSet(deltas[0] as Delta).edge.map((r) => r.service);
        expect(deltaToRecordSet(joined).edge.slice(0, first.length).map((r) => r.service)).toEqual(first);
      }),
      { numRuns: 150 },
    );
  });
});

describe('splitToBlockBytes', () => {
  it('cuts a delta into one block per (second, service) that add up to it, each with only its names (property)', () => {
    fc.assert(
      fc.property(recordSets, (rs) => {
        const delta = deltaFromRecordSet(rs);
        const blocks = splitToBlockBytes(delta).map((b) => ({ ...b, delta: decodeDelta(b.bytes) }));
        const expected = new Set([...rs.edge, ...rs.origin, ...rs.dimension].map((r) => JSON.stringify([r.second, r.service])));
        expect(blocks.map((b) => JSON.stringify([b.second, b.service])).sort()).toEqual([...expected].sort());
        // Ordered by second.
        expect(blocks.map((b) => b.second)).toEqual([...blocks.map((b) => b.second)].sort((a, b) => a - b));
        for (const b of blocks) {
          const back = deltaToRecordSet(decodeDelta(encodeDelta(b.delta)));
          for (const r of [...back.edge, ...back.origin, ...back.dimension]) expect([r.second, r.service]).toEqual([b.second, b.service]);
          // Its string table holds the names its rows use, each once.
          const used = new Set([...back.edge.flatMap((r) => [r.service, r.datacenter, r.domain, r.product]), ...back.origin.flatMap((r) => [r.service, r.datacenter, r.backend]), ...back.dimension.flatMap((r) => [r.service, r.domain, r.product, r.dimension, r.value])]);
          expect([...deltaStrings(b.delta)].sort()).toEqual([...used].sort());
        }
        expect(sums(blocks.map((b) => b.delta))).toEqual(sums([delta]));
      }),
      { numRuns: 200 },
    );
  });
});
