import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createFakeClock } from '../model/clock.ts';
import { EDGE_FIELDS, edgeFieldIndex, ORIGIN_FIELDS, originFieldIndex } from '../model/fields.ts';
import { deltaFromRecordSet, type Delta } from '../model/delta.ts';
import type { EdgeRecord, OriginRecord, RecordSet } from '../model/record.ts';
import { createWindow } from './window.ts';

const T = 1_767_225_600;
const REQ = edgeFieldIndex.get('requests') as number;
const BYTES = edgeFieldIndex.get('resp_body_bytes') as number;
const RESPONSES = originFieldIndex.get('responses') as number;

function edge(second: number, datacenter: string, domain: string, requests: number, product = 'edge_application', service = 'svc'): EdgeRecord {
  const values = new Float64Array(EDGE_FIELDS.length);
  values[REQ] = requests;
  values[BYTES] = requests * 100;
  return { second, service, datacenter, domain, product, values };
}

function origin(second: number, datacenter: string, backend: string, responses: number, service = 'svc'): OriginRecord {
  const values = new Float64Array(ORIGIN_FIELDS.length);
  values[RESPONSES] = responses;
  return { second, service, datacenter, backend, values };
}

const records = (edgeRecords: EdgeRecord[], originRecords: OriginRecord[] = []): RecordSet => ({ edge: edgeRecords, origin: originRecords, dimension: [] });
const set = (edgeRecords: EdgeRecord[], originRecords: OriginRecord[] = []): Delta => deltaFromRecordSet(records(edgeRecords, originRecords));

/** A window whose clock says `second` + `ms`, delay 2 s, 60 s held. */
function setup(second = T, ms = 0, windowSeconds = 60) {
  const clock = createFakeClock(second * 1000 + ms);
  return { clock, window: createWindow({ clock, aggregateDelaySeconds: 2, windowSeconds }) };
}

describe('publishing', () => {
  it('publishes second s once AggregateDelay seconds have passed after its end', () => {
    const { clock, window } = setup(T + 3);
    // now = T+3 s: T ended at T+1, plus 2 s of delay = T+3: published exactly now.
    expect(window.latestPublished()).toBe(T);
    clock.set((T + 4) * 1000 - 1);
    expect(window.latestPublished()).toBe(T);
    clock.set((T + 4) * 1000);
    expect(window.latestPublished()).toBe(T + 1);
  });

  it('reads only published seconds that have data, ascending, within [from, to)', async () => {
    const { clock, window } = setup(T + 10);
    window.apply(set([edge(T + 9, 'FRA', 'a.com', 1), edge(T + 2, 'FRA', 'a.com', 1), edge(T + 5, 'FRA', 'a.com', 1), edge(T + 7, 'FRA', 'a.com', 1)]));
    // latestPublished = T+7.
    expect((await window.channel('svc', T, T + 20)).map((s) => s.second)).toEqual([T + 2, T + 5, T + 7]);
    expect((await window.channel('svc', T + 3, T + 7)).map((s) => s.second)).toEqual([T + 5]);
    expect(await window.channel('other', T, T + 20)).toEqual([]);
    clock.advance(2000);
    expect((await window.channel('svc', T, T + 20)).map((s) => s.second)).toEqual([T + 2, T + 5, T + 7, T + 9]);
  });
});

