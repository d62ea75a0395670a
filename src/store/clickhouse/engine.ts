/**
 * The ClickHouse engine of the cluster mode (docs/cluster.md, docs/decisions.md): the metrics, the
 * API tokens, the catalog, the ODSL objects and the usage entities in ClickHouse, shared by every
 * node; the alerts still in the node's own DuckDB file, with the DuckDB engine's constructors.
 * One URL per shard; with more than one, RTM_CLICKHOUSE_CLUSTER names the remote_servers the
 * reads go through.
 */
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ClickHouseConfig } from '../../config/config.ts';
import type { StoreEngine, StoreEngineOptions } from '../engine.ts';
import { openDuckDb } from '../duckdb/database.ts';
import { duckDbFile, openDuckDbServiceStores } from '../duckdb/engine.ts';
import { readDuckDbTokens } from '../duckdb/token-store.ts';
import { createClickHouseCatalog } from './catalog-store.ts';
import { createClickHouseConnection } from './client.ts';
import { createClickHouseMetricStore, type ClickHouseMetricStore } from './metric-store.ts';
import { createClickHouseObjectStore } from './object-store.ts';
import { createClickHouseTokenStore } from './token-store.ts';
import { createClickHouseUsageStore } from './usage-store.ts';

export interface ClickHouseEngineOptions extends StoreEngineOptions {
  clickhouse: ClickHouseConfig;
  nodeId: string;
}

export interface ClickHouseEngine extends StoreEngine {
  metrics: ClickHouseMetricStore;
}

/** Opens every component; on a failure, closes what it opened and rethrows. */
export async function openClickHouseEngine(opts: ClickHouseEngineOptions): Promise<ClickHouseEngine> {
  const { urls, database, user, password, cluster } = opts.clickhouse;
  const connect = (url: string): ReturnType<typeof createClickHouseConnection> =>
    createClickHouseConnection({ url, database, ...(user === undefined ? {} : { username: user }), ...(password === undefined ? {} : { password }) });
  const probes = urls.map(connect);
  const closers: (() => Promise<void>)[] = [async () => void (await Promise.all(probes.map((p) => p.close())))];
  const closeAll = async (): Promise<void> => {
    for (const close of closers.splice(0).reverse()) await close();
  };
  const shardName = (i: number): string => (urls.length === 1 ? `ClickHouse at ${urls[i] as string}` : `ClickHouse shard ${i + 1} of ${urls.length} at ${urls[i] as string}`);
  /** Rejects, naming the first shard that does not answer. */
  const pingAll = async (timeoutMs: number): Promise<void> => {
    const results = await Promise.allSettled(probes.map((p) => p.rows('SELECT 1', { timeoutMs })));
    const down = results.findIndex((r) => r.status === 'rejected');
    if (down < 0) return;
    const reason = (results[down] as PromiseRejectedResult).reason as unknown;
    throw new Error(`${shardName(down)} does not answer (${reason instanceof Error ? reason.message : String(reason)}); check RTM_CLICKHOUSE_URLS and that the server runs`, { cause: reason });
  };
  try {
    await pingAll(10_000);
    const metrics = await createClickHouseMetricStore({
      shards: urls.map(connect),
      ...(cluster === undefined ? {} : { cluster }),
      nodeId: opts.nodeId,
      retention: opts.retention,
      spoolDir: path.join(opts.dataDir, 'clickhouse-spool'),
      spoolMaxBytes: opts.clickhouse.spoolMaxBytes,
      now: () => opts.clock.now(),
      onError: (err) => opts.logger?.error({ err }, 'ClickHouse write delivery stopped; the write stays in the spool for the next start'),
    });
    closers.push(() => metrics.close());
    const db = await openDuckDb(duckDbFile(opts.dataDir), { memoryBytes: opts.memoryBytes });
    closers.push(async () => db.close());
    // The tokens this node kept in its file before they were shared keep working.
    const adopt = await readDuckDbTokens(db);
    // On the first shard, like published_lsn: a small table every node reads and writes there.
    const tokens = await createClickHouseTokenStore({
      conn: connect(urls[0] as string),
      clock: opts.clock,
      nodeId: opts.nodeId,
      adopt,
      onRefreshError: (err, failuresInARow) =>
        opts.logger?.error({ err, failuresInARow }, 'reading the API tokens from ClickHouse failed; the tokens read last stay in use'),
    });
    closers.push(() => tokens.close());
    /** The readiness probe's connection to the local file, closed before the file. */
    let local: Promise<DuckDBConnection> | undefined;
    closers.push(async () => {
      const c = local;
      local = undefined;
      if (c) (await c.catch(() => undefined))?.closeSync();
    });
    const { catalog: localCatalog, alerts } = await openDuckDbServiceStores(db, opts, closers);
    // Shared like the tokens; the entries of the node's file keep their ids where still free.
    const catalog = await createClickHouseCatalog({
      conn: connect(urls[0] as string),
      clock: opts.clock,
      nodeId: opts.nodeId,
      adopt: await localCatalog.services(),
      onError: (err, failuresInARow) => opts.logger?.error({ err, failuresInARow }, 'the shared catalog could not reach ClickHouse; the catalog read last stays in use, new names wait'),
    });
    closers.push(() => catalog.close());
    // ODSL objects and usage entities: on the first shard too, small tables every node shares.
    const objects = await createClickHouseObjectStore({ conn: connect(urls[0] as string), clock: opts.clock, nodeId: opts.nodeId });
    closers.push(() => objects.close());
    const usage = await createClickHouseUsageStore({ conn: connect(urls[0] as string), clock: opts.clock, nodeId: opts.nodeId, retentionSeconds: opts.usageRetentionSeconds });
    closers.push(() => usage.close());
    return {
      describe: `clickhouse:${urls.join(',')}/${database}${cluster === undefined ? '' : ` (cluster ${cluster})`} (node ${opts.nodeId}; local components: duckdb:${duckDbFile(opts.dataDir)})`,
      metrics,
      tokens,
      catalog,
      usage,
      objects,
      alerts,
      async ping() {
        // Every shard: a read needs all of them (a Distributed read with one down fails).
        await pingAll(5000);
        local ??= db.connect();
        await (await local).run('SELECT 1');
      },
      // ClickHouse being away is not a reason to restart the node: it answers again when back.
      fatal: async () => undefined,
      close: closeAll,
    };
  } catch (err) {
    await closeAll().catch(() => undefined);
    throw err;
  }
}
