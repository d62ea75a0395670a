/**
 * The only module that reads the environment. Every option documents its default; the rest of
 * the code receives a frozen Config.
 */
import os from 'node:os';
import path from 'node:path';
import type { Tier } from '../model/tier.ts';
import { DEFAULT_MEMORY_BUDGET_BYTES, memoryBudget, parseWorkersWithin, type MemoryBudget } from './memory-budget.ts';
import { nodeIdFrom, storeConfigFrom, type StoreConfig } from './store-config.ts';

export type { ClickHouseConfig, StoreConfig } from './store-config.ts';

export interface Limits {
  /** Largest accepted request body, bytes (after gzip decoding). Default 64 MiB. `RTM_MAX_BODY_BYTES`. */
  maxBodyBytes: number;
  /** Longest accepted NDJSON line, bytes. Default 64 KiB. `RTM_MAX_LINE_BYTES`. */
  maxLineBytes: number;
  /** Most events (lines) in one ingest request. Default 1,000,000. `RTM_MAX_EVENTS_PER_REQUEST`. */
  maxEventsPerRequest: number;
  /** Requests per token per second. Default 1000; 0 turns it off. `RTM_RATE_LIMIT_PER_SECOND`. */
  requestsPerTokenPerSecond: number;
  /** Concurrent open ingest or query streams per token. Default 64; 0 turns it off. `RTM_MAX_CONCURRENT_PER_TOKEN`. */
  concurrentStreamsPerToken: number;
  /** Seconds an event's timestamp may be ahead of the server clock. Default 300. `RTM_MAX_FUTURE_SECONDS`. */
  maxFutureSeconds: number;
  /** Distinct services one token may write. Default 10,000; 0 turns it off. `RTM_MAX_SERVICES_PER_TOKEN`. */
  servicesPerToken: number;
  /**
   * Distinct domains one service may have, for its lifetime (the catalog's domains count after a
   * restart); a line whose domain would be one more is accepted and counted under the domain
   * `__other__`, with a warning naming the cap. Default 10,000; 0 turns it off. `RTM_MAX_DOMAINS_PER_SERVICE`.
   */
  domainsPerService: number;
  /**
   * Distinct domains all services together may have, for the process's lifetime (the catalog's
   * domains count after a restart, and on ClickHouse every node's): the catalog's share of the
   * memory budget. A line with a new domain past it is accepted and counted under its service's
   * domain `__other__`, with a warning naming the budget. Default: memoryBudget.maxHeldDomains
   * (the catalog share over CATALOG_DOMAIN_BYTES: 104,857 of the default 4 GiB); 0 turns it off.
   * `RTM_MAX_DOMAINS`.
   */
  maxDomains: number;
  /**
   * Distinct datacenters (POPs) one service may have, as domains are capped (counted under the
   * datacenter `__other__` past it); after a restart those of the window's recent seconds and of
   * the WAL replay count (the catalog keeps no datacenters). Default 1,000; 0 turns it off.
   * `RTM_MAX_DATACENTERS_PER_SERVICE`.
   */
  datacentersPerService: number;
  /**
   * Distinct backends (of origin fetches) one service may have, as datacenters are capped
   * (counted under the backend `__other__` past it). Default 1,000; 0 turns it off.
   * `RTM_MAX_BACKENDS_PER_SERVICE`.
   */
  backendsPerService: number;
  /**
   * Seconds a client has to send a whole request body, counted from the request's start; beyond
   * it the server answers 408 RTM_ERR_REQUEST_TIMEOUT and closes the connection. Default 300;
   * 0 turns it off. `RTM_REQUEST_TIMEOUT`.
   */
  requestTimeoutSeconds: number;
  /** Seconds a client has to send the request line and headers (Node answers 408). Default 30. `RTM_HEADERS_TIMEOUT`. */
  headersTimeoutSeconds: number;
  /**
   * Slowest average rate, bytes per second, at which a request body may arrive once the grace
   * period has passed (as Kestrel's MinRequestBodyDataRate); a slower upload gets 408 and its
   * connection closed. Default 240; 0 turns it off. `RTM_MIN_BODY_RATE`.
   */
  minBodyBytesPerSecond: number;
  /** Seconds at the start of a body during which the minimum rate is not enforced. Default 5. `RTM_MIN_BODY_RATE_GRACE`. */
  bodyRateGraceSeconds: number;
  /** ODSL objects one token may store. Default 1000; 0 turns it off. `RTM_MAX_OBJECTS_PER_TOKEN`. */
  objectsPerToken: number;
  /** Bytes (JSON text) of the ODSL objects one token may store. Default 64 MiB; 0 turns it off. `RTM_MAX_OBJECT_BYTES_PER_TOKEN`. */
  objectBytesPerToken: number;
  /**
   * Usage entities one token may have stored through POST /api/metric/v1 (its own RTMRequest
   * metering does not count). Default 1,000,000; 0 turns it off. `RTM_MAX_USAGE_ENTITIES_PER_TOKEN`.
   */
  usageEntitiesPerToken: number;
  /** Bytes of those entities (their strings, 8 per number). Default 256 MiB; 0 turns it off. `RTM_MAX_USAGE_BYTES_PER_TOKEN`. */
  usageBytesPerToken: number;
  /**
   * Usage entities per second one token may POST, sustained; a burst of 10 seconds' worth is
   * allowed (and one request larger than that when the token has been idle). Default 1000; 0
   * turns it off. `RTM_USAGE_ENTITIES_PER_SECOND`.
   */
  usageEntitiesPerSecond: number;
  /**
   * Longest time range, seconds, one query may read from each store tier (a longer one is a 400
   * RTM_ERR_QUERY_RANGE_TOO_LARGE that names the tier and the limit). Defaults (DEFAULT_MAX_QUERY_RANGE_SECONDS):
   * 1 s: 3600 (1 h; also the Fastly `ts` lookback and, capped at 600, native `live` seconds), `RTM_MAX_QUERY_RANGE_1S`;
   * 1 m: 31 days, `RTM_MAX_QUERY_RANGE_1M`; 1 h: 400 days, `RTM_MAX_QUERY_RANGE_1H`;
   * 1 d: no limit (Infinity, like its retention: a day row per key is cheap and each dialect's
   * bucket cap still bounds the answer), `RTM_MAX_QUERY_RANGE_1D`. Each must be above 0; `Infinity` is no limit.
   */
  maxQueryRangeSeconds: Readonly<Record<Tier, number>>;
  /** Open `/rtm/v1/stream` connections per token. Default 8. `RTM_MAX_STREAMS_PER_TOKEN`. */
  streamsPerToken: number;
  /** Unsent bytes one stream may hold before its client is dropped as too slow. Default 1 MiB. `RTM_STREAM_MAX_BUFFER_BYTES`. */
  streamMaxBufferedBytes: number;
}

