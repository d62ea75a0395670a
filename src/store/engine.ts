/**
 * The storage engine seam: every durable component the runtime needs, opened by one factory, so
 * main.ts, the tests and the CLI never name an engine's files or tables. DuckDB (embedded, one
 * file in the data dir) is the default; ClickHouse (./clickhouse/engine.ts) is the other; the
 * factory that picks one is ./open-engine.ts.
 */
import type { Logger } from 'pino';
import type { Clock } from '../model/clock.ts';
import type { Retention } from '../config/config.ts';
import type { AlertStore } from './alert-store.ts';
import type { Catalog } from './catalog.ts';
import type { ObjectStore } from './object-store.ts';
import type { MetricStore, Tier } from './store.ts';
import type { TokenStore } from './token-store.ts';
import type { UsageStore } from './usage-store.ts';

export interface StoreEngineOptions {
  dataDir: string;
  clock: Clock;
  retention: Retention;
  /** The engine's own memory limit, bytes (DuckDB's memory_limit). */
  memoryBytes: number;
  /** Rows the rollup tiers buffer before they flush (the rollup buffer's share of the memory budget). Default: the engine's own. */
  rollupBufferRows?: number;
  /** Usage entities older than this are expired. */
  usageRetentionSeconds: number;
  /** Do the store writes' CPU work (cutting 1 s blocks) on a worker thread. Default false. */
  writeWorker?: boolean;
  /** Where background failures are reported. */
  logger?: Pick<Logger, 'error'>;
}

/** What every engine's metric store reports of its pending work (self-metrics, memory use). */
export interface StoreBacklog {
  /** Rows held in memory for the rollup tiers, not yet written (0 for an engine that writes them at once). */
  rollupBacklog(): number;
  /** Rollup buckets (DuckDB) or partitions (ClickHouse) per tier waiting for compaction. */
  compactionBacklog(): Record<Tier, number>;
  /** Writes accepted and not yet in a remote store (ClickHouse); absent for an embedded engine. */
  delivery?(): StoreDeliveryStats;
  /**
   * Why the store takes no new events now, or undefined: ClickHouse's spool over its disk budget
   * (RTM_CLICKHOUSE_SPOOL_MAX_BYTES). Ingest refuses new events with 503 meanwhile; the writes
   * acknowledged already still go to the spool. Absent for an embedded engine.
   */
  writeRefusal?(): string | undefined;
}

/** The delivery of writes to a remote store, for self-metrics. */
export interface StoreDeliveryStats {
  /** Writes accepted (appended, in the spool) and not yet in the store. */
  undelivered: number;
  /** Seconds since the oldest of them was accepted; 0 when none. */
  lagSeconds: number;
  /** Files and bytes in the node's spool of those writes. */
  spoolFiles: number;
  spoolBytes: number;
  /** The spool's disk budget, bytes (Infinity: none). */
  spoolMaxBytes: number;
  /** Insert attempts that failed and were tried again since start. */
  retries: number;
}

export interface StoreEngine {
  /** Which engine and where (for logs and /readyz), e.g. `duckdb:/data/rtmetrics.duckdb`. */
  readonly describe: string;
  metrics: MetricStore & StoreBacklog;
  tokens: TokenStore;
  catalog: Catalog;
  usage: UsageStore;
  objects: ObjectStore;
  alerts: AlertStore;
  /** Bytes the engine holds in memory now (DuckDB: its buffer manager), for self-metrics; absent when unknown. */
  memoryUsed?(): Promise<number>;
  /** Resolves when the engine answers a trivial query (readiness). */
  ping(): Promise<void>;
  /**
   * Why the engine cannot go on without a restart of the process (liveness), or undefined: a
   * store that only fails now and then is not dead, one that has invalidated itself is.
   */
  fatal(): Promise<string | undefined>;
  /** Closes every component, then the engine itself; idempotent. */
  close(): Promise<void>;
}
