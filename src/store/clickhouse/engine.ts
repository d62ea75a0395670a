/**
 * The ClickHouse engine, step 1 of the cluster mode (docs/decisions.md): the metrics in
 * ClickHouse, every other component (tokens, catalog, usage, ODSL objects, alerts) still in the
 * node's own DuckDB file, with the DuckDB engine's constructors. One shard (one URL) for now.
 */
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ClickHouseConfig } from '../../config/config.ts';
import type { StoreEngine, StoreEngineOptions } from '../engine.ts';
import { openDuckDb } from '../duckdb/database.ts';
import { duckDbFile, openDuckDbServiceStores } from '../duckdb/engine.ts';
import { createDuckDbTokenStore } from '../duckdb/token-store.ts';
import { createClickHouseConnection } from './client.ts';
import { createClickHouseMetricStore, type ClickHouseMetricStore } from './metric-store.ts';

export interface ClickHouseEngineOptions extends StoreEngineOptions {
  clickhouse: ClickHouseConfig;
  nodeId: string;
}

export interface ClickHouseEngine extends StoreEngine {
  metrics: ClickHouseMetricStore;
}

/** Opens every component; on a failure, closes what it opened and rethrows. */
export async function openClickHouseEngine(opts: ClickHouseEngineOptions): Promise<ClickHouseEngine> {
  const { urls, database, user, password } = opts.clickhouse;
  if (urls.length !== 1) {
    throw new Error(`RTM_CLICKHOUSE_URLS names ${urls.length} shards; this version runs on one ClickHouse server (one URL); the sharded cluster is not built yet`);
  }
  const url = urls[0] as string;
  const connect = (): ReturnType<typeof createClickHouseConnection> =>
    createClickHouseConnection({ url, database, ...(user === undefined ? {} : { username: user }), ...(password === undefined ? {} : { password }) });
  const probe = connect();
  const closers: (() => Promise<void>)[] = [() => probe.close()];
  const closeAll = async (): Promise<void> => {
    for (const close of closers.splice(0).reverse()) await close();
  };
  try {
    try {
      await probe.rows('SELECT 1', { timeoutMs: 10_000 });
    } catch (err) {
      throw new Error(`ClickHouse at ${url} does not answer (${err instanceof Error ? err.message : String(err)}); check RTM_CLICKHOUSE_URLS and that the server runs`, { cause: err });
    }
    const metrics = await createClickHouseMetricStore({
      conn: connect(),
      nodeId: opts.nodeId,
      retention: opts.retention,
      spoolDir: path.join(opts.dataDir, 'clickhouse-spool'),
      onError: (err) => opts.logger?.error({ err }, 'ClickHouse write delivery stopped; the write stays in the spool for the next start'),
    });
    closers.push(() => metrics.close());
    const db = await openDuckDb(duckDbFile(opts.dataDir), { memoryBytes: opts.memoryBytes });
    closers.push(async () => db.close());
    /** The readiness probe's connection to the local file, closed before the file. */
    let local: Promise<DuckDBConnection> | undefined;
    closers.push(async () => {
      const c = local;
      local = undefined;
      if (c) (await c.catch(() => undefined))?.closeSync();
    });
    const tokens = await createDuckDbTokenStore({ db, clock: opts.clock });
    closers.push(async () => tokens.close?.());
    const { catalog, usage, objects, alerts } = await openDuckDbServiceStores(db, opts, closers);
    return {
      describe: `clickhouse:${url}/${database} (node ${opts.nodeId}; local components: duckdb:${duckDbFile(opts.dataDir)})`,
      metrics,
      tokens,
      catalog,
      usage,
      objects,
      alerts,
      async ping() {
        await probe.rows('SELECT 1', { timeoutMs: 5000 });
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