export interface Retention {
  /** Seconds to keep 1 s records. Default 7 days. `RTM_RETENTION_1S`. */
  secondSeconds: number;
  /** Seconds to keep 1 min rollups. Default 90 days. `RTM_RETENTION_1M`. */
  minuteSeconds: number;
  /** Seconds to keep 1 h rollups. Default 13 months (395 days). `RTM_RETENTION_1H`. */
  hourSeconds: number;
  /** Seconds to keep 1 d rollups. Default forever (Infinity). `RTM_RETENTION_1D`. */
  daySeconds: number;
  /** Seconds to keep usage metric entities. Default 13 months. `RTM_RETENTION_USAGE`. */
  usageSeconds: number;
}

export interface Config {
  /** Listen address. Default 127.0.0.1. `HOST`. */
  host: string;
  /** Listen port. Default 8080. `PORT`. */
  port: number;
  /** Where the store, the WAL and the generated admin token live. Default ./data. `RTM_DATA_DIR`. */
  dataDir: string;
  /** Where the metrics live: `duckdb` in the data dir (default) or `clickhouse`. `RTM_STORE`, `RTM_CLICKHOUSE_*` (store-config.ts). */
  store: StoreConfig;
  /** This node's name in a shared store. Default: host name + a digest of the data dir. `RTM_NODE_ID`. */
  nodeId: string;
  /** Token with every permission on every service; generated and kept in dataDir when unset. `RTM_ADMIN_TOKEN`. */
  adminToken: string | undefined;
  /** Seconds to wait after a second ends before publishing it. Default 1. `RTM_AGGREGATE_DELAY`. */
  aggregateDelaySeconds: number;
  /**
   * Longest time, seconds, an ingest request still running holds back the publication of the
   * seconds its events may be for (a second is published after AggregateDelay and once no
   * request that arrived before that is still running, or has run this long). Default 10; 0
   * publishes on the clock alone. `RTM_MAX_PUBLISH_HOLD_SECONDS`.
   */
  maxPublishHoldSeconds: number;
  /**
   * Seconds an `Idempotency-Key` of `POST /ingest` is remembered after its request was
   * acknowledged: a retry with the same key and body in that time is answered again without
   * being counted again. Default 86,400 (24 h); 0 ignores the header. `RTM_IDEMPOTENCY_WINDOW_SECONDS`.
   */
  idempotencyWindowSeconds: number;
  /**
   * Most Idempotency-Keys remembered (about 320 bytes of memory each, 80 MB at the default); beyond it the oldest are
   * forgotten before their window ends (counted in rtm_ingest_idempotency_keys_evicted_total).
   * Default 250,000. `RTM_IDEMPOTENCY_MAX_KEYS`.
   */
  idempotencyMaxKeys: number;
  /** Seconds of per-second records kept in memory. Default 600. `RTM_WINDOW_SECONDS`. */
  windowSeconds: number;
  /**
   * Memory budget of that window, bytes; beyond it the oldest seconds are served from the store
   * instead. Default: the window's share of memoryBudget (1/4: 1 GiB of the default 4 GiB).
   * `RTM_WINDOW_MAX_BYTES`.
   */
  windowMaxBytes: number;
  /**
   * The one memory budget of the process, bytes, and its shares (src/config/memory-budget.ts):
   * the window, DuckDB, the rollup buffer, the store queue, the catalog, the rest for the runtime.
   * /readyz answers "over budget" when the resident set exceeds it by more than 10%.
   * Default 4 GiB. `RTM_MEMORY_BUDGET_BYTES`.
   */
  memoryBudget: MemoryBudget;
  /** IANA zone for Azion local dates and calendars. Default UTC. `RTM_TZ`. */
  timeZone: string;
  /** `environment` recorded on self-metering entities. Default `production`. `RTM_ENVIRONMENT`. */
  environment: string;
  /** fsync the WAL before acknowledging. Default true. `RTM_WAL_FSYNC` (`0` turns it off, for benchmarks only). */
  walFsync: boolean;
  /**
   * Whether a path's query string is kept when paths are counted as top values (model/top-values.ts
   * normalizePath). Default false: dropped, so `/a?x=1` and `/a?x=2` count as `/a` (the usual
   * question, and a bound on distinct values). `RTM_PATH_QUERY_STRING=keep|drop`.
   */
  keepPathQuery: boolean;
  /**
   * Whether paths and client addresses are counted as top values (per body, then per minute; about
   * a third of the ingest CPU on a stream that carries both: docs/benchmarks.md). Default true.
   * `RTM_TOP_VALUES=on|off`.
   */
  topValues: boolean;
  /**
   * Whether edge and origin rows record their distributions: the percentile buckets and the
   * unique-client cells (about 10% and 10% of the ingest CPU: docs/benchmarks.md). Off, the
   * percentile fields are absent or null and `unique_clients` is 0. Default true.
   * `RTM_DISTRIBUTIONS=on|off`.
   */
  distributions: boolean;
  /**
   * Worker threads that parse NDJSON ingest bodies (64 KiB and larger), so the main thread only
   * aggregates and commits. Default: cores - 1 (0 on one core), and no more than the memory
   * budget's runtime share has room for (memory-budget.ts parseWorkersWithin: 0 below ~900 MiB,
   * 1 at 1 GiB); 0 parses on the main thread.
   * `RTM_INGEST_WORKERS`.
   */
  ingestWorkers: number;
  /**
   * DuckDB's memory limit, bytes (its buffer pool, caches and operators; it spills to disk past
   * it). Default: DuckDB's share of memoryBudget (1/4: 1 GiB of the default 4 GiB; at least
   * 64 MiB): DuckDB's own default is 80% of RAM, which let one process grow to GBs.
   * `RTM_DUCKDB_MEMORY_BYTES`.
   */
  duckdbMemoryBytes: number;
  /** Seconds between heartbeat comments on an idle `/rtm/v1/stream`. Default 15. `RTM_STREAM_HEARTBEAT_SECONDS`. */
  streamHeartbeatSeconds: number;
  /**
   * Longest wait, seconds, of a Fastly `ts/{t}` request for a second after t to be published
   * (rt.fastly.com long-polls). Default 30; 0 answers at once. `RTM_FASTLY_LONG_POLL_SECONDS`.
   */
  fastlyLongPollSeconds: number;
  /**
   * Alert webhook delivery: attempts per notification (default 5, `RTM_ALERT_WEBHOOK_ATTEMPTS`),
   * the first retry's delay in ms, doubled for each next one (default 500,
   * `RTM_ALERT_WEBHOOK_BACKOFF_MS`), and the per-attempt timeout in ms (default 5000).
   */
  /** Alert webhook delivery; `allowPrivate`: to loopback and private addresses too (default false, `RTM_ALERT_WEBHOOK_ALLOW_PRIVATE=1`). */
  alertWebhook: { attempts: number; baseDelayMs: number; timeoutMs: number; allowPrivate: boolean };
  /** pino level. Default info. `LOG_LEVEL`. */
  logLevel: string;
  limits: Limits;
  retention: Retention;
}