describe('groupings', () => {
  it('channel: aggregated over everything, by datacenter over domains and products', async () => {
    const { window } = setup(T + 5);
    window.apply(set([edge(T, 'FRA', 'a.com', 1), edge(T, 'FRA', 'b.com', 2), edge(T, 'LHR', 'a.com', 4, 'image_processor'), edge(T, 'LHR', 'a.com', 8)]));
    const [s] = await window.channel('svc', T, T + 1);
    expect(s?.aggregated[REQ]).toBe(15);
    expect(s?.aggregated[BYTES]).toBe(1500);
    expect([...(s?.byDatacenter ?? [])].map(([dc, v]) => [dc, v[REQ]])).toEqual([
      ['FRA', 3],
      ['LHR', 12],
    ]);
    expect(s?.aggregated).toHaveLength(EDGE_FIELDS.length);
  });

  it('domains: by domain over datacenters, and datacenter -> domain', async () => {
    const { window } = setup(T + 5);
    window.apply(set([edge(T, 'FRA', 'a.com', 1), edge(T, 'FRA', 'b.com', 2), edge(T, 'LHR', 'a.com', 4), edge(T, 'LHR', 'a.com', 8, 'live_streaming')]));
    const [s] = await window.domains('svc', T, T + 1);
    expect([...(s?.byDomain ?? [])].map(([d, v]) => [d, v[REQ]])).toEqual([
      ['a.com', 13],
      ['b.com', 2],
    ]);
    const nested = [...(s?.byDatacenter ?? [])].map(([dc, m]) => [dc, [...m].map(([d, v]) => [d, v[REQ]])]);
    expect(nested).toEqual([
      ['FRA', [['a.com', 1], ['b.com', 2]]],
      ['LHR', [['a.com', 12]]],
    ]);
  });

  it('origins: by backend over datacenters, and datacenter -> backend; seconds without fetches are left out', async () => {
    const { window } = setup(T + 5);
    window.apply(set([edge(T, 'FRA', 'a.com', 1), edge(T + 1, 'FRA', 'a.com', 1)], [origin(T, 'FRA', 'o1', 1), origin(T, 'LHR', 'o1', 2), origin(T, 'LHR', 'o2', 4)]));
    const seconds = await window.origins('svc', T, T + 2);
    expect(seconds.map((s) => s.second)).toEqual([T]);
    const [s] = seconds;
    expect([...(s?.byBackend ?? [])].map(([b, v]) => [b, v[RESPONSES]])).toEqual([
      ['o1', 3],
      ['o2', 4],
    ]);
    expect([...(s?.byDatacenter ?? [])].map(([dc, m]) => [dc, [...m].map(([b, v]) => [b, v[RESPONSES]])])).toEqual([
      ['FRA', [['o1', 1]]],
      ['LHR', [['o1', 2], ['o2', 4]]],
    ]);
    expect(s?.byBackend.get('o1')).toHaveLength(ORIGIN_FIELDS.length);
  });
});

