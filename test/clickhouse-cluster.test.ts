/**
 * The ClickHouse metric store over two shards (two clickhouse-server processes, one
 * `remote_servers` cluster): the shared conformance suite; each service's rows on the one shard
 * its name hashes to; exactly once when one shard is SIGKILLed mid-write and restarted, and when a
 * node dies with a write half-done on the two shards; two nodes writing to the cluster, each
 * reading the sum of both; and the refusals at start (a shard of another schema version, a shard
 * without the cluster or with another shard count, a spool split for another shard count).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { deltaFromRecordSet, RECORD_KIND_NAMES, type Delta } from '../src/model/delta.ts';
import { createClickHouseConnection, type ClickHouseConnection } from '../src/store/clickhouse/client.ts';
import { createClickHouseMetricStore, type ClickHouseMetricStore } from '../src/store/clickhouse/metric-store.ts';
import { insertExactlyOnce } from '../src/store/clickhouse/ledger.ts';
import { keyColumns, SCHEMA_VERSION } from '../src/store/clickhouse/schema.ts';
import { writeBatches } from '../src/store/clickhouse/write-batches.ts';
import { shardOfService } from '../src/store/clickhouse/shard-key.ts';
import { openWriteSpool } from '../src/store/clickhouse/write-spool.ts';
import { dimensionRecord, edgeRecord, originRecord } from '../src/store/record-fixtures.ts';
import { CONFORMANCE_RETENTION, describeMetricStoreConformance } from '../src/store/store-conformance.ts';
import { TIERS, type MetricStore } from '../src/store/store.ts';
import { storeTotals } from './support/store-totals.ts';
import { startClickHouseCluster, type ClickHouseCluster } from './support/clickhouse-server.ts';

const CLUSTER = 'rtm_two';
let shared: Promise<ClickHouseCluster> | undefined;
const cluster = (): Promise<ClickHouseCluster> => (shared ??= startClickHouseCluster(2, CLUSTER));
afterAll(async () => {
  await (await shared)?.stop();
});

let databases = 0;
const freshDatabase = (): string => `rtm_cluster_${process.pid}_${++databases}`;
const connections = (c: ClickHouseCluster, database: string): ClickHouseConnection[] => c.shards.map((s) => createClickHouseConnection({ url: s.url, database }));

describeMetricStoreConformance('clickhouse, two shards', async ({ retention }) => {
  const store = await createClickHouseMetricStore({ shards: connections(await cluster(), freshDatabase()), cluster: CLUSTER, nodeId: 'node-a', retention });
  return { store, close: () => store.close() };
});

const T0 = 1_704_067_200;
/** Services spread over both shards (checked below), so every write touches both. */
const SERVICES = Array.from({ length: 8 }, (_, i) => `svc${i}`);
const write = (i: number, services: readonly string[] = SERVICES): Delta =>
  deltaFromRecordSet({
    edge: services.flatMap((s) => [edgeRecord(T0 + i, s, { requests: 1, resp_body_bytes: 100 }), edgeRecord(T0 + 3600 + i, s, { requests: 2 }, 'LON')]),
    origin: services.map((s) => originRecord(T0 + i, s, { responses: 1 })),
    dimension: services.map((s) => dimensionRecord(T0 + i, s, 'status', '200', 1, 100)),
  });

const expected = (writes: number, services = SERVICES.length): string[] => TIERS.map((t) => `${t} ${3 * writes * services} ${writes * services} ${writes * services}`);

