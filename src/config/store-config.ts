/**
 * Which storage engine holds the metrics, and how to reach it (part of Config, parsed from the
 * environment by loadConfig).
 */
import { createHash } from 'node:crypto';
import os from 'node:os';

export interface ClickHouseConfig {
  /** HTTP URLs, one per shard. Required with RTM_STORE=clickhouse. `RTM_CLICKHOUSE_URLS` (comma-separated). */
  urls: readonly string[];
  /** Database of the metric tables. Default `rtm`. `RTM_CLICKHOUSE_DATABASE`. */
  database: string;
  /** Default ClickHouse's `default` user with no password. `RTM_CLICKHOUSE_USER` / `RTM_CLICKHOUSE_PASSWORD`. */
  user: string | undefined;
  password: string | undefined;
  /**
   * The `remote_servers` name the shards define, over which reads go (Distributed tables).
   * Required with more than one URL; none with one URL (reads go to that server's tables).
   * `RTM_CLICKHOUSE_CLUSTER`.
   */
  cluster: string | undefined;
  /**
   * Seconds a node's published second may take to reach ClickHouse (its store writer's interval,
   * the insert, clock skew between nodes): real-time reads on a ClickHouse node come from the
   * store and publish a second this much later than AggregateDelay alone would, so that every
   * node's events for it are in. Default 3. `RTM_CLICKHOUSE_READ_LAG`.
   */
  readLagSeconds: number;
  /**
   * Disk budget of the node's ClickHouse write spool, bytes: while the spool holds more (writes
   * acknowledged and not yet in ClickHouse: a shard away for long), ingest refuses new events
   * with 503 RTM_ERR_INGEST_UNAVAILABLE and Retry-After, and /readyz says so; the spool itself
   * never refuses a write (those are acknowledged already). Default 1 GiB; `Infinity` for no
   * budget. `RTM_CLICKHOUSE_SPOOL_MAX_BYTES`.
   */
  spoolMaxBytes: number;
}

/** Default spool budget: 1 GiB, minutes of a busy node's writes (docs/decisions.md). */
export const DEFAULT_SPOOL_MAX_BYTES = 1024 ** 3;

export type StoreConfig = { engine: 'duckdb' } | { engine: 'clickhouse'; clickhouse: ClickHouseConfig };

type Env = Readonly<Record<string, string | undefined>>;

/** `RTM_STORE`: `duckdb` (default, embedded in the data dir) or `clickhouse`. */
export function storeConfigFrom(env: Env): StoreConfig {
  const engine = env['RTM_STORE'] || 'duckdb';
  if (engine === 'duckdb') return { engine };
  if (engine !== 'clickhouse') throw new Error(`RTM_STORE must be duckdb or clickhouse, got "${engine}"`);
  const urls = (env['RTM_CLICKHOUSE_URLS'] ?? '').split(',').map((u) => u.trim()).filter((u) => u !== '');
  if (urls.length === 0) throw new Error('RTM_STORE=clickhouse needs RTM_CLICKHOUSE_URLS (comma-separated HTTP URLs, one per shard, e.g. http://127.0.0.1:8123)');
  for (const u of urls) {
    let parsed: URL;
    try {
      parsed = new URL(u);
    } catch {
      throw new Error(`RTM_CLICKHOUSE_URLS: "${u}" is not a URL (e.g. http://127.0.0.1:8123)`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`RTM_CLICKHOUSE_URLS: "${u}" is not an http(s) URL`);
  }
  const database = env['RTM_CLICKHOUSE_DATABASE'] || 'rtm';
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database)) throw new Error(`RTM_CLICKHOUSE_DATABASE must be a plain identifier ([A-Za-z_][A-Za-z0-9_]*), got "${database}"`);
  const cluster = env['RTM_CLICKHOUSE_CLUSTER'] || undefined;
  if (cluster !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(cluster)) throw new Error(`RTM_CLICKHOUSE_CLUSTER must be a plain identifier (the remote_servers name), got "${cluster}"`);
  if (urls.length > 1 && cluster === undefined) throw new Error(`RTM_CLICKHOUSE_URLS names ${urls.length} shards: set RTM_CLICKHOUSE_CLUSTER to the remote_servers name that lists them`);
  if (new Set(urls).size !== urls.length) throw new Error('RTM_CLICKHOUSE_URLS names a shard twice');
  const lag = env['RTM_CLICKHOUSE_READ_LAG'] || '3';
  if (!/^\d{1,2}$/.test(lag)) throw new Error(`RTM_CLICKHOUSE_READ_LAG must be whole seconds from 0 to 99, got "${lag}"`);
  return {
    engine,
    clickhouse: Object.freeze({
      urls: Object.freeze(urls),
      database,
      user: env['RTM_CLICKHOUSE_USER'] || undefined,
      password: env['RTM_CLICKHOUSE_PASSWORD'] || undefined,
      cluster,
      readLagSeconds: Number(lag),
      spoolMaxBytes: spoolMaxBytesFrom(env),
    }),
  };
}

/** RTM_CLICKHOUSE_SPOOL_MAX_BYTES: whole bytes above 0, or Infinity (no budget). */
function spoolMaxBytesFrom(env: Env): number {
  const raw = env['RTM_CLICKHOUSE_SPOOL_MAX_BYTES'] || String(DEFAULT_SPOOL_MAX_BYTES);
  if (raw === 'Infinity') return Number.POSITIVE_INFINITY;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value === 0) {
    throw new Error(`RTM_CLICKHOUSE_SPOOL_MAX_BYTES must be whole bytes above 0 (e.g. 1073741824 for 1 GiB) or Infinity, got "${raw}"`);
  }
  return value;
}

/**
 * `RTM_NODE_ID`: this node's name in a shared store (unique per node). Default: the host name
 * and a digest of the data dir, so two nodes on one host with their own data dirs differ.
 */
export function nodeIdFrom(env: Env, dataDir: string): string {
  const id = env['RTM_NODE_ID'] || `${os.hostname()}-${createHash('sha256').update(dataDir).digest('hex').slice(0, 8)}`;
  if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(id)) throw new Error(`RTM_NODE_ID must be 1-128 characters of A-Z a-z 0-9 _ . : -, got "${id}"`);
  return id;
}