describe('late events, eviction, copies', () => {
  it('adds late deltas to their published second', async () => {
    const { window } = setup(T + 10);
    window.apply(set([edge(T + 1, 'FRA', 'a.com', 1)]));
    expect((await window.channel('svc', T + 1, T + 2))[0]?.aggregated[REQ]).toBe(1);
    window.apply(set([edge(T + 1, 'FRA', 'a.com', 5), edge(T + 1, 'NRT', 'a.com', 1)]));
    const [s] = await window.channel('svc', T + 1, T + 2);
    expect(s?.aggregated[REQ]).toBe(7);
    expect(s?.byDatacenter.get('FRA')?.[REQ]).toBe(6);
  });

  it('evicts seconds older than now - windowSeconds as the clock moves, and ignores deltas for them', async () => {
    const { clock, window } = setup(T + 10, 0, 5);
    expect(window.oldestSecond()).toBe(T + 5);
    window.apply(set([edge(T + 4, 'FRA', 'a.com', 1), edge(T + 5, 'FRA', 'a.com', 1), edge(T + 6, 'FRA', 'a.com', 1)]));
    expect((await window.channel('svc', T, T + 10)).map((s) => s.second)).toEqual([T + 5, T + 6]);
    expect(window.stats()).toMatchObject({ seconds: 2, edgeKeys: 2, originKeys: 0 });
    clock.advance(1000);
    expect(window.oldestSecond()).toBe(T + 6);
    expect((await window.channel('svc', T, T + 10)).map((s) => s.second)).toEqual([T + 6]);
    expect(window.stats()).toMatchObject({ seconds: 1, edgeKeys: 1 });
    window.apply(set([edge(T + 5, 'FRA', 'a.com', 1)]));
    expect(window.stats().seconds).toBe(1);
    clock.advance(60_000);
    expect(window.stats()).toEqual({ seconds: 0, edgeKeys: 0, originKeys: 0, bytes: 0 });
  });

  it('holds seconds from completeFrom on when given (a restart: earlier seconds are in the store)', () => {
    const clock = createFakeClock((T + 10) * 1000);
    const window = createWindow({ clock, aggregateDelaySeconds: 1, windowSeconds: 60, completeFrom: T + 8 });
    expect(window.oldestSecond()).toBe(T + 8);
    window.apply(set([edge(T + 7, 'FRA', 'a.com', 1), edge(T + 8, 'FRA', 'a.com', 1)]));
    expect(window.stats().seconds).toBe(1);
  });

  it('drops the oldest seconds beyond its byte budget, at most one check a second, and ignores their late deltas', async () => {
    const clock = createFakeClock((T + 30) * 1000);
    const probe = createWindow({ clock, aggregateDelaySeconds: 1, windowSeconds: 60 });
    probe.apply(set([edge(T, 'FRA', 'a.com', 1)]));
    const perSecond = probe.stats().bytes;
    // Room for about three seconds of one key each.
    const window = createWindow({ clock, aggregateDelaySeconds: 1, windowSeconds: 60, maxBytes: Math.floor(perSecond * 3.5) });
    window.apply(set([0, 1, 2, 3, 4].map((i) => edge(T + i, 'FRA', 'a.com', 1))));
    expect(window.stats().seconds).toBe(3);
    expect(window.oldestSecond()).toBe(T + 2);
    expect((await window.channel('svc', T, T + 10)).map((s) => s.second)).toEqual([T + 2, T + 3, T + 4]);
    // Within the same second no recount: more data stays until the next check.
    window.apply(set([edge(T + 5, 'FRA', 'a.com', 1), edge(T + 6, 'FRA', 'a.com', 1)]));
    expect(window.stats().seconds).toBe(5);
    clock.advance(1000);
    window.apply(set([edge(T + 1, 'FRA', 'a.com', 1)]));
    expect(window.oldestSecond()).toBe(T + 4);
    expect((await window.channel('svc', T, T + 10)).map((s) => s.second)).toEqual([T + 4, T + 5, T + 6]);
  });

  it('returns fresh copies: callers may keep or change them', async () => {
    const { window } = setup(T + 5);
    window.apply(set([edge(T, 'FRA', 'a.com', 1)]));
    const [first] = await window.channel('svc', T, T + 1);
    const [domains] = await window.domains('svc', T, T + 1);
    first?.aggregated.fill(42);
    first?.byDatacenter.get('FRA')?.fill(42);
    window.apply(set([edge(T, 'FRA', 'a.com', 1)]));
    expect(domains?.byDomain.get('a.com')?.[REQ]).toBe(1);
    const [again] = await window.channel('svc', T, T + 1);
    expect(again?.aggregated[REQ]).toBe(2);
    expect(again?.byDatacenter.get('FRA')?.[REQ]).toBe(2);
    expect(again?.aggregated[5]).toBe(0);
  });

  it('accounts memory: keys and bytes grow with data', () => {
    const { window } = setup(T + 5);
    const empty = window.stats();
    window.apply(set([edge(T, 'FRA', 'a.com', 1), edge(T, 'LHR', 'a.com', 1)], [origin(T, 'FRA', 'o', 1)]));
    const stats = window.stats();
    expect(stats).toMatchObject({ seconds: 1, edgeKeys: 2, originKeys: 1 });
    expect(stats.bytes).toBeGreaterThan(empty.bytes);
  });
});