const DAY = 86_400;

/** Default longest query range per tier, seconds (see Limits.maxQueryRangeSeconds). */
export const DEFAULT_MAX_QUERY_RANGE_SECONDS: Readonly<Record<Tier, number>> = Object.freeze({
  '1s': 3600,
  '1m': 31 * DAY,
  '1h': 400 * DAY,
  '1d': Number.POSITIVE_INFINITY,
});

type Env = Readonly<Record<string, string | undefined>>;

function intFrom(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'Infinity' || raw === 'forever') return Number.POSITIVE_INFINITY;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  return value;
}

/** Like intFrom, but 0 is refused: a zero range would refuse every query (Infinity is "no limit"). */
function positiveFrom(env: Env, name: string, fallback: number): number {
  const value = intFrom(env, name, fallback);
  if (value === 0) throw new Error(`${name} must be above 0 (Infinity for no limit), got "${env[name]}"`);
  return value;
}

function onOffFrom(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw !== 'on' && raw !== 'off') throw new Error(`${name} must be on or off, got "${raw}"`);
  return raw === 'on';
}

function pathQueryFrom(env: Env): boolean {
  const raw = env['RTM_PATH_QUERY_STRING'] ?? 'drop';
  if (raw !== 'drop' && raw !== 'keep' && raw !== '') throw new Error(`RTM_PATH_QUERY_STRING must be drop or keep, got "${raw}"`);
  return raw === 'keep';
}

