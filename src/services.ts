/**
 * The composition of the long-lived components (store, WAL pipeline, window, tokens, ...) that
 * routes use. createServices is called by main.ts and by tests (with a temp dir and a fake clock).
 */
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './config/config.ts';
import { CAP_VALUE_BYTES, CATALOG_DOMAIN_BYTES, pendingShareRefusal, ROLLUP_ROW_BYTES, TOP_VALUE_BYTES, type MemoryShare } from './config/memory-budget.ts';
import type { Clock } from './model/clock.ts';
import type { TokenVerifier } from './http/auth.ts';
import { createTokenVerifier } from './api/tokens.ts';
import { createServiceQuota, type ServiceQuota } from './http/limits/service-quota.ts';
import { createSelfMetrics, type SelfMetrics } from './api/native/self-metrics.ts';
import { createUsageRecorder, type UsageRecorder } from './api/odsl/self-metering.ts';
import { Registry } from 'prom-client';
import { aggregateToDelta } from './aggregate/aggregate-batch.ts';
import { createWindow, type Window } from './aggregate/window.ts';
import { openIdempotencyFile } from './ingest/idempotency/idempotency-file.ts';
import { createIdempotencyKeys, type IdempotencyKeys } from './ingest/idempotency/idempotency-keys.ts';
import { createKeyCaps, type KeyCaps } from './ingest/key-cap.ts';
import { noteDeltaKeys } from './ingest/note-delta-keys.ts';
import { eventsAtOrBefore } from './ingest/late-events.ts';
import { createParsePool, type ParsePool } from './ingest/parse-pool.ts';
import { createPublicationHold, type PublicationHold } from './ingest/publication-hold.ts';
import { createIngestPipeline, type IngestPipeline, type PipelineStore } from './ingest/pipeline.ts';
import { startTopValuesWriter, type TopValuesWriter } from './ingest/top-values-writer.ts';
import { TupleIndex } from './model/delta-builder.ts';
import { deltaStrings, type Delta } from './model/delta.ts';
import type { EdgeRecord, RecordSet } from './model/record.ts';
import { createDictionaries } from './model/dictionary.ts';
import type { Catalog } from './store/catalog.ts';
import type { AlertStore } from './store/alert-store.ts';
import type { StoreEngine } from './store/engine.ts';
import { openStoreEngine } from './store/open-engine.ts';
import { createStoreWatermark } from './query/store-watermark.ts';
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
  /**
   * Distinct domains, datacenters and backends each service has (RTM_MAX_DOMAINS_PER_SERVICE,
   * RTM_MAX_DATACENTERS_PER_SERVICE, RTM_MAX_BACKENDS_PER_SERVICE); the domains seeded from the
   * catalog, all three from the store's recent seconds refilled into the window on start and from
   * every delta made durable (WAL replay included).
   */
  keyCaps: KeyCaps;
  /** What each share of config.memoryBudget holds now, bytes (self-metrics), and the resident set. */
  memory: MemoryUse;
  /** The storage engine every durable component below lives in (config.store: DuckDB in the data dir, or ClickHouse). */
  engine: StoreEngine;
  /** Per-second records and their rollups (DuckDB). */
  store: MetricStore;
  /** Services, domains and products with their stable numeric ids (Azion configurations). */
  catalog: Catalog;
  /** The recent seconds in memory: what the real-time APIs read. */
  window: Window;
  /** Every published second <= this one is in the store (src/query/store-watermark.ts). */
  storedThrough(): number;
  /** No row of this node is waiting for the store: none pending, no append in progress. */
  storeSettled(): boolean;
  /**
   * Why ingest takes no new events now, or undefined: the store's own refusal (the ClickHouse
   * spool over its disk budget), else the store queue over its share of the memory budget. The
   * ingest route answers 503 for it; an import in process waits.
   */
  ingestRefusal(): string | undefined;
  /** The durable ingest path (WAL -> window -> store): the ingest route's sink. */
  ingest: IngestPipeline;
  /** The per-minute top paths and client addresses of acknowledged bodies, written through `ingest` once each minute is over. */
  topValues: TopValuesWriter;
  /** The ingest requests running now, which hold back publication (config.maxPublishHoldSeconds). */
  publicationHold: PublicationHold;
  /** Remembered Idempotency-Keys of POST /ingest; undefined when config.idempotencyWindowSeconds is 0. */
  idempotency: IdempotencyKeys | undefined;
  /** Worker threads parsing ingest bodies (config.ingestWorkers); undefined when 0. */
  parsePool: ParsePool | undefined;
  /** Usage metric entities (OpenDataDSL metric service). */
  usage: UsageStore;
  /** Batches self-metering entities (one per API request) into `usage`. */
  usageRecorder: UsageRecorder;
  /** OpenDataDSL objects (with VarMetricTimeSeries properties). */
  objects: ObjectStore;
  /** Alert rules (DuckDB table alert_rules). */
  alerts: AlertStore;
  /** rtmetrics' own Prometheus metrics (GET /rtm/v1/metrics). */
  metrics: { registry: Registry; self: SelfMetrics };
  /** When this process started (build info). */
  startedAt: Date;
  /** Stops background work and closes the store; idempotent. */
  close(): Promise<void>;
}

