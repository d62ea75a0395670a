/**
 * A node on RTM_STORE=clickhouse, end to end: events ingested on one node reach ClickHouse, and a
 * second node with a data dir of its own (its window empty, refilled from the store on start)
 * answers the Fastly `ts/h` of that service with the values that were sent; on a two-shard
 * cluster, configured by env as a user would, two nodes' events are answered by a third node,
 * and a shard killed and restarted shows in the node's self-metrics (spool, lag, retries) until
 * its writes are delivered, once.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../src/config/config.ts';
import { shardOfService } from '../src/store/clickhouse/shard-key.ts';
import { ADMIN_TOKEN, HARNESS_T0, startHarness, type Harness } from './support/app-harness.ts';
import { startClickHouseCluster, startClickHouseServer, type ClickHouseCluster, type ClickHouseServer } from './support/clickhouse-server.ts';

interface Sent {
  second: number;
  datacenter: string;
  bytes: number;
}

const NOW = Math.floor(HARNESS_T0 / 1000);
// 3 seconds, 2 POPs, a few events each; every event a different body size.
const SENT: Sent[] = [];
for (let s = 0; s < 3; s++) for (let i = 0; i < 2 + s; i++) SENT.push({ second: NOW - 40 + s, datacenter: i % 2 === 0 ? 'FRA' : 'LON', bytes: 1000 + 17 * SENT.length });
const ndjson = SENT.map((e) => JSON.stringify({ timestamp: e.second, service: 'shop', datacenter: e.datacenter, domain: 'www.shop.example', status: 200, cache: 'hit', resp_body_bytes: e.bytes })).join('\n');

interface TsH {
  Data: { recorded: number; aggregated: Record<string, number>; datacenter: Record<string, Record<string, number>> }[];
}

const view = (body: TsH): unknown =>
  body.Data.map((d) => ({ recorded: d.recorded, requests: d.aggregated['requests'], body: d.aggregated['resp_body_bytes'], pops: Object.keys(d.datacenter) }));

const reference = (): unknown =>
  [...new Set(SENT.map((e) => e.second))].map((second) => {
    const of = SENT.filter((e) => e.second === second);
    return { recorded: second, requests: of.length, body: of.reduce((s, e) => s + e.bytes, 0), pops: [...new Set(of.map((e) => e.datacenter))].sort() };
  });

describe('a node on the ClickHouse store', () => {
  let server: ClickHouseServer | undefined;
  let cluster: ClickHouseCluster | undefined;
  const nodes: Harness[] = [];
  afterAll(async () => {
    for (const n of nodes.splice(0)) await n.close();
    await server?.stop();
    await cluster?.stop();
  });
  const tsh = async (h: Harness, service = 'shop'): Promise<TsH> => {
    const res = await h.inject({ method: 'GET', url: `/v1/channel/${service}/ts/h`, headers: { 'fastly-key': ADMIN_TOKEN } });
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  };

  it('stores what it ingests in ClickHouse; another node reads the same ts/h back', async () => {
    server = await startClickHouseServer();
    const env = { RTM_STORE: 'clickhouse', RTM_CLICKHOUSE_URLS: server.url, RTM_CLICKHOUSE_DATABASE: 'rtm_node_test' };
    const node = async (id: string): Promise<Harness> => {
      const parsed = loadConfig({ ...env, RTM_NODE_ID: id });
      const h = await startHarness({ config: { store: parsed.store, nodeId: parsed.nodeId } });
      nodes.push(h);
      return h;
    };
    const a = await node('node-a');
    expect(a.services.engine.describe).toMatch(/^clickhouse:http:\/\/127\.0\.0\.1:\d+\/rtm_node_test \(node node-a;/);
    expect((await a.ingest(ADMIN_TOKEN, ndjson)).accepted).toBe(SENT.length);
    await a.publishThrough(NOW - 38);
    expect(view(await tsh(a))).toEqual(reference());
    // In ClickHouse (every tier), and reported applied for node-a only.
    const requests = async (tier: '1s' | '1m' | '1h' | '1d'): Promise<number> =>
      (await a.services.store.readEdge({ tier, from: 0, to: 4e9, filter: { services: ['shop'] } })).reduce((s, r) => s + (r.values[0] ?? 0), 0);
    for (const tier of ['1s', '1m', '1h', '1d'] as const) expect(await requests(tier), tier).toBe(SENT.length);
    expect(await a.services.store.appliedLsn([NOW - 40])).toEqual(new Map([[NOW - 40, expect.any(Number) as number]]));

    const b = await node('node-b');
    expect(await b.services.store.appliedLsn([NOW - 40])).toEqual(new Map());
    expect(view(await tsh(b))).toEqual(reference());
  });

  // A third node, which ingested nothing, answers for both (real-time reads on ClickHouse come
  // from the store; a cursor client on the nodes that ingest: test/clickhouse-live-window.test.ts).
  it('two nodes on a two-shard cluster: events split across them, a third node answers ts/h with all of them; a shard down shows in self-metrics', async () => {
    cluster = await startClickHouseCluster(2, 'rtm_nodes');
    const env = { RTM_STORE: 'clickhouse', RTM_CLICKHOUSE_URLS: cluster.shards.map((s) => s.url).join(','), RTM_CLICKHOUSE_CLUSTER: 'rtm_nodes', RTM_CLICKHOUSE_DATABASE: 'rtm_cluster_nodes' };
    const node = async (id: string): Promise<Harness> => {
      const parsed = loadConfig({ ...env, RTM_NODE_ID: id });
      const h = await startHarness({ config: { store: parsed.store, nodeId: parsed.nodeId } });
      nodes.push(h);
      return h;
    };
    const [a, b] = [await node('cluster-a'), await node('cluster-b')];
    expect(a.services.engine.describe).toMatch(/^clickhouse:http:\/\/127\.0\.0\.1:\d+,http:\/\/127\.0\.0\.1:\d+\/rtm_cluster_nodes \(cluster rtm_nodes\) \(node cluster-a;/);
    // Two services on two shards (checked), each event to one node, alternating.
    const services = ['shop', 'news'];
    expect(services.map((s) => shardOfService(s, 2))).toEqual([1, 0]);
    const lines = ndjson.split('\n');
    const bodies: [string[], string[]] = [[], []];
    for (const service of services) {
      for (const [i, line] of lines.entries()) bodies[i % 2]?.push(line.replace('"service":"shop"', `"service":"${service}"`));
    }
    expect((await a.ingest(ADMIN_TOKEN, bodies[0].join('\n'))).accepted).toBe(bodies[0].length);
    expect((await b.ingest(ADMIN_TOKEN, bodies[1].join('\n'))).accepted).toBe(bodies[1].length);
    await a.publishThrough(NOW - 38);
    await b.publishThrough(NOW - 38);
    const c = await node('cluster-c');
    for (const service of services) expect(view(await tsh(c, service)), service).toEqual(reference());
    expect(await c.services.store.appliedLsn([NOW - 40])).toEqual(new Map());

    // One shard down: node a acknowledges from its spool, its self-metrics show the backlog; all
    // of it is delivered once the shard is back.
    const scrape = async (h: Harness): Promise<Record<string, number>> => {
      const res = await h.inject({ url: '/rtm/v1/metrics', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(res.statusCode).toBe(200);
      const names = ['rtm_store_undelivered_writes', 'rtm_store_flush_lag_seconds', 'rtm_store_spool_files', 'rtm_store_spool_bytes', 'rtm_store_insert_retries_total'];
      return Object.fromEntries(names.map((n) => [n, Number(res.body.split('\n').find((l) => l.startsWith(`${n} `))?.slice(n.length + 1))]));
    };
    expect(await scrape(a)).toMatchObject({ rtm_store_undelivered_writes: 0, rtm_store_flush_lag_seconds: 0, rtm_store_spool_files: 0, rtm_store_spool_bytes: 0 });
    const down = cluster.shards[1];
    if (down === undefined) throw new Error('two shards expected');
    await down.kill();
    const later = SENT.map((e) => JSON.stringify({ timestamp: NOW - 20, service: 'shop', datacenter: e.datacenter, domain: 'www.shop.example', status: 200, resp_body_bytes: e.bytes })).join('\n');
    expect((await a.ingest(ADMIN_TOKEN, later)).accepted).toBe(SENT.length);
    await a.publishThrough(NOW - 20);
    a.clock.set(a.clock.now() + 7000);
    const held = await scrape(a);
    expect(held).toMatchObject({ rtm_store_undelivered_writes: 1, rtm_store_spool_files: 1 });
    expect(held['rtm_store_flush_lag_seconds']).toBeGreaterThanOrEqual(7);
    expect(held['rtm_store_spool_bytes']).toBeGreaterThan(0);
    expect(held['rtm_store_insert_retries_total']).toBeGreaterThan(0);
    // Not ready while a shard is down (a read needs every shard); ready again once it is back.
    const ready = async (): Promise<number> => (await a.inject({ url: '/readyz' })).statusCode;
    expect(await ready()).toBe(503);
    await down.restart();
    expect(await ready()).toBe(200);
    await vi.waitFor(async () => expect((await scrape(a))['rtm_store_undelivered_writes']).toBe(0), { timeout: 30_000, interval: 100 });
    expect(await scrape(a)).toMatchObject({ rtm_store_flush_lag_seconds: 0, rtm_store_spool_files: 0, rtm_store_spool_bytes: 0 });
    const all = await a.services.store.readEdge({ tier: '1h', from: 0, to: 4e9, filter: { services: ['shop'] } });
    expect(all.reduce((sum, r) => sum + (r.values[0] ?? 0), 0)).toBe(2 * SENT.length);
  });

  it('refuses to start when ClickHouse or one shard of the cluster does not answer', async () => {
    const start = (env: Record<string, string>): Promise<Harness> => {
      const parsed = loadConfig({ RTM_STORE: 'clickhouse', ...env });
      return startHarness({ config: { store: parsed.store, nodeId: 'n' } });
    };
    await expect(start({ RTM_CLICKHOUSE_URLS: 'http://127.0.0.1:1' })).rejects.toThrow(/^ClickHouse at http:\/\/127\.0\.0\.1:1 does not answer .*check RTM_CLICKHOUSE_URLS/);
    const up = cluster?.shards[0]?.url ?? 'http://127.0.0.1:2';
    await expect(start({ RTM_CLICKHOUSE_URLS: `${up},http://127.0.0.1:1`, RTM_CLICKHOUSE_CLUSTER: 'rtm_nodes' })).rejects.toThrow(
      /^ClickHouse shard 2 of 2 at http:\/\/127\.0\.0\.1:1 does not answer .*check RTM_CLICKHOUSE_URLS/,
    );
  });
});