/** RTM_MEMORY_BUDGET_BYTES: a real byte count (its shares are sizes handed to DuckDB and the window). */
function budgetFrom(env: Env): number {
  const value = intFrom(env, 'RTM_MEMORY_BUDGET_BYTES', DEFAULT_MEMORY_BUDGET_BYTES);
  if (!Number.isFinite(value) || value < 128 * 1024 ** 2) throw new Error(`RTM_MEMORY_BUDGET_BYTES must be a byte count of at least 128 MiB (134217728), got "${env['RTM_MEMORY_BUDGET_BYTES']}"`);
  return value;
}

/**
 * The delay real-time reads publish with (Fastly's AggregateDelay): config.aggregateDelaySeconds,
 * plus on ClickHouse the time a second takes to reach the store from every node
 * (RTM_CLICKHOUSE_READ_LAG), since a ClickHouse node answers from the store (docs/cluster.md).
 */
export const realtimeDelaySeconds = (config: Pick<Config, 'aggregateDelaySeconds' | 'store'>): number =>
  config.aggregateDelaySeconds + (config.store.engine === 'clickhouse' ? config.store.clickhouse.readLagSeconds : 0);

export function loadConfig(env: Env = process.env): Config {
  const dataDir = path.resolve(env['RTM_DATA_DIR'] ?? './data');
  const explicit = (name: string): number | undefined => (env[name] === undefined || env[name] === '' ? undefined : intFrom(env, name, 0));
  const budget = memoryBudget(budgetFrom(env), {
    windowBytes: explicit('RTM_WINDOW_MAX_BYTES'),
    duckdbBytes: explicit('RTM_DUCKDB_MEMORY_BYTES'),
  });
  return Object.freeze({
    host: env['HOST'] ?? '127.0.0.1',
    port: intFrom(env, 'PORT', 8080),
    dataDir,
    store: storeConfigFrom(env),
    nodeId: nodeIdFrom(env, dataDir),
    adminToken: env['RTM_ADMIN_TOKEN'] || undefined,
    aggregateDelaySeconds: intFrom(env, 'RTM_AGGREGATE_DELAY', 1),
    maxPublishHoldSeconds: intFrom(env, 'RTM_MAX_PUBLISH_HOLD_SECONDS', 10),
    idempotencyWindowSeconds: intFrom(env, 'RTM_IDEMPOTENCY_WINDOW_SECONDS', DAY),
    idempotencyMaxKeys: intFrom(env, 'RTM_IDEMPOTENCY_MAX_KEYS', 250_000),
    windowSeconds: intFrom(env, 'RTM_WINDOW_SECONDS', 600),
    windowMaxBytes: budget.shares.window,
    memoryBudget: budget,
    timeZone: env['RTM_TZ'] ?? 'UTC',
    environment: env['RTM_ENVIRONMENT'] ?? 'production',
    walFsync: env['RTM_WAL_FSYNC'] !== '0',
    keepPathQuery: pathQueryFrom(env),
    topValues: onOffFrom(env, 'RTM_TOP_VALUES', true),
    distributions: onOffFrom(env, 'RTM_DISTRIBUTIONS', true),
    ingestWorkers: Math.min(64, Math.floor(intFrom(env, 'RTM_INGEST_WORKERS', Math.min(parseWorkersWithin(budget), Math.max(0, os.availableParallelism() - 1))))),
    duckdbMemoryBytes: budget.shares.duckdb,
    streamHeartbeatSeconds: positiveFrom(env, 'RTM_STREAM_HEARTBEAT_SECONDS', 15),
    fastlyLongPollSeconds: intFrom(env, 'RTM_FASTLY_LONG_POLL_SECONDS', 30),
    alertWebhook: Object.freeze({
      attempts: positiveFrom(env, 'RTM_ALERT_WEBHOOK_ATTEMPTS', 5),
      baseDelayMs: intFrom(env, 'RTM_ALERT_WEBHOOK_BACKOFF_MS', 500),
      timeoutMs: 5000,
      allowPrivate: env['RTM_ALERT_WEBHOOK_ALLOW_PRIVATE'] === '1',
    }),
    logLevel: env['LOG_LEVEL'] ?? 'info',
    limits: Object.freeze({
      maxBodyBytes: intFrom(env, 'RTM_MAX_BODY_BYTES', 64 * 1024 * 1024),
      maxLineBytes: intFrom(env, 'RTM_MAX_LINE_BYTES', 64 * 1024),
      maxEventsPerRequest: intFrom(env, 'RTM_MAX_EVENTS_PER_REQUEST', 1_000_000),
      requestsPerTokenPerSecond: intFrom(env, 'RTM_RATE_LIMIT_PER_SECOND', 1000),
      concurrentStreamsPerToken: intFrom(env, 'RTM_MAX_CONCURRENT_PER_TOKEN', 64),
      servicesPerToken: intFrom(env, 'RTM_MAX_SERVICES_PER_TOKEN', 10_000),
      domainsPerService: intFrom(env, 'RTM_MAX_DOMAINS_PER_SERVICE', 10_000),
      maxDomains: intFrom(env, 'RTM_MAX_DOMAINS', budget.maxHeldDomains),
      datacentersPerService: intFrom(env, 'RTM_MAX_DATACENTERS_PER_SERVICE', 1000),
      backendsPerService: intFrom(env, 'RTM_MAX_BACKENDS_PER_SERVICE', 1000),
      requestTimeoutSeconds: intFrom(env, 'RTM_REQUEST_TIMEOUT', 300),
      headersTimeoutSeconds: positiveFrom(env, 'RTM_HEADERS_TIMEOUT', 30),
      minBodyBytesPerSecond: intFrom(env, 'RTM_MIN_BODY_RATE', 240),
      bodyRateGraceSeconds: intFrom(env, 'RTM_MIN_BODY_RATE_GRACE', 5),
      objectsPerToken: intFrom(env, 'RTM_MAX_OBJECTS_PER_TOKEN', 1000),
      objectBytesPerToken: intFrom(env, 'RTM_MAX_OBJECT_BYTES_PER_TOKEN', 64 * 1024 * 1024),
      usageEntitiesPerToken: intFrom(env, 'RTM_MAX_USAGE_ENTITIES_PER_TOKEN', 1_000_000),
      usageBytesPerToken: intFrom(env, 'RTM_MAX_USAGE_BYTES_PER_TOKEN', 256 * 1024 * 1024),
      usageEntitiesPerSecond: intFrom(env, 'RTM_USAGE_ENTITIES_PER_SECOND', 1000),
      streamsPerToken: positiveFrom(env, 'RTM_MAX_STREAMS_PER_TOKEN', 8),
      streamMaxBufferedBytes: positiveFrom(env, 'RTM_STREAM_MAX_BUFFER_BYTES', 1024 * 1024),
      maxFutureSeconds: intFrom(env, 'RTM_MAX_FUTURE_SECONDS', 300),
      maxQueryRangeSeconds: Object.freeze({
        '1s': positiveFrom(env, 'RTM_MAX_QUERY_RANGE_1S', DEFAULT_MAX_QUERY_RANGE_SECONDS['1s']),
        '1m': positiveFrom(env, 'RTM_MAX_QUERY_RANGE_1M', DEFAULT_MAX_QUERY_RANGE_SECONDS['1m']),
        '1h': positiveFrom(env, 'RTM_MAX_QUERY_RANGE_1H', DEFAULT_MAX_QUERY_RANGE_SECONDS['1h']),
        '1d': positiveFrom(env, 'RTM_MAX_QUERY_RANGE_1D', DEFAULT_MAX_QUERY_RANGE_SECONDS['1d']),
      }),
    }),
    retention: Object.freeze({
      secondSeconds: intFrom(env, 'RTM_RETENTION_1S', 7 * DAY),
      minuteSeconds: intFrom(env, 'RTM_RETENTION_1M', 90 * DAY),
      hourSeconds: intFrom(env, 'RTM_RETENTION_1H', 395 * DAY),
      daySeconds: intFrom(env, 'RTM_RETENTION_1D', Number.POSITIVE_INFINITY),
      usageSeconds: intFrom(env, 'RTM_RETENTION_USAGE', 395 * DAY),
    }),
  });
}

/**
 * A config for tests: defaults, a given data dir, and overrides; no parse workers and no Fastly
 * long-poll unless asked (a fake clock would hold every `ts/{t}` for its full wait).
 */
export function testConfig(dataDir: string, overrides: Partial<Config> = {}): Config {
  return { ...loadConfig({ RTM_DATA_DIR: dataDir }), ingestWorkers: 0, fastlyLongPollSeconds: 0, ...overrides };
}
