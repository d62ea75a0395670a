import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EDGE_FIELDS, ORIGIN_FIELDS } from '../../model/fields.ts';
import type { RecordSet } from '../../model/record.ts';
import { dimensionRecord, edgeRecord, originRecord } from '../../store/record-fixtures.ts';
import { decodeRecordSet, encodeRecordSet } from './codec.ts';

const plain = (rs: RecordSet): unknown => ({
  edge: rs.edge.map((r) => ({ ...r, values: Array.from(r.values) })),
  origin: rs.origin.map((r) => ({ ...r, values: Array.from(r.values) })),
  dimension: rs.dimension,
});

// -0 is stored as 0: a delta of -0 adds nothing.
const value = fc.oneof(fc.constant(0), fc.nat(), fc.maxSafeNat(), fc.double({ noNaN: true, noDefaultInfinity: true })).map((v) => (Object.is(v, -0) ? 0 : v));
const vectorOf = (length: number) =>
  fc.array(fc.tuple(fc.nat(length - 1), value), { maxLength: 12 }).map((sets) => {
    const v = new Float64Array(length);
    for (const [i, x] of sets) v[i] = x;
    return v;
  });
const second = fc.integer({ min: 1_600_000_000, max: 1_900_000_000 });
const name = fc.string({ unit: 'binary', maxLength: 12 });
const recordSet: fc.Arbitrary<RecordSet> = fc.record({
  edge: fc.array(fc.record({ second, service: name, datacenter: name, domain: name, product: name, values: vectorOf(EDGE_FIELDS.length) }), { maxLength: 5 }),
  origin: fc.array(fc.record({ second, service: name, datacenter: name, backend: name, values: vectorOf(ORIGIN_FIELDS.length) }), { maxLength: 5 }),
  dimension: fc.array(
    fc.record({ second, service: name, domain: name, product: name, dimension: fc.constantFrom('method' as const, 'status' as const), value: name, count: value, bytes: value }),
    { maxLength: 5 },
  ),
});

describe('WAL record codec', () => {
  it('keeps a name that begins with U+FEFF (a backend may)', () => {
    const rs: RecordSet = { edge: [], origin: [originRecord(1_700_000_000, 'shop', { responses: 1 }, 'FRA', '\uFEFForigin')], dimension: [] };
    expect(decodeRecordSet(encodeRecordSet(rs)).origin[0]?.backend).toBe('\uFEFForigin');
  });

  it('round-trips any record set exactly (property)', () => {
    fc.assert(
      fc.property(recordSet, (rs) => {
        expect(plain(decodeRecordSet(encodeRecordSet(rs)))).toEqual(plain(rs));
      }),
      { numRuns: 300 },
    );
  });

  it('stores only the non-zero fields of a vector', () => {
    const one = encodeRecordSet({ edge: [edgeRecord(1_700_000_000, 's', { requests: 1, hits: 1, resp_body_bytes: 1234 })], origin: [], dimension: [] });
    // 265 dense doubles would be over 2 KiB.
    expect(one.length).toBeLessThan(80);
  });

  it('round-trips an empty set and every record kind', () => {
    const rs: RecordSet = {
      edge: [edgeRecord(1_700_000_001, 's', { requests: 2, hits_time: 0.25 })],
      origin: [originRecord(1_700_000_000, 's', { responses: 3 })],
      dimension: [dimensionRecord(1_700_000_000, 's', 'status', '404', 1, 99)],
    };
    expect(plain(decodeRecordSet(encodeRecordSet(rs)))).toEqual(plain(rs));
    expect(decodeRecordSet(encodeRecordSet({ edge: [], origin: [], dimension: [] }))).toEqual({ edge: [], origin: [], dimension: [] });
  });

  it('rejects malformed payloads with a RangeError, never a crash (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          decodeRecordSet(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(Error);
        }
      }),
      { numRuns: 500 },
    );
    const good = encodeRecordSet({ edge: [edgeRecord(1_700_000_000, 's', { requests: 1 })], origin: [], dimension: [] });
    expect(() => decodeRecordSet(good.subarray(0, good.length - 1))).toThrow(RangeError);
  });
});
