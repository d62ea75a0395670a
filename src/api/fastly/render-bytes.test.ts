import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BorrowedChannelSecond, ChannelSecond } from '../../aggregate/realtime-source.ts';
import { EDGE_PERCENTILE_NAMES, TIME_LAYOUT } from '../../model/distributions.ts';
import { createWindow } from '../../aggregate/window.ts';
import { createFakeClock } from '../../model/clock.ts';
import { EDGE_FIELDS } from '../../model/fields.ts';
import type { EdgeRecord } from '../../model/record.ts';
import { JsonBytes, objectKeyOrder, writeChannelEntry } from './render-bytes.ts';
import { channelEntryJson } from './render-json.ts';
import { edgeVector } from './test-helpers.ts';

const WIDTH = EDGE_FIELDS.length;
const PCT = EDGE_PERCENTILE_NAMES.length;

/** Values as sums hold them, plus the odd ones JSON.stringify writes specially. */
const value = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 2 ** 40 }) },
  { weight: 2, arbitrary: fc.double({ min: 0, max: 1e6, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(-0, 0, -3, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, 1e21, 5e-7, 0.1) },
);

/** Names, with the ones JavaScript objects order or JSON escapes specially. */
const name = fc.oneof(
  fc.constantFrom('FRA', 'LHR', '__proto__', '0', '7', '12', '01', '4294967294', '4294967295', 'a"b\\c', 'ü.example', '\ud800', '', 'é\n'),
  fc.string({ maxLength: 6 }),
);

const bytesOf = (write: (w: JsonBytes) => void): string => {
  const w = new JsonBytes();
  write(w);
  return w.copy(0).toString('utf8');
};

describe('channel entries written as bytes', () => {
  it('writes numbers as JSON.stringify does', () => {
    fc.assert(
      fc.property(fc.oneof(value, fc.double(), fc.integer()), (v) => {
        expect(bytesOf((w) => w.number(v))).toBe(JSON.stringify(v));
      }),
      { numRuns: 2000 },
    );
  });

  it('orders keys as JSON.stringify of objectOf does', () => {
    fc.assert(
      fc.property(fc.uniqueArray(name, { maxLength: 8 }), (names) => {
        const object = Object.fromEntries([...names].sort().map((n) => [n, 0]));
        expect(objectKeyOrder(names).map((k) => names[k])).toEqual(Object.keys(object));
      }),
    );
  });

  it('are the bytes of channelEntryJson for the same second', () => {
    const sparse = fc.array(fc.tuple(fc.nat({ max: WIDTH - 1 }), value), { maxLength: 30 });
    fc.assert(
      fc.property(sparse, fc.uniqueArray(fc.tuple(name, sparse), { selector: ([k]) => k, maxLength: 5 }), fc.array(fc.nat(WIDTH - 1), { maxLength: 10 }), fc.option(fc.array(fc.oneof(value, fc.constant(Number.NaN)), { minLength: 6 * PCT, maxLength: 6 * PCT })), (total, groups, extra, pctValues) => {
        const values = new Float64Array(WIDTH * (1 + groups.length));
        const set = new Set(extra);
        const fill = (pairs: [number, number][], at: number): void => {
          for (const [i, x] of pairs) {
            values[at + i] = x;
            set.add(i);
          }
        };
        fill(total, 0);
        groups.forEach(([, pairs], k) => fill(pairs, (1 + k) * WIDTH));
        const fields = Uint16Array.from([...set].sort((a, b) => a - b));
        const lent: BorrowedChannelSecond = { second: 1_767_225_600, revision: 1, fields, values, width: WIDTH, datacenters: groups.map(([n]) => n) };
        const copied: ChannelSecond = {
          second: lent.second,
          fields,
          aggregated: values.subarray(0, WIDTH),
          byDatacenter: new Map(groups.map(([n], k) => [n, values.subarray((1 + k) * WIDTH, (2 + k) * WIDTH)])),
        };
        if (pctValues !== null) {
          const pct = Float64Array.from(pctValues.slice(0, (1 + groups.length) * PCT));
          lent.percentiles = pct;
          copied.percentiles = { aggregated: pct.subarray(0, PCT), byDatacenter: new Map(groups.map(([n], k) => [n, pct.subarray((1 + k) * PCT, (2 + k) * PCT)])) };
        }
        const expected = channelEntryJson(copied);
        const w = new JsonBytes();
        writeChannelEntry(w, lent);
        expect(w.copy(0).equals(Buffer.from(expected, 'utf8'))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("render the window's lent seconds exactly like its copied ones, through late rows and compaction", async () => {
    const T0 = 1_767_225_600;
    const record = fc.record({
      back: fc.integer({ min: 2, max: 8 }),
      service: fc.constantFrom('svc1', 'svc2', 'svc3'),
      datacenter: fc.constantFrom('FRA', 'LHR', 'SYD', '0', '12'),
      domain: fc.constantFrom('a.com', 'b.com'),
      requests: fc.integer({ min: 1, max: 9 }),
      bytes: fc.nat(10_000),
      time: fc.double({ min: 0, max: 2, noNaN: true }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.array(record, { maxLength: 40 }), fc.boolean()), { minLength: 1, maxLength: 6 }), async (batches) => {
        const clock = createFakeClock(T0 * 1000 + 500);
        const window = createWindow({ clock, aggregateDelaySeconds: 1, windowSeconds: 60 });
        for (const [batch, tick] of batches) {
          // Time going on publishes seconds, which compacts them: later rows go to their tails.
          if (tick) clock.advance(1000);
          const edge: EdgeRecord[] = batch.map((r) => ({
            second: T0 - r.back,
            service: r.service,
            datacenter: r.datacenter,
            domain: r.domain,
            product: 'edge_application',
            values: edgeVector({ requests: r.requests, resp_body_bytes: r.bytes, edge_hit_requests: r.requests, hits_time: r.time }),
          }));
          const edgeDist = batch.map((r) => {
            const ids = Uint32Array.of(TIME_LAYOUT.bucketOf(r.time * 1000), TIME_LAYOUT.bounds.length * 2 + (r.bytes % 3000));
            return { second: T0 - r.back, service: r.service, datacenter: r.datacenter, domain: r.domain, product: 'edge_application', ids, counts: Float64Array.of(r.requests, 1) };
          });
          window.applyRecords({ edge, origin: [], dimension: [], edgeDist });
        }
        for (const service of ['svc1', 'svc2', 'svc3']) {
          const copied = (await window.channel(service, T0 - 10, T0 + 10)).map((s) => [s.second, s.revision, channelEntryJson(s)]);
          const lent: (string | number | undefined)[][] = [];
          window.visitChannel(service, T0 - 10, T0 + 10, (s) => {
            const w = new JsonBytes();
            writeChannelEntry(w, s);
            lent.push([s.second, s.revision, w.copy(0).toString('utf8')]);
          });
          expect(lent).toEqual(copied);
          for (const [, , json] of copied) expect(json, 'percentile fields on every record').toContain('"edge_time_p50":');
        }
      }),
      { numRuns: 100 },
    );
  });

  it('leaves the scratch clean when a visit throws', async () => {
    const T0 = 1_767_225_600;
    const clock = createFakeClock(T0 * 1000 + 500);
    const window = createWindow({ clock, aggregateDelaySeconds: 1, windowSeconds: 60 });
    const edge = (service: string, requests: number): EdgeRecord => ({
      second: T0 - 3,
      service,
      datacenter: 'FRA',
      domain: 'a.com',
      product: 'edge_application',
      values: edgeVector({ requests }),
    });
    window.applyRecords({ edge: [edge('svc1', 5), edge('svc2', 7)], origin: [], dimension: [] });
    expect(() =>
      window.visitChannel('svc1', T0 - 10, T0, () => {
        throw new Error('render failed');
      }),
    ).toThrow('render failed');
    let requests = -1;
    window.visitChannel('svc2', T0 - 10, T0, (s) => (requests = s.values[0] as number));
    expect(requests).toBe(7);
  });
});
