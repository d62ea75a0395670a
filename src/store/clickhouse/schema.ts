/**
 * The ClickHouse tables of the metric store (layout and reasons: docs/store.md, "ClickHouse").
 * One SummingMergeTree per record kind and tier; the counters live in one sparse
 * `fieldsMap Nested(k UInt32, v Float64)` (field index -> value, only non-zero fields), which
 * SummingMergeTree sums by key on 18.16 (numeric keys only). `rows` (1 per inserted row) keeps a
 * row whose counters are all zero from vanishing at merge time. `ledger` is '' on data rows and a
 * write id on the one ledger row each insert carries (./ledger.ts).
 */
import { TIERS, TIER_SECONDS, type Tier } from '../../model/tier.ts';
import { RECORD_KEYS, RECORD_KIND_NAMES, type RecordKind } from '../../model/delta.ts';
import { clickHouseErrorCode, literal, type ClickHouseConnection } from './client.ts';

/**
 * Bumped when a table changes incompatibly; a node refuses a database of another version.
 * 2: field ids UInt32 (the unique-client cells of edge rows pass 65,535).
 */
export const SCHEMA_VERSION = 2;

/** Seconds of buckets per partition of each tier: what DROP PARTITION removes at once. */
export const PARTITION_SECONDS: Readonly<Record<Tier, number>> = {
  '1s': 86_400,
  '1m': 86_400,
  '1h': 30 * 86_400,
  '1d': 365 * 86_400,
};

export const partitionOf = (tier: Tier, bucket: number): number => Math.floor(bucket / PARTITION_SECONDS[tier]);

export const tableOf = (kind: RecordKind, tier: Tier): string => `${kind}_${tier}`;
export const PUBLISHED_LSN = 'published_lsn';
export const SCHEMA_VERSION_TABLE = 'schema_version';
export const RETENTION_HORIZON = 'retention_horizon';
export const SHARD_IDENTITY = 'shard_identity';

export const keyColumns = (kind: RecordKind): readonly string[] => RECORD_KEYS[kind].key;

/** The Distributed table over the cluster that reads `table` of every shard. */
export const distributedOf = (table: string): string => `${table}_all`;

function createRecordTable(db: string, kind: RecordKind, tier: Tier): string {
  const keys = keyColumns(kind);
  const cols = ['bucket Int64', ...keys.map((k) => `${k} String`), 'ledger String', 'rows UInt64', 'fieldsMap Nested(k UInt32, v Float64)'];
  // Service first: the APIs read one service over a time range (FACTS: ORDER BY (service, ts, ...)).
  const order = ['service', 'bucket', ...keys.filter((k) => k !== 'service'), 'ledger'];
  return (
    `CREATE TABLE IF NOT EXISTS ${db}.${tableOf(kind, tier)} (${cols.join(', ')}) ` +
    `ENGINE = SummingMergeTree PARTITION BY intDiv(bucket, ${PARTITION_SECONDS[tier]}) ORDER BY (${order.join(', ')})`
  );
}

/**
 * Every CREATE of the schema; each idempotent. With a cluster, each record table also gets a
 * Distributed table over it (no sharding key: read-only, an insert into it is refused), the
 * way every read goes.
 */
export function schemaStatements(db: string, cluster?: string): string[] {
  const out = [`CREATE DATABASE IF NOT EXISTS ${db}`];
  out.push(`CREATE TABLE IF NOT EXISTS ${db}.${SCHEMA_VERSION_TABLE} (version UInt32, node String) ENGINE = MergeTree ORDER BY version`);
  // Which place in RTM_CLICKHOUSE_URLS this server has (0-based), claimed by the first node.
  out.push(`CREATE TABLE IF NOT EXISTS ${db}.${SHARD_IDENTITY} (shard UInt32, node String) ENGINE = MergeTree ORDER BY shard`);
  for (const tier of TIERS) for (const kind of RECORD_KIND_NAMES) out.push(createRecordTable(db, kind, tier));
  // Per node: an lsn is a position in that node's own WAL. The highest version (lsn) wins.
  out.push(
    `CREATE TABLE IF NOT EXISTS ${db}.${PUBLISHED_LSN} (node String, second Int64, lsn UInt64) ` +
      `ENGINE = ReplacingMergeTree(lsn) PARTITION BY intDiv(second, ${PARTITION_SECONDS['1s']}) ORDER BY (node, second)`,
  );
  // The lowest visible bucket per tier (retention.ts): shared, so every node hides the same rows.
  out.push(`CREATE TABLE IF NOT EXISTS ${db}.${RETENTION_HORIZON} (tier String, keep_from Int64) ENGINE = ReplacingMergeTree(keep_from) ORDER BY tier`);
  if (cluster !== undefined) {
    for (const tier of TIERS) {
      for (const kind of RECORD_KIND_NAMES) {
        const local = tableOf(kind, tier);
        out.push(`CREATE TABLE IF NOT EXISTS ${db}.${distributedOf(local)} AS ${db}.${local} ENGINE = Distributed(${cluster}, ${db}, ${local})`);
      }
    }
  }
  return out;
}

