/**
 * The behaviour every MetricStore engine must show, as vitest cases. Each engine's test file
 * calls describeMetricStoreConformance with a factory for a fresh, empty store, so DuckDB and
 * ClickHouse answer the same questions the same way.
 */
import { EDGE_DIST_WIDTH } from '../model/distributions.ts';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { Retention } from '../config/config.ts';
import { createRecordAccumulator } from '../model/record-accumulator.ts';
import type { EdgeRecord, RecordSet } from '../model/record.ts';
import { dimensionRecord, edgeRecord, originRecord } from './record-fixtures.ts';
import { TIER_SECONDS, TIERS, type MetricStore, type RecordQuery } from './store.ts';
import { deltaFromRecordSet } from '../model/delta.ts';

export interface OpenedStore {
  store: MetricStore;
  close(): Promise<void>;
}

/** Retention the suite opens stores with unless a case needs its own. */
export const CONFORMANCE_RETENTION: Retention = {
  secondSeconds: Number.POSITIVE_INFINITY,
  minuteSeconds: Number.POSITIVE_INFINITY,
  hourSeconds: Number.POSITIVE_INFINITY,
  daySeconds: Number.POSITIVE_INFINITY,
  usageSeconds: Number.POSITIVE_INFINITY,
};

// 2024-01-01T00:00:00Z: a day, hour and minute boundary.
const T0 = 1_704_067_200;

const records = (parts: Partial<RecordSet>): RecordSet => ({ edge: [], origin: [], dimension: [], ...parts });
const all = (tier: RecordQuery['tier'] = '1s'): RecordQuery => ({ tier, from: 0, to: 4_000_000_000, filter: {} });
const req = (r: EdgeRecord): number => r.values[0] ?? 0;
const plain = (rs: readonly { values: Float64Array }[]): unknown[] => rs.map((r) => ({ ...r, values: Array.from(r.values) }));

