/**
 * The ClickHouse ODSL object store against a private clickhouse-server (18.16 from Debian): the
 * shared ObjectStore conformance suite; two stores on one database (two nodes) see each other's
 * puts and deletes at once; a version row inserted twice (a resent insert) counts once; the
 * answers do not depend on merges having happened.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createFakeClock } from '../src/model/clock.ts';
import { createClickHouseConnection, type ClickHouseConnection } from '../src/store/clickhouse/client.ts';
import { createClickHouseObjectStore } from '../src/store/clickhouse/object-store.ts';
import { OBJECTS_TABLE } from '../src/store/clickhouse/object-tables.ts';
import { describeObjectStoreConformance } from '../src/store/object-store-conformance.ts';
import { openingOf, reopenable } from '../src/store/reopenable.ts';
import type { ObjectStore } from '../src/store/object-store.ts';
import { startClickHouseServer, type ClickHouseServer } from './support/clickhouse-server.ts';

let server: Promise<ClickHouseServer> | undefined;
const clickhouse = (): Promise<ClickHouseServer> => (server ??= startClickHouseServer());
afterAll(async () => {
  await (await server)?.stop();
});

let databases = 0;
const freshDatabase = (): string => `rtm_objects_${process.pid}_${++databases}`;
const T0 = Date.UTC(2026, 0, 2, 3, 4, 5);

describeObjectStoreConformance('clickhouse', async (clock) => {
  const { url } = await clickhouse();
  const database = freshDatabase();
  const openOne = (): Promise<ObjectStore> => createClickHouseObjectStore({ conn: createClickHouseConnection({ url, database }), clock, nodeId: 'node-a' });
  return reopenable(async () => openingOf(await openOne()));
});

describe('ClickHouse object store', () => {
  const opened: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const o of opened.splice(0).reverse()) await o.close();
  });
  const clock = createFakeClock(T0);
  const open = async (database: string, nodeId: string): Promise<ObjectStore> => {
    const store = await createClickHouseObjectStore({ conn: createClickHouseConnection({ url: (await clickhouse()).url, database }), clock, nodeId });
    opened.push(store);
    return store;
  };
  const inspect = async (database: string): Promise<ClickHouseConnection> => {
    const conn = createClickHouseConnection({ url: (await clickhouse()).url, database });
    opened.push(conn);
    return conn;
  };

  it("shares objects between two stores on one database: each reads the other's put, replace and delete at once", async () => {
    const db = freshDatabase();
    const [a, b] = [await open(db, 'node-a'), await open(db, 'node-b')];
    expect(await a.put('alice', 'AAA', { _id: 'AAA', v: 1 }, T0)).toEqual({ ok: true, created: true });
    expect(await b.get('alice', 'AAA')).toEqual({ owner: 'alice', id: 'AAA', body: { _id: 'AAA', v: 1 }, created: T0, updated: T0 });
    // B replaces in the same millisecond: its version is above the one it read, so it wins everywhere.
    expect(await b.put('alice', 'AAA', { _id: 'AAA', v: 2 }, T0)).toEqual({ ok: true, created: false });
    expect((await a.get('alice', 'AAA'))?.body).toEqual({ _id: 'AAA', v: 2 });
    // The quota counts what both nodes stored.
    await b.put('alice', 'BBB', { _id: 'BBB' }, T0 + 1);
    expect(await a.put('alice', 'CCC', { _id: 'CCC' }, T0 + 2, { objects: 2, bytes: Infinity })).toEqual({ ok: false, exceeded: 'objects', used: 2, limit: 2 });
    expect(await b.delete('alice', 'AAA')).toBe(true);
    expect(await a.get('alice', 'AAA')).toBeUndefined();
    expect(await a.delete('alice', 'AAA')).toBe(false);
    expect((await a.list('alice', { limit: 10, skip: 0 })).objects.map((o) => o.id)).toEqual(['BBB']);
    const conn = await inspect(db);
    expect(await conn.rows(`SELECT id, deleted, node FROM ${db}.${OBJECTS_TABLE} ORDER BY id, version`)).toEqual([
      ['AAA', 0, 'node-a'],
      ['AAA', 0, 'node-b'],
      ['AAA', 1, 'node-b'],
      ['BBB', 0, 'node-b'],
    ]);
  });

  it('answers the same before and after merges, and counts a resent version row once', async () => {
    const db = freshDatabase();
    const store = await open(db, 'node-a');
    await store.put('o', 'x', { _id: 'x', v: 1 }, T0);
    await store.put('o', 'x', { _id: 'x', v: 2 }, T0 + 1);
    await store.put('o', 'y', { _id: 'y' }, T0 + 2);
    await store.delete('o', 'y');
    const conn = await inspect(db);
    await conn.command(`INSERT INTO ${db}.${OBJECTS_TABLE} SELECT * FROM ${db}.${OBJECTS_TABLE}`);
    const read = async (): Promise<unknown> => [await store.list('o', { limit: 10, skip: 0 }), await store.get('o', 'y')];
    const before = await read();
    expect(before).toEqual([{ total: 1, objects: [{ owner: 'o', id: 'x', body: { _id: 'x', v: 2 }, created: T0, updated: T0 + 1 }] }, undefined]);
    await conn.command(`OPTIMIZE TABLE ${db}.${OBJECTS_TABLE} FINAL`);
    expect(await read()).toEqual(before);
    expect(Number((await conn.rows(`SELECT count() FROM ${db}.${OBJECTS_TABLE}`))[0]?.[0])).toBe(2);
  });
});
