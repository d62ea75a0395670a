/**
 * Usage entities in DuckDB: table usage_entity, one row per entity, inserted in batches (see
 * usage-append.ts for the fast path of self-metering). No index: DuckDB's zone maps on timestamp_ms
 * prune the time-bounded scans, and an ART index would slow every append and retention delete.
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import type { UsageEntity } from '../../model/usage.ts';
import { filterToSql, USAGE_COLUMNS } from './usage-filter-sql.ts';
import { DEFAULT_SORT } from '../usage-store.ts';
import { sortToSql } from './usage-sort-sql.ts';
import type { UsageStore } from '../usage-store.ts';
import { queryRows, type DuckDb } from './database.ts';
import { insertEntities, STAGING_SCHEMA } from './usage-append.ts';
import { createLock } from './sql.ts';

export interface DuckDbUsageStoreOptions {
  /** Seconds to keep entities (Config.retention.usageSeconds; default there 13 months). Infinity keeps all. */
  retentionSeconds: number;
}

const SCHEMA = `CREATE TABLE IF NOT EXISTS usage_entity (
  id VARCHAR NOT NULL,
  owner VARCHAR NOT NULL,
  provider VARCHAR NOT NULL,
  metric VARCHAR NOT NULL,
  timestamp_ms BIGINT NOT NULL,
  value DOUBLE NOT NULL,
  type VARCHAR,
  action VARCHAR,
  application VARCHAR,
  detail VARCHAR,
  duration DOUBLE,
  environment VARCHAR,
  http_status INTEGER,
  invocation_id VARCHAR,
  method VARCHAR,
  response_size BIGINT,
  service VARCHAR,
  user_id VARCHAR
)`;

const SELECT = `SELECT ${Object.values(USAGE_COLUMNS).map((c) => `"${c}"`).join(', ')} FROM usage_entity`;

/** usageEntityBytes (src/store/usage-store.ts) of a stored row, in SQL. */
const ENTITY_BYTES_SQL = [
  '16',
  ...['provider', 'metric', 'type', 'action', 'application', 'detail', 'environment', 'invocation_id', 'method', 'service', 'user_id'].map(
    (c) => `coalesce(strlen("${c}"), 0)`,
  ),
  ...['duration', 'http_status', 'response_size'].map((c) => `CASE WHEN "${c}" IS NULL THEN 0 ELSE 8 END`),
].join(' + ');

const FIELD_OF: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(USAGE_COLUMNS).map(([f, c]) => [c, f]));

function toEntity(row: Record<string, DuckDBValue>): UsageEntity {
  const out: Record<string, unknown> = {};
  for (const [column, value] of Object.entries(row)) {
    if (value === null || value === undefined) continue;
    const field = column === 'owner' ? 'owner' : FIELD_OF[column];
    if (!field) continue;
    out[field] = typeof value === 'bigint' ? Number(value) : value;
  }
  return out as unknown as UsageEntity;
}

export async function createDuckDbUsageStore(db: DuckDb, opts: DuckDbUsageStoreOptions): Promise<UsageStore> {
  const connection: DuckDBConnection = await db.connect();
  await connection.run(SCHEMA);
  for (const sql of STAGING_SCHEMA) await connection.run(sql);
  // One statement at a time on this connection: calls queue behind each other.
  const { run: serial } = createLock();
  let closed = false;

  const where = (owner: string | undefined, extra: { sql: string; params: DuckDBValue[] }[] = []) => {
    const parts = [...extra];
    if (owner !== undefined) parts.unshift({ sql: 'owner = ?', params: [owner] });
    return {
      sql: parts.length ? ` WHERE ${parts.map((p) => p.sql).join(' AND ')}` : '',
      params: parts.flatMap((p) => p.params),
    };
  };

  return {
    insert: (entities) =>
      serial(async () => {
        if (entities.length > 0) await insertEntities(connection, entities);
      }),

    ownerTotals: (owner, excludeProviders) =>
      serial(async () => {
        const params: DuckDBValue[] = [owner, ...excludeProviders];
        const notIn = excludeProviders.length ? ` AND provider NOT IN (${excludeProviders.map(() => '?').join(', ')})` : '';
        const [row] = await queryRows(connection, `SELECT count(*) AS n, coalesce(sum(${ENTITY_BYTES_SQL}), 0) AS bytes FROM usage_entity WHERE owner = ?${notIn}`, params);
        return { entities: Number(row?.['n'] ?? 0), bytes: Number(row?.['bytes'] ?? 0) };
      }),

    list: ({ owner, filter, sort, limit, skip }) =>
      serial(async () => {
        const w = where(owner, filter ? [filterToSql(filter)] : []);
        const countRows = await queryRows(connection, `SELECT count(*) AS n FROM usage_entity${w.sql}`, w.params);
        const total = Number(countRows[0]?.['n'] ?? 0);
        const order = sortToSql(sort && sort.length ? sort : DEFAULT_SORT, USAGE_COLUMNS);
        const rows = await queryRows(
          connection,
          `${SELECT}${w.sql} ORDER BY ${order} LIMIT ${Math.max(0, Math.trunc(limit))} OFFSET ${Math.max(0, Math.trunc(skip))}`,
          w.params,
        );
        return { total, items: rows.map(toEntity) };
      }),

    get: (id, owner) =>
      serial(async () => {
        const w = where(owner, [{ sql: 'id = ?', params: [id] }]);
        const rows = await queryRows(connection, `${SELECT}${w.sql} LIMIT 1`, w.params);
        return rows[0] ? toEntity(rows[0]) : undefined;
      }),

    providers: (owner) =>
      serial(async () => {
        const w = where(owner);
        const rows = await queryRows(connection, `SELECT DISTINCT provider FROM usage_entity${w.sql} ORDER BY provider`, w.params);
        return rows.map((r) => String(r['provider']));
      }),

    metrics: (provider, owner) =>
      serial(async () => {
        const w = where(owner, [{ sql: 'provider = ?', params: [provider] }]);
        const rows = await queryRows(connection, `SELECT DISTINCT metric FROM usage_entity${w.sql} ORDER BY metric`, w.params);
        return rows.map((r) => String(r['metric']));
      }),

    points: ({ provider, metric, owner, filter, from, to }) =>
      serial(async () => {
        const extra: { sql: string; params: DuckDBValue[] }[] = [
          { sql: 'provider = ? AND metric = ? AND timestamp_ms >= ? AND timestamp_ms < ?', params: [provider, metric, from, to] },
        ];
        if (filter) extra.push(filterToSql(filter));
        const w = where(owner, extra);
        const rows = await queryRows(connection, `SELECT timestamp_ms, value FROM usage_entity${w.sql} ORDER BY timestamp_ms, id`, w.params);
        return rows.map((r) => ({ timestamp: Number(r['timestamp_ms']), value: Number(r['value']) }));
      }),

    expire: (nowMs) =>
      serial(async () => {
        if (!Number.isFinite(opts.retentionSeconds)) return;
        await connection.run('DELETE FROM usage_entity WHERE timestamp_ms < ?', [nowMs - opts.retentionSeconds * 1000]);
      }),

    close: () =>
      serial(async () => {
        if (closed) return;
        closed = true;
        connection.closeSync();
      }),
  };
}
