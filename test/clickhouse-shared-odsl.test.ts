/**
 * Issue 10, "Shared state": ODSL objects and usage entities are shared by the nodes of a
 * ClickHouse cluster. Two nodes on a two-shard cluster, each with its own data dir: an object
 * PUT through node A's /api/object/v1 is read back on node B with the same body, deleted on B and
 * gone on A; a usage entity POSTed on A is listed, searched and found on B; each node's
 * self-metering (`RTMRequest`) entities are summed over both nodes by the virtual timeseries. The
 * object and entity rows live on the first shard only.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createClickHouseConnection } from '../src/store/clickhouse/client.ts';
import { OBJECTS_TABLE } from '../src/store/clickhouse/object-tables.ts';
import { USAGE_TABLE } from '../src/store/clickhouse/usage-tables.ts';
import { ADMIN_TOKEN, type Harness } from './support/app-harness.ts';
import { startClickHouseNodes, type ClickHouseNodes } from './support/clickhouse-nodes.ts';

const DB = 'rtm_shared_odsl';
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

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

  it('a usage entity POSTed on A is listed, searched and found on B; self-metering entities are summed over both nodes', async () => {
    // A token of its own, so its RTMRequest entities are only the requests below.
    const { secret, id: owner } = await a.token('meter', ['shop'], ['read', 'ingest']);
    const meter = { authorization: `Bearer ${secret}` };
    // B knows the token once its refresh read it: the one 200 here is B's first read request (a 401 meters nothing).
    await vi.waitFor(async () => expect((await b.inject({ method: 'GET', url: '/api/metric/v1?_function=listMetrics&provider=RTMRequest', headers: meter })).statusCode).toBe(200), { timeout: 5000, interval: 50 });
    const entity = { provider: 'Billing', metric: 'InvoicesSent', timestamp: '2026-01-01T00:05:00Z', value: 3, application: 'billing-job', httpstatus: 500 };
    const posted = await a.inject({ method: 'POST', url: '/api/metric/v1', headers: meter, payload: [entity, { ...entity, value: 4, httpstatus: 200 }] });
    expect(posted.statusCode, posted.body).toBe(200);
    expect(posted.json()).toEqual({ accepted: 2, rejected: 0, errors: [] });

    // Read requests: 3 on A here, 3 on B (the one above, the search and listMetrics).
    const search = await b.inject({ method: 'GET', url: `/api/metric/v1?provider=Billing&_filter=${encodeURIComponent('httpstatus>=400')}`, headers: meter });
    expect(search.statusCode, search.body).toBe(200);
    expect(search.headers['x-total-count']).toBe('1');
    const [found] = search.json() as { _id: string }[];
    expect(found).toEqual({ _id: expect.stringMatching(/^[0-9a-f]{24}$/) as string, ...entity, timestamp: '2026-01-01T00:05:00.000Z' });
    const names = await b.inject({ method: 'GET', url: '/api/metric/v1?_function=listMetrics&provider=Billing', headers: meter });
    expect(names.json()).toEqual(['InvoicesSent']);
    for (let i = 0; i < 3; i++) {
      const one = await a.inject({ method: 'GET', url: `/api/metric/v1/${found?._id ?? ''}`, headers: meter });
      expect(one.statusCode, one.body).toBe(200);
      expect(one.json()).toEqual(found);
    }

    // Each node flushes its own self-metering about once a second; the operator sees both nodes' rows.
    const reads = async (node: Harness): Promise<number> => {
      const filter = encodeURIComponent(`owner=${owner}`);
      const res = await node.inject({ method: 'GET', url: `/api/metric/v1?provider=RTMRequest&metric=ReadRequests&_filter=${filter}&_limit=1`, headers: admin });
      expect(res.statusCode, res.body).toBe(200);
      return Number(res.headers['x-total-count']);
    };
    await vi.waitFor(async () => expect(await reads(a)).toBe(6), { timeout: 10_000, interval: 100 });
    expect(await reads(b)).toBe(6);

    // The token's own timeseries of its reads on both nodes, asked on B (this request is metered after it answers).
    for (const n of [a, b]) n.clock.advance(60_000);
    const series = await b.inject({ method: 'GET', url: '/api/metric/v1?_metric=RTMRequest/ReadRequests&_calendar=%23P1D&_observed=summed&_range=from(2026-01-01)', headers: meter });
    expect(series.statusCode, series.body).toBe(200);
    expect((series.json() as { data: unknown[] }).data).toEqual([{ time: '2026-01-01T00:00:00Z', value: 6 }]);
    const writes = await b.inject({ method: 'GET', url: '/api/metric/v1?_metric=RTMRequest/WriteRequests&_calendar=%23P1D&_range=from(2026-01-01)', headers: meter });
    expect((writes.json() as { data: unknown[] }).data).toEqual([{ time: '2026-01-01T00:00:00Z', value: 1 }]);

    const first = createClickHouseConnection({ url: cluster.cluster.shards[0]!.url, database: DB });
    try {
      const byNode = await first.rows(`SELECT node, count() FROM ${DB}.${USAGE_TABLE} WHERE owner = '${owner}' AND provider = 'RTMRequest' AND metric = 'ReadRequests' GROUP BY node ORDER BY node`);
      expect(byNode).toEqual([['odsl-a', 3], ['odsl-b', 3]]);
    } finally {
      await first.close();
    }
  });
});
