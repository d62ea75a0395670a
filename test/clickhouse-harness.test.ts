/**
 * The clickhouse-server harness itself: two servers started as two shards of one `remote_servers`
 * cluster answer a Distributed read with the rows of both (what the cluster step builds on).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createClickHouseConnection } from '../src/store/clickhouse/client.ts';
import { startClickHouseCluster, type ClickHouseCluster } from './support/clickhouse-server.ts';

describe('clickhouse-server harness', () => {
  let cluster: ClickHouseCluster | undefined;
  afterAll(async () => {
    await cluster?.stop();
  });

  it('starts two shards that a Distributed table reads together', async () => {
    cluster = await startClickHouseCluster(2, 'rtm_two');
    const conns = cluster.shards.map((s) => createClickHouseConnection({ url: s.url, database: 'h' }));
    try {
      for (const [i, c] of conns.entries()) {
        await c.command('CREATE DATABASE h');
        await c.command('CREATE TABLE h.local (shard UInt8, n UInt64) ENGINE = MergeTree ORDER BY shard');
        await c.command("CREATE TABLE h.everywhere AS h.local ENGINE = Distributed(rtm_two, h, local)");
        await c.insert('h.local', [{ shard: i, n: 10 * (i + 1) }]);
      }
      for (const c of conns) expect(await c.rows('SELECT shard, n FROM h.everywhere ORDER BY shard')).toEqual([[0, 10], [1, 20]]);
      const ports = new Set(cluster.shards.flatMap((s) => [s.httpPort, s.tcpPort]));
      expect(ports.size).toBe(4);
      expect([...ports].every((p) => p !== 8123 && p !== 9000)).toBe(true);
    } finally {
      for (const c of conns) await c.close();
    }
  });
});
