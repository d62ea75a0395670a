/**
 * The ClickHouse token store against a private clickhouse-server (18.16 from Debian): the shared
 * TokenStore conformance suite (create, list, revoke, verify, a restart); two store objects on one database (two nodes) see each other's tokens
 * after a refresh; a store opened again keeps the revocations; the tables hold the SHA-256 of
 * each secret, never the secret; a node's tokens from its DuckDB file are adopted once; a
 * ClickHouse that stops answering leaves the last tokens in use.
 */
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { sha256Hex } from '../src/http/auth.ts';
import { createFakeClock } from '../src/model/clock.ts';
import { createClickHouseConnection, type ClickHouseConnection } from '../src/store/clickhouse/client.ts';
import { createClickHouseTokenStore, type ClickHouseTokenStore, type ClickHouseTokenStoreOptions } from '../src/store/clickhouse/token-store.ts';
import { TOKEN_REVOCATIONS_TABLE, TOKENS_TABLE } from '../src/store/clickhouse/token-tables.ts';
import { describeTokenStoreConformance } from '../src/store/token-store-conformance.ts';
import { openingOf, reopenable } from '../src/store/reopenable.ts';
import type { TokenInfo } from '../src/store/token-store.ts';
import { startClickHouseServer, type ClickHouseServer } from './support/clickhouse-server.ts';

let server: Promise<ClickHouseServer> | undefined;
const clickhouse = (): Promise<ClickHouseServer> => (server ??= startClickHouseServer());
afterAll(async () => {
  await (await server)?.stop();
});

let databases = 0;
const freshDatabase = (): string => `rtm_tokens_${process.pid}_${++databases}`;
const clock = createFakeClock(Date.UTC(2026, 0, 2, 3, 4, 5));

describeTokenStoreConformance('clickhouse', async (conformanceClock) => {
  const { url } = await clickhouse();
  const database = freshDatabase();
  const openOne = (): Promise<ClickHouseTokenStore> =>
    createClickHouseTokenStore({ conn: createClickHouseConnection({ url, database }), clock: conformanceClock, nodeId: 'node-a', refreshMs: 3_600_000 });
  return reopenable(async () => openingOf(await openOne()));
});

