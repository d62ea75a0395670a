/**
 * The ClickHouse usage entity store against a private clickhouse-server (18.16 from Debian): the
 * shared UsageStore conformance suite (the filter property test included); two stores on one
 * database (two nodes) list, find and sum each other's entities; expire drops the day partitions
 * wholly past the retention, and reads hide the rest of a partly expired day.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createFakeClock } from '../src/model/clock.ts';
import { createClickHouseConnection, type ClickHouseConnection } from '../src/store/clickhouse/client.ts';
import { createClickHouseUsageStore } from '../src/store/clickhouse/usage-store.ts';
import { DAY_MS, USAGE_TABLE, usagePartitions } from '../src/store/clickhouse/usage-tables.ts';
import { describeUsageStoreConformance } from '../src/store/usage-store-conformance.ts';
import type { UsageStore } from '../src/store/usage-store.ts';
import { parseEntityFilter } from '../src/api/odsl/filter.ts';
import { startClickHouseServer, type ClickHouseServer } from './support/clickhouse-server.ts';

let server: Promise<ClickHouseServer> | undefined;
const clickhouse = (): Promise<ClickHouseServer> => (server ??= startClickHouseServer());
afterAll(async () => {
  await (await server)?.stop();
});

let databases = 0;
const freshDatabase = (): string => `rtm_usage_${process.pid}_${++databases}`;
const T0 = Date.UTC(2026, 0, 2, 12);

describeUsageStoreConformance('clickhouse', async ({ retentionSeconds, clock }) => {
  const { url } = await clickhouse();
  const store = await createClickHouseUsageStore({ conn: createClickHouseConnection({ url, database: freshDatabase() }), clock, nodeId: 'node-a', retentionSeconds });
  return { store, close: () => store.close() };
});

describe('ClickHouse usage store', () => {
  const opened: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const o of opened.splice(0).reverse()) await o.close();
  });
  const clock = createFakeClock(T0);
  const open = async (database: string, nodeId: string, retentionSeconds = 30 * 86_400): Promise<UsageStore> => {
    const store = await createClickHouseUsageStore({ conn: createClickHouseConnection({ url: (await clickhouse()).url, database }), clock, nodeId, retentionSeconds });
    opened.push(store);
    return store;
  };
  const inspect = async (database: string): Promise<ClickHouseConnection> => {
    const conn = createClickHouseConnection({ url: (await clickhouse()).url, database });
    opened.push(conn);
    return conn;
  };

  it("two stores on one database list, find, filter and total each other's entities, with distinct ids", async () => {
    const db = freshDatabase();
    const [a, b] = [await open(db, 'node-a'), await open(db, 'node-b')];
    await a.insert([{ owner: 't', provider: 'App', metric: 'Jobs', timestamp: T0, value: 2, service: 'object', httpstatus: 500 }]);
    await b.insert([
      { owner: 't', provider: 'App', metric: 'Jobs', timestamp: T0 + 1, value: 3, service: 'data', httpstatus: 200 },
      { owner: 't', provider: 'RTMRequest', metric: 'ReadRequests', timestamp: T0 + 2, value: 1 },
    ]);
    for (const store of [a, b]) {
      const { total, items } = await store.list({ owner: 't', limit: 10, skip: 0 });
      expect(total).toBe(3);
      expect(items.map((e) => e.timestamp)).toEqual([T0 + 2, T0 + 1, T0]);
      expect(new Set(items.map((e) => e._id)).size).toBe(3);
      const failed = parseEntityFilter('httpstatus>=400 or service=data');
      if (!failed.ok) throw new Error(failed.error);
      expect((await store.list({ owner: 't', filter: failed.filter, sort: [{ field: 'value', dir: 1 }], limit: 10, skip: 0 })).items.map((e) => e.value)).toEqual([2, 3]);
      expect(await store.providers('t')).toEqual(['App', 'RTMRequest']);
      expect(await store.points({ provider: 'App', metric: 'Jobs', owner: 't', from: T0, to: T0 + 10 })).toEqual([
        { timestamp: T0, value: 2 },
        { timestamp: T0 + 1, value: 3 },
      ]);
      expect(await store.ownerTotals('t', ['RTMRequest'])).toEqual({ entities: 2, bytes: 2 * (16 + 3 + 4 + 8) + 6 + 4 });
      expect((await store.get(items[2]?._id ?? '', 't'))?.service).toBe('object');
    }
    const conn = await inspect(db);
    expect(await conn.rows(`SELECT node, count() FROM ${db}.${USAGE_TABLE} GROUP BY node ORDER BY node`)).toEqual([['node-a', 1], ['node-b', 2]]);
  });

  it('expire drops the day partitions wholly past the retention; reads hide the rest of a partly expired day', async () => {
    const db = freshDatabase();
    const store = await open(db, 'node-a', 2 * 86_400);
    const day = Math.floor(T0 / DAY_MS);
    await store.insert([
      { owner: 'o', provider: 'P', metric: 'M', timestamp: T0 - 3 * DAY_MS, value: 1, _id: 'old' },
      { owner: 'o', provider: 'P', metric: 'M', timestamp: T0 - 2 * DAY_MS - 1, value: 1, _id: 'just-past' },
      { owner: 'o', provider: 'P', metric: 'M', timestamp: T0 - 2 * DAY_MS, value: 1, _id: 'kept' },
      { owner: 'o', provider: 'P', metric: 'M', timestamp: T0, value: 1, _id: 'new' },
    ]);
    const conn = await inspect(db);
    expect((await usagePartitions(conn)).sort()).toEqual([day - 3, day - 2, day]);
    // Before any expire, the reads already leave out what is past the retention by the clock.
    const ids = async (): Promise<string[]> => (await store.list({ limit: 10, skip: 0 })).items.map((e) => e._id);
    expect(await ids()).toEqual(['new', 'kept']);
    await store.expire(clock.now());
    // Day -3 is wholly past (dropped); day -2 holds 'kept' (T0 - 2 d, noon) and 'just-past', so it stays.
    expect((await usagePartitions(conn)).sort()).toEqual([day - 2, day]);
    expect(await ids()).toEqual(['new', 'kept']);
    expect(await store.ownerTotals('o', [])).toEqual({ entities: 2, bytes: 2 * (16 + 1 + 1) });
    // A second expire (another node's) finds nothing more to drop.
    await store.expire(clock.now());
    expect((await usagePartitions(conn)).sort()).toEqual([day - 2, day]);
  });
});
