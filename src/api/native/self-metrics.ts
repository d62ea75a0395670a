/**
 * rtmetrics' own Prometheus metrics (prom-client), on a registry the composition root passes in.
 * Gauges read each component's stats() when scraped, so nothing is added to the hot paths; the
 * two counters are incremented once per request.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { MemoryBudget, MemoryShare } from '../../config/memory-budget.ts';
import type { WalStats } from '../../ingest/wal/wal.ts';
import type { StoreDeliveryStats } from '../../store/engine.ts';
import type { Tier } from '../../store/store.ts';

export interface SelfMetricSources {
  pipeline: { stats(): { appliedLsn: number; pendingSeconds: number; pendingRows: number; walSegments: number; wal?: WalStats } };
  window: { stats(): { seconds: number; edgeKeys: number; originKeys: number; bytes: number } };
  /** The store's backlogs (absent for an engine without them); `delivery` of a remote store (ClickHouse). */
  store?: { rollupBacklog(): number; compactionBacklog(): Record<Tier, number>; delivery?(): StoreDeliveryStats };
  usageRecorder: { dropped(): number };
  /** Ingest requests holding back publication (src/ingest/publication-hold.ts). */
  publicationHold?: { stats(): { holding: number; expired: number } };
  /** Remembered Idempotency-Keys (absent when they are off). */
  idempotency?: { size(): number; evicted(): number };
  /** The memory budget, what each share holds now and the resident set (src/config/memory-budget.ts). */
  memory?: { budget: MemoryBudget; use(): Promise<Readonly<Record<MemoryShare, number>>>; rss(): number };
}

export interface SelfMetrics {
  /** Ingested lines by outcome (accepted / rejected; folded_other: accepted lines with a value past a key cap, each once). */
  ingestLines: Counter<'outcome'>;
  /** Events acknowledged for seconds already published (a ts/{t} cursor past them misses them). */
  lateAfterPublish: Counter;
  /** Ingest requests answered again from a remembered Idempotency-Key (not counted again). */
  idempotentReplays: Counter;
  /** API request duration in seconds by dialect and status class. */
  requestSeconds: Histogram<'dialect' | 'status'>;
  /** Uploads cut off with 408: over RTM_REQUEST_TIMEOUT (`timeout`) or below RTM_MIN_BODY_RATE (`rate`). */
  slowRequestsAborted: Counter<'reason'>;
  /** GET /rtm/v1/stream: open streams, events sent, streams ended by reason. */
  streams: { open: Gauge; events: Counter; closed: Counter<'reason'> };
  /** Alert rules: evaluations, rules firing, webhook notifications by outcome, retries. */
  alerts: { evaluations: Counter; firing: Gauge; notifications: Counter<'outcome'>; retries: Counter };
}