describe('window sums', () => {
  it('equal the naive sums of random records, however they are grouped', async () => {
    const record = fc.record({
      second: fc.integer({ min: T, max: T + 2 }),
      datacenter: fc.constantFrom('FRA', 'LHR', 'NRT', 'SYD'),
      domain: fc.constantFrom('a.com', 'b.com', 'c.com'),
      product: fc.constantFrom('edge_application', 'image_processor'),
      fields: fc.array(fc.tuple(fc.integer({ min: 0, max: EDGE_FIELDS.length - 1 }), fc.integer({ min: 1, max: 1000 })), { maxLength: 8 }),
      backend: fc.constantFrom('o1', 'o2'),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(record, { maxLength: 30 }), { maxLength: 4 }), async (applies) => {
        const { window } = setup(T + 10);
        const want = new Map<string, number[]>();
        const addWant = (key: string, values: Float64Array): void => {
          const v = want.get(key) ?? new Array<number>(values.length).fill(0);
          values.forEach((x, i) => (v[i] = (v[i] as number) + x));
          want.set(key, v);
        };
        for (const batch of applies) {
          const rs = records([], []);
          for (const r of batch) {
            const values = new Float64Array(EDGE_FIELDS.length);
            for (const [f, x] of r.fields) values[f] = (values[f] as number) + x;
            rs.edge.push({ second: r.second, service: 'svc', datacenter: r.datacenter, domain: r.domain, product: r.product, values });
            const o = new Float64Array(ORIGIN_FIELDS.length);
            o[RESPONSES] = r.fields.length;
            rs.origin.push({ second: r.second, service: 'svc', datacenter: r.datacenter, backend: r.backend, values: o });
            addWant(`c|${r.second}`, values);
            addWant(`c|${r.second}|${r.datacenter}`, values);
            addWant(`d|${r.second}|${r.domain}`, values);
            addWant(`d|${r.second}|${r.datacenter}|${r.domain}`, values);
            addWant(`o|${r.second}|${r.backend}`, o);
            addWant(`o|${r.second}|${r.datacenter}|${r.backend}`, o);
          }
          window.apply(deltaFromRecordSet(rs));
        }
        const got = new Map<string, number[]>();
        // The fields hint lists every non-zero field of every vector of the second, ascending.
        const uncovered = (fields: Uint16Array | undefined, v: Float64Array): number[] =>
          [...v.keys()].filter((i) => v[i] !== 0 && fields?.includes(i) !== true);
        for (const s of await window.channel('svc', T, T + 3)) {
          expect([...(s.fields ?? [])]).toEqual([...(s.fields ?? [])].sort((a, b) => a - b));
          for (const v of [s.aggregated, ...s.byDatacenter.values()]) expect(uncovered(s.fields, v)).toEqual([]);
          got.set(`c|${s.second}`, [...s.aggregated]);
          for (const [dc, v] of s.byDatacenter) got.set(`c|${s.second}|${dc}`, [...v]);
        }
        for (const s of await window.domains('svc', T, T + 3)) {
          for (const [d, v] of s.byDomain) got.set(`d|${s.second}|${d}`, [...v]);
          for (const [dc, m] of s.byDatacenter) for (const [d, v] of m) got.set(`d|${s.second}|${dc}|${d}`, [...v]);
        }
        for (const s of await window.origins('svc', T, T + 3)) {
          for (const v of s.byBackend.values()) expect(uncovered(s.fields, v)).toEqual([]);
          for (const [b, v] of s.byBackend) got.set(`o|${s.second}|${b}`, [...v]);
          for (const [dc, m] of s.byDatacenter) for (const [b, v] of m) got.set(`o|${s.second}|${dc}|${b}`, [...v]);
        }
        expect(new Map([...got].sort())).toEqual(new Map([...want].sort()));
      }),
      { numRuns: 200 },
    );
  });
});

