/**
 * The usage entity table on the first shard (docs/store.md, "Usage entities"): one row per
 * entity, only ever appended, partitioned by UTC day of the entity's timestamp so retention drops
 * whole days (`ALTER TABLE ... DROP PARTITION`, the one cheap delete on 18.16: FACTS.md). Columns
 * are those of the DuckDB table (USAGE_COLUMNS), the optional fields Nullable, plus the node that
 * wrote the row.
 */
import { randomBytes } from 'node:crypto';
import type { UsageEntity } from '../../model/usage.ts';
import { USAGE_COLUMNS, type NewUsageEntity } from '../usage-store.ts';
import { literal, type ClickHouseConnection, type RequestOptions } from './client.ts';
import { runCreates } from './schema.ts';
import { USAGE_COLUMN_TYPES } from './usage-sql.ts';

export const USAGE_TABLE = 'usage_entities';
export const DAY_MS = 86_400_000;

const CH_TYPES: Readonly<Record<string, string>> = { id: 'String', timestamp_ms: 'Int64', value: 'Float64', duration: 'Float64', http_status: 'Int32', response_size: 'Int64' };
const COLUMNS = Object.keys(USAGE_COLUMN_TYPES);

export function usageTableStatements(db: string): string[] {
  const cols = COLUMNS.map((c) => {
    const base = CH_TYPES[c] ?? 'String';
    return `${c} ${USAGE_COLUMN_TYPES[c]?.nullable ? `Nullable(${base})` : base}`;
  });
  return [
    `CREATE DATABASE IF NOT EXISTS ${db}`,
    // Owner first: a token reads its own entities; provider, metric and time next for points().
    `CREATE TABLE IF NOT EXISTS ${db}.${USAGE_TABLE} (${cols.join(', ')}, node String) ENGINE = MergeTree ` +
      `PARTITION BY intDiv(timestamp_ms, ${DAY_MS}) ORDER BY (owner, provider, metric, timestamp_ms)`,
  ];
}

/** Creates what is missing; safe when several nodes start at once. */
export const ensureUsageTable = (conn: ClickHouseConnection): Promise<void> => runCreates(conn, usageTableStatements(conn.database));

/** The column list of a read, in the order rowToEntity expects. */
export const USAGE_SELECT = COLUMNS.join(', ');

const FIELD_OF: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(USAGE_COLUMNS).map(([f, c]) => [c, f]));

/** A row read with USAGE_SELECT as an entity; NULL columns are absent fields. */
export function rowToEntity(row: readonly unknown[]): UsageEntity {
  const out: Record<string, unknown> = {};
  COLUMNS.forEach((column, i) => {
    const value = row[i];
    if (value === null || value === undefined) return;
    const field = FIELD_OF[column] ?? column;
    out[field] = USAGE_COLUMN_TYPES[column]?.type === 'number' ? Number(value) : String(value);
  });
  return out as unknown as UsageEntity;
}

// 96 random bits as 24 hex characters, the shape of the DuckDB store's ids: unique across nodes.
const newEntityId = (): string => randomBytes(12).toString('hex');

const intOrNull = (v: number | undefined): number | null => (v === undefined ? null : Math.trunc(v));

/**
 * Inserts a batch in one request. A batch within one day is one part, committed whole; one that
 * spans days is one part per day (FACTS.md), each committed whole.
 */
export async function insertUsageEntities(conn: ClickHouseConnection, entities: readonly NewUsageEntity[], node: string, options?: RequestOptions): Promise<void> {
  const rows = entities.map((e) => ({
    id: e._id ? e._id : newEntityId(),
    owner: e.owner,
    provider: e.provider,
    metric: e.metric,
    timestamp_ms: Math.trunc(e.timestamp),
    value: e.value,
    type: e.type ?? null,
    action: e.action ?? null,
    application: e.application ?? null,
    detail: e.detail ?? null,
    duration: e.duration ?? null,
    environment: e.environment ?? null,
    http_status: intOrNull(e.httpstatus),
    invocation_id: e.invocationId ?? null,
    method: e.method ?? null,
    response_size: intOrNull(e.responseSize),
    service: e.service ?? null,
    user_id: e.user ?? null,
    node,
  }));
  await conn.insert(`${conn.database}.${USAGE_TABLE}`, rows, options);
}

/** The day partitions (intDiv(timestamp_ms, DAY_MS)) of the table that hold rows. */
export async function usagePartitions(conn: ClickHouseConnection, options?: RequestOptions): Promise<number[]> {
  const rows = await conn.rows(
    `SELECT DISTINCT partition FROM system.parts WHERE database = ${literal(conn.database)} AND table = ${literal(USAGE_TABLE)} AND active`,
    options,
  );
  return rows.map((r) => Number(r[0])).filter(Number.isFinite);
}

/** Drops one day partition (every node may drop the same one: dropping a missing partition is no error). */
export async function dropUsagePartition(conn: ClickHouseConnection, day: number, options?: RequestOptions): Promise<void> {
  await conn.command(`ALTER TABLE ${conn.database}.${USAGE_TABLE} DROP PARTITION ${day}`, options);
}
