/**
 * Issue 10, "Shared state": a token created or revoked on one node takes effect on every node
 * within 5 s. Two nodes on a two-shard ClickHouse cluster, each with its own data dir: a token
 * made through node A's admin API reads and ingests its own service on node B (and only that
 * one), B lists it, B revokes it and A refuses it. The token rows live on the first shard only.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { TOKENS_TABLE } from '../src/store/clickhouse/token-tables.ts';
import { createClickHouseConnection } from '../src/store/clickhouse/client.ts';
import { ADMIN_TOKEN, HARNESS_T0, type Harness } from './support/app-harness.ts';
import { startClickHouseNodes, type ClickHouseNodes } from './support/clickhouse-nodes.ts';

const BOUND_MS = 5000;
const NOW = Math.floor(HARNESS_T0 / 1000);
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

/** Status of the Fastly `ts/h` of `service` on `node` with `secret`. */
const tsh = async (node: Harness, service: string, secret: string): Promise<{ status: number; requests: number }> => {
  const res = await node.inject({ method: 'GET', url: `/v1/channel/${service}/ts/h`, headers: { 'fastly-key': secret } });
  const body = res.statusCode === 200 ? (res.json() as { Data: { aggregated: Record<string, number> }[] }) : { Data: [] };
  return { status: res.statusCode, requests: body.Data.reduce((s, d) => s + (d.aggregated['requests'] ?? 0), 0) };
};

/** Waits until `check` passes, at most BOUND_MS from `since`; resolves with the ms it took. */
const within5s = async (since: number, check: () => Promise<void>): Promise<number> => {
  await vi.waitFor(check, { timeout: Math.max(0, since + BOUND_MS - Date.now()), interval: 50 });
  return Date.now() - since;
};

describe('API tokens shared by the nodes of a ClickHouse cluster', () => {
  let cluster: ClickHouseNodes | undefined;
  afterAll(async () => {
    await cluster?.close();
  });

  it('a token created on node A works on node B within 5 s for its service only; revoked on B, A refuses it within 5 s', async () => {
    cluster = await startClickHouseNodes('rtm_shared_tokens', ['tokens-a', 'tokens-b']);
    const [a, b] = cluster.nodes as [Harness, Harness];

    const created = await a.inject({ method: 'POST', url: '/admin/tokens', headers: admin, payload: { name: 'shop tenant', services: ['shop'], scopes: ['read', 'ingest'] } });
    expect(created.statusCode, created.body).toBe(201);
    const madeAt = Date.now();
    const { token: secret, ...info } = created.json() as { token: string; id: string; name: string; services: string[]; scopes: string[]; created: string };
    expect(info).toEqual({ id: expect.stringMatching(/^tk_[0-9a-f]{12}$/) as string, name: 'shop tenant', services: ['shop'], scopes: ['read', 'ingest'], created: new Date(HARNESS_T0).toISOString() });
    // At once on the node that made it.
    expect((await tsh(a, 'shop', secret)).status).toBe(200);

    const tookB = await within5s(madeAt, async () => expect((await tsh(b, 'shop', secret)).status).toBe(200));
    expect(tookB).toBeLessThan(BOUND_MS);
    // Only the service it was granted.
    expect((await tsh(b, 'news', secret)).status).toBe(403);
    const line = (service: string, bytes: number): string => JSON.stringify({ timestamp: NOW - 30, service, datacenter: 'FRA', domain: 'www.example', status: 200, resp_body_bytes: bytes });
    const ingested = await b.ingest(secret, [line('shop', 100), line('shop', 200), line('news', 300)].join('\n'));
    expect(ingested).toMatchObject({ accepted: 2, rejected: 1, errors: [{ line: 3, reason: expect.stringMatching(/service "news": this token may not ingest/) as string }] });
    await b.publishThrough(NOW - 30);
    expect(await tsh(b, 'shop', secret)).toEqual({ status: 200, requests: 2 });

    // B lists the token A made, without its secret or the secret's hash.
    const listed = await b.inject({ method: 'GET', url: '/admin/tokens', headers: admin });
    expect(listed.statusCode).toBe(200);
    expect((listed.json() as { tokens: unknown[] }).tokens).toEqual([info]);
    expect(listed.body).not.toContain(secret);

    const revoked = await b.inject({ method: 'DELETE', url: `/admin/tokens/${info.id}`, headers: admin });
    expect(revoked.statusCode, revoked.body).toBe(204);
    const revokedAt = Date.now();
    expect((await tsh(b, 'shop', secret)).status).toBe(401);
    const tookA = await within5s(revokedAt, async () => expect((await tsh(a, 'shop', secret)).status).toBe(401));
    expect(tookA).toBeLessThan(BOUND_MS);
    expect((await a.inject({ method: 'GET', url: '/admin/tokens', headers: admin })).json()).toEqual({ tokens: [] });
    expect((await a.inject({ method: 'DELETE', url: `/admin/tokens/${info.id}`, headers: admin })).statusCode).toBe(404);
    // The admin token itself is not a stored token: it still works on both.
    expect((await tsh(a, 'shop', ADMIN_TOKEN)).status).toBe(200);

    // The token table is on the first shard only, with the one token's row.
    const [first, second] = cluster.cluster.shards.map((s) => createClickHouseConnection({ url: s.url, database: 'rtm_shared_tokens' }));
    try {
      const count = async (sql: string, on = first): Promise<number> => Number((await on!.rows(sql))[0]?.[0]);
      expect(await count(`SELECT count() FROM rtm_shared_tokens.${TOKENS_TABLE}`)).toBe(1);
      expect(await count(`SELECT count() FROM system.tables WHERE database = 'rtm_shared_tokens' AND name = '${TOKENS_TABLE}'`, second)).toBe(0);
    } finally {
      await first?.close();
      await second?.close();
    }
  });
});
