/**
 * The official Fastly JavaScript client (fastly-js, npm `fastly` v13) against our real-time
 * routes over a real socket: what a Fastly user's code parses is what we send (a fake source
 * here; test/fastly-client-store.test.ts runs the client over a store-backed node).
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fastlyRoutes } from '../src/api/fastly/routes.ts';
import { createFakeSource, createFakeTokens, edgeRecord, originRecord } from '../src/api/fastly/test-helpers.ts';
import { installErrorHandling } from '../src/app.ts';
import { createFakeClock } from '../src/model/clock.ts';
import { fastlyClient } from './support/fastly-js-client.ts';

const T0 = 1_700_000_000;
const DELAY = 1;

let app: FastifyInstance;
let baseUrl: string;

const clientFor = (key: string): ReturnType<typeof fastlyClient> => fastlyClient(baseUrl, key);

beforeAll(async () => {
  const clock = createFakeClock((T0 + DELAY + 1) * 1000 + 500);
  const source = createFakeSource(clock, DELAY);
  source.edge.push(
    edgeRecord(T0 - 1, { requests: 2, hits: 2, status_2xx: 2, status_200: 2 }),
    edgeRecord(
      T0,
      {
        requests: 4,
        hits: 1,
        miss: 3,
        resp_header_bytes: 400,
        resp_body_bytes: 4000,
        edge_requests: 4,
        edge_hit_requests: 1,
        edge_miss_requests: 3,
        edge_resp_header_bytes: 400,
        edge_resp_body_bytes: 4000,
        origin_fetches: 3,
        origin_fetch_resp_header_bytes: 300,
        origin_fetch_resp_body_bytes: 800,
        compute_requests: 1,
        miss_time: 0.75,
        miss_histogram_30: 2,
        miss_histogram_60000: 1,
      },
      { datacenter: 'FRA' },
    ),
    edgeRecord(T0, { requests: 1, hits: 1 }, { datacenter: 'AMS', domain: 'api.example.com' }),
  );
  source.origin.push(originRecord(T0, { responses: 3, resp_body_bytes: 800, status_2xx: 3, status_200: 3, latency_50_to_100ms: 3 }));
  app = Fastify();
  installErrorHandling(app);
  await app.register(fastlyRoutes, { source, tokens: createFakeTokens(), aggregateDelaySeconds: DELAY });
  baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await app.close();
});

describe('fastly-js against rtmetrics', () => {
  it('RealtimeApi.getStatsLastSecond: aggregated counters, derived fields, miss_histogram, datacenters', async () => {
    const { channel } = clientFor('admin-key');
    const result = await channel.getStatsLastSecond({ service_id: 'svc1', timestamp_in_seconds: 0 });
    expect(result.Timestamp).toBe(T0 + 1);
    expect(result.AggregateDelay).toBe(DELAY);
    expect(result.Data).toHaveLength(1);
    const aggregated = result.Data?.[0]?.aggregated ?? {};
    expect(aggregated).toMatchObject({
      requests: 5,
      hits: 2,
      miss: 3,
      miss_time: 0.75,
      header_size: 400,
      body_size: 4000,
      compute_requests: 1,
      origin_offload: 0.75,
    });
    expect(aggregated.miss_histogram).toEqual({ '30': 2, '60000': 1 });
    expect(Object.keys(result.Data?.[0]?.datacenter ?? {}).sort()).toEqual(['AMS', 'FRA']);
    expect(result.Data?.[0]?.datacenter?.AMS?.requests).toBe(1);
  });

  it('RealtimeApi: recorded is in the raw body (the client model drops a numeric recorded)', async () => {
    const { channel } = clientFor('admin-key');
    const { response } = await channel.getStatsLastSecondWithHttpInfo({ service_id: 'svc1', timestamp_in_seconds: T0 });
    const body = response.body as { Data: { recorded: number }[]; Timestamp: number };
    expect(body.Data.map((d) => d.recorded)).toEqual([T0 - 1, T0]);
    expect(body.Timestamp).toBe(T0 + 1);
  });

  it('RealtimeApi: last 120 seconds and limit', async () => {
    const { channel } = clientFor('admin-key');
    const all = await channel.getStatsLast120Seconds({ service_id: 'svc1' });
    expect(all.Data?.map((d) => d.aggregated?.requests)).toEqual([2, 5]);
    const one = await channel.getStatsLast120SecondsLimitEntries({ service_id: 'svc1', max_entries: 1 });
    expect(one.Data?.map((d) => d.aggregated?.requests)).toEqual([5]);
  });

  it('DomainInspectorRealtimeApi: per-domain fields with Domain Inspector names', async () => {
    const { domains } = clientFor('admin-key');
    const last = await domains.getDomainInspectorLastSecond({ service_id: 'svc1', start_timestamp: 0 });
    const entry = last.Data?.[0];
    expect(entry?.recorded).toBe(T0);
    expect(entry?.aggregated?.['www.example.com']).toMatchObject({
      requests: 4,
      edge_hit_ratio: 0.25,
      origin_offload: 0.75,
      bandwidth: 4400,
      resp_body_bytes: 4000,
      origin_fetches: 3,
    });
    expect(entry?.aggregated?.['api.example.com']).toMatchObject({ requests: 1 });
    expect(entry?.datacenter?.AMS?.['api.example.com']).toMatchObject({ requests: 1 });
    const history = await domains.getDomainInspectorLast120Seconds({ service_id: 'svc1' });
    expect(history.Data?.map((d) => d.recorded)).toEqual([T0 - 1, T0]);
    const limited = await domains.getDomainInspectorLastMaxEntries({ service_id: 'svc1', max_entries: 1 });
    expect(limited.Data?.map((d) => d.recorded)).toEqual([T0]);
  });

  it('OriginInspectorRealtimeApi: per-backend fields', async () => {
    const { origins } = clientFor('admin-key');
    const last = await origins.getOriginInspectorLastSecond({ service_id: 'svc1', start_timestamp: 0 });
    expect(last.Data?.[0]?.aggregated?.['origin-a']).toMatchObject({
      responses: 3,
      resp_body_bytes: 800,
      status_200: 3,
      latency_50_to_100ms: 3,
    });
    expect(last.Data?.[0]?.datacenter?.FRA?.['origin-a']).toMatchObject({ responses: 3 });
    const history = await origins.getOriginInspectorLast120Seconds({ service_id: 'svc1' });
    expect(history.Data).toHaveLength(1);
    const limited = await origins.getOriginInspectorLastMaxEntries({ service_id: 'svc1', max_entries: 5 });
    expect(limited.Timestamp).toBe(T0 + 1);
  });

  it('a wrong key is rejected with 401 and the Fastly envelope', async () => {
    const { channel } = clientFor('wrong-key');
    await expect(channel.getStatsLast120Seconds({ service_id: 'svc1' })).rejects.toMatchObject({
      status: 401,
      body: { msg: 'Invalid or revoked API token' },
    });
  });
});
