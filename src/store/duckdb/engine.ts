/**
 * The DuckDB engine: every durable component in one database file of the data dir
 * (`rtmetrics.duckdb`). The only place that knows the file's name.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { createBlockSplitter } from '../block-splitter.ts';
import type { StoreEngine, StoreEngineOptions } from '../engine.ts';
import { createDuckDbAlertStore } from './alert-store.ts';
import { createDuckDbCatalog } from './catalog-store.ts';
import { isInvalidatedError, openDuckDb, type DuckDb } from './database.ts';
import { createDuckDbMetricStore, type DuckDbMetricStore } from './metric-store.ts';
import { createDuckDbObjectStore } from './object-store.ts';
import { createDuckDbTokenStore } from './token-store.ts';
import { createDuckDbUsageStore } from './usage-store.ts';

/** The database file of a data dir. */
export const duckDbFile = (dataDir: string): string => path.join(dataDir, 'rtmetrics.duckdb');

/** Whether a data dir holds a database already (the CLI's direct mode must not create one). */
export const duckDbExists = (dataDir: string): boolean => fs.existsSync(duckDbFile(dataDir));

export interface DuckDbEngine extends StoreEngine {
  metrics: DuckDbMetricStore;
  /** The database itself, for the components outside the engine that share it (tests). */
  db: DuckDb;
}

/** The components besides the metrics and tokens that live in a DuckDB file (the ClickHouse engine keeps them in the node's file too). */
export type DuckDbServiceStores = Pick<StoreEngine, 'catalog' | 'usage' | 'objects' | 'alerts'>;

/** Opens the catalog, usage, ODSL object and alert stores on `db`, each one's close pushed onto `closers` (run in reverse). */
export async function openDuckDbServiceStores(
  db: DuckDb,
  opts: Pick<StoreEngineOptions, 'clock' | 'usageRetentionSeconds'>,
  closers: (() => Promise<void>)[],
): Promise<DuckDbServiceStores> {
  const catalog = await createDuckDbCatalog({ db });
  closers.push(() => catalog.close());
  const usage = await createDuckDbUsageStore(db, { retentionSeconds: opts.usageRetentionSeconds });
  closers.push(() => usage.close());
  const objects = await createDuckDbObjectStore({ db });
  closers.push(() => objects.close());
  const alerts = await createDuckDbAlertStore({ db, clock: opts.clock });
  closers.push(() => alerts.close());
  return { catalog, usage, objects, alerts };
}

/** Opens every component; on a failure, closes what it opened and rethrows. */
export async function openDuckDbEngine(opts: StoreEngineOptions): Promise<DuckDbEngine> {
  const file = duckDbFile(opts.dataDir);
  const db = await openDuckDb(file, { memoryBytes: opts.memoryBytes });
  const closers: (() => Promise<void>)[] = [async () => db.close()];
  const closeAll = async (): Promise<void> => {
    for (const close of closers.splice(0).reverse()) await close();
  };
  try {
    const tokens = await createDuckDbTokenStore({ db, clock: opts.clock });
    closers.push(async () => tokens.close?.());
    const splitter = createBlockSplitter({ worker: opts.writeWorker === true, ...(opts.logger ? { logger: opts.logger } : {}) });
    closers.push(() => splitter.close());
    const metrics = await createDuckDbMetricStore(db, { retention: opts.retention, splitter, ...(opts.rollupBufferRows === undefined ? {} : { rollupBufferRows: opts.rollupBufferRows }) });
    closers.push(() => metrics.close());
    const { catalog, usage, objects, alerts } = await openDuckDbServiceStores(db, opts, closers);
    let probe: Promise<DuckDBConnection> | undefined;
    /** Its own connection: a metrics scrape and a readiness probe may overlap. */
    let memoryProbe: Promise<DuckDBConnection> | undefined;
    closers.splice(1, 0, async () => {
      const c = probe;
      const m = memoryProbe;
      probe = memoryProbe = undefined;
      if (c) (await c.catch(() => undefined))?.closeSync();
      if (m) (await m.catch(() => undefined))?.closeSync();
    });
    const engine: DuckDbEngine = {
      describe: `duckdb:${file}`,
      db,
      metrics,
      tokens,
      catalog,
      usage,
      objects,
      alerts,
      async memoryUsed() {
        memoryProbe ??= db.connect();
        // Every tag of DuckDB's buffer manager (table data, indexes, hash tables, ...).
        const rows = (await (await memoryProbe).runAndReadAll('SELECT coalesce(sum(memory_usage_bytes), 0) FROM duckdb_memory()')).getRows();
        return Number(rows[0]?.[0] ?? 0);
      },
      async ping() {
        try {
          probe ??= db.connect();
          await (await probe).run('SELECT 1');
        } catch (err) {
          probe = undefined;
          throw err;
        }
      },
      async fatal() {
        try {
          // Through the object: a test may replace its ping.
          await engine.ping();
          return undefined;
        } catch (err) {
          return isInvalidatedError(err) ? 'the database was invalidated by a fatal error; restart the server (the WAL replays what the store lacks)' : undefined;
        }
      },
      close: closeAll,
    };
    return engine;
  } catch (err) {
    await closeAll().catch(() => undefined);
    throw err;
  }
}
