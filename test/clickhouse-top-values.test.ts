/**
 * Top values across two nodes (issue 11 top-N): two rtmetrics nodes on a two-shard ClickHouse
 * cluster each take part of the same service's events; each node writes its own part of every
 * minute, and the store's sums (what either node's queries read) add the parts: per value the
 * counts of both nodes, and one bound row per node and minute. Exact while the values fit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOP_VALUES_BOUND } from '../src/model/top-values.ts';
import { ADMIN_TOKEN, HARNESS_T0, type Harness } from './support/app-harness.ts';
import { clientAddress } from './support/client-reference.ts';
import { startClickHouseNodes, type ClickHouseNodes } from './support/clickhouse-nodes.ts';

const NOW = Math.floor(HARNESS_T0 / 1000);
let ch: ClickHouseNodes | undefined;
let nodes: Harness[] = [];

beforeAll(async () => {
  ch = await startClickHouseNodes('rtm_top', ['top-a', 'top-b']);
  nodes = ch.nodes;
}, 120_000);

afterAll(async () => {
  await ch?.close();
});

describe('top values across two nodes on a two-shard cluster', () => {
  it("either node's store sums both nodes' parts: each value's count over both, one bound row per node and minute", async () => {
    const minute = Math.floor((NOW - 3_600) / 60) * 60;
    const paths = ['/a', '/a', '/b', '/c?x=1', '/c', '/a'];
    const want = new Map<string, number>();
    const wantClients = new Map<string, number>();
    for (const [i, h] of nodes.entries()) {
      const lines = paths.map((p, k) => {
        const path = p.split('?')[0] as string;
        const client = clientAddress(k % 3);
        want.set(path, (want.get(path) ?? 0) + 1);
        wantClients.set(client, (wantClients.get(client) ?? 0) + 1);
        return JSON.stringify({ timestamp: minute + 10 * i + k, service: 'top2', datacenter: 'FRA', domain: 'a.example', status: 200, path: p, client_ip: client });
      });
      const ack = await h.ingest(ADMIN_TOKEN, `${lines.join('\n')}\n`);
      expect(ack.accepted).toBe(paths.length);
      await h.publishThrough(NOW);
      await h.services.topValues.write();
      await h.services.ingest.flush();
    }
    for (const h of nodes) {
      for (const [dimension, expected] of [['path', want], ['client_ip', wantClients]] as const) {
        for (const tier of ['1m', '1h', '1d'] as const) {
          const rows = await h.services.store.sumDimension({ tier, from: NOW - 3 * 86_400, to: NOW, filter: { services: ['top2'] }, bucketSeconds: 86_400, dimension });
          const got = new Map(rows.map((r) => [r.value, r.count]));
          expect(got, `${dimension} ${tier}`).toEqual(new Map([...expected, [TOP_VALUES_BOUND, 2 * paths.length]]));
          expect(rows.every((r) => r.bytes === 0), `${dimension} ${tier}: exact`).toBe(true);
        }
      }
    }
  }, 120_000);
});
