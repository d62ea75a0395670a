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
import { createServiceQuota, type ServiceQuota } from './api/limits/service-quota.ts';
import { createSelfMetrics, type SelfMetrics } from './api/native/self-metrics.ts';
import { createUsageRecorder, type UsageRecorder } from './api/odsl/self-metering.ts';
import { Registry } from 'prom-client';
import { aggregateBatches } from './aggregate/aggregate-batch.ts';
import { createWindow, type Window } from './aggregate/window.ts';
import { createParsePool, type ParsePool } from './ingest/parse-pool.ts';
import { createIngestPipeline, type IngestPipeline } from './ingest/pipeline.ts';
import { createDictionaries } from './model/dictionary.ts';
import type { Catalog } from './store/catalog.ts';
import { createDuckDbCatalog } from './store/duckdb/catalog-store.ts';
import { openDuckDb, type DuckDb } from './store/duckdb/database.ts';
import { createDuckDbMetricStore } from './store/duckdb/metric-store.ts';
import { createDuckDbObjectStore } from './store/duckdb/object-store.ts';
import { createDuckDbTokenStore } from './store/duckdb/token-store.ts';
import { createDuckDbUsageStore } from './store/duckdb/usage-store.ts';
import { startStoreMaintenance } from './store/maintenance.ts';
import type { ObjectStore } from './store/object-store.ts';
import type { MetricStore } from './store/store.ts';
import type { TokenStore } from './store/token-store.ts';
import type { UsageStore } from './store/usage-store.ts';

export interface Services {
  config: Config;
  clock: Clock;
  logger: Logger;
  /** The admin token and the stored tokens: what routes authenticate with. */
  tokens: TokenVerifier;
  /** Created tokens (hashed in DuckDB): the admin routes create, list and revoke here. */
  tokenStore: TokenStore;
  /** Distinct services each token writes (RTM_MAX_SERVICES_PER_TOKEN). */
  serviceQuota: ServiceQuota;
  /** The data dir's DuckDB database (rtmetrics.duckdb), shared by the DuckDB-backed components. */
  duckdb: DuckDb;
  /** Per-second records and their rollups (DuckDB). */
  store: MetricStore;
  /** Services, domains and products with their stable numeric ids (Azion configurations). */
  catalog: Catalog;
  /** The recent seconds in memory: what the real-time APIs read. */
  window: Window;
  /** The durable ingest path (WAL -> window -> store): the ingest route's sink. */
  ingest: IngestPipeline;
  /** Worker threads parsing ingest bodies (config.ingestWorkers); undefined when 0. */
  parsePool: ParsePool | undefined;
  /** Usage metric entities (OpenDataDSL metric service). */
  usage: UsageStore;
  /** Batches self-metering entities (one per API request) into `usage`. */
  usageRecorder: UsageRecorder;
  /** OpenDataDSL objects (with VarMetricTimeSeries properties). */
  objects: ObjectStore;
  /** rtmetrics' own Prometheus metrics (GET /rtm/v1/metrics). */
  metrics: { registry: Registry; self: SelfMetrics };
  /** When this process started (build info). */
  startedAt: Date;
  /** Stops background work and closes the store; idempotent. */
  close(): Promise<void>;
}

export interface ServiceOptions {
  config: Config;
  clock: Clock;
  logger: Logger;
}

const HOUR_MS = 3_600_000;

export async function createServices({ config, clock, logger }: ServiceOptions): Promise<Services> {
  // Closers run in reverse order of creation: consumers stop before what they write to.
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
  const catalog = await createDuckDbCatalog({ db: duckdb });
  closers.push(() => catalog.close());

  const usage = await createDuckDbUsageStore(duckdb, { retentionSeconds: config.retention.usageSeconds });
  closers.push(() => usage.close());
  const usageRecorder = createUsageRecorder({
    store: usage,
    clock,
    environment: config.environment,
    onError: (err) => logger.warn({ err }, 'self-metering insert failed'),
  });
  const usageExpiry = setInterval(() => {
    usage.expire(clock.now()).catch((err: unknown) => logger.warn({ err }, 'usage expiry failed'));
  }, HOUR_MS);
  usageExpiry.unref();
  closers.push(async () => {
    clearInterval(usageExpiry);
    await usageRecorder.close();
  });
  const objects = await createDuckDbObjectStore({ db: duckdb });
  closers.push(() => objects.close());

  const window = createWindow({
    clock,
    aggregateDelaySeconds: config.aggregateDelaySeconds,
    windowSeconds: config.windowSeconds,
    maxBytes: config.windowMaxBytes,
  });
  const ingest = await createIngestPipeline({
    config,
    clock,
    logger,
    store,
    // Until the pipeline carries deltas (issue 8), its RecordSets go in through applyRecords.
    window: { apply: (records) => window.applyRecords(records), latestPublished: () => window.latestPublished() },
    aggregate: aggregateBatches,
    dictionaries: createDictionaries(),
    onStored: (records) => {
      catalog.observe(records).catch((err: unknown) => logger.error({ err }, 'catalog observe failed'));
    },
  });
  // Closed first: it writes the published seconds to the store.
  closers.push(() => ingest.close());
  const parsePool = config.ingestWorkers > 0 ? createParsePool({ workers: config.ingestWorkers, logger }) : undefined;
  if (parsePool) closers.push(() => parsePool.close());

  const registry = new Registry();
  const self = createSelfMetrics(registry, { pipeline: ingest, window, store, usageRecorder });

  let closed = false;
  return {
    config,
    clock,
    logger,
    tokens,
    tokenStore,
    serviceQuota: createServiceQuota(config.limits),
    duckdb,
    store,
    catalog,
    window,
    ingest,
    parsePool,
    usage,
    usageRecorder,
    objects,
    metrics: { registry, self },
    startedAt: new Date(clock.now()),
    async close() {
      if (closed) return;
      closed = true;
      for (const close of closers.reverse()) await close();
    },
  };
}