export interface MemoryUse {
  /** Bytes per share now: the window's count, rows and domains times their sizes, DuckDB's own figure. */
  use(): Promise<Readonly<Record<MemoryShare, number>>>;
  /** The process's resident set, bytes. */
  rss(): number;
  /** The pending share's use now (rows waiting for the store, the open minutes' top values), bytes: what ingest is refused past. */
  pendingBytes(): number;
}

export interface ServiceOptions {
  config: Config;
  clock: Clock;
  logger: Logger;
}

const HOUR_MS = 3_600_000;
/** Seconds after a minute's end before its top values are written: late events still join its part. */
const TOP_VALUES_GRACE_SECONDS = 10;

export async function createServices(opts: ServiceOptions): Promise<Services> {
  // Closers run in reverse order of creation: consumers stop before what they write to.
  const closers: (() => Promise<void>)[] = [];
  try {
    return await composeServices(opts, closers);
  } catch (err) {
    // A failed start (corrupt database, wal/ not a directory) closes what it opened, so the
    // database file is released and the process can report the error and exit cleanly.
    for (const close of closers.reverse()) await close().catch(() => undefined);
    throw err;
  }
}

async function composeServices({ config, clock, logger }: ServiceOptions, closers: (() => Promise<void>)[]): Promise<Services> {
  const engine = await openStoreEngine({
    store: config.store,
    nodeId: config.nodeId,
    dataDir: config.dataDir,
    clock,
    retention: config.retention,
    memoryBytes: config.duckdbMemoryBytes,
    rollupBufferRows: config.memoryBudget.rollupBufferRows,
    usageRetentionSeconds: config.retention.usageSeconds,
    // The machine has cores to spare for parse workers: the store writer's split takes one too.
    writeWorker: config.ingestWorkers > 0,
    logger,
  });
  closers.push(() => engine.close());
  const { tokens: tokenStore, metrics: store, catalog, usage, objects, alerts } = engine;
  const tokens = await createTokenVerifier({ config, logger, store: tokenStore });
  // The domains every service has already, so a restart does not reopen room under the cap. The
  // catalog keeps no datacenters or backends: those caps start from the window's refill and the
  // WAL replay (pipelineStoreOf, onApplied; decisions.md).
  const keyCaps = createKeyCaps(config.limits, () => catalog.domainCount?.() ?? 0);
  if (keyCaps.domain.on) for (const s of await catalog.services()) for (const d of s.domains) keyCaps.domain.note(s.service, d.domain);
  const maintenance = startStoreMaintenance({ store, clock, logger });
  closers.push(() => maintenance.stop());

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

  const publicationHold = createPublicationHold({ clock, aggregateDelaySeconds: config.aggregateDelaySeconds, maxHoldSeconds: config.maxPublishHoldSeconds });
  const window = createWindow({
    clock,
    aggregateDelaySeconds: config.aggregateDelaySeconds,
    windowSeconds: config.windowSeconds,
    maxBytes: config.windowMaxBytes,
    publishHold: publicationHold.bound,
  });
  // The pipeline writes through a watermark, so store-only queries know which seconds are in.
  const watermark = createStoreWatermark(pipelineStoreOf(store, keyCaps), {
    apply: (delta) => window.apply(delta),
    latestPublished: () => window.latestPublished(),
  });
  // Read before the WAL replay, which adds the keys of the entries the file may not have yet.
  let idempotency: IdempotencyKeys | undefined;
  if (config.idempotencyWindowSeconds > 0) {
    const file = await openIdempotencyFile(path.join(config.dataDir, 'idempotency'), logger);
    closers.push(() => file.close());
    idempotency = createIdempotencyKeys({
      clock,
      windowSeconds: config.idempotencyWindowSeconds,
      maxKeys: config.idempotencyMaxKeys,
      initial: file.initial,
      sink: file,
    });
  }
  /** Set once the WAL is replayed and the metrics exist: replayed deltas are not late arrivals. */
  let countLate: ((events: number) => void) | undefined = undefined;
  const ingest = await createIngestPipeline({
    config,
    clock,
    logger,
    store: watermark.store,
    window: watermark.window,
    aggregate: (batches, dicts) => aggregateToDelta(batches, dicts, { distributions: config.distributions }),
    dictionaries: createDictionaries(),
    ...(idempotency ? { keys: idempotency } : {}),
    onApplied: (delta) => {
      if (countLate) {
        const late = eventsAtOrBefore(delta, window.latestPublished());
        if (late > 0) countLate(late);
      }
      const sightings = sightingsOf(delta);
      // Replayed WAL entries the catalog may not have had time to register before a crash.
      noteDeltaKeys(delta, keyCaps);
      // Awaited by the commit before it answers: new names are listed once acknowledged.
      return catalog.observe(sightings).catch((err: unknown) => logger.error({ err }, 'catalog observe failed'));
    },
  });
  // Closed first: it writes the published seconds to the store.
  closers.push(() => ingest.close());
  // Before the pipeline closes: the open minutes' top values go into it.
  const topValues = startTopValuesWriter({ sink: ingest, clock, logger, graceSeconds: TOP_VALUES_GRACE_SECONDS });
  closers.push(() => topValues.close());
  const parsePool = config.ingestWorkers > 0 ? createParsePool({ workers: config.ingestWorkers, logger }) : undefined;
  if (parsePool) closers.push(() => parsePool.close());

  const pendingBytes = (): number => ingest.stats().pendingRows * ROLLUP_ROW_BYTES + topValues.size() * TOP_VALUE_BYTES;
  const memory: MemoryUse = {
    pendingBytes,
    async use() {
      return {
        window: window.stats().bytes,
        duckdb: (await engine.memoryUsed?.().catch(() => 0)) ?? 0,
        rollupBuffer: store.rollupBacklog() * ROLLUP_ROW_BYTES,
        // Rows waiting for the store, and the top values of the open minutes.
        pending: pendingBytes(),
        // The domain cap holds what the catalog holds; the datacenter and backend caps hold theirs alone.
        catalog: Math.max(catalog.domainCount?.() ?? 0, keyCaps.domain.size()) * CATALOG_DOMAIN_BYTES + (keyCaps.datacenter.size() + keyCaps.backend.size()) * CAP_VALUE_BYTES,
        runtime: heapAndExternal(),
      };
    },
    rss: () => process.memoryUsage.rss(),
  };
  const registry = new Registry();
  const self = createSelfMetrics(registry, {
    pipeline: ingest,
    window,
    store,
    usageRecorder,
    publicationHold,
    memory: { budget: config.memoryBudget, ...memory },
    ...(idempotency ? { idempotency } : {}),
  });
  countLate = (events) => self.lateAfterPublish.inc(events);

  let closed = false;
  return {
    config,
    clock,
    logger,
    tokens,
    tokenStore,
    serviceQuota: createServiceQuota(config.limits),
    keyCaps,
    memory,
    engine,
    store,
    catalog,
    window,
    storedThrough: watermark.storedThrough,
    storeSettled: () => ingest.stats().pendingRows === 0 && !watermark.appending(),
    ingestRefusal: () => engine.metrics.writeRefusal?.() ?? pendingShareRefusal(memory.pendingBytes(), config.memoryBudget.shares.pending),
    ingest,
    topValues,
    publicationHold,
    idempotency,
    parsePool,
    usage,
    usageRecorder,
    objects,
    alerts,
    metrics: { registry, self },
    startedAt: new Date(clock.now()),
    async close() {
      if (closed) return;
      closed = true;
      for (const close of closers.reverse()) await close();
    },
  };
}

