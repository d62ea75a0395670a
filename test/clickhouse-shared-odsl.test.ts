/**
 * Issue 10, "Shared state": ODSL objects and usage entities are shared by the nodes of a
 * ClickHouse cluster. Two nodes on a two-shard cluster, each with its own data dir: an object
 * PUT through node A's /api/object/v1 is read back on node B with the same body, deleted on B and
 * gone on A. The object rows live on the first shard only.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createClickHouseConnection } from '../src/store/clickhouse/client.ts';
import { OBJECTS_TABLE } from '../src/store/clickhouse/object-tables.ts';
import type { Harness } from './support/app-harness.ts';
import { startClickHouseNodes, type ClickHouseNodes } from './support/clickhouse-nodes.ts';

const DB = 'rtm_shared_odsl';

describe('ODSL objects and usage entities shared by the nodes of a ClickHouse cluster', () => {
  let cluster: ClickHouseNodes;
  let a: Harness;
  let b: Harness;
  /** A tenant token made on A, in effect on B (its refresh reads the token tables every second). */
  let tenant: { authorization: string };
  beforeAll(async () => {
    cluster = await startClickHouseNodes(DB, ['odsl-a', 'odsl-b']);
    [a, b] = cluster.nodes as [Harness, Harness];
    const { secret } = await a.token('tenant', ['shop'], ['read', 'write']);
    tenant = { authorization: `Bearer ${secret}` };
    await vi.waitFor(async () => expect((await b.inject({ method: 'GET', url: '/api/object/v1', headers: tenant })).statusCode).toBe(200), { timeout: 5000, interval: 50 });
  });
  afterAll(async () => {
    await cluster?.close();
  });

  it('an object PUT on node A is read back on B with the same body; deleted on B, it is gone on A', async () => {
    const body = { _id: 'REPORT', name: 'Monthly traffic', tags: ['billing', 'é'], limits: { p95: 1.5 } };
    const put = await a.inject({ method: 'POST', url: '/api/object/v1', headers: tenant, payload: body });
    expect(put.statusCode, put.body).toBe(201);

    const onB = await b.inject({ method: 'GET', url: '/api/object/v1/REPORT', headers: tenant });
    expect(onB.statusCode, onB.body).toBe(200);
    expect(onB.json()).toEqual(body);
    const listB = await b.inject({ method: 'GET', url: '/api/object/v1', headers: tenant });
    expect(listB.headers['x-total-count']).toBe('1');
    // Replaced on B: A answers the new body, and it was a replace (200), not a second object.
    const replaced = { ...body, name: 'Monthly traffic v2' };
    expect((await b.inject({ method: 'POST', url: '/api/object/v1', headers: tenant, payload: replaced })).statusCode).toBe(200);
    expect((await a.inject({ method: 'GET', url: '/api/object/v1/REPORT', headers: tenant })).json()).toEqual(replaced);

    expect((await b.inject({ method: 'DELETE', url: '/api/object/v1/REPORT', headers: tenant })).statusCode).toBe(204);
    expect((await a.inject({ method: 'GET', url: '/api/object/v1/REPORT', headers: tenant })).statusCode).toBe(404);
    expect((await a.inject({ method: 'DELETE', url: '/api/object/v1/REPORT', headers: tenant })).statusCode).toBe(404);
    expect((await a.inject({ method: 'GET', url: '/api/object/v1', headers: tenant })).headers['x-total-count']).toBe('0');

    const [first, second] = cluster.cluster.shards.map((s) => createClickHouseConnection({ url: s.url, database: DB }));
    try {
      expect(Number((await first!.rows(`SELECT count() FROM ${DB}.${OBJECTS_TABLE}`))[0]?.[0])).toBeGreaterThan(0);
      expect(Number((await second!.rows(`SELECT count() FROM system.tables WHERE database = '${DB}' AND name = '${OBJECTS_TABLE}'`))[0]?.[0])).toBe(0);
    } finally {
      await first?.close();
      await second?.close();
    }
  });
});