describe('revisions (for the Fastly layer\'s fragment cache)', () => {
  it('lists held, published seconds with data of the kind asked, with revisions that change on every apply touching them', async () => {
    const { clock, window } = setup(T + 10, 0, 8);
    window.apply(set([edge(T + 5, 'FRA', 'a.com', 1), edge(T + 6, 'FRA', 'a.com', 1)], [origin(T + 6, 'FRA', 'o1', 1)]));
    const first = window.versions('edge', 'svc', T, T + 20);
    // latestPublished = T+7, heldFrom = T+10-8.
    expect(first.heldFrom).toBe(T + 2);
    expect(first.seconds.map((s) => s.second)).toEqual([T + 5, T + 6]);
    expect(window.versions('origin', 'svc', T, T + 20).seconds.map((s) => s.second)).toEqual([T + 6]);
    expect(window.versions('edge', 'other', T, T + 20).seconds).toEqual([]);
    // A read carries the same revision as the listing.
    const [read] = await window.channel('svc', T + 5, T + 6);
    expect(read?.revision).toBe(first.seconds[0]?.revision);
    // A late event changes its second's revision only; the other second keeps its own.
    window.apply(set([edge(T + 5, 'LHR', 'a.com', 1), edge(T + 9, 'FRA', 'a.com', 1)]));
    const after = window.versions('edge', 'svc', T, T + 20).seconds;
    expect(after[0]?.revision).toBeGreaterThan(first.seconds[0]?.revision ?? Infinity);
    expect(after[1]?.revision).toBe(first.seconds[1]?.revision);
    // Evicted seconds are no longer listed: they are the store's.
    clock.advance(4000);
    expect(window.versions('edge', 'svc', T, T + 20)).toEqual({ heldFrom: T + 6, seconds: [{ second: T + 6, revision: after[1]?.revision }, { second: T + 9, revision: expect.any(Number) }] });
  });
});

