/**
 * The ClickHouse metric store against a private clickhouse-server (18.16 from Debian): the shared
 * conformance suite, and exactly-once writes when answers are lost (a proxy drops or delays them,
 * the client times out) and when a node dies mid-write (the spool finishes it on start).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { deltaFromRecordSet, type Delta } from '../src/model/delta.ts';
import { createClickHouseConnection, type ClickHouseConnection } from '../src/store/clickhouse/client.ts';
import { createClickHouseMetricStore, type ClickHouseMetricStore } from '../src/store/clickhouse/metric-store.ts';
import { SCHEMA_VERSION } from '../src/store/clickhouse/schema.ts';
import { openWriteSpool } from '../src/store/clickhouse/write-spool.ts';
import { dimensionRecord, edgeRecord, originRecord } from '../src/store/record-fixtures.ts';
import { CONFORMANCE_RETENTION, describeMetricStoreConformance } from '../src/store/store-conformance.ts';
import { TIERS, type MetricStore } from '../src/store/store.ts';
import { storeTotals } from './support/store-totals.ts';
import { startClickHouseServer, type ClickHouseServer } from './support/clickhouse-server.ts';
import { startFaultyProxy, type FaultyProxy } from './support/faulty-http-proxy.ts';

let server: Promise<ClickHouseServer> | undefined;
const clickhouse = (): Promise<ClickHouseServer> => (server ??= startClickHouseServer());
afterAll(async () => {
  await (await server)?.stop();
});

let databases = 0;
/** A database of its own per store: every case starts empty (clickhouse-js: a table per test). */
const freshDatabase = (): string => `rtm_test_${process.pid}_${++databases}`;


describeMetricStoreConformance('clickhouse', async ({ retention }) => {
  const { url } = await clickhouse();
  const store = await createClickHouseMetricStore({ shards: [createClickHouseConnection({ url, database: freshDatabase() })], nodeId: 'node-a', retention });
  return { store, close: () => store.close() };
});

const T0 = 1_704_067_200;
const wideWrite = (i: number): Delta =>
  deltaFromRecordSet({
    edge: [edgeRecord(T0 + i, 's1', { requests: 1, hits: 1, resp_body_bytes: 100 }), edgeRecord(T0 + 86_400 + i, 's1', { requests: 2 }, 'LON')],
    origin: [originRecord(T0 + i, 's1', { responses: 1 })],
    dimension: [dimensionRecord(T0 + i, 's1', 'status', '200', 1, 100)],
  });

const RECORD_INSERT = /^INSERT INTO \S+\.(edge|origin|dimension)_/;
const expected = (writes: number): string[] => TIERS.map((t) => `${t} ${3 * writes} ${writes} ${writes}`);

