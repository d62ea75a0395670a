/**
 * The composition of the long-lived components (store, WAL pipeline, window, tokens, ...) that
 * routes use. createServices is called by main.ts and by tests (with a temp dir and a fake clock).
 */
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './config/config.ts';
import type { Clock } from './model/clock.ts';
import type { TokenVerifier } from './api/auth.ts';
import { createTokenVerifier } from './api/tokens.ts';
import { openDuckDb, type DuckDb } from './store/duckdb/database.ts';
import { createDuckDbTokenStore } from './store/duckdb/token-store.ts';
import type { TokenStore } from './store/token-store.ts';
import { aggregateBatch } from './aggregate/aggregate-batch.ts';
import { createWindow, type Window } from './aggregate/window.ts';
import { createIngestPipeline, type IngestPipeline } from './ingest/pipeline.ts';
import { createDictionaries } from './model/dictionary.ts';
import { createDuckDbMetricStore } from './store/duckdb/metric-store.ts';
import { startStoreMaintenance } from './store/maintenance.ts';
import type { MetricStore } from './store/store.ts';

export interface Services {
  config: Config;
  clock: Clock;
  logger: Logger;
  /** The admin token and the stored tokens: what routes authenticate with. */
  tokens: TokenVerifier;
  /** Created tokens (hashed in DuckDB): the admin routes create, list and revoke here. */
  tokenStore: TokenStore;
  /** The data dir's DuckDB database (rtmetrics.duckdb), shared by the DuckDB-backed components. */
  duckdb: DuckDb;
  /** Per-second records and their rollups (DuckDB). */
  store: MetricStore;
  /** The recent seconds in memory: what the real-time APIs read. */
  window: Window;
  /** The durable ingest path (WAL -> window -> store): the ingest route's sink. */
  ingest: IngestPipeline;
  /** Stops background work and closes the store; idempotent. */
  close(): Promise<void>;
}

export interface ServiceOptions {
  config: Config;
  clock: Clock;
  logger: Logger;
}

export async function createServices({ config, clock, logger }: ServiceOptions): Promise<Services> {
  const closers: (() => Promise<void>)[] = [];
  const duckdb = await openDuckDb(path.join(config.dataDir, 'rtmetrics.duckdb'));
  closers.push(async () => duckdb.close());
  const tokenStore = await createDuckDbTokenStore({ db: duckdb, clock });
  closers.push(async () => tokenStore.close?.());
  const tokens = await createTokenVerifier({ config, logger, store: tokenStore });
  const store = await createDuckDbMetricStore(duckdb, { retention: config.retention });
  closers.push(() => store.close());
  const maintenance = startStoreMaintenance({ store, clock, logger });
  closers.push(() => maintenance.stop());
  const window = createWindow({ clock, aggregateDelaySeconds: config.aggregateDelaySeconds, windowSeconds: config.windowSeconds });
  // Closed first (closers run in reverse): it writes the published seconds to the store.
  const ingest = await createIngestPipeline({ config, clock, logger, store, window, aggregate: aggregateBatch, dictionaries: createDictionaries() });
  closers.push(() => ingest.close());
  let closed = false;
  return {
    config,
    clock,
    logger,
    tokens,
    tokenStore,
    duckdb,
    store,
    window,
    ingest,
    async close() {
      if (closed) return;
      closed = true;
      for (const close of closers.reverse()) await close();
    },
  };
}