export function createSelfMetrics(registry: Registry, sources: SelfMetricSources): SelfMetrics {
  const registers = [registry];
  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read());
      },
    });
  };
  gauge('rtm_wal_applied_lsn', 'Highest WAL sequence number applied to the window and the store queue', () => sources.pipeline.stats().appliedLsn);
  gauge('rtm_pipeline_pending_seconds', 'Seconds with deltas not yet written to the store', () => sources.pipeline.stats().pendingSeconds);
  gauge('rtm_pipeline_pending_rows', 'Rows of those deltas (a key may count more than once)', () => sources.pipeline.stats().pendingRows);
  gauge('rtm_wal_segments', 'WAL segment files on disk', () => sources.pipeline.stats().walSegments);
  const walStat = (key: keyof WalStats) => (): number => sources.pipeline.stats().wal?.[key] ?? 0;
  gauge('rtm_wal_corrupt_regions_total', 'Corrupt WAL regions skipped on start (bad checksum with valid entries after it, bad segment header)', walStat('corruptRegions'));
  gauge('rtm_wal_corrupt_bytes_skipped_total', 'Bytes of corrupt WAL regions skipped on start', walStat('corruptBytesSkipped'));
  gauge('rtm_wal_corrupt_entries_skipped_total', 'WAL entries lost to corruption on start (lsn gaps, undecodable entries)', walStat('corruptEntriesSkipped'));
  gauge('rtm_window_seconds', 'Seconds held in the in-memory window', () => sources.window.stats().seconds);
  gauge('rtm_window_edge_keys', 'Edge key-seconds held in the window', () => sources.window.stats().edgeKeys);
  gauge('rtm_window_bytes', 'Approximate bytes held by the window', () => sources.window.stats().bytes);
  gauge('rtm_usage_entities_dropped_total', 'Self-metering entities dropped because the store was behind', () => sources.usageRecorder.dropped());
  const { store, idempotency, publicationHold, memory } = sources;
  if (memory) {
    new Gauge({
      name: 'rtm_memory_budget_bytes',
      help: 'The memory budget (share="total", RTM_MEMORY_BUDGET_BYTES) and each share of it, bytes',
      labelNames: ['share'],
      registers,
      collect() {
        this.set({ share: 'total' }, memory.budget.totalBytes);
        for (const [share, bytes] of Object.entries(memory.budget.shares)) this.set({ share }, bytes);
      },
    });
    new Gauge({
      name: 'rtm_memory_used_bytes',
      help: 'What each share of the memory budget holds now, bytes (window, duckdb, rollupBuffer, pending, catalog, runtime; estimates but duckdb and runtime)',
      labelNames: ['share'],
      registers,
      async collect() {
        for (const [share, bytes] of Object.entries(await memory.use())) this.set({ share }, bytes);
      },
    });
    gauge('rtm_process_resident_bytes', 'Resident set of the process, bytes: what the memory budget bounds (/readyz: over budget past it by 10%)', () => memory.rss());
  }
  if (publicationHold) {
    gauge('rtm_publish_holding_requests', 'Ingest requests running now that hold back the publication of their seconds', () => publicationHold.stats().holding);
    gauge(
      'rtm_publish_hold_expired_total',
      'Ingest requests that ran longer than RTM_MAX_PUBLISH_HOLD_SECONDS, so publication went on without them',
      () => publicationHold.stats().expired,
    );
  }
  if (idempotency) {
    gauge('rtm_ingest_idempotency_keys', 'Idempotency-Keys remembered (RTM_IDEMPOTENCY_WINDOW_SECONDS)', () => idempotency.size());
    gauge('rtm_ingest_idempotency_keys_evicted_total', 'Idempotency-Keys forgotten before their window ended (RTM_IDEMPOTENCY_MAX_KEYS reached)', () => idempotency.evicted());
  }
  if (store) {
    gauge('rtm_store_rollup_backlog', 'Rows buffered for the rollup tiers, not yet flushed', () => store.rollupBacklog());
    new Gauge({
      name: 'rtm_store_compaction_backlog',
      help: 'Buckets with rows not yet compacted, by tier',
      labelNames: ['tier'],
      registers,
      collect() {
        for (const [tier, pending] of Object.entries(store.compactionBacklog())) this.set({ tier }, pending);
      },
    });
    const { delivery } = store;
    if (delivery !== undefined) {
      const stat = (key: keyof StoreDeliveryStats) => (): number => delivery.call(store)[key];
      gauge('rtm_store_undelivered_writes', 'Store writes accepted (in the spool) and not yet in ClickHouse', stat('undelivered'));
      gauge('rtm_store_flush_lag_seconds', 'Age of the oldest store write not yet in ClickHouse, seconds (0 when none)', stat('lagSeconds'));
      gauge('rtm_store_spool_files', 'Files in the node\'s ClickHouse write spool', stat('spoolFiles'));
      gauge('rtm_store_spool_bytes', 'Bytes in the node\'s ClickHouse write spool', stat('spoolBytes'));
      gauge('rtm_store_spool_max_bytes', 'Disk budget of that spool, bytes: past it ingest answers 503 (RTM_CLICKHOUSE_SPOOL_MAX_BYTES)', stat('spoolMaxBytes'));
      // A counter (promtool: no _total on a gauge) fed from the store's own count when scraped.
      let counted = 0;
      new Counter({
        name: 'rtm_store_insert_retries_total',
        help: 'ClickHouse insert attempts that failed and were tried again since start',
        registers,
        collect() {
          const retries = delivery.call(store).retries;
          if (retries > counted) this.inc(retries - counted);
          counted = Math.max(counted, retries);
        },
      });
    }
  }
  return {
    slowRequestsAborted: new Counter({
      name: 'rtm_http_slow_requests_aborted_total',
      help: 'Uploads cut off with 408 (reason: timeout = RTM_REQUEST_TIMEOUT, rate = below RTM_MIN_BODY_RATE)',
      labelNames: ['reason'],
      registers,
    }),
    streams: {
      open: new Gauge({ name: 'rtm_streams_open', help: 'Open /rtm/v1/stream connections', registers }),
      events: new Counter({ name: 'rtm_stream_events_total', help: 'Seconds sent on /rtm/v1/stream', registers }),
      closed: new Counter({
        name: 'rtm_streams_closed_total',
        help: 'Streams ended, by reason (client_closed, slow_client, resume_too_old, server_closing, read_failed)',
        labelNames: ['reason'],
        registers,
      }),
    },
    alerts: {
      evaluations: new Counter({ name: 'rtm_alert_evaluations_total', help: 'Alert rule evaluations', registers }),
      firing: new Gauge({ name: 'rtm_alerts_firing', help: 'Alert rules firing now', registers }),
      notifications: new Counter({ name: 'rtm_alert_notifications_total', help: 'Alert webhook notifications by outcome (delivered, failed after every retry)', labelNames: ['outcome'], registers }),
      retries: new Counter({ name: 'rtm_alert_webhook_retries_total', help: 'Alert webhook attempts retried after a failure', registers }),
    },
    lateAfterPublish: new Counter({
      name: 'rtm_ingest_late_after_publish_total',
      help: 'Events acknowledged for seconds already published: in the store and rollups, but missed by a ts/{t} cursor already past them',
      registers,
    }),
    idempotentReplays: new Counter({ name: 'rtm_ingest_idempotent_replays_total', help: 'Ingest requests answered again from a remembered Idempotency-Key, not counted again', registers }),
    ingestLines: new Counter({ name: 'rtm_ingest_lines_total', help: 'Ingested NDJSON lines by outcome', labelNames: ['outcome'], registers }),
    requestSeconds: new Histogram({
      name: 'rtm_http_request_duration_seconds',
      help: 'API request duration by dialect and status class',
      labelNames: ['dialect', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers,
    }),
  };
}