/** Every table of a tier (expiry drops their partitions alike). */
export const tablesOf = (tier: Tier): string[] => RECORD_KIND_NAMES.map((k) => tableOf(k, tier));

export { TIER_SECONDS };

// "Table already exists" / "Database already exists": another node created it between our
// IF NOT EXISTS check and our CREATE (18.16 does not make that check atomic).
const ALREADY_EXISTS = new Set([57, 82]);

/** Runs idempotent CREATEs in order; one that another node won the race for is not an error. */
export async function runCreates(conn: ClickHouseConnection, statements: readonly string[]): Promise<void> {
  for (const statement of statements) {
    try {
      await conn.command(statement);
    } catch (err) {
      if (!ALREADY_EXISTS.has(clickHouseErrorCode(err) ?? -1)) throw err;
    }
  }
}

/** The cluster a shard's Distributed tables read: its `remote_servers` name and shard count. */
export interface ClusterOf {
  name: string;
  shards: number;
}

/** Refuses a shard whose `remote_servers` lacks the cluster or lists another number of shards. */
async function checkCluster(conn: ClickHouseConnection, cluster: ClusterOf): Promise<void> {
  const rows = await conn.rows(`SELECT count(DISTINCT shard_num) FROM system.clusters WHERE cluster = ${literal(cluster.name)}`);
  const found = Number(rows[0]?.[0]);
  if (found === cluster.shards) return;
  throw new Error(
    found === 0
      ? `ClickHouse at ${conn.url} has no cluster ${cluster.name} in its remote_servers; check RTM_CLICKHOUSE_CLUSTER and the server's config`
      : `cluster ${cluster.name} on ClickHouse at ${conn.url} has ${found} shards, RTM_CLICKHOUSE_URLS names ${cluster.shards}; they must list the same shards`,
  );
}

/**
 * Records this server's place in the shard list on first use, and refuses a list that puts it
 * elsewhere: a row's shard is a hash over the list, so nodes (or a restart finishing its spool)
 * with another order would look a write's ledger rows up on the wrong server. Appending shards
 * keeps every earlier place. Two nodes of different orders starting at once both add a row and
 * both see two places: both refuse.
 */
async function claimShard(conn: ClickHouseConnection, nodeId: string, shard: number, shards: number): Promise<void> {
  const table = `${conn.database}.${SHARD_IDENTITY}`;
  const places = async (): Promise<number[]> => (await conn.rows(`SELECT DISTINCT shard FROM ${table} ORDER BY shard`)).map((r) => Number(r[0]));
  let found = await places();
  if (found.length === 0) {
    await conn.insert(table, [{ shard, node: nodeId }]);
    found = await places();
  }
  const other = found.filter((p) => p !== shard);
  if (other.length === 0) return;
  throw new Error(
    `ClickHouse at ${conn.url} is shard ${other.map((p) => p + 1).join(' and ')} for the nodes that wrote to it, RTM_CLICKHOUSE_URLS lists it as shard ${shard + 1} of ${shards}; ` +
      `list the shards in the same order on every node (see ${table})`,
  );
}

/**
 * Creates what is missing and records the version; refuses a database that holds another
 * version (and, with a cluster, a shard that does not define it, or that an earlier node saw at
 * another place in the list). Safe when several nodes run it at once. Run on every shard, `shard`
 * being its index in RTM_CLICKHOUSE_URLS (default 0).
 */
export async function ensureSchema(conn: ClickHouseConnection, nodeId: string, cluster?: ClusterOf, shard = 0): Promise<void> {
  const db = conn.database;
  if (cluster !== undefined) await checkCluster(conn, cluster);
  const versions = async (): Promise<number[]> => {
    const exists = await conn.rows(`SELECT count() FROM system.tables WHERE database = ${literal(db)} AND name = ${literal(SCHEMA_VERSION_TABLE)}`);
    if (Number(exists[0]?.[0]) === 0) return [];
    return (await conn.rows(`SELECT DISTINCT version FROM ${db}.${SCHEMA_VERSION_TABLE}`)).map((r) => Number(r[0]));
  };
  const check = (found: readonly number[]): void => {
    const other = found.filter((v) => v !== SCHEMA_VERSION);
    if (other.length > 0) {
      throw new Error(
        `ClickHouse database ${db} at ${conn.url} holds metric store schema version ${other.join(', ')}, this rtmetrics needs ${SCHEMA_VERSION}; ` +
          'use another RTM_CLICKHOUSE_DATABASE or run the rtmetrics version that created it',
      );
    }
  };
  check(await versions());
  await runCreates(conn, schemaStatements(db, cluster?.name));
  const found = await versions();
  check(found);
  // Two nodes starting at once may both add a row: the same version twice is harmless.
  if (found.length === 0) await conn.insert(`${db}.${SCHEMA_VERSION_TABLE}`, [{ version: SCHEMA_VERSION, node: nodeId }]);
  await claimShard(conn, nodeId, shard, cluster?.shards ?? 1);
}
