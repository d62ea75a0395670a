/**
 * Issue 10, "Shared state": Azion catalog ids are equal on every node and never change. Two nodes
 * on a two-shard ClickHouse cluster, each with its own data dir: services `shop` and `news` with
 * some domains ingested on node A, other domains of `shop` on node B; both nodes' Azion API then
 * lists the same ids for every configuration and domain (in range, distinct), node B answers a
 * query by the id of a domain only node A saw with that domain's data, and a node started afresh
 * on the same ClickHouse (a new, empty data dir) lists the same ids. The claims live on the first
 * shard only. On upgrade, nodes whose DuckDB files had catalogs of their own keep those ids where
 * the first node to start did not take the name or the id.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../src/config/config.ts';
import { EDGE_FIELDS } from '../src/model/fields.ts';
import { createDuckDbCatalog, sequentialIds } from '../src/store/duckdb/catalog-store.ts';
import { openDuckDb } from '../src/store/duckdb/database.ts';
import { duckDbFile } from '../src/store/duckdb/engine.ts';
import { CATALOG_ID_MAX, CATALOG_ID_MIN } from '../src/store/catalog.ts';
import { CATALOG_CLAIMS_TABLE } from '../src/store/clickhouse/catalog-tables.ts';
import { createClickHouseConnection } from '../src/store/clickhouse/client.ts';
import { ADMIN_TOKEN, HARNESS_T0, startHarness, type Harness } from './support/app-harness.ts';
import { startClickHouseNodes, type ClickHouseNodes } from './support/clickhouse-nodes.ts';
import { startClickHouseServer, type ClickHouseServer } from './support/clickhouse-server.ts';

const NAME = 'rtm_shared_catalog';
const EDGE_APPLICATIONS = '1441740010';
const NOW = Math.floor(HARNESS_T0 / 1000);
const auth = { authorization: `Token ${ADMIN_TOKEN}` };

interface Configuration {
  id: number;
  name: string;
  active: boolean;
  domains: number[];
}

const line = (service: string, domain: string, count = 1): string =>
  Array.from({ length: count }, () => JSON.stringify({ timestamp: NOW - 30, service, datacenter: 'FRA', domain, status: 200, resp_body_bytes: 100 })).join('\n');

const configurations = async (node: Harness): Promise<Configuration[]> => {
  const res = await node.inject({ url: `/metrics/products/${EDGE_APPLICATIONS}/configurations`, headers: auth });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
};

/** Requests of the last hour of configuration or domain `id` on `node`. */
const requestsOf = async (node: Harness, id: number): Promise<number> => {
  const res = await node.inject({ url: `/metrics/products/${EDGE_APPLICATIONS}/configurations/${id}/metrics/cdn_requests?date_from=last-hour`, headers: auth });
  expect(res.statusCode, res.body).toBe(200);
  return (res.json() as [number, number][]).reduce((s, [, v]) => s + v, 0);
};