describe('ClickHouse token store', () => {
  const opened: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const o of opened.splice(0).reverse()) await o.close();
  });
  const connection = async (database: string, url?: string): Promise<ClickHouseConnection> => {
    const conn = createClickHouseConnection({ url: url ?? (await clickhouse()).url, database });
    return conn;
  };
  /** A store on `database` (a node); refreshes only when told unless `refreshMs` is given. */
  const open = async (database: string, nodeId: string, extra: Partial<ClickHouseTokenStoreOptions> = {}): Promise<ClickHouseTokenStore> => {
    const store = await createClickHouseTokenStore({ conn: await connection(database), clock, nodeId, refreshMs: 3_600_000, ...extra });
    opened.push(store);
    return store;
  };
  /** A connection of the test's own, to read the tables as an operator would. */
  const inspect = async (database: string): Promise<ClickHouseConnection> => {
    const conn = await connection(database);
    opened.push(conn);
    return conn;
  };

  it('shares tokens between two stores on one database: each sees the other create and revoke after a refresh', async () => {
    const db = freshDatabase();
    const [a, b] = [await open(db, 'node-a'), await open(db, 'node-b')];
    const { token, secret } = await a.create({ name: 'shared', services: ['shop'], scopes: ['read'] });
    // list() reads the table: B lists it before its map knows it.
    expect(await b.list()).toEqual([token]);
    expect(await b.verify(secret)).toBeUndefined();
    await b.refresh();
    expect((await b.verify(secret))?.tokenId).toBe(token.id);
    expect(await b.revoke(token.id)).toBe(true);
    expect(await b.verify(secret)).toBeUndefined();
    expect((await a.verify(secret))?.tokenId).toBe(token.id);
    expect(await a.revoke(token.id)).toBe(false);
    await a.refresh();
    expect(await a.verify(secret)).toBeUndefined();
    expect(await a.list()).toEqual([]);
  });

  it('refreshes on its own every refreshMs', async () => {
    const db = freshDatabase();
    const a = await open(db, 'node-a');
    const b = await open(db, 'node-b', { refreshMs: 100 });
    const { token, secret } = await a.create({ name: 'polled', services: 'all', scopes: ['ingest'] });
    await vi.waitFor(async () => expect((await b.verify(secret))?.tokenId).toBe(token.id), { timeout: 5000, interval: 20 });
    await a.revoke(token.id);
    await vi.waitFor(async () => expect(await b.verify(secret)).toBeUndefined(), { timeout: 5000, interval: 20 });
  });

  it('stores the SHA-256 of the secret, never the secret, and one revocation row naming the id', async () => {
    const db = freshDatabase();
    const store = await open(db, 'node-a');
    const { token, secret } = await store.create({ name: 'n', services: ['shop'], scopes: ['admin'] });
    await store.revoke(token.id);
    const conn = await inspect(db);
    const tokens = await conn.rows(`SELECT * FROM ${db}.${TOKENS_TABLE}`);
    const revocations = await conn.rows(`SELECT id, revoked_ms, node FROM ${db}.${TOKEN_REVOCATIONS_TABLE}`);
    const text = JSON.stringify([tokens, revocations]);
    expect(text).not.toContain(secret);
    expect(text).not.toContain(secret.slice(4));
    expect(tokens).toEqual([[token.id, 'n', 0, ['shop'], ['admin'], sha256Hex(secret), clock.now(), 'node-a']]);
    expect(revocations).toEqual([[token.id, clock.now(), 'node-a']]);
  });

  it('counts a token row inserted twice (a resent insert) once', async () => {
    const db = freshDatabase();
    const store = await open(db, 'node-a');
    const { token } = await store.create({ name: 'twice', services: 'all', scopes: ['read'] });
    const conn = await inspect(db);
    await conn.command(`INSERT INTO ${db}.${TOKENS_TABLE} SELECT * FROM ${db}.${TOKENS_TABLE}`);
    expect(await store.list()).toEqual([token]);
  });

  it("adopts a node's tokens from before they were shared once, and never brings a revoked one back", async () => {
    const db = freshDatabase();
    const secret = 'rtm_from-the-local-duckdb-file-0123456';
    const info: TokenInfo = { id: 'tk_0123456789ab', name: 'old', services: ['shop'], scopes: ['read'], created: '2025-06-01T00:00:00.000Z' };
    const adopt = [{ info, digest: sha256Hex(secret) }];
    const first = await open(db, 'node-a', { adopt });
    expect((await first.verify(secret))?.tokenId).toBe(info.id);
    expect(await first.list()).toEqual([info]);
    await first.close();
    // Opened again with the same file: nothing copied twice.
    const second = await open(db, 'node-a', { adopt });
    expect(await second.list()).toEqual([info]);
    expect(await second.revoke(info.id)).toBe(true);
    await second.close();
    const third = await open(db, 'node-a', { adopt });
    expect(await third.verify(secret)).toBeUndefined();
    expect(await third.list()).toEqual([]);
    const conn = await inspect(db);
    expect(await conn.rows(`SELECT id, node FROM ${db}.${TOKENS_TABLE}`)).toEqual([[info.id, 'node-a']]);
  });

  it('keeps the tokens it read last while ClickHouse does not answer, and reports the failure', async () => {
    const own = await startClickHouseServer();
    opened.push({ close: () => own.stop() });
    const errors: number[] = [];
    const conn = await connection('rtm_tokens_down', own.url);
    const store = await createClickHouseTokenStore({ conn, clock, nodeId: 'node-a', refreshMs: 50, refreshTimeoutMs: 500, onRefreshError: (_err, n) => errors.push(n) });
    opened.push(store);
    const { token, secret } = await store.create({ name: 'survivor', services: 'all', scopes: ['read'] });
    await own.kill();
    await vi.waitFor(() => expect(errors).toEqual([1]), { timeout: 5000, interval: 20 });
    expect((await store.verify(secret))?.tokenId).toBe(token.id);
    await expect(store.list()).rejects.toThrow(/ClickHouse query failed/);
    // Reported once per run of failures, not once a read.
    await new Promise((r) => setTimeout(r, 300));
    expect(errors).toEqual([1]);
    await own.restart();
    await vi.waitFor(async () => expect(await store.list()).toEqual([token]), { timeout: 10_000, interval: 50 });
    expect((await store.verify(secret))?.tokenId).toBe(token.id);
  });
});
