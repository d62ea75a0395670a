/**
 * A node on RTM_STORE=clickhouse, end to end: events ingested on one node reach ClickHouse, and a
 * second node with a data dir of its own (its window empty, refilled from the store on start)
 * answers the Fastly `ts/h` of that service with the values that were sent.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.ts';
import { ADMIN_TOKEN, HARNESS_T0, startHarness, type Harness } from './support/app-harness.ts';
import { startClickHouseServer, type ClickHouseServer } from './support/clickhouse-server.ts';

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
  const nodes: Harness[] = [];
  afterAll(async () => {
    for (const n of nodes.splice(0)) await n.close();
    await server?.stop();
  });

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
    const tsh = async (h: Harness): Promise<TsH> => {
      const res = await h.inject({ method: 'GET', url: '/v1/channel/shop/ts/h', headers: { 'fastly-key': ADMIN_TOKEN } });
      expect(res.statusCode, res.body).toBe(200);
      return res.json();
    };
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

  it('refuses to start when ClickHouse does not answer, or with more shards than this version runs', async () => {
    const start = (urls: string): Promise<Harness> => {
      const parsed = loadConfig({ RTM_STORE: 'clickhouse', RTM_CLICKHOUSE_URLS: urls });
      return startHarness({ config: { store: parsed.store, nodeId: 'n' } });
    };
    await expect(start('http://127.0.0.1:1')).rejects.toThrow(/ClickHouse at http:\/\/127\.0\.0\.1:1 does not answer .*check RTM_CLICKHOUSE_URLS/);
    await expect(start('http://127.0.0.1:1,http://127.0.0.1:2')).rejects.toThrow(/names 2 shards; this version runs on one ClickHouse server/);
  });
});