export function describeMetricStoreConformance(name: string, open: (options: { retention: Retention }) => Promise<OpenedStore>): void {
  describe(`MetricStore conformance: ${name}`, () => {
    const opened: OpenedStore[] = [];
    const fresh = async (retention: Retention = CONFORMANCE_RETENTION): Promise<MetricStore> => {
      const o = await open({ retention });
      opened.push(o);
      return o.store;
    };
    afterEach(async () => {
      for (const o of opened.splice(0)) await o.close();
    });

    it('reads back appended records, summed per key', async () => {
      const store = await fresh();
      await store.append({ lsn: 1, delta: deltaFromRecordSet(records({ edge: [edgeRecord(T0, 's1', { requests: 3, hits: 2, resp_body_bytes: 100 })] })) });
      await store.append({ lsn: 2, delta: deltaFromRecordSet(records({ edge: [edgeRecord(T0, 's1', { requests: 1, miss: 1, resp_body_bytes: 5 })] })) });
      const got = await store.readEdge(all());
      expect(got).toHaveLength(1);
      expect(got[0]).toMatchObject({ second: T0, service: 's1', datacenter: 'FRA', domain: 'a.example', product: 'edge_application' });
      expect(Array.from(got[0]?.values ?? [])).toEqual(Array.from(edgeRecord(T0, 's1', { requests: 4, hits: 2, miss: 1, resp_body_bytes: 105 }).values));
    });

    it('keeps keys apart and orders by second', async () => {
      const store = await fresh();
      await store.append({
        lsn: 1,
        delta: deltaFromRecordSet(records({
          edge: [edgeRecord(T0 + 1, 's1', { requests: 1 }), edgeRecord(T0, 's1', { requests: 2 }), edgeRecord(T0, 's1', { requests: 4 }, 'LON')],
          origin: [originRecord(T0, 's1', { responses: 7 }), originRecord(T0, 's1', { responses: 1 }, 'FRA', 'b2')],
          dimension: [dimensionRecord(T0, 's1', 'method', 'GET', 5, 500), dimensionRecord(T0, 's1', 'status', '404', 1, 10)],
        })),
      });
      const edge = await store.readEdge(all());
      expect(edge.map((r) => [r.second, r.datacenter, req(r)])).toEqual([
        [T0, 'FRA', 2],
        [T0, 'LON', 4],
        [T0 + 1, 'FRA', 1],
      ]);
      expect((await store.readOrigin(all())).map((r) => [r.backend, r.values[0]])).toEqual([
        ['b1', 7],
        ['b2', 1],
      ]);
      expect(await store.readDimension(all())).toEqual([dimensionRecord(T0, 's1', 'method', 'GET', 5, 500), dimensionRecord(T0, 's1', 'status', '404', 1, 10)]);
    });

    it('makes every rollup tier equal the sum of its seconds', async () => {
      const store = await fresh();
      const seconds = [T0 - 1, T0, T0 + 59, T0 + 60, T0 + 3599, T0 + 3600, T0 + 86_399, T0 + 86_400];
      let lsn = 0;
      for (const s of seconds) {
        await store.append({
          lsn: ++lsn,
          delta: deltaFromRecordSet(records({
            edge: [edgeRecord(s, 's1', { requests: 1, hits: s - T0 + 2 })],
            origin: [originRecord(s, 's1', { responses: 2 })],
            dimension: [dimensionRecord(s, 's1', 'method', 'GET', 1, 10)],
          })),
        });
      }
      for (const tier of TIERS) {
        const width = TIER_SECONDS[tier];
        const expected = new Map<number, number>();
        for (const s of seconds) expected.set(s - (s % width), (expected.get(s - (s % width)) ?? 0) + 1);
        const edge = await store.readEdge(all(tier));
        expect(new Map(edge.map((r) => [r.second, req(r)])), tier).toEqual(expected);
        const hits = edge.reduce((sum, r) => sum + (r.values[1] ?? 0), 0);
        expect(hits, tier).toBe(seconds.reduce((sum, s) => sum + s - T0 + 2, 0));
        const origin = await store.readOrigin(all(tier));
        expect(origin.reduce((sum, r) => sum + (r.values[0] ?? 0), 0), tier).toBe(2 * seconds.length);
        const dims = await store.readDimension(all(tier));
        expect(new Map(dims.map((r) => [r.second, r.count])), tier).toEqual(expected);
      }
    });

    it('filters by time range (end exclusive) and by every key list', async () => {
      const store = await fresh();
      await store.append({
        lsn: 1,
        delta: deltaFromRecordSet(records({
          edge: [
            edgeRecord(T0, 's1', { requests: 1 }, 'FRA', 'a.example', 'edge_application'),
            edgeRecord(T0, 's2', { requests: 2 }, 'LON', 'b.example', 'edge_functions'),
            edgeRecord(T0 + 1, 's1', { requests: 4 }),
          ],
          origin: [originRecord(T0, 's1', { responses: 1 }, 'FRA', 'b1'), originRecord(T0, 's1', { responses: 2 }, 'FRA', 'b2')],
        })),
      });
      const total = async (q: Partial<RecordQuery>): Promise<number> =>
        (await store.readEdge({ ...all(), ...q })).reduce((sum, r) => sum + req(r), 0);
      expect(await total({ from: T0, to: T0 + 1 })).toBe(3);
      expect(await total({ from: T0 + 1, to: T0 + 2 })).toBe(4);
      expect(await total({ filter: { services: ['s1'] } })).toBe(5);
      expect(await total({ filter: { services: ['s1', 's2'] } })).toBe(7);
      expect(await total({ filter: { datacenters: ['LON'] } })).toBe(2);
      expect(await total({ filter: { domains: ['b.example'] } })).toBe(2);
      expect(await total({ filter: { products: ['edge_application'], services: ['s1'] } })).toBe(5);
      expect(await total({ filter: { services: [] } })).toBe(0);
      expect(await total({ filter: { services: ["s1' OR 1=1 --"] } })).toBe(0);
      const origin = await store.readOrigin({ ...all(), filter: { backends: ['b2'] } });
      expect(origin.map((r) => r.values[0])).toEqual([2]);
    });

    it('sums chosen fields per epoch-aligned bucket, optionally grouped', async () => {
      const store = await fresh();
      await store.append({
        lsn: 1,
        delta: deltaFromRecordSet(records({
          edge: [
            edgeRecord(T0 + 5, 's1', { requests: 1, hits: 1 }, 'FRA'),
            edgeRecord(T0 + 9, 's1', { requests: 2, miss: 2 }, 'LON'),
            edgeRecord(T0 + 10, 's1', { requests: 4, hits: 4 }, 'FRA'),
          ],
        })),
      });
      const base = { ...all(), bucketSeconds: 10, fields: ['hits', 'requests'] };
      expect(await store.sumEdge(base)).toEqual([
        { bucket: T0, group: [], values: [1, 3] },
        { bucket: T0 + 10, group: [], values: [4, 4] },
      ]);
      expect(await store.sumEdge({ ...base, groupBy: ['datacenter'] })).toEqual([
        { bucket: T0, group: ['FRA'], values: [1, 1] },
        { bucket: T0, group: ['LON'], values: [0, 2] },
        { bucket: T0 + 10, group: ['FRA'], values: [4, 4] },
      ]);
      expect(await store.sumEdge({ ...base, tier: '1m', bucketSeconds: 3600, groupBy: ['service', 'product'] })).toEqual([
        { bucket: T0, group: ['s1', 'edge_application'], values: [5, 7] },
      ]);
      await expect(store.sumEdge({ ...base, fields: ['requests; DROP TABLE x'] })).rejects.toThrow(/unknown edge field/);
      await expect(store.sumEdge({ ...base, tier: '1m', bucketSeconds: 90 })).rejects.toThrow(/multiple/);
    });

    it('sums a dimension per bucket, optionally for chosen values', async () => {
      const store = await fresh();
      await store.append({
        lsn: 1,
        delta: deltaFromRecordSet(records({
          dimension: [
            dimensionRecord(T0, 's1', 'method', 'GET', 3, 30),
            dimensionRecord(T0 + 1, 's1', 'method', 'GET', 1, 10),
            dimensionRecord(T0 + 1, 's1', 'method', 'POST', 2, 200),
            dimensionRecord(T0 + 1, 's1', 'status', '200', 6, 240),
          ],
        })),
      });
      const base = { ...all(), bucketSeconds: 60, dimension: 'method' as const };
      expect(await store.sumDimension(base)).toEqual([
        { bucket: T0, value: 'GET', count: 4, bytes: 40 },
        { bucket: T0, value: 'POST', count: 2, bytes: 200 },
      ]);
      expect(await store.sumDimension({ ...base, values: ['POST'] })).toEqual([{ bucket: T0, value: 'POST', count: 2, bytes: 200 }]);
      expect(await store.sumDimension({ ...base, dimension: 'status', tier: '1h', bucketSeconds: 3600 })).toEqual([
        { bucket: T0, value: '200', count: 6, bytes: 240 },
      ]);
    });

    it('keeps top-values rows (path, client_ip) under their own dimension on every tier', async () => {
      const store = await fresh();
      const row = (dimension: 'path' | 'client_ip', value: string, count: number, bytes: number) => ({ ...dimensionRecord(T0, 's1', dimension, value, count, bytes), domain: '', product: '' });
      const rows = [row('path', '', 9, 2), row('path', '/a', 5, 1), row('client_ip', '192.0.2.1', 4, 0)];
      await store.append({ lsn: 1, delta: deltaFromRecordSet(records({ dimension: [...rows, dimensionRecord(T0, 's1', 'method', 'GET', 9, 90)] })) });
      for (const tier of TIERS) {
        const bucketSeconds = TIER_SECONDS[tier];
        expect(await store.sumDimension({ ...all(tier), bucketSeconds, dimension: 'path' }), tier).toEqual([
          { bucket: T0, value: '', count: 9, bytes: 2 },
          { bucket: T0, value: '/a', count: 5, bytes: 1 },
        ]);
        expect(await store.sumDimension({ ...all(tier), bucketSeconds, dimension: 'client_ip', values: ['192.0.2.1'] }), tier).toEqual([{ bucket: T0, value: '192.0.2.1', count: 4, bytes: 0 }]);
        const read = (await store.readDimension(all(tier))).filter((r) => r.dimension !== 'method');
        expect(read.map((r) => [r.dimension, r.value]).sort(), tier).toEqual([['client_ip', '192.0.2.1'], ['path', ''], ['path', '/a']]);
      }
    });

    it('remembers the highest lsn stored per second', async () => {
      const store = await fresh();
      await store.append({ lsn: 5, delta: deltaFromRecordSet(records({ edge: [edgeRecord(T0, 's1', { requests: 1 }), edgeRecord(T0 + 1, 's1', { requests: 1 })] })) });
      await store.append({ lsn: 9, delta: deltaFromRecordSet(records({ dimension: [dimensionRecord(T0 + 1, 's1', 'method', 'GET', 1, 1)] })) });
      await store.append({ lsn: 7, delta: deltaFromRecordSet(records({ origin: [originRecord(T0 + 1, 's1', { responses: 1 })] })) });
      expect(await store.appliedLsn([T0, T0 + 1, T0 + 2])).toEqual(
        new Map([
          [T0, 5],
          [T0 + 1, 9],
        ]),
      );
    });

    it('expires each tier after its own retention', async () => {
      const day = 86_400;
      const store = await fresh({ ...CONFORMANCE_RETENTION, secondSeconds: 3600, minuteSeconds: day, hourSeconds: 19 * day });
      const last = T0 + 20 * day;
      for (const [i, s] of [T0, T0 + 2 * day, last].entries()) {
        await store.append({ lsn: i + 1, delta: deltaFromRecordSet(records({ edge: [edgeRecord(s, 's1', { requests: 1 })], origin: [originRecord(s, 's1', { responses: 1 })] })) });
      }
      await store.expire(last + 10);
      const secondsIn = async (tier: RecordQuery['tier']): Promise<number[]> => (await store.readEdge(all(tier))).map((r) => r.second);
      expect(await secondsIn('1s')).toEqual([last]);
      expect(await secondsIn('1m')).toEqual([last]);
      expect(await secondsIn('1h')).toEqual([T0 + 2 * day, last]);
      expect(await secondsIn('1d')).toEqual([T0, T0 + 2 * day, last]);
      expect((await store.readOrigin(all('1s'))).map((r) => r.second)).toEqual([last]);
      // A bucket goes only once all of it is past retention: the minute [last, last + 60) ends at last + 60.
      await store.expire(last + day + 59);
      expect(await secondsIn('1m')).toEqual([last]);
      await store.expire(last + day + 60);
      expect(await secondsIn('1m')).toEqual([]);
      expect(await secondsIn('1d')).toEqual([T0, T0 + 2 * day, last]);
    });

    it('keeps every sum through compaction, including rows appended after it', async () => {
      const store = await fresh();
      for (let i = 0; i < 30; i++) {
        await store.append({ lsn: i + 1, delta: deltaFromRecordSet(records({ edge: [edgeRecord(T0 + i, 's1', { requests: 1, hits: i })], dimension: [dimensionRecord(T0 + i, 's1', 'method', 'GET', 1, 2)] })) });
      }
      await store.append({ lsn: 31, delta: deltaFromRecordSet(records({ edge: [edgeRecord(T0 + 3, 's1', { requests: 10 })] })) });
      const before = await Promise.all(TIERS.map((t) => store.readEdge(all(t))));
      await store.compact();
      const after = await Promise.all(TIERS.map((t) => store.readEdge(all(t))));
      expect(after.map(plain)).toEqual(before.map(plain));
      await store.append({ lsn: 32, delta: deltaFromRecordSet(records({ edge: [edgeRecord(T0 + 3, 's1', { requests: 100 })] })) });
      await store.compact();
      for (const tier of TIERS) {
        const total = (await store.readEdge(all(tier))).reduce((sum, r) => sum + req(r), 0);
        expect(total, tier).toBe(140);
      }
      expect((await store.readDimension(all('1d')))[0]?.count).toBe(30);
    });

    it('keeps a key whose fields are all zero in every tier, before and after compaction', async () => {
      const store = await fresh();
      const zero = edgeRecord(T0 + 5, 's1', {});
      expect(Array.from(zero.values).every((v) => v === 0)).toBe(true);
      await store.append({ lsn: 1, delta: deltaFromRecordSet(records({ edge: [zero, edgeRecord(T0 + 5, 's2', { requests: 2 })] })) });
      for (const round of ['before', 'after']) {
        if (round === 'after') await store.compact();
        for (const tier of TIERS) {
          const got = await store.readEdge(all(tier));
          expect(got.map((r) => [r.service, req(r)]), `${tier} ${round} compaction`).toEqual([
            ['s1', 0],
            ['s2', 2],
          ]);
        }
      }
    });

    it('matches a model of summed deltas for any sequence of writes (property)', async () => {
      const second = fc.integer({ min: T0 - 100, max: T0 + 4000 });
      const edge = fc.record({ second, service: fc.constantFrom('s1', 's2'), dc: fc.constantFrom('FRA', 'LON'), requests: fc.integer({ min: 0, max: 1000 }) });
      await fc.assert(
        fc.asyncProperty(fc.array(fc.array(edge, { maxLength: 6 }), { minLength: 1, maxLength: 6 }), fc.boolean(), async (writes, compact) => {
          const store = await fresh();
          const model = TIERS.map((t) => createRecordAccumulator(TIER_SECONDS[t]));
          for (const [i, w] of writes.entries()) {
            const rs = records({ edge: w.map((e) => edgeRecord(e.second, e.service, { requests: e.requests }, e.dc)) });
            await store.append({ lsn: i + 1, delta: deltaFromRecordSet(rs) });
            for (const m of model) m.add(rs);
            if (compact && i % 2 === 1) await store.compact();
          }
          for (const [t, tier] of TIERS.entries()) {
            const got = await store.readEdge(all(tier));
            const key = (r: EdgeRecord): string => `${r.second}/${r.service}/${r.datacenter}`;
            const want = new Map((model[t]?.snapshot().edge ?? []).map((r) => [key(r), req(r)]));
            expect(new Map(got.map((r) => [key(r), req(r)]))).toEqual(want);
          }
        }),
        { numRuns: 15 },
      );
    });
  
    it('sums distribution buckets per bucket and group in every tier, filtered, before and after compaction (property)', async () => {
      const row = fc.record({
        second: fc.integer({ min: T0 - 90, max: T0 + 3700 }),
        service: fc.constantFrom('s1', 's2'),
        datacenter: fc.constantFrom('FRA', 'LON'),
        domain: fc.constantFrom('a.example', 'b.example'),
        // Percentile buckets, and unique-client cells (ids past 65,535: 32-bit everywhere).
        buckets: fc.uniqueArray(fc.oneof(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 65_000, max: EDGE_DIST_WIDTH - 1 })), { minLength: 1, maxLength: 5 }),
        count: fc.integer({ min: 1, max: 50 }),
      });
      await fc.assert(
        fc.asyncProperty(fc.array(fc.array(row, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 4 }), fc.constantFrom([], ['datacenter'], ['service', 'domain']), async (writes, groupBy) => {
          const store = await fresh();
          for (const [i, w] of writes.entries()) {
            const edgeDist = w.map((r) => {
              const ids = Uint32Array.from(r.buckets).sort();
              return { second: r.second, service: r.service, datacenter: r.datacenter, domain: r.domain, product: 'edge_application', ids, counts: Float64Array.from(ids, (id) => r.count + (id % 3)) };
            });
            const originDist = w.map((r) => ({ second: r.second, service: r.service, datacenter: r.datacenter, backend: 'b1', ids: Uint32Array.of(r.buckets[0] as number % 3555), counts: Float64Array.of(r.count) }));
            await store.append({ lsn: i + 1, delta: deltaFromRecordSet(records({ edgeDist, originDist })) });
          }
          for (const round of ['before', 'after']) {
            if (round === 'after') await store.compact();
            for (const tier of TIERS) {
              const width = tier === '1s' ? 60 : TIER_SECONDS[tier];
              const want = new Map<string, Map<number, number>>();
              const wantOrigin = new Map<number, number>();
              for (const r of writes.flat()) {
                if (r.service !== 's1') continue;
                const bucket = Math.floor(r.second / width) * width;
                const values: Record<string, string> = { service: r.service, datacenter: r.datacenter, domain: r.domain };
                const key = JSON.stringify([bucket, ...groupBy.map((g) => values[g])]);
                let m = want.get(key);
                if (m === undefined) want.set(key, (m = new Map()));
                for (const id of r.buckets) m.set(id, (m.get(id) ?? 0) + r.count + (id % 3));
                const oid = (r.buckets[0] as number) % 3555;
                wantOrigin.set(oid, (wantOrigin.get(oid) ?? 0) + r.count);
              }
              const query = { ...all(tier), filter: { services: ['s1'] }, bucketSeconds: width };
              const got = await store.sumDistribution({ ...query, kind: 'edgeDist', groupBy: groupBy as readonly ('datacenter' | 'service' | 'domain')[] });
              const asMap = new Map(got.map((r) => [JSON.stringify([r.bucket, ...r.group]), [...r.ids].map((id, k) => [id, r.counts[k]])]));
              const wantMap = new Map([...want].map(([k, m]) => [k, [...m].sort((a, b) => a[0] - b[0])]));
              expect(asMap, `${tier} ${round} compaction`).toEqual(wantMap);
              expect(got.map((r) => r.bucket), 'ordered by bucket').toEqual(got.map((r) => r.bucket).sort((a, b) => a - b));
              // Only a span of ids (the percentile buckets, or the client cells): the same counts, the rest left out.
              for (const ids of [{ from: 0, to: 10_001 }, { from: 65_000, to: EDGE_DIST_WIDTH }]) {
                const part = await store.sumDistribution({ ...query, kind: 'edgeDist', groupBy: groupBy as readonly ('datacenter' | 'service' | 'domain')[], ids });
                const partMap = new Map(part.map((r) => [JSON.stringify([r.bucket, ...r.group]), [...r.ids].map((id, k) => [id, r.counts[k]])]));
                const wantPart = new Map([...wantMap].map(([k, l]) => [k, l.filter(([id]) => (id as number) >= ids.from && (id as number) < ids.to)] as const).filter(([, l]) => l.length > 0));
                expect(partMap, `${tier} ${round} compaction, ids ${ids.from}..${ids.to}`).toEqual(wantPart);
              }
              const all1 = await store.sumDistribution({ ...query, kind: 'originDist', bucketSeconds: 86_400 * 365 * 100 });
              const originTotal = new Map<number, number>();
              for (const r of all1) r.ids.forEach((id, k) => originTotal.set(id, (originTotal.get(id) ?? 0) + (r.counts[k] as number)));
              expect(new Map([...originTotal].sort()), `origin ${tier} ${round}`).toEqual(new Map([...wantOrigin].sort()));
            }
          }
        }),
        { numRuns: 8 },
      );
    });
  });
}
