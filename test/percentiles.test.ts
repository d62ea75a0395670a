/**
 * Percentiles through the whole app (issue 11): random streams of edge times, origin times and
 * object sizes, ingested as events; every served percentile of the native query API compared
 * with the exact one computed here (nearest rank over the raw values): within 1% and never
 * above it, and exactly equal where the value is an integer below 1024. For a single second
 * (the window), each minute (the 1 m tier and the window) and the whole day (the 1 d tier).
 */
import fc from 'fast-check';
import { ApiClient, RealtimeApi } from 'fastly';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, HARNESS_T0, startHarness, type Harness } from './support/app-harness.ts';
import { arbitrarySize, arbitraryTime, exactMetric, expectClose, PERCENTILE_METRICS, percentileEventLine, type SentEvent } from './support/percentile-reference.ts';

const NOW = Math.floor(HARNESS_T0 / 1000);
let h: Harness;

beforeAll(async () => {
  h = await startHarness();
}, 60_000);

afterAll(async () => {
  await h?.close();
});

const event = fc.record({
  /** Seconds before NOW: a few in the last minute (the window), the rest over the day. */
  ago: fc.oneof(fc.integer({ min: 5, max: 8 }), fc.integer({ min: 60, max: 80_000 })),
  time_ms: arbitraryTime,
  resp_body_bytes: arbitrarySize,
  origin_time_ms: fc.option(arbitraryTime, { nil: undefined }),
});

let run = 0;