describe('the catalog shared by the nodes of a ClickHouse cluster', () => {
  let cluster: ClickHouseNodes | undefined;
  const extra: Harness[] = [];
  afterAll(async () => {
    for (const h of extra) await h.close();
    await cluster?.close();
  });

  it('lists the same ids on every node, answers by the id of a domain another node saw, and keeps them for a new node', async () => {
    cluster = await startClickHouseNodes(NAME, ['catalog-a', 'catalog-b']);
    const [a, b] = cluster.nodes as [Harness, Harness];

    await a.ingest(ADMIN_TOKEN, [line('shop', 'www.shop.example', 3), line('shop', 'img.shop.example'), line('news', 'news.example', 2)].join('\n'));
    await b.ingest(ADMIN_TOKEN, [line('shop', 'api.shop.example', 5), line('shop', 'www.shop.example')].join('\n'));
    await a.publishThrough(NOW - 30);
    await b.publishThrough(NOW - 30);

    // Within a few seconds, both nodes list the three domains of shop and the one of news, with the same ids.
    let listed: Configuration[] = [];
    await vi.waitFor(
      async () => {
        const [onA, onB] = [await configurations(a), await configurations(b)];
        expect(onA.map((c) => c.domains.length)).toEqual(onA.map((c) => (c.name === 'shop' ? 3 : 1)));
        expect(onA.map((c) => c.name).sort()).toEqual(['news', 'shop']);
        expect(onB).toEqual(onA);
        listed = onA;
      },
      { timeout: 8000, interval: 100 },
    );
    const ids = listed.flatMap((c) => [c.id, ...c.domains]);
    expect(new Set(ids).size).toBe(6);
    for (const id of ids) expect(id >= CATALOG_ID_MIN && id <= CATALOG_ID_MAX).toBe(true);

    // node B never saw img.shop.example; asked by its id, it answers img's one request.
    const img = (await a.services.catalog.services()).find((s) => s.service === 'shop')?.domains.find((d) => d.domain === 'img.shop.example');
    expect(img).toBeDefined();
    expect(listed.find((c) => c.name === 'shop')?.domains).toContain(img?.id);
    await vi.waitFor(async () => expect(await requestsOf(b, img?.id ?? 0)).toBe(1), { timeout: 8000, interval: 100 });
    // The whole of shop (both nodes' events), by the configuration id, on either node.
    const shopId = listed.find((c) => c.name === 'shop')?.id ?? 0;
    await vi.waitFor(async () => expect([await requestsOf(a, shopId), await requestsOf(b, shopId)]).toEqual([10, 10]), { timeout: 8000, interval: 100 });

    // A node started afresh (new, empty data dir) on the same ClickHouse lists the same ids.
    await b.close();
    cluster.nodes.splice(1, 1);
    const env = { RTM_STORE: 'clickhouse', RTM_CLICKHOUSE_URLS: cluster.cluster.shards.map((s) => s.url).join(','), RTM_CLICKHOUSE_CLUSTER: NAME, RTM_CLICKHOUSE_DATABASE: NAME, RTM_NODE_ID: 'catalog-b2' };
    const parsed = loadConfig(env);
    const b2 = await startHarness({ config: { store: parsed.store, nodeId: parsed.nodeId } });
    extra.push(b2);
    expect(await configurations(b2)).toEqual(listed);

    // The claims are on the first shard only.
    const [first, second] = cluster.cluster.shards.map((s) => createClickHouseConnection({ url: s.url, database: NAME }));
    try {
      const count = async (sql: string, on = first): Promise<number> => Number((await on!.rows(sql))[0]?.[0]);
      expect(await count(`SELECT count(DISTINCT id) FROM ${NAME}.${CATALOG_CLAIMS_TABLE}`)).toBe(6);
      expect(await count(`SELECT count() FROM system.tables WHERE database = '${NAME}' AND name = '${CATALOG_CLAIMS_TABLE}'`, second)).toBe(0);
    } finally {
      await first?.close();
      await second?.close();
    }
  });

  it('keeps the ids of the DuckDB catalogs nodes had before the upgrade; the first node to start wins', async () => {
    const server: ClickHouseServer = await startClickHouseServer();
    const dirs: string[] = [];
    try {
      /** A data dir whose DuckDB file holds a catalog with ids from `firstId` on (a node before the upgrade). */
      const oldDataDir = async (firstId: number, names: [string, string][]): Promise<string> => {
        const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rtm-upgrade-'));
        dirs.push(dir);
        const db = await openDuckDb(duckDbFile(dir));
        const catalog = await createDuckDbCatalog({ db, newId: sequentialIds(firstId) });
        const edge = (service: string, domain: string) => ({ second: NOW, service, datacenter: 'FRA', domain, product: 'edge_application', values: new Float64Array(EDGE_FIELDS.length) });
        await catalog.observe({ edge: names.map(([service, domain]) => edge(service, domain)), origin: [], dimension: [] });
        await catalog.close();
        db.close();
        return dir;
      };
      const dirA = await oldDataDir(1_111_111_111, [['shop', 'www.shop.example']]);
      // Node B had shop under other ids, and blog.
      const dirB = await oldDataDir(1_222_222_222, [['shop', 'www.shop.example'], ['blog', 'blog.example']]);
      const parsed = loadConfig({ RTM_STORE: 'clickhouse', RTM_CLICKHOUSE_URLS: server.url, RTM_CLICKHOUSE_DATABASE: 'rtm_catalog_upgrade' });
      const a = await startHarness({ config: { store: parsed.store, nodeId: 'upgrade-a', dataDir: dirA } });
      extra.push(a);
      const b = await startHarness({ config: { store: parsed.store, nodeId: 'upgrade-b', dataDir: dirB } });
      extra.push(b);
      const expected: Configuration[] = [
        { id: 1_111_111_111, name: 'shop', active: true, domains: [1_111_111_112] },
        { id: 1_222_222_224, name: 'blog', active: true, domains: [1_222_222_225] },
      ];
      expect(await configurations(b)).toEqual(expected);
      await vi.waitFor(async () => expect(await configurations(a)).toEqual(expected), { timeout: 5000, interval: 100 });
    } finally {
      for (const h of extra.splice(0)) await h.close();
      for (const dir of dirs) await fs.rm(dir, { recursive: true, force: true });
      await server.stop();
    }
  });
});
