/**
 * Batch insert of usage entities. Hot path (self-metering flushes about once a second, on the
 * event loop): turning JS strings into DuckDB VARCHARs costs ~0.4 us each, and an entity has 13
 * string columns of which 11 repeat across a batch (owner, provider, metric, service, ...). So
 * the distinct string tuples ("shapes") are appended once per batch, each entity appends only its
 * numbers, invocation id and shape number, and one INSERT ... SELECT joins them inside DuckDB
 * (off the event loop), also drawing the random ids there.
 */
import { BIGINT, DOUBLE, DuckDBDataChunk, INTEGER, VARCHAR, type DuckDBConnection, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';
import type { NewUsageEntity } from '../usage-store.ts';

// DuckDB's standard vector size: the most rows one data chunk holds.
const CHUNK_ROWS = 2048;

type Entity = NewUsageEntity;
const SHAPE_FIELDS = ['owner', 'provider', 'metric', 'type', 'action', 'application', 'detail', 'environment', 'method', 'service', 'user'] as const;

export const STAGING_SCHEMA = [
  `CREATE TEMP TABLE IF NOT EXISTS usage_stage (shape INTEGER, id VARCHAR, invocation_id VARCHAR, timestamp_ms BIGINT,
    value DOUBLE, duration DOUBLE, http_status INTEGER, response_size BIGINT)`,
  `CREATE TEMP TABLE IF NOT EXISTS usage_shape (shape INTEGER, owner VARCHAR, provider VARCHAR, metric VARCHAR, type VARCHAR,
    action VARCHAR, application VARCHAR, detail VARCHAR, environment VARCHAR, method VARCHAR, service VARCHAR, user_id VARCHAR)`,
];

// 96 random bits as 24 hex characters: the shape of the seed's ids (`673db77858834c6a164edfd7`).
const MOVE = `INSERT INTO usage_entity
  SELECT coalesce(s.id, substr(md5(gen_random_uuid()::VARCHAR), 1, 24)), h.owner, h.provider, h.metric, s.timestamp_ms, s.value,
    h.type, h.action, h.application, h.detail, s.duration, h.environment, s.http_status, s.invocation_id, h.method,
    s.response_size, h.service, h.user_id
  FROM usage_stage s JOIN usage_shape h USING (shape)`;

const STAGE_COLUMNS: readonly [DuckDBType, (e: Entity, shape: number) => DuckDBValue][] = [
  [INTEGER, (_e, shape) => shape],
  [VARCHAR, (e) => (e._id ? e._id : null)],
  [VARCHAR, (e) => e.invocationId ?? null],
  [BIGINT, (e) => BigInt(Math.trunc(e.timestamp))],
  [DOUBLE, (e) => e.value],
  [DOUBLE, (e) => e.duration ?? null],
  [INTEGER, (e) => (e.httpstatus === undefined ? null : Math.trunc(e.httpstatus))],
  [BIGINT, (e) => (e.responseSize === undefined ? null : BigInt(Math.trunc(e.responseSize)))],
];

/** An unambiguous key of an entity's string tuple (length-prefixed, so no separator can collide). */
function shapeKey(e: Entity): string {
  let key = '';
  for (const f of SHAPE_FIELDS) {
    const v = e[f];
    key += v === undefined ? '-|' : `${v.length}:${v}|`;
  }
  return key;
}

async function appendChunks(connection: DuckDBConnection, table: string, types: readonly DuckDBType[], rows: number,
  cell: (row: number, column: number) => DuckDBValue): Promise<void> {
  const appender = await connection.createAppender(table);
  try {
    for (let start = 0; start < rows; start += CHUNK_ROWS) {
      const n = Math.min(CHUNK_ROWS, rows - start);
      const chunk = DuckDBDataChunk.create(types, n);
      for (let c = 0; c < types.length; c++) {
        const vector = chunk.getColumnVector(c);
        for (let i = 0; i < n; i++) vector.setItem(i, cell(start + i, c));
        vector.flush();
      }
      appender.appendDataChunk(chunk);
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}

/** Inserts a batch atomically; the caller serializes calls on the connection. */
export async function insertEntities(connection: DuckDBConnection, entities: readonly Entity[]): Promise<void> {
  const shapes = new Map<string, number>();
  const shapeOf = new Int32Array(entities.length);
  const shapeRows: Entity[] = [];
  entities.forEach((e, i) => {
    const key = shapeKey(e);
    let s = shapes.get(key);
    if (s === undefined) {
      s = shapeRows.length;
      shapes.set(key, s);
      shapeRows.push(e);
    }
    shapeOf[i] = s;
  });
  await connection.run('BEGIN TRANSACTION');
  try {
    await appendChunks(connection, 'usage_shape', [INTEGER, ...SHAPE_FIELDS.map(() => VARCHAR)], shapeRows.length, (row, c) =>
      c === 0 ? row : ((shapeRows[row] as Entity)[SHAPE_FIELDS[c - 1] as (typeof SHAPE_FIELDS)[number]] ?? null));
    await appendChunks(connection, 'usage_stage', STAGE_COLUMNS.map(([t]) => t), entities.length, (row, c) =>
      (STAGE_COLUMNS[c] as (typeof STAGE_COLUMNS)[number])[1](entities[row] as Entity, shapeOf[row] ?? 0));
    await connection.run(MOVE);
    await connection.run('DELETE FROM usage_stage');
    await connection.run('DELETE FROM usage_shape');
    await connection.run('COMMIT');
  } catch (err) {
    await connection.run('ROLLBACK');
    throw err;
  }
}