describe('ClickHouse metric store: exactly once', () => {
  const cleanups: (() => Promise<void>)[] = [];
  /** A spool dir of the test's own, removed after it. */
  const tempSpoolDir = (): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtm-chspool-'));
    cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    return dir;
  };
  /** A server of the test's own (to kill and restart), stopped after it. */
  const ownServer = async (): Promise<ClickHouseServer> => {
    const own = await startClickHouseServer();
    cleanups.push(() => own.stop());
    return own;
  };
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  const proxied = async (fault: (query: string) => 'none' | 'drop' | 'delay', delayMs?: number): Promise<FaultyProxy> => {
    const proxy = await startFaultyProxy({ upstream: (await clickhouse()).url, fault, ...(delayMs === undefined ? {} : { delayMs }) });
    cleanups.push(() => proxy.close());
    return proxy;
  };
  const open = async (url: string, database: string, extra: { insertTimeoutMs?: number; spoolDir?: string; deliveryWaitMs?: number } = {}): Promise<ClickHouseMetricStore> => {
    const store = await createClickHouseMetricStore({
      shards: [createClickHouseConnection({ url, database })],
      nodeId: 'node-a',
      retention: CONFORMANCE_RETENTION,
      retryDelayMs: 20,
      settleMs: 50,
      ...extra,
    });
    cleanups.push(() => store.close());
    return store;
  };

  it('a naive retry of an insert whose answer was lost counts it twice (what the ledger prevents)', async () => {
    const database = freshDatabase();
    const direct = createClickHouseConnection({ url: (await clickhouse()).url, database });
    cleanups.push(() => direct.close());
    await direct.command(`CREATE DATABASE ${database}`);
    await direct.command(`CREATE TABLE ${database}.naive (n UInt64) ENGINE = MergeTree ORDER BY n`);
    let first = true;
    const proxy = await proxied((q) => (q.startsWith('INSERT') && first ? ((first = false), 'drop') : 'none'));
    const viaProxy: ClickHouseConnection = createClickHouseConnection({ url: proxy.url, database });
    cleanups.push(() => viaProxy.close());
    const rows = Array.from({ length: 1000 }, (_, i) => ({ n: i }));
    await expect(viaProxy.insert(`${database}.naive`, rows)).rejects.toThrow();
    await viaProxy.insert(`${database}.naive`, rows);
    expect((await direct.rows(`SELECT count() FROM ${database}.naive`))[0]?.[0]).toBe(2000);
  });

  it('counts every write once in every tier when the answers of inserts are dropped', async () => {
    let inserts = 0;
    // Every other insert into a record table loses its answer after the server committed it.
    const proxy = await proxied((q) => (RECORD_INSERT.test(q) && inserts++ % 2 === 0 ? 'drop' : 'none'));
    const store = await open(proxy.url, freshDatabase());
    for (let i = 0; i < 10; i++) await store.append({ lsn: i + 1, delta: wideWrite(i) });
    expect(proxy.faults.drop).toBeGreaterThan(20);
    // gzip bodies: one cut short by a dropped connection fails to inflate, it never commits part of itself.
    expect(proxy.insertEncodings).toEqual(new Set(['gzip']));
    expect(store.retries()).toBe(proxy.faults.drop);
    expect(await storeTotals(store)).toEqual(expected(10));
    expect(await store.appliedLsn([T0, T0 + 9, T0 + 86_409, T0 + 10])).toEqual(new Map([[T0, 1], [T0 + 9, 10], [T0 + 86_409, 10]]));
  });

  it('counts every write once when the client times out before the answer comes', async () => {
    let inserts = 0;
    const proxy = await proxied((q) => (RECORD_INSERT.test(q) && inserts++ % 3 === 0 ? 'delay' : 'none'), 600);
    const store = await open(proxy.url, freshDatabase(), { insertTimeoutMs: 200 });
    for (let i = 0; i < 6; i++) await store.append({ lsn: i + 1, delta: wideWrite(i) });
    expect(proxy.faults.delay).toBeGreaterThan(5);
    expect(store.retries()).toBeGreaterThanOrEqual(proxy.faults.delay - 1);
    expect(await storeTotals(store)).toEqual(expected(6));
  });

  it('a write left in the spool by a killed node is finished on start, once, and only then reported applied', async () => {
    const { url } = await clickhouse();
    const database = freshDatabase();
    const spoolDir = tempSpoolDir();
    const first = await open(url, database, { spoolDir });
    await first.append({ lsn: 1, delta: wideWrite(0) });
    // The node "dies" after some of write 2's inserts landed: its spool file stays, and half its
    // inserts (with their ledger rows) are in ClickHouse, as a kill mid-write leaves them.
    const spool = openWriteSpool(spoolDir);
    const writeId = 'node-a:killed-write';
    await spool.put(writeId, 2, wideWrite(1));
    const { writeBatches } = await import('../src/store/clickhouse/write-batches.ts');
    const { insertExactlyOnce } = await import('../src/store/clickhouse/ledger.ts');
    const { keyColumns } = await import('../src/store/clickhouse/schema.ts');
    const conn = createClickHouseConnection({ url, database });
    cleanups.push(() => conn.close());
    const batches = writeBatches(wideWrite(1));
    for (const [i, b] of batches.entries()) {
      if (i % 2 === 0) await insertExactlyOnce(conn, b, `${writeId}/${i}`, keyColumns(b.kind), { keepTrying: () => false });
    }
    expect(await first.appliedLsn([T0 + 1])).toEqual(new Map());
    await first.close();

    const second = await open(url, database, { spoolDir });
    expect(fs.readdirSync(spoolDir).filter((f) => f.endsWith('.write'))).toEqual([]);
    expect(await storeTotals(second)).toEqual(expected(2));
    expect(await second.appliedLsn([T0, T0 + 1])).toEqual(new Map([[T0, 1], [T0 + 1, 2]]));
  });

  it('acknowledges from the spool while ClickHouse is down and delivers every write once when it is back', async () => {
    const own = await ownServer();
    const spoolDir = tempSpoolDir();
    const store = await open(own.url, freshDatabase(), { spoolDir, deliveryWaitMs: 200, insertTimeoutMs: 2000 });
    await store.append({ lsn: 1, delta: wideWrite(0) });
    // Delivered before the kill (a first write to new tables may outlast the 200 ms wait).
    await vi.waitFor(() => expect(store.undelivered()).toBe(0), { timeout: 10_000, interval: 20 });
    await own.kill();
    const started = Date.now();
    for (let i = 1; i < 4; i++) await store.append({ lsn: i + 1, delta: wideWrite(i) });
    // Acknowledged from the spool, not after ClickHouse: three appends waiting for their inserts
    // would take at least 3 x insertTimeoutMs (6 s). The margin keeps a loaded machine from failing it.
    expect(Date.now() - started).toBeLessThan(5000);
    expect(store.undelivered()).toBe(3);
    expect(fs.readdirSync(spoolDir).filter((f) => f.endsWith('.write'))).toHaveLength(3);
    const held = store.delivery();
    expect(held).toMatchObject({ undelivered: 3, spoolFiles: 3 });
    expect(held.spoolBytes).toBe(fs.readdirSync(spoolDir).reduce((sum, f) => sum + fs.statSync(path.join(spoolDir, f)).size, 0));
    expect(held.lagSeconds).toBeGreaterThan(0);
    expect(held.retries).toBeGreaterThan(0);
    await own.restart();
    await vi.waitFor(() => expect(store.undelivered()).toBe(0), { timeout: 20_000, interval: 100 });
    expect(store.delivery()).toMatchObject({ undelivered: 0, lagSeconds: 0, spoolFiles: 0, spoolBytes: 0 });
    expect(fs.readdirSync(spoolDir).filter((f) => f.endsWith('.write'))).toEqual([]);
    expect(await storeTotals(store)).toEqual(expected(4));
    expect((await store.appliedLsn([T0 + 3])).get(T0 + 3)).toBe(4);
  });

  it('counts every write once when the server is SIGKILLed during writes and restarted', async () => {
    const own = await ownServer();
    const spoolDir = tempSpoolDir();
    const store = await open(own.url, freshDatabase(), { spoolDir, deliveryWaitMs: 100, insertTimeoutMs: 2000 });
    // Big writes (2,000 edge keys), so the kill lands inside inserts, not between them.
    const big = (i: number): Delta =>
      deltaFromRecordSet({ edge: Array.from({ length: 2000 }, (_, k) => edgeRecord(T0 + i, 's1', { requests: 1 }, 'FRA', `d${k}.example`)), origin: [], dimension: [] });
    let restarted = false;
    const killer = (async () => {
      await new Promise((r) => setTimeout(r, 300));
      await own.kill();
      // On a loaded machine a delivery can outlast a fixed pause: restart only once one has failed on the dead server.
      await vi.waitFor(() => expect(store.retries()).toBeGreaterThan(0), { timeout: 30_000, interval: 20 });
      await own.restart();
      restarted = true;
    })();
    let writes = 0;
    // Writes go on through the kill and the restart, and a few after.
    for (let after = 0; after < 3; writes++) {
      await store.append({ lsn: writes + 1, delta: big(writes) });
      if (restarted) after++;
    }
    await killer;
    await vi.waitFor(() => expect(store.undelivered()).toBe(0), { timeout: 30_000, interval: 100 });
    const all = { from: 0, to: 4_000_000_000, filter: {} };
    for (const tier of TIERS) {
      const sum = (await store.readEdge({ ...all, tier })).reduce((s, r) => s + (r.values[0] ?? 0), 0);
      expect(sum, tier).toBe(writes * 2000);
    }
  });

  it('shares the retention horizon: a node opened later hides the rows another node expired', async () => {
    const { url } = await clickhouse();
    const database = freshDatabase();
    const retention = { ...CONFORMANCE_RETENTION, minuteSeconds: 86_400 };
    const conn = (): ClickHouseConnection => createClickHouseConnection({ url, database });
    const a = await createClickHouseMetricStore({ shards: [conn()], nodeId: 'node-a', retention });
    cleanups.push(() => a.close());
    await a.append({ lsn: 1, delta: wideWrite(0) });
    await a.append({ lsn: 2, delta: wideWrite(100) });
    // Minute T0 is past retention, minute T0 + 60 (second T0 + 100) is not; one partition holds both.
    await a.expire(T0 + 86_400 + 60);
    const minutes = async (store: MetricStore): Promise<number[]> =>
      [...new Set((await store.readEdge({ tier: '1m', from: 0, to: T0 + 86_400, filter: {} })).map((r) => r.second))];
    expect(await minutes(a)).toEqual([T0 + 60]);
    const b = await createClickHouseMetricStore({ shards: [conn()], nodeId: 'node-b', retention });
    cleanups.push(() => b.close());
    expect(await minutes(b)).toEqual([T0 + 60]);
  });

  it('refuses a database holding another schema version', async () => {
    const { url } = await clickhouse();
    const database = freshDatabase();
    const conn = createClickHouseConnection({ url, database });
    cleanups.push(() => conn.close());
    await conn.command(`CREATE DATABASE ${database}`);
    await conn.command(`CREATE TABLE ${database}.schema_version (version UInt32, node String) ENGINE = MergeTree ORDER BY version`);
    await conn.insert(`${database}.schema_version`, [{ version: SCHEMA_VERSION + 1, node: 'other' }]);
    await expect(open(url, database)).rejects.toThrow(new RegExp(`schema version ${SCHEMA_VERSION + 1}, this rtmetrics needs ${SCHEMA_VERSION}`));
  });

  it('creates the schema once when two nodes start at the same time', async () => {
    const { url } = await clickhouse();
    const database = freshDatabase();
    const [a, b] = await Promise.all([open(url, database), open(url, database)]);
    await a.append({ lsn: 1, delta: wideWrite(0) });
    await b.append({ lsn: 1, delta: wideWrite(1) });
    expect(await storeTotals(b)).toEqual(expected(2));
  });
});
