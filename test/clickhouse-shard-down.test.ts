/**
 * A node on a two-shard ClickHouse cluster with one shard SIGKILLed (issue 10, "ClickHouse
 * unavailable"): every dialect's read answers 503 RTM_ERR_STORE_UNAVAILABLE naming the shard,
 * with Retry-After, in its own envelope (never a 500, never partial sums), and the same answers
 * as before once the shard is back; ingest acknowledges from the spool until it passes its disk
 * budget, then answers 503 RTM_ERR_INGEST_UNAVAILABLE with Retry-After (and /readyz says why);
 * once the shard is back the spool drains, ingest is accepted again, and every acknowledged event
 * is counted once in every tier, none of the refused ones.
 */
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../src/config/config.ts';
import { shardOfService } from '../src/store/clickhouse/shard-key.ts';
import { TIERS } from '../src/store/store.ts';
import { ADMIN_TOKEN, HARNESS_T0, startHarness, type Harness } from './support/app-harness.ts';
import { startClickHouseCluster, type ClickHouseCluster, type ClickHouseServer } from './support/clickhouse-server.ts';

const NAME = 'rtm_down';
/** Small enough that a few store writes pass it. */
const BUDGET = 2000;
const NOW = Math.floor(HARNESS_T0 / 1000);

let cluster: ClickHouseCluster;
let node: Harness;
let victim: ClickHouseServer;
beforeAll(async () => {
  cluster = await startClickHouseCluster(2, NAME);
  victim = cluster.shards[1] as ClickHouseServer;
  const env = {
    RTM_STORE: 'clickhouse',
    RTM_CLICKHOUSE_URLS: cluster.shards.map((s) => s.url).join(','),
    RTM_CLICKHOUSE_CLUSTER: NAME,
    RTM_CLICKHOUSE_DATABASE: NAME,
    RTM_CLICKHOUSE_SPOOL_MAX_BYTES: String(BUDGET),
    RTM_NODE_ID: 'down-a',
  };
  const parsed = loadConfig(env);
  node = await startHarness({ config: { store: parsed.store, nodeId: parsed.nodeId } });
}, 120_000);
afterAll(async () => {
  await node?.close();
  await cluster?.stop();
});

const line = (service: string, second: number, bytes: number): string =>
  JSON.stringify({ timestamp: second, service, datacenter: 'FRA', domain: `www.${service}.example`, status: 200, cache: 'hit', resp_body_bytes: bytes });

const bearer = { authorization: `Bearer ${ADMIN_TOKEN}` };