describe('window on deltas', () => {
  it('reads equal the naive sums of the same deltas: repeated keys, several services, late seconds, eviction, compactions', async () => {
    const row = fc.record({
      back: fc.integer({ min: -1, max: 9 }),
      service: fc.constantFrom('s1', 's2', 's3'),
      datacenter: fc.constantFrom('FRA', 'LHR', 'NRT', 'SYD'),
      domain: fc.constantFrom('a.com', 'b.com', 'c.com'),
      product: fc.constantFrom('edge_application', 'image_processor'),
      backend: fc.constantFrom('o1', 'o2'),
      fields: fc.array(fc.tuple(fc.integer({ min: 0, max: EDGE_FIELDS.length - 1 }), fc.integer({ min: 1, max: 2 ** 40 })), { maxLength: 6 }),
    });
    const step = fc.record({ advanceMs: fc.integer({ min: 0, max: 1500 }), rows: fc.array(row, { maxLength: 25 }), times: fc.integer({ min: 1, max: 50 }) });
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), async (steps) => {
        const clock = createFakeClock((T + 10) * 1000);
        const window = createWindow({ clock, aggregateDelaySeconds: 1, windowSeconds: 8 });
        const want = new Map<string, number[]>();
        const addWant = (key: string, values: Float64Array): void => {
          const v = want.get(key) ?? new Array<number>(values.length).fill(0);
          values.forEach((x, i) => (v[i] = (v[i] as number) + x));
          want.set(key, v);
        };
        const seconds = new Set<number>();
        for (const { advanceMs, rows, times } of steps) {
          clock.advance(advanceMs);
          const now = Math.floor(clock.now() / 1000);
          const rs = records([], []);
          for (let k = 0; k < times; k++) {
            for (const r of rows) {
              const second = now - r.back;
              const values = new Float64Array(EDGE_FIELDS.length);
              for (const [f, x] of r.fields) values[f] = x;
              rs.edge.push({ second, service: r.service, datacenter: r.datacenter, domain: r.domain, product: r.product, values });
              const o = new Float64Array(ORIGIN_FIELDS.length);
              o[RESPONSES] = 1 + r.fields.length;
              rs.origin.push({ second, service: r.service, datacenter: r.datacenter, backend: r.backend, values: o });
              // What is kept: seconds from the window's bound at apply time on.
              if (second < window.oldestSecond()) continue;
              seconds.add(second);
              const s = `${r.service}|${second}`;
              addWant(`c|${s}`, values);
              addWant(`c|${s}|${r.datacenter}`, values);
              addWant(`d|${s}|${r.domain}`, values);
              addWant(`d|${s}|${r.datacenter}|${r.domain}`, values);
              addWant(`o|${s}|${r.backend}`, o);
              addWant(`o|${s}|${r.datacenter}|${r.backend}`, o);
            }
          }
          window.apply(deltaFromRecordSet(rs));
        }
        const oldest = window.oldestSecond();
        const published = window.latestPublished();
        const visible = (key: string): boolean => {
          const second = Number(key.split('|')[2]);
          return second >= oldest && second <= published;
        };
        const got = new Map<string, number[]>();
        for (const service of ['s1', 's2', 's3']) {
          const channel = await window.channel(service, T, T + 100);
          expect(window.versions('edge', service, T, T + 100).seconds.map((s) => s.second)).toEqual(channel.map((s) => s.second));
          for (const s of channel) {
            got.set(`c|${service}|${s.second}`, [...s.aggregated]);
            for (const [dc, v] of s.byDatacenter) got.set(`c|${service}|${s.second}|${dc}`, [...v]);
          }
          for (const s of await window.domains(service, T, T + 100)) {
            for (const [d, v] of s.byDomain) got.set(`d|${service}|${s.second}|${d}`, [...v]);
            for (const [dc, m] of s.byDatacenter) for (const [d, v] of m) got.set(`d|${service}|${s.second}|${dc}|${d}`, [...v]);
          }
          for (const s of await window.origins(service, T, T + 100)) {
            for (const [b, v] of s.byBackend) got.set(`o|${service}|${s.second}|${b}`, [...v]);
            for (const [dc, m] of s.byDatacenter) for (const [b, v] of m) got.set(`o|${service}|${s.second}|${dc}|${b}`, [...v]);
          }
        }
        expect(new Map([...got].sort())).toEqual(new Map([...want].filter(([key]) => visible(key)).sort()));
        expect(window.stats().seconds).toBe([...seconds].filter((s) => s >= oldest).length);
      }),
      { numRuns: 100 },
    );
  });

  it('sums many deltas of one second with the same keys (compacted as they come) exactly', async () => {
    const { window } = setup(T + 5);
    for (let n = 0; n < 300; n++) {
      window.apply(set(['FRA', 'LHR', 'NRT', 'SYD', 'AMS'].flatMap((dc) => ['a.com', 'b.com'].map((d) => edge(T, dc, d, 1)))));
    }
    expect(window.stats().edgeKeys).toBeLessThan(3000);
    const [s] = await window.channel('svc', T, T + 1);
    expect(s?.aggregated[REQ]).toBe(3000);
    expect(s?.aggregated[BYTES]).toBe(300_000);
    expect(s?.byDatacenter.get('NRT')?.[REQ]).toBe(600);
    const [d] = await window.domains('svc', T, T + 1);
    expect(d?.byDatacenter.get('AMS')?.get('b.com')?.[REQ]).toBe(300);
  });

  it('keeps the newest seconds within its byte budget as the data grows', async () => {
    const clock = createFakeClock((T + 30) * 1000);
    const window = createWindow({ clock, aggregateDelaySeconds: 1, windowSeconds: 60, maxBytes: 60_000 });
    for (let i = 0; i < 20; i++) {
      clock.advance(1000);
      const second = T + 30 + i;
      window.apply(set(Array.from({ length: 300 }, (_, k) => edge(second, `P${k % 30}`, `d${k}.com`, 1))));
    }
    const stats = window.stats();
    // Checked once a second: within budget after the last check, plus at most the second applied since.
    expect(stats.bytes).toBeLessThan(60_000 + stats.bytes / stats.seconds);
    expect(stats.seconds).toBeGreaterThan(1);
    expect(stats.seconds).toBeLessThan(20);
    const held = (await window.channel('svc', T, T + 100)).map((s) => s.second);
    // The newest published seconds, without gaps, each exact.
    expect(held.at(-1)).toBe(window.latestPublished());
    expect(held).toEqual(held.map((_, k) => (held[0] as number) + k));
    expect(held[0]).toBe(window.oldestSecond());
    for (const s of await window.channel('svc', held[0] as number, (held[0] as number) + 1)) expect(s.aggregated[REQ]).toBe(300);
  });
});
