/**
 * Where `rtmetrics service ...` does its work: through the running server's admin API (DuckDB
 * lets one process open the database file for writing), or, when no server answers, in the data
 * dir's database directly (docs/decisions.md).
 */
import type { CatalogService } from '../store/catalog.ts';
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

/** The data dir's database opened directly: only when no server holds it. */
export async function openDirectServiceAdmin(dataDir: string): Promise<ServiceAdmin> {
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
