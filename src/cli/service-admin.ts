/**
 * Where `rtmetrics service ...` does its work: through the running server's admin API (DuckDB
 * lets one process open the database file for writing), or, when no server answers, in the data
 * dir's database directly (docs/decisions.md), or on RTM_STORE=clickhouse in the catalog the
 * nodes share in ClickHouse.
 */
import type { ClickHouseConfig, Config } from '../config/config.ts';
import { systemClock } from '../model/clock.ts';
import type { CatalogService } from '../store/catalog.ts';
import { createClickHouseCatalog } from '../store/clickhouse/catalog-store.ts';
import { createClickHouseConnection } from '../store/clickhouse/client.ts';
import { createDuckDbCatalog } from '../store/duckdb/catalog-store.ts';
import { openDuckDb } from '../store/duckdb/database.ts';
import { CliError, createAdminHttp, detailOf } from './admin-http.ts';
import { duckDbExists, duckDbFile } from '../store/duckdb/engine.ts';

export interface ServiceAdmin {
  /** The server URL or the database file, for messages. */
  readonly via: string;
  list(): Promise<CatalogService[]>;
  /** The renamed service; undefined when no such service has been seen. */
  rename(service: string, name: string): Promise<CatalogService | undefined>;
  close(): Promise<void>;
}



export function createHttpServiceAdmin(url: string, adminSecret: string): ServiceAdmin {
  const call = createAdminHttp(url, adminSecret);

  return {
    via: url,
    async list() {
      const r = await call('GET', '/admin/services');
      if (r.status !== 200) throw new CliError(`list failed: ${detailOf(r.body, r.status)}`);
      return (r.body as { services: CatalogService[] }).services;
    },
    async rename(service, name) {
      const r = await call('POST', `/admin/services/${encodeURIComponent(service)}/rename`, { name });
      if (r.status === 404) return undefined;
      if (r.status !== 200) throw new CliError(`rename failed: ${detailOf(r.body, r.status)}`);
      return (r.body as { service: CatalogService }).service;
    },
    async close() {},
  };
}

/**
 * With RTM_STORE=clickhouse the catalog is ClickHouse's (shared by every node): the CLI renames
 * there, as a node would, and every node shows the name within a few seconds.
 */
async function openClickHouseServiceAdmin(clickhouse: ClickHouseConfig, nodeId: string): Promise<ServiceAdmin> {
  const { urls, database, user, password } = clickhouse;
  const url = urls[0];
  if (url === undefined) throw new CliError('RTM_CLICKHOUSE_URLS names no ClickHouse server');
  const conn = createClickHouseConnection({ url, database, ...(user === undefined ? {} : { username: user }), ...(password === undefined ? {} : { password }) });
  try {
    // Read once at open; the CLI lives for one command.
    const catalog = await createClickHouseCatalog({ conn, clock: systemClock, nodeId: `cli@${nodeId}`, refreshMs: 3_600_000 });
    return { via: `ClickHouse at ${url} (database ${database})`, list: () => catalog.services(), rename: (service, name) => catalog.rename(service, name), close: () => catalog.close() };
  } catch (err) {
    throw new CliError(`cannot open the catalog in ClickHouse at ${url}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The data dir's database (or, on RTM_STORE=clickhouse, ClickHouse) opened directly: only when no server holds it. */
export async function openDirectServiceAdmin(dataDir: string, config?: Pick<Config, 'store' | 'nodeId'>): Promise<ServiceAdmin> {
  if (config?.store.engine === 'clickhouse') return openClickHouseServiceAdmin(config.store.clickhouse, config.nodeId);
  const file = duckDbFile(dataDir);
  // Listing must not create an empty database where the user mistyped a path.
  if (!duckDbExists(dataDir)) throw new CliError(`no server answers and there is no database at ${file} (set RTM_DATA_DIR or --data-dir)`);
  let db;
  try {
    db = await openDuckDb(file);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    if (/lock/i.test(msg)) throw new CliError(`${file} is in use by another process (a server on another address? pass --url)`);
    throw new CliError(`cannot open ${file}: ${msg}`);
  }
  const catalog = await createDuckDbCatalog({ db });
  return {
    via: file,
    list: () => catalog.services(),
    rename: (service, name) => catalog.rename(service, name),
    async close() {
      await catalog.close();
      db.close();
    },
  };
}
