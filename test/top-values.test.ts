/**
 * Top values through the whole app (issue 11 top-N): events with paths (query strings, escapes)
 * and client addresses, ingested as NDJSON; once their minute is over the node writes each
 * service's part of it (model/top-values.ts) through its own write path, into every tier. The
 * stored rows are checked against counts computed here: exact while the distinct values fit the
 * summary, within the Space-Saving bounds beyond, per service and minute.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DimensionSumRow } from '../src/store/store.ts';
import { TOP_VALUES_BOUND, TOP_VALUES_LISTED } from '../src/model/top-values.ts';
import { ADMIN_TOKEN, HARNESS_T0, startHarness, type Harness } from './support/app-harness.ts';
import { clientAddress } from './support/client-reference.ts';

const NOW = Math.floor(HARNESS_T0 / 1000);
let h: Harness;

beforeAll(async () => {
  h = await startHarness();
}, 60_000);

afterAll(async () => {
  await h?.close();
});

interface Sent {
  second: number;
  path: string | undefined;
  client: string | undefined;
}

const line = (e: Sent, service: string): string =>
  JSON.stringify({ timestamp: e.second + 0.5, service, datacenter: 'FRA', domain: 'a.example', status: 200, resp_body_bytes: 1, ...(e.path === undefined ? {} : { path: e.path }), ...(e.client === undefined ? {} : { client_ip: e.client }) });

const minuteOf = (s: number): number => Math.floor(s / 60) * 60;
const countsBy = (values: (string | undefined)[]): Map<string, number> => {
  const m = new Map<string, number>();
  for (const v of values) if (v !== undefined && v !== '') m.set(v, (m.get(v) ?? 0) + 1);
  return m;
};

async function stored(service: string, dimension: 'path' | 'client_ip', tier: '1m' | '1h' | '1d', bucketSeconds: number): Promise<DimensionSumRow[]> {
  return h.services.store.sumDimension({ tier, from: NOW - 86_400 * 2, to: NOW + 60, filter: { services: [service] }, bucketSeconds, dimension });
}

/** Ingests, lets the minutes end, and has the node write their top values. */
async function ingestAndWrite(service: string, events: Sent[]): Promise<void> {
  const ack = await h.ingest(ADMIN_TOKEN, `${events.map((e) => line(e, service)).join('\n')}\n`);
  expect(ack.accepted).toBe(events.length);
  await h.publishThrough(NOW);
  await h.services.topValues.write();
  await h.services.ingest.flush();
  await h.services.store.compact();
}

let run = 0;

