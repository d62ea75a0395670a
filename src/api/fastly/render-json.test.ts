import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { GroupedValues } from '../../aggregate/realtime-source.ts';
import { EDGE_FIELDS, ORIGIN_FIELDS } from '../../model/fields.ts';
import { objectOf, renderChannel, renderDomain, renderOrigin } from './render.ts';
import { channelEntryJson, domainEntryJson, originEntryJson } from './render-json.ts';
import { edgeVector } from './test-helpers.ts';

/** A value as sums hold them, plus the odd ones JSON must still write like JSON.stringify. */
const value = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 2 ** 40 }) },
  { weight: 2, arbitrary: fc.double({ min: 0, max: 1e6, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(-0, 0, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53 + 2, 1e21, 5e-7) },
);

/** A sparse vector of `width` fields: a handful set, like the window's sums. */
const vector = (width: number) =>
  fc.array(fc.tuple(fc.nat({ max: width - 1 }), value), { maxLength: 30 }).map((pairs) => {
    const v = new Float64Array(width);
    for (const [i, x] of pairs) v[i] = x;
    return v;
  });

/** Group names, with the ones JavaScript objects order or treat specially. */
const name = fc.oneof(
  fc.constantFrom('FRA', 'LHR', '__proto__', '0', '7', '12', '01', '4294967294', '4294967295', 'a"b\\c', 'ü.example', '\ud800', ''),
  fc.string({ maxLength: 6 }),
);

const groups = <V>(values: fc.Arbitrary<V>) =>
  fc.uniqueArray(fc.tuple(name, values), { selector: ([k]) => k, maxLength: 5 }).map((entries) => new Map(entries));

/** The `fields` hint: none, or every field set in any of the vectors, plus some that are not. */
function hint(vectors: Float64Array[], extra: number[], given: boolean): Uint16Array | undefined {
  if (!given) return undefined;
  const set = new Set(extra);
  for (const v of vectors) v.forEach((x, i) => x !== 0 && set.add(i));
  return Uint16Array.from([...set].filter((i) => i < (vectors[0]?.length ?? 0))).sort();
}

const nested = (m: ReadonlyMap<string, GroupedValues>): Float64Array[] => [...m.values()].flatMap((g) => [...g.values()]);

describe('entries as JSON text', () => {
  // The reference: render.ts without the hint (every field looked at), objects, JSON.stringify.
  it('channel entries with the fields hint are the bytes of the full rendering', () => {
    fc.assert(
      fc.property(vector(EDGE_FIELDS.length), groups(vector(EDGE_FIELDS.length)), fc.array(fc.nat(300)), fc.boolean(), (aggregated, byDatacenter, extra, given) => {
        const fields = hint([aggregated, ...byDatacenter.values()], extra, given);
        const second = { second: 1_700_000_000, aggregated, byDatacenter, ...(fields && { fields }) };
        const expected = JSON.stringify({ recorded: second.second, aggregated: renderChannel(aggregated), datacenter: objectOf(byDatacenter, (v) => renderChannel(v)) });
        expect(channelEntryJson(second)).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('Domain Inspector entries likewise', () => {
    const edge = vector(EDGE_FIELDS.length);
    fc.assert(
      fc.property(groups(edge), groups(groups(edge)), fc.array(fc.nat(300)), fc.boolean(), (byDomain, byDatacenter, extra, given) => {
        const fields = hint([...byDomain.values(), ...nested(byDatacenter)], extra, given);
        const second = { second: 5, byDomain, byDatacenter, ...(fields && { fields }) };
        const expected = JSON.stringify({
          recorded: 5,
          aggregated: objectOf(byDomain, (v) => renderDomain(v)),
          datacenter: objectOf(byDatacenter, (d) => objectOf(d, (v) => renderDomain(v))),
        });
        expect(domainEntryJson(second)).toBe(expected);
      }),
      { numRuns: 200 },
    );
  });

  it('Origin Inspector entries likewise', () => {
    const origin = vector(ORIGIN_FIELDS.length);
    fc.assert(
      fc.property(groups(origin), groups(groups(origin)), fc.array(fc.nat(50)), fc.boolean(), (byBackend, byDatacenter, extra, given) => {
        const fields = hint([...byBackend.values(), ...nested(byDatacenter)], extra, given);
        const second = { second: 5, byBackend, byDatacenter, ...(fields && { fields }) };
        const expected = JSON.stringify({
          recorded: 5,
          aggregated: objectOf(byBackend, (v) => renderOrigin(v)),
          datacenter: objectOf(byDatacenter, (b) => objectOf(b, (v) => renderOrigin(v))),
        });
        expect(originEntryJson(second)).toBe(expected);
      }),
      { numRuns: 200 },
    );
  });

  it('writes a typical second as a client reads it', () => {
    const v = edgeVector({ requests: 3, resp_body_bytes: 300, edge_hit_requests: 1, edge_miss_requests: 1, miss_histogram_20: 1 });
    const fields = Uint16Array.from([...v.keys()].filter((i) => v[i] !== 0));
    const json = channelEntryJson({ second: 9, aggregated: v, byDatacenter: new Map([['LHR', v], ['FRA', v]]), fields });
    const parsed = JSON.parse(json) as { aggregated: Record<string, unknown>; datacenter: Record<string, unknown> };
    expect(parsed.aggregated).toEqual({
      requests: 3,
      resp_body_bytes: 300,
      body_size: 300,
      bandwidth: 300,
      edge_hit_requests: 1,
      edge_miss_requests: 1,
      edge_hit_ratio: 0.5,
      miss_histogram: { '20': 1 },
    });
    expect(Object.keys(parsed.datacenter)).toEqual(['FRA', 'LHR']);
  });
});