describe('percentiles (native query API)', () => {
  it('serves every percentile within 1% (exact for integers below 1024) for a second, each minute and the day', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(event, { minLength: 1, maxLength: 150 }), async (drawn) => {
        // Every run its own service: runs share seconds (the window's and the tiers'), never a key.
        const service = `pct-${run++}`;
        const end = NOW;
        const events: SentEvent[] = drawn.map((e) => ({ second: end - e.ago, time_ms: e.time_ms, resp_body_bytes: e.resp_body_bytes, origin_time_ms: e.origin_time_ms }));
        const lines = events.map((e) => percentileEventLine(e, service));
        const ack = await h.ingest(ADMIN_TOKEN, `${lines.join('\n')}\n`);
        expect(ack.accepted).toBe(events.length);
        await h.publishThrough(NOW);
        await h.services.store.compact();
        const query = async (granularity: string, from: number, to: number): Promise<Record<string, unknown>[]> => {
          const res = await h.inject({
            method: 'POST',
            url: '/rtm/v1/query',
            headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
            payload: { from, to, granularity, metrics: ['requests', ...PERCENTILE_METRICS], filters: [{ field: 'service', op: 'eq', value: service }] },
          });
          expect(res.statusCode, res.body).toBe(200);
          return res.json().rows;
        };
        // A single second: the one with the most events.
        const counts = new Map<number, number>();
        for (const e of events) counts.set(e.second, (counts.get(e.second) ?? 0) + 1);
        const busiest = [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0] as number;
        const [one] = await query('1s', busiest, busiest + 1);
        expect(one?.requests).toBe(counts.get(busiest));
        for (const m of PERCENTILE_METRICS) expectClose(one?.[m], exactMetric(m, events.filter((e) => e.second === busiest)), `${m} of second ${busiest}`);
        // Each minute.
        const dayStart = end - 86_400;
        const minutes = await query('1m', dayStart, end);
        const byMinute = new Map<number, SentEvent[]>();
        for (const e of events) {
          const m = Math.floor(e.second / 60) * 60;
          byMinute.set(m, [...(byMinute.get(m) ?? []), e]);
        }
        expect(minutes.map((r) => r.time)).toEqual([...byMinute.keys()].filter((m) => m >= dayStart).sort((a, b) => a - b));
        for (const r of minutes) for (const m of PERCENTILE_METRICS) expectClose(r[m], exactMetric(m, byMinute.get(r.time as number) ?? []), `${m} of minute ${String(r.time)}`);
        // The whole range at once.
        const [all] = await query('all', dayStart - 86_400, end);
        expect(all?.requests).toBe(events.length);
        for (const m of PERCENTILE_METRICS) expectClose(all?.[m], exactMetric(m, events), `${m} of every event`);
      }),
      { numRuns: 12 },
    );
  }, 240_000);

  it('adds the percentile fields to Fastly channel and Domain Inspector records, which fastly-js still parses', async () => {
    const second = NOW - 4;
    const times = [1, 2, 3, 4, 100];
    const lines = times.map((t, i) =>
      JSON.stringify({ timestamp: second + 0.1, service: 'fastly-pct', datacenter: i < 4 ? 'FRA' : 'LHR', domain: i < 4 ? 'a.example' : 'b.example', status: 200, time_ms: t, resp_body_bytes: 100 * (i + 1) }),
    );
    await h.ingest(ADMIN_TOKEN, `${lines.join('\n')}\n`);
    await h.publishThrough(NOW);
    // Listening until afterAll closes the app (a closed Fastify cannot listen or inject again).
    const baseUrl = await h.app.listen({ host: '127.0.0.1', port: 0 });
    {
      const client = new ApiClient();
      client.basePath = baseUrl;
      const buildUrl = client.buildUrl.bind(client);
      client.buildUrl = (path, pathParams, allowReserved) => buildUrl(path, pathParams, allowReserved, null);
      const channel = new RealtimeApi(client);
      client.authenticate(ADMIN_TOKEN);
      const parsed = await channel.getStatsLast120Seconds({ service_id: 'fastly-pct' });
      const entry = parsed.Data?.find((d) => d.aggregated?.requests === 5);
      expect(entry?.aggregated).toMatchObject({ requests: 5, body_size: 1_500 });
      const { response } = await channel.getStatsLast120SecondsWithHttpInfo({ service_id: 'fastly-pct' });
      const raw = (response.body as { Data: { recorded: number; aggregated: Record<string, unknown>; datacenter: Record<string, Record<string, unknown>> }[] }).Data.find((d) => d.recorded === second);
      // Nearest rank over [1, 2, 3, 4, 100]: p50 = 3, p90 .. p999 = 100; the FRA POP has [1, 2, 3, 4].
      expect(raw?.aggregated).toMatchObject({ edge_time_p50: 3, edge_time_p90: 100, edge_time_p99: 100, object_size_p50: 300 });
      expect(raw?.aggregated).not.toHaveProperty('origin_time_p50');
      expect(raw?.datacenter.FRA).toMatchObject({ edge_time_p50: 2, edge_time_p999: 4 });
      expect(raw?.datacenter.LHR).toMatchObject({ edge_time_p50: 100, object_size_p99: 500 });
    }
    const res = await h.inject({ method: 'GET', url: `/v1/domains/fastly-pct/ts/${second}`, headers: { 'fastly-key': ADMIN_TOKEN } });
    expect(res.statusCode, res.body).toBe(200);
    const data = res.json().Data as { recorded: number; aggregated: Record<string, Record<string, unknown>>; datacenter: Record<string, Record<string, Record<string, unknown>>> }[];
    const domains = data.find((d) => d.recorded === second);
    expect(domains?.aggregated['a.example']).toMatchObject({ requests: 4, edge_time_p50: 2, edge_time_p90: 4 });
    expect(domains?.datacenter.LHR?.['b.example']).toMatchObject({ requests: 1, edge_time_p50: 100 });
  });
  it('adds origin_time_p50 ... origin_time_p999 to Origin Inspector records per backend and per POP, from the window and from the store', async () => {
    const live = NOW - 4;
    const old = NOW - 3_000;
    // Origin fetches: backend "b1" at FRA [10, 20, 30, 40], backend "b2" at LHR [500.5]; one event without a fetch.
    const fetches: [string, string, number | undefined][] = [['FRA', 'b1', 10], ['FRA', 'b1', 20], ['FRA', 'b1', 30], ['FRA', 'b1', 40], ['LHR', 'b2', 500.5], ['LHR', 'b2', undefined]];
    const lines = [live, old].flatMap((second) =>
      fetches.map(([dc, backend, t]) =>
        JSON.stringify({ timestamp: second + 0.2, service: 'origin-pct', datacenter: dc, domain: 'o.example', status: 200, time_ms: 1, resp_body_bytes: 1, backend, ...(t === undefined ? {} : { origin_status: 200, origin_time_ms: t }) }),
      ),
    );
    await h.ingest(ADMIN_TOKEN, `${lines.join('\n')}\n`);
    await h.publishThrough(NOW);
    await h.services.store.compact();
    for (const second of [live, old]) {
      const res = await h.inject({ method: 'GET', url: `/v1/origins/origin-pct/ts/${second}`, headers: { 'fastly-key': ADMIN_TOKEN } });
      expect(res.statusCode, res.body).toBe(200);
      const data = res.json().Data as { recorded: number; aggregated: Record<string, Record<string, unknown>>; datacenter: Record<string, Record<string, Record<string, unknown>>> }[];
      const entry = data.find((d) => d.recorded === second);
      // Nearest rank over [10, 20, 30, 40]: p50 = 20, p90 ... = 40; 500.5 is within 1% below.
      expect(entry?.aggregated.b1, `second ${second}`).toMatchObject({ origin_time_p50: 20, origin_time_p90: 40, origin_time_p95: 40, origin_time_p99: 40, origin_time_p999: 40 });
      expect(entry?.datacenter.FRA?.b1, `second ${second}`).toMatchObject({ origin_time_p50: 20, origin_time_p999: 40 });
      const p50 = entry?.datacenter.LHR?.b2?.origin_time_p50 as number;
      expect(p50).toBeLessThanOrEqual(500.5);
      expect(p50).toBeGreaterThanOrEqual(500.5 * 0.99);
      expect(entry?.aggregated).not.toHaveProperty('default');
    }
  });

  it('serves the percentiles as Azion edge_application series, one value per bucket, 0 where a bucket had no request', async () => {
    const minute = Math.floor((NOW - 180) / 60) * 60;
    const times = [5, 6, 7, 8, 9, 10, 11, 12, 13, 2000.5];
    const lines = times.map((t, i) => JSON.stringify({ timestamp: minute + i + 0.5, service: 'azion-pct', datacenter: 'FRA', domain: 'z.example', status: 200, time_ms: t, resp_body_bytes: 10 * (i + 1) }));
    await h.ingest(ADMIN_TOKEN, `${lines.join('\n')}\n`);
    await h.publishThrough(NOW);
    await h.waitForCatalog(['azion-pct']);
    const auth = { authorization: `Token ${ADMIN_TOKEN}` };
    const confs = await h.inject({ method: 'GET', url: '/metrics/products/1441740010/configurations', headers: auth });
    const conf = (confs.json() as { id: number; name: string }[]).find((c) => c.name === 'azion-pct');
    expect(conf, confs.body).toBeDefined();
    const iso = (s: number): string => new Date(s * 1000).toISOString().slice(0, 16);
    const series = async (metric: string): Promise<[number, number][]> => {
      const res = await h.inject({ method: 'GET', url: `/metrics/products/1441740010/configurations/${String(conf?.id)}/metrics/${metric}?date_from=${iso(minute - 60)}Z&date_to=${iso(minute + 60)}Z&granularity=minute`, headers: auth });
      expect(res.statusCode, res.body).toBe(200);
      return res.json();
    };
    const times1000 = [...times].sort((a, b) => a - b);
    // Nearest rank over the ten times: p50 = the 5th, p90 = the 9th, p99 and p999 = the 10th (2000.5, within 1% below).
    expect(await series('edge_time_p50')).toEqual([[(minute - 60) * 1000, 0], [minute * 1000, times1000[4]]]);
    expect((await series('edge_time_p90'))[1]?.[1]).toBe(times1000[8]);
    const p99 = (await series('edge_time_p99'))[1]?.[1] as number;
    expect(p99).toBeLessThanOrEqual(2000.5);
    expect(p99).toBeGreaterThanOrEqual(2000.5 * 0.99);
    expect((await series('object_size_p50'))[1]?.[1]).toBe(50);
    expect((await series('origin_time_p50'))[1]?.[1]).toBe(0);
  });
});