describe('top values (paths and client addresses per service and minute)', () => {
  it('stores every value of a minute with its exact count and a bound row of 0 while they fit, paths without their query string', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            ago: fc.integer({ min: 75, max: 600 }),
            path: fc.option(fc.constantFrom('/', '/a', '/a?x=1', '/b/c.png', '/b/c.png?v=2#top', '/caf\u00e9', '/x\\y'), { nil: undefined }),
            client: fc.option(fc.integer({ min: 0, max: 30 }).map(clientAddress), { nil: undefined }),
          }),
          { minLength: 1, maxLength: 200 },
        ),
        async (drawn) => {
          const service = `top-${run++}`;
          const events: Sent[] = drawn.map((d) => ({ second: NOW - d.ago, path: d.path, client: d.client }));
          await ingestAndWrite(service, events);
          for (const [dimension, of] of [['path', (e: Sent) => (e.path === undefined ? undefined : e.path.split('?')[0]?.split('#')[0])], ['client_ip', (e: Sent) => e.client]] as const) {
            const rows = await stored(service, dimension, '1m', 60);
            for (const r of rows) expect(r.bytes, `${dimension} ${r.value}: no error while every value fits`).toBe(0);
            const byMinute = new Map<number, Map<string, number>>();
            for (const r of rows) {
              let m = byMinute.get(r.bucket);
              if (m === undefined) byMinute.set(r.bucket, (m = new Map()));
              m.set(r.value, r.count);
            }
            for (const m of new Set(events.map((e) => minuteOf(e.second)))) {
              const counts = countsBy(events.filter((e) => minuteOf(e.second) === m).map(of));
              // Exact: every value listed (fewer than TOP_VALUES_LISTED), errors 0, bound 0; the bound row counts every event of the minute.
              expect(counts.size).toBeLessThan(TOP_VALUES_LISTED);
              const total = events.filter((e) => minuteOf(e.second) === m).length;
              expect(byMinute.get(m), `${dimension} minute ${m}`).toEqual(new Map([...counts, [TOP_VALUES_BOUND, total]]));
            }
            // The native query API per minute: exact, requests_error 0.
            const res = await h.inject({
              method: 'POST',
              url: '/rtm/v1/query',
              headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
              payload: { from: NOW - 3_600, to: NOW, granularity: '1m', metrics: ['requests', 'requests_error'], groupBy: [dimension], filters: [{ field: 'service', op: 'eq', value: service }] },
            });
            expect(res.statusCode, res.body).toBe(200);
            const served = (res.json().rows as Record<string, number | string>[]).map((r) => [r.time, r[dimension], r.requests, r.requests_error]);
            const expected = [...new Set(events.map((e) => minuteOf(e.second)))].flatMap((m) => [...countsBy(events.filter((e) => minuteOf(e.second) === m).map(of))].map(([v, n]) => [m, v, n, 0]));
            const order = (a: (string | number | undefined)[], b: (string | number | undefined)[]): number => JSON.stringify(a).localeCompare(JSON.stringify(b));
            expect(served.sort(order), `${dimension} per minute`).toEqual(expected.sort(order));
            // The day tier: the same counts summed over the minutes.
            const day = await stored(service, dimension, '1d', 86_400 * 3);
            const dayWant = countsBy(events.map(of));
            expect(new Map(day.filter((r) => r.value !== TOP_VALUES_BOUND).map((r) => [r.value, r.count]))).toEqual(dayWant);
          }
        },
      ),
      { numRuns: 8 },
    );
  }, 120_000);

  it('keeps a busy minute within its bounds: the heavy paths listed with count - error <= exact <= count, every other path at most the bound row', async () => {
    const service = 'top-busy';
    const minute = minuteOf(NOW - 200);
    const events: Sent[] = [];
    // 5 heavy paths and 3,000 one-off paths and clients: past the summary's capacity.
    for (let i = 0; i < 6_000; i++) {
      const heavy = i % 2 === 0;
      events.push({ second: minute + (i % 60), path: heavy ? `/hot/${i % 5}` : `/cold/${i}`, client: heavy ? clientAddress(i % 3) : clientAddress(1000 + i) });
    }
    await ingestAndWrite(service, events);
    for (const [dimension, of] of [['path', (e: Sent) => e.path], ['client_ip', (e: Sent) => e.client]] as const) {
      const exact = countsBy(events.map(of));
      const rows = await stored(service, dimension, '1m', 60);
      const bound = rows.find((r) => r.value === TOP_VALUES_BOUND) as DimensionSumRow;
      expect(bound.count, dimension).toBe(events.length);
      expect(rows.length, dimension).toBe(TOP_VALUES_LISTED + 1);
      const listed = new Map(rows.filter((r) => r.value !== TOP_VALUES_BOUND).map((r) => [r.value, r]));
      for (const [value, n] of exact) {
        const r = listed.get(value);
        if (r === undefined) expect(n, `${dimension} ${value} unlisted`).toBeLessThanOrEqual(bound.bytes);
        else {
          expect(n, `${dimension} ${value}`).toBeLessThanOrEqual(r.count);
          expect(n, `${dimension} ${value}`).toBeGreaterThanOrEqual(r.count - r.bytes);
        }
      }
      // The heavy hitters are all there, first.
      const heavy = dimension === 'path' ? ['/hot/0', '/hot/1', '/hot/2', '/hot/3', '/hot/4'] : [0, 1, 2].map(clientAddress);
      const top = [...listed.values()].sort((a, b) => b.count - a.count).slice(0, heavy.length).map((r) => r.value);
      expect(top.sort(), dimension).toEqual([...heavy].sort());
      // The native query API: the busiest values of the service first, each true count within requests ± requests_error.
      const res = await h.inject({
        method: 'POST',
        url: '/rtm/v1/query',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        payload: { from: minute, to: minute + 60, granularity: 'all', metrics: ['requests', 'requests_error'], groupBy: [dimension], filters: [{ field: 'service', op: 'eq', value: service }], limit: 10 },
      });
      expect(res.statusCode, res.body).toBe(200);
      const answered = res.json().rows as Record<string, number | string>[];
      expect(answered.length).toBe(10);
      expect(answered.slice(0, heavy.length).map((r) => r[dimension]).sort(), dimension).toEqual([...heavy].sort());
      for (const r of answered) {
        const n = exact.get(r[dimension] as string) ?? 0;
        expect(Math.abs(n - (r.requests as number)), `${dimension} ${String(r[dimension])}`).toBeLessThanOrEqual(r.requests_error as number);
      }
      // The same answer as CSV over GET (curl, Grafana's Infinity source).
      const csv = await h.inject({
        url: `/rtm/v1/query?from=${minute}&to=${minute + 60}&granularity=all&metrics=requests,requests_error&groupBy=${dimension}&filter=service:eq:${service}&limit=10`,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, accept: 'text/csv' },
      });
      expect(csv.statusCode, csv.body).toBe(200);
      const lines = csv.body.trim().split('\r\n');
      expect(lines[0]).toBe(`${dimension},requests,requests_error`);
      expect(lines.slice(1)).toEqual(answered.map((r) => `${String(r[dimension])},${String(r.requests)},${String(r.requests_error)}`));
    }
  }, 120_000);

  it('keeps the query string of counted paths with RTM_PATH_QUERY_STRING=keep', async () => {
    const keep = await startHarness({ config: { keepPathQuery: true } });
    try {
      const second = NOW - 200;
      const events = ['/a?x=1', '/a?x=1', '/a?x=2', '/a#frag', '/a'].map((path) => ({ second, path, client: undefined }));
      const ack = await keep.ingest(ADMIN_TOKEN, `${events.map((e) => line(e, 'top-keep')).join('\n')}\n`);
      expect(ack.accepted).toBe(5);
      await keep.publishThrough(NOW);
      await keep.services.topValues.write();
      await keep.services.ingest.flush();
      const rows = await keep.services.store.sumDimension({ tier: '1m', from: NOW - 3600, to: NOW, filter: { services: ['top-keep'] }, bucketSeconds: 60, dimension: 'path' });
      expect(new Map(rows.map((r) => [r.value, r.count]))).toEqual(new Map([['/a?x=1', 2], ['/a?x=2', 1], ['/a', 2], [TOP_VALUES_BOUND, 5]]));
    } finally {
      await keep.close();
    }
  });

  it('leaves the method and status breakdowns as they were: top-value rows are dimension rows of their own', async () => {
    const service = 'top-dims';
    const second = NOW - 300;
    const events = ['/a', '/b', '/b'].map((path) => ({ second, path, client: clientAddress(1) }));
    const ack = await h.ingest(ADMIN_TOKEN, `${events.map((e) => line(e, service)).join('\n')}\n`);
    expect(ack.accepted).toBe(3);
    await h.publishThrough(NOW);
    await h.services.topValues.write();
    await h.services.ingest.flush();
    for (const round of ['before compaction', 'after compaction']) {
      if (round === 'after compaction') await h.services.store.compact();
      for (const [field, want] of [['method', 'GET'], ['status', '200']] as const) {
        const res = await h.inject({
          method: 'POST',
          url: '/rtm/v1/query',
          headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
          payload: { from: NOW - 3600, to: NOW, granularity: 'all', metrics: ['requests'], groupBy: [field], filters: [{ field: 'service', op: 'eq', value: service }] },
        });
        expect(res.statusCode, res.body).toBe(200);
        expect(res.json().rows, `${field} ${round}`).toEqual([{ [field]: want, requests: 3 }]);
      }
    }
  });

  it('counts no top values with RTM_TOP_VALUES=off, the events themselves as ever', async () => {
    const off = await startHarness({ config: { topValues: false } });
    try {
      const second = NOW - 200;
      const events = ['/a', '/b'].map((path) => ({ second, path, client: clientAddress(1) }));
      const ack = await off.ingest(ADMIN_TOKEN, `${events.map((e) => line(e, 'top-off')).join('\n')}\n`);
      expect(ack.accepted).toBe(2);
      await off.publishThrough(NOW);
      await off.services.topValues.write();
      await off.services.ingest.flush();
      const query = { tier: '1m' as const, from: NOW - 3600, to: NOW, filter: { services: ['top-off'] }, bucketSeconds: 60 };
      expect(await off.services.store.sumDimension({ ...query, dimension: 'path' })).toEqual([]);
      expect(await off.services.store.sumDimension({ ...query, dimension: 'client_ip' })).toEqual([]);
      expect((await off.services.store.sumEdge({ ...query, fields: ['requests'] })).map((r) => r.values)).toEqual([[2]]);
    } finally {
      await off.close();
    }
  });

  it('ranks the busiest domains of a minute exactly: requests_error 0 from the exact edge counters', async () => {
    const service = 'top-domains';
    const minute = minuteOf(NOW - 400);
    const perDomain = [9, 5, 3, 1];
    const lines = perDomain.flatMap((n, d) => Array.from({ length: n }, (_, i) => JSON.stringify({ timestamp: minute + i, service, datacenter: 'FRA', domain: `d${d}.example`, status: 200 })));
    expect((await h.ingest(ADMIN_TOKEN, `${lines.join('\n')}\n`)).accepted).toBe(lines.length);
    await h.publishThrough(NOW);
    const res = await h.inject({
      method: 'POST',
      url: '/rtm/v1/query',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      payload: { from: minute, to: minute + 60, granularity: 'all', metrics: ['requests', 'requests_error'], groupBy: ['domain'], filters: [{ field: 'service', op: 'eq', value: service }], orderBy: [{ metric: 'requests' }], limit: 2 },
    });
    expect(res.statusCode, res.body).toBe(200);
    // The two busiest, then the rest summed in the `other` row (totals stay exact).
    expect(res.json().rows).toEqual([
      { domain: 'd0.example', requests: 9, requests_error: 0 },
      { domain: 'd1.example', requests: 5, requests_error: 0 },
      { domain: null, other: true, requests: 4, requests_error: 0 },
    ]);
  });
});