/** The main thread's V8 heap in use plus the memory its objects hold outside it (buffers, typed arrays). */
function heapAndExternal(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

/**
 * The pipeline's view of a MetricStore (its write side on deltas, and what recovery reads). The
 * recent seconds recovery puts back in the window are noted by the key caps: the catalog keeps no
 * datacenters or backends, and what the window holds again must count under their caps.
 */
function pipelineStoreOf(store: MetricStore, keyCaps: KeyCaps): PipelineStore {
  return {
    append: (lsn, delta) => store.append({ lsn, delta }),
    appliedLsn: (seconds) => store.appliedLsn(seconds),
    readRecent: async (from) => {
      const recent = await store.readSeconds(from, Number.POSITIVE_INFINITY);
      noteDeltaKeys(recent, keyCaps);
      return recent;
    },
  };
}

const NO_VALUES = new Float64Array(0);

/**
 * The distinct (service, domain, product) of a delta's edge rows, with their earliest second, in
 * the shape Catalog.observe reads (names only: the vectors are not decoded). Hot path (every
 * applied delta): the triples are found by their string ids (TupleIndex), names are looked up
 * once per distinct triple.
 */
function sightingsOf(delta: Delta): RecordSet {
  const p = delta.edge;
  if (p.rows === 0) return { edge: [], origin: [], dimension: [] };
  const index = new TupleIndex(3);
  const triple = new Uint32Array(3);
  const earliest: number[] = [];
  const firstRow: number[] = [];
  for (let i = 0; i < p.rows; i++) {
    const at = i * 4;
    triple[0] = p.keys[at] as number;
    triple[1] = p.keys[at + 2] as number;
    triple[2] = p.keys[at + 3] as number;
    const slot = index.slotOf(0, triple, 0);
    const second = p.second[i] as number;
    if (slot === earliest.length) {
      earliest.push(second);
      firstRow.push(i);
    } else if (second < (earliest[slot] as number)) earliest[slot] = second;
  }
  const names = deltaStrings(delta);
  const name = (i: number, k: number): string => names[p.keys[i * 4 + k] as number] as string;
  const edge: EdgeRecord[] = firstRow.map((i, slot) => ({ second: earliest[slot] as number, service: name(i, 0), datacenter: name(i, 1), domain: name(i, 2), product: name(i, 3), values: NO_VALUES }));
  return { edge, origin: [], dimension: [] };
}