describe('a node while a ClickHouse shard is down', () => {
  it('answers every dialect\'s read 503 RTM_ERR_STORE_UNAVAILABLE naming the shard, and the same answers once it is back', async () => {
    // Both services, one on each shard: a read needs both.
    expect(['shop', 'news'].map((s) => shardOfService(s, 2))).toEqual([1, 0]);
    const lines = ['shop', 'news'].flatMap((s) => [0, 1, 2].map((i) => line(s, NOW - 40 + i, 1000 + i)));
    expect((await node.ingest(ADMIN_TOKEN, lines.join('\n'))).accepted).toBe(lines.length);
    await node.publishThrough(NOW - 38);
    await node.waitForCatalog(['shop', 'news']);
    const confs = await node.inject({ url: '/metrics/products/1441740010/configurations', headers: { authorization: `Token ${ADMIN_TOKEN}` } });
    const conf = (confs.json() as { id: number; name: string }[]).find((c) => c.name === 'shop');
    expect(conf, confs.body).toBeDefined();
    const iso = (s: number): string => new Date(s * 1000).toISOString().slice(0, 16);
    const reads: [dialect: string, request: InjectOptions][] = [
      ['fastly', { url: '/v1/channel/shop/ts/h', headers: { 'fastly-key': ADMIN_TOKEN } }],
      ['azion', { url: `/metrics/products/1441740010/configurations/${String(conf?.id)}/metrics/cdn_requests?date_from=${iso(NOW - 120)}Z&date_to=${iso(NOW)}Z&granularity=minute`, headers: { authorization: `Token ${ADMIN_TOKEN}` } }],
      ['odsl', { url: '/api/metric/v1', query: { _metric: 'CDN/Requests', _calendar: '#PT1H', _range: '2026-01-01', _filter: 'service=shop' }, headers: bearer }],
      ['native', { method: 'POST', url: '/rtm/v1/query', payload: { from: NOW - 60, to: NOW, granularity: 'all', metrics: ['requests'], groupBy: ['service'] }, headers: bearer }],
    ];
    const before = new Map<string, unknown>();
    for (const [dialect, request] of reads) {
      const res = await node.inject(request);
      expect(res.statusCode, `${dialect}: ${res.body}`).toBe(200);
      before.set(dialect, res.json());
    }
    expect(before.get('native')).toMatchObject({ rows: [{ service: 'news', requests: 3 }, { service: 'shop', requests: 3 }] });

    await victim.kill();
    const detail = new RegExp(`^ClickHouse shard 2 of 2 at ${victim.url.replace(/[.]/g, '\\.')} does not answer; no partial answer is given, retry later$`);
    const message = 'The store is temporarily unavailable';
    for (const [dialect, request] of reads) {
      const res = await node.inject(request);
      expect(res.statusCode, `${dialect}: ${res.body}`).toBe(503);
      expect(res.headers['retry-after'], dialect).toBe('5');
      const body = res.json() as Record<string, unknown>;
      const code = 'RTM_ERR_STORE_UNAVAILABLE';
      if (dialect === 'fastly') expect(body).toEqual({ msg: message, detail: expect.stringMatching(detail) as unknown, code });
      if (dialect === 'azion') expect(body).toEqual({ detail: expect.stringMatching(detail) as unknown, code });
      if (dialect === 'odsl') expect(body).toEqual({ status: 503, message: expect.stringMatching(detail) as unknown, code });
      if (dialect === 'native') expect(body).toEqual({ error: { code, message, detail: expect.stringMatching(detail) as unknown } });
    }

    await victim.restart();
    for (const [dialect, request] of reads) {
      const res = await node.inject(request);
      expect(res.statusCode, `${dialect}: ${res.body}`).toBe(200);
      expect(res.json(), dialect).toEqual(before.get(dialect));
    }
  }, 120_000);

  it('acknowledges from the spool up to its budget, then refuses with 503 and Retry-After; after the shard is back every acknowledged event counts once', async () => {
    const service = ['cart', 'blog', 'mail', 'shop2', 'wiki'].find((s) => shardOfService(s, 2) === 1) as string;
    const stats = (): { spoolBytes: number; undelivered: number } => {
      const d = node.services.engine.metrics.delivery?.();
      if (d === undefined) throw new Error('a ClickHouse store reports its delivery');
      return d;
    };
    const post = (body: string): ReturnType<Harness['inject']> =>
      node.inject({ method: 'POST', url: '/ingest', headers: { ...bearer, 'content-type': 'application/x-ndjson' }, payload: body });
    expect(stats()).toMatchObject({ spoolBytes: 0, undelivered: 0 });
    await victim.kill();

    let acknowledged = 0;
    let refused = 0;
    let rounds = 0;
    for (; rounds < 20 && refused === 0; rounds++) {
      const second = Math.floor(node.clock.now() / 1000) - 5;
      const events = Array.from({ length: 3 }, (_, i) => line(service, second, 100 + i));
      const held = stats().spoolBytes;
      const res = await post(events.join('\n'));
      if (res.statusCode === 200) {
        // Acknowledged only while the spool is within its budget.
        expect(held).toBeLessThanOrEqual(BUDGET);
        expect(res.json()).toMatchObject({ accepted: 3 });
        acknowledged += 3;
        // Into the store writer: the append returns once spooled (after its 5 s wait).
        await node.publishThrough(second);
        continue;
      }
      expect(res.statusCode, res.body).toBe(503);
      expect(held).toBeGreaterThan(BUDGET);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.json()).toEqual({
        error: {
          code: 'RTM_ERR_INGEST_UNAVAILABLE',
          message: 'Ingest is temporarily unavailable',
          detail: expect.stringMatching(
            /^the ClickHouse write spool holds \d+ bytes of acknowledged writes not yet in ClickHouse, over its budget of 2000 bytes \(RTM_CLICKHOUSE_SPOOL_MAX_BYTES\): .*; nothing of this request was accepted, retry later$/,
          ) as unknown,
        },
      });
      refused += 3;
    }
    expect(acknowledged).toBeGreaterThanOrEqual(6);
    expect(refused).toBe(3);
    // Refused again while over; /readyz says why.
    expect((await post(line(service, Math.floor(node.clock.now() / 1000) - 5, 1))).statusCode).toBe(503);
    refused++;
    const ready = await node.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect((ready.json() as { error: { detail: string } }).error.detail).toMatch(/ingest: the ClickHouse write spool holds \d+ bytes .* over its budget of 2000 bytes/);
    const scrape = await node.inject({ url: '/rtm/v1/metrics', headers: bearer });
    expect(scrape.body).toMatch(/^rtm_store_spool_max_bytes 2000$/m);

    await victim.restart();
    await vi.waitFor(() => expect(stats()).toMatchObject({ spoolBytes: 0, undelivered: 0 }), { timeout: 60_000, interval: 100 });
    expect((await node.inject({ url: '/readyz' })).statusCode).toBe(200);
    const second = Math.floor(node.clock.now() / 1000) - 5;
    expect((await node.ingest(ADMIN_TOKEN, line(service, second, 7))).accepted).toBe(1);
    acknowledged++;
    await node.publishThrough(second);
    for (const tier of TIERS) {
      const rows = await node.services.store.readEdge({ tier, from: 0, to: 4e9, filter: { services: [service] } });
      expect(rows.reduce((sum, r) => sum + (r.values[0] ?? 0), 0), tier).toBe(acknowledged);
    }
  }, 240_000);
});
