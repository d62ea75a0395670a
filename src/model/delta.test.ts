import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dimensionRecord, edgeRecord, originRecord } from '../store/record-fixtures.ts';
import type { RecordSet } from './record.ts';
import { decodeDelta, encodeDelta } from './delta-bytes.ts';
import { dropServices, filterDelta } from './delta-builder.ts';
import { deltaFromRecordSet, deltaSeconds, deltaStrings, deltaToRecordSet, emptyDelta, isEmptyDelta } from './delta.ts';

const T0 = 1_704_067_200;

const plain = (rs: RecordSet): unknown => ({
  edge: rs.edge.map((r) => ({ ...r, values: Array.from(r.values) })),
  origin: rs.origin.map((r) => ({ ...r, values: Array.from(r.values) })),
  dimension: rs.dimension,
});

const sample = (): RecordSet => ({
  edge: [
    edgeRecord(T0, 's1', { requests: 3, hits: 2, hits_time: 0.125, resp_body_bytes: 2 ** 53 - 1 }),
    edgeRecord(T0 + 1, '\uFEFFs"2', { requests: 1, miss: 1 }, 'FRA', 'Ünïcode.example'),
  ],
  origin: [originRecord(T0, 's1', { responses: 4, resp_body_bytes: 10 })],
  dimension: [dimensionRecord(T0, 's1', 'method', 'GET', 3, 300), dimensionRecord(T0, 's1', 'status', '404', 1, 7)],
});

const name = fc.oneof(fc.string({ maxLength: 5 }), fc.constantFrom('\uFEFF', 'a"b', '', 'é'));
const recordSets = fc
  .array(fc.tuple(fc.integer({ min: T0, max: T0 + 3 }), name, name, fc.integer({ min: 0, max: 1000 }), fc.double({ min: 0, max: 10, noNaN: true })), { maxLength: 25 })
  .map(
    (rows): RecordSet => ({
      edge: rows.map(([s, svc, dc, n, t]) => edgeRecord(s, svc, { requests: n, hits_time: t }, dc)),
      origin: rows.map(([s, svc, dc, n]) => originRecord(s, svc, { responses: n }, dc)),
      dimension: rows.map(([s, svc, , n]) => dimensionRecord(s, svc, 'method', 'GET', n, n * 2)),
    }),
  );

describe('Delta', () => {
  it('converts a RecordSet and back unchanged, through its bytes too', () => {
    const rs = sample();
    const d = deltaFromRecordSet(rs);
    expect(plain(deltaToRecordSet(d))).toEqual(plain(rs));
    const bytes = encodeDelta(d);
    expect(plain(deltaToRecordSet(decodeDelta(bytes)))).toEqual(plain(rs));
    // Unaligned input is copied, not misread.
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    expect(plain(deltaToRecordSet(decodeDelta(shifted.subarray(3))))).toEqual(plain(rs));
    expect([...deltaSeconds(d)].sort()).toEqual([T0, T0 + 1]);
  });

  it('round-trips random record sets through bytes', () => {
    fc.assert(
      fc.property(recordSets, (rs) => {
        expect(plain(deltaToRecordSet(decodeDelta(encodeDelta(deltaFromRecordSet(rs)))))).toEqual(plain(rs));
      }),
      { numRuns: 200 },
    );
  });

  it('refuses damaged bytes with a RangeError, never a wrong delta', () => {
    const bytes = encodeDelta(deltaFromRecordSet(sample()));
    expect(() => decodeDelta(bytes.subarray(0, bytes.length - 8))).toThrow(RangeError);
    const badMagic = bytes.slice();
    badMagic[0] = 0;
    expect(() => decodeDelta(badMagic)).toThrow(RangeError);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, xor) => {
        const copy = bytes.slice();
        copy[at] = (copy[at] as number) ^ xor;
        try {
          const d = decodeDelta(copy);
          deltaToRecordSet(d); // may still decode (a value byte changed): must not crash otherwise
        } catch (err) {
          expect(err).toBeInstanceOf(RangeError);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('filters rows by second and keeps the string table', () => {
    const d = deltaFromRecordSet(sample());
    const first = filterDelta(d, (s) => s === T0);
    expect(deltaToRecordSet(first).edge.map((r) => r.service)).toEqual(['s1']);
    expect(deltaToRecordSet(first).dimension).toHaveLength(2);
    expect(isEmptyDelta(filterDelta(d, () => false))).toBe(true);
    expect(isEmptyDelta(emptyDelta())).toBe(true);
  });

  it('drops the rows of refused services, and their names from the string table', () => {
    fc.assert(
      fc.property(recordSets, fc.subarray(['', 'a', '\uFEFF', 'é']), (rs, refused) => {
        const gone = new Set(refused);
        const kept = dropServices(deltaFromRecordSet(rs), gone);
        const want: RecordSet = {
          edge: rs.edge.filter((r) => !gone.has(r.service)),
          origin: rs.origin.filter((r) => !gone.has(r.service)),
          dimension: rs.dimension.filter((r) => !gone.has(r.service)),
        };
        expect(plain(deltaToRecordSet(kept))).toEqual(plain(want));
        // Only the strings of the rows kept are left ('GET', 'method', a datacenter may equal a refused name).
        const used = new Set([...want.edge, ...want.origin, ...want.dimension].flatMap((r) => Object.values(r).filter((v): v is string => typeof v === 'string')));
        expect(new Set(deltaStrings(kept))).toEqual(used);
      }),
      { numRuns: 200 },
    );
    const d = deltaFromRecordSet(sample());
    expect(dropServices(d, new Set(['nobody']))).toBe(d);
  });
});