describe('ClickHouse metric store on two shards', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  const open = async (c: ClickHouseCluster, database: string, extra: { nodeId?: string; spoolDir?: string; deliveryWaitMs?: number; insertTimeoutMs?: number } = {}): Promise<ClickHouseMetricStore> => {
    const { nodeId = 'node-a', ...rest } = extra;
    const store = await createClickHouseMetricStore({ shards: connections(c, database), cluster: CLUSTER, nodeId, retention: CONFORMANCE_RETENTION, retryDelayMs: 20, settleMs: 50, ...rest });
    cleanups.push(() => store.close());
    return store;
  };
  const direct = (c: ClickHouseCluster, database: string): ClickHouseConnection[] => {
    const conns = connections(c, database);
    cleanups.push(async () => void (await Promise.all(conns.map((x) => x.close()))));
    return conns;
  };

  it('puts each service wholly on the shard its name hashes to, and reads both shards together', async () => {
    expect(new Set(SERVICES.map((s) => shardOfService(s, 2)))).toEqual(new Set([0, 1]));
    const c = await cluster();
    const database = freshDatabase();
    const store = await open(c, database);
    await store.append({ lsn: 1, delta: write(0) });
    for (const [i, conn] of direct(c, database).entries()) {
      for (const tier of TIERS) {
        const rows = await conn.rows(`SELECT DISTINCT service FROM ${database}.edge_${tier} WHERE ledger = '' ORDER BY service`);
        expect(rows.map((r) => r[0]), `shard ${i} ${tier}`).toEqual(SERVICES.filter((s) => shardOfService(s, 2) === i));
      }
    }
    expect(await storeTotals(store)).toEqual(expected(1));
    const one = await store.sumEdge({ tier: '1h', from: 0, to: 4e9, bucketSeconds: 3600, fields: ['requests'], filter: { services: ['svc3'] }, groupBy: ['datacenter'] });
    expect(one.map((r) => [r.bucket, r.group, r.values])).toEqual([
      [T0, ['FRA'], [1]],
      [T0 + 3600, ['LON'], [2]],
    ]);
  });

  it('two nodes write to the cluster and each reads the sum of both; each reports only its own lsn', async () => {
    const c = await cluster();
    const database = freshDatabase();
    const [a, b] = await Promise.all([open(c, database, { nodeId: 'node-a' }), open(c, database, { nodeId: 'node-b' })]);
    for (let i = 0; i < 3; i++) {
      await a.append({ lsn: i + 1, delta: write(i) });
      await b.append({ lsn: 10 + i, delta: write(i) });
    }
    expect(await storeTotals(a)).toEqual(expected(6));
    expect(await storeTotals(b)).toEqual(expected(6));
    const perService = async (store: MetricStore): Promise<unknown> =>
      (await store.sumEdge({ tier: '1d', from: 0, to: 4e9, bucketSeconds: 86_400, fields: ['requests'], filter: {}, groupBy: ['service'] })).map((r) => [r.group[0], r.values[0]]);
    const reference = SERVICES.map((s) => [s, 2 * 3 * 3]);
    expect(await perService(a)).toEqual(reference);
    expect(await perService(b)).toEqual(reference);
    expect(await a.appliedLsn([T0 + 2])).toEqual(new Map([[T0 + 2, 3]]));
    expect(await b.appliedLsn([T0 + 2])).toEqual(new Map([[T0 + 2, 12]]));
  });

  it('counts every write once in every tier when one shard is SIGKILLed during writes and restarted', async () => {
    const own = await startClickHouseCluster(2, CLUSTER);
    cleanups.push(() => own.stop());
    const victim = own.shards[1];
    if (victim === undefined) throw new Error('two shards expected');
    const spoolDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtm-chspool-'));
    cleanups.push(async () => fs.rmSync(spoolDir, { recursive: true, force: true }));
    const store = await open(own, freshDatabase(), { spoolDir, deliveryWaitMs: 100, insertTimeoutMs: 2000 });
    // Big writes (1,000 domains of each service), so the kill lands inside inserts.
    const big = (i: number): Delta =>
      deltaFromRecordSet({ edge: SERVICES.flatMap((s) => Array.from({ length: 250 }, (_, k) => edgeRecord(T0 + i, s, { requests: 1 }, 'FRA', `d${k}.example`))), origin: [], dimension: [] });
    let restarted = false;
    let enqueued = 0;
    let whileDown: { applied: number[]; enqueued: number; undelivered: number } | undefined;
    const killer = (async () => {
      await new Promise((r) => setTimeout(r, 300));
      await victim.kill();
      await vi.waitFor(() => expect(store.retries()).toBeGreaterThan(0), { timeout: 30_000, interval: 20 });
      // A write the dead shard holds back is not reported applied (shard 0 may hold its rows).
      const applied = [...(await store.appliedLsn(Array.from({ length: 1000 }, (_, i) => T0 + i))).keys()].sort((x, y) => x - y);
      // Nothing is delivered while the shard is dead (every write touches both shards).
      whileDown = { applied, enqueued, undelivered: store.undelivered() };
      await victim.restart();
      restarted = true;
    })();
    let writes = 0;
    for (let after = 0; after < 3; writes++) {
      enqueued++;
      await store.append({ lsn: writes + 1, delta: big(writes) });
      if (restarted) after++;
    }
    await killer;
    await vi.waitFor(() => expect(store.undelivered()).toBe(0), { timeout: 30_000, interval: 100 });
    expect(store.retries()).toBeGreaterThan(0);
    // While the shard was dead: the writes delivered before it are reported applied (in order),
    // the ones it held back are not, though shard 0 may hold their rows. (enqueued counts the
    // write being spooled, before the queue does; and a write whose last insert, on the live
    // shard, was in flight at the kill may finish during the appliedLsn read: both read as
    // delivered and not yet applied.)
    if (whileDown === undefined) throw new Error('the shard was never killed');
    const { applied, undelivered } = whileDown;
    expect(undelivered).toBeGreaterThan(0);
    expect(applied).toEqual(Array.from({ length: applied.length }, (_, i) => T0 + i));
    expect(whileDown.enqueued - undelivered - applied.length).toBeGreaterThanOrEqual(0);
    expect(whileDown.enqueued - undelivered - applied.length).toBeLessThanOrEqual(2);
    const all = { from: 0, to: 4_000_000_000, filter: {} };
    for (const tier of TIERS) {
      const sum = (await store.readEdge({ ...all, tier })).reduce((s, r) => s + (r.values[0] ?? 0), 0);
      expect(sum, tier).toBe(writes * SERVICES.length * 250);
    }
    expect((await store.appliedLsn([T0 + writes - 1])).get(T0 + writes - 1)).toBe(writes);
  });

  it('refuses to open when a shard holds another schema version, naming that shard', async () => {
    const c = await cluster();
    const database = freshDatabase();
    const [, second] = direct(c, database);
    if (second === undefined) throw new Error('two shards expected');
    await second.command(`CREATE DATABASE ${database}`);
    await second.command(`CREATE TABLE ${database}.schema_version (version UInt32, node String) ENGINE = MergeTree ORDER BY version`);
    await second.insert(`${database}.schema_version`, [{ version: SCHEMA_VERSION + 1, node: 'other' }]);
    await expect(open(c, database)).rejects.toThrow(new RegExp(`at ${second.url} holds metric store schema version ${SCHEMA_VERSION + 1}, this rtmetrics needs ${SCHEMA_VERSION}`));
  });

  it('refuses to open on shards that do not define the cluster, or define it with another shard count', async () => {
    const c = await cluster();
    const conns = (): ClickHouseConnection[] => connections(c, freshDatabase());
    await expect(createClickHouseMetricStore({ shards: conns(), cluster: 'nope', nodeId: 'n', retention: CONFORMANCE_RETENTION })).rejects.toThrow(
      /has no cluster nope in its remote_servers; check RTM_CLICKHOUSE_CLUSTER/,
    );
    const first = conns().slice(0, 1);
    await expect(createClickHouseMetricStore({ shards: first, cluster: CLUSTER, nodeId: 'n', retention: CONFORMANCE_RETENTION })).rejects.toThrow(
      /cluster rtm_two on ClickHouse at \S+ has 2 shards, RTM_CLICKHOUSE_URLS names 1/,
    );
  });

  it('a write a killed node left half-done on the two shards is finished on start, once, and only then reported applied', async () => {
    const c = await cluster();
    const database = freshDatabase();
    const spoolDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtm-chspool-'));
    cleanups.push(async () => fs.rmSync(spoolDir, { recursive: true, force: true }));
    const first = await open(c, database, { spoolDir });
    await first.append({ lsn: 1, delta: write(0) });
    await first.close();
    // As a kill mid-write leaves it: spooled, and every other insert (on either shard) landed.
    const writeId = 'node-a:killed-write';
    await openWriteSpool(spoolDir, { shards: 2 }).put(writeId, 2, write(1));
    const conns = direct(c, database);
    const batches = writeBatches(write(1), 2);
    expect(new Set(batches.map((b) => b.shard))).toEqual(new Set([0, 1]));
    for (const [i, b] of batches.entries()) {
      if (i % 2 === 0) await insertExactlyOnce(conns[b.shard] as ClickHouseConnection, b, `${writeId}/${i}`, keyColumns(b.kind), { keepTrying: () => false });
    }
    const second = await open(c, database, { spoolDir });
    expect(fs.readdirSync(spoolDir).filter((f) => f.endsWith('.write'))).toEqual([]);
    expect(await storeTotals(second)).toEqual(expected(2));
    expect(await second.appliedLsn([T0, T0 + 1])).toEqual(new Map([[T0, 1], [T0 + 1, 2]]));
  });

  it('refuses a shard list in another order than the nodes before used', async () => {
    const c = await cluster();
    const database = freshDatabase();
    const first = await open(c, database);
    await first.append({ lsn: 1, delta: write(0) });
    const reversed = connections(c, database).reverse();
    await expect(createClickHouseMetricStore({ shards: reversed, cluster: CLUSTER, nodeId: 'node-b', retention: CONFORMANCE_RETENTION })).rejects.toThrow(
      /^ClickHouse at \S+ is shard (1|2) for the nodes that wrote to it, RTM_CLICKHOUSE_URLS lists it as shard (2|1) of 2; list the shards in the same order on every node/,
    );
    // The order they first used still opens.
    expect(await storeTotals(await open(c, database, { nodeId: 'node-b' }))).toEqual(expected(1));
  });

  it('refuses to finish a spooled write split for another shard count', async () => {
    const spoolDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtm-chspool-'));
    cleanups.push(async () => fs.rmSync(spoolDir, { recursive: true, force: true }));
    await openWriteSpool(spoolDir).put('node-a:one-shard-write', 1, write(0));
    await expect(open(await cluster(), freshDatabase(), { spoolDir })).rejects.toThrow(
      /\.write is a write split for 1 ClickHouse shard\(s\), RTM_CLICKHOUSE_URLS names 2; start with the shard list it was written with/,
    );
  });

  it('creates the schema once on every shard when two nodes start at the same time', async () => {
    const c = await cluster();
    const database = freshDatabase();
    const [a, b] = await Promise.all([open(c, database, { nodeId: 'node-a' }), open(c, database, { nodeId: 'node-b' })]);
    await a.append({ lsn: 1, delta: write(0) });
    await b.append({ lsn: 1, delta: write(1) });
    expect(await storeTotals(b)).toEqual(expected(2));
    for (const conn of direct(c, database)) {
      const tables = await conn.rows(`SELECT count() FROM system.tables WHERE database = '${database}'`);
      // A record table per kind and tier (12), their Distributed tables, schema_version, shard_identity, published_lsn, retention_horizon.
      expect(tables[0]?.[0]).toBe(RECORD_KIND_NAMES.length * TIERS.length * 2 + 4);
      expect(RECORD_KIND_NAMES.length * TIERS.length).toBe(12);
    }
  });
});
