/**
 * ODSL objects in DuckDB (table `odsl_objects`): the JSON text of each object, keyed by
 * (owner, id). Objects are few and small (the route caps their size), so a VARCHAR column is
 * enough and nothing queries inside them.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { JsonObject, ObjectStore, PutResult, StoredObject } from '../object-store.ts';
import { queryRows, type DuckDb } from './database.ts';
import { createLock } from './sql.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS odsl_objects (
  owner VARCHAR NOT NULL,
  id VARCHAR NOT NULL,
  body VARCHAR NOT NULL,          -- the object as JSON text
  created_ms BIGINT NOT NULL,
  updated_ms BIGINT NOT NULL,
  PRIMARY KEY (owner, id)
)`;

function rowToObject(row: Record<string, unknown>): StoredObject {
  return {
    owner: String(row['owner']),
    id: String(row['id']),
    body: JSON.parse(String(row['body'])) as JsonObject,
    created: Number(row['created_ms']),
    updated: Number(row['updated_ms']),
  };
}

export async function createDuckDbObjectStore({ db }: { db: DuckDb }): Promise<ObjectStore> {
  const conn: DuckDBConnection = await db.connect();
  await conn.run(SCHEMA);
  // One statement at a time on this connection, and a put's read-then-write is not interleaved.
  const { run: serial } = createLock();
  let closed = false;

  return {
    put: (owner, id, body, nowMs, quota) =>
      serial(async (): Promise<PutResult> => {
        const ms = BigInt(Math.floor(nowMs));
        const text = JSON.stringify(body);
        const existing = await queryRows(conn, 'SELECT strlen(body) AS bytes FROM odsl_objects WHERE owner = $1 AND id = $2', [owner, id]);
        if (quota) {
          // Checked under the same lock as the write: two puts cannot both take the last room.
          const [used] = await queryRows(conn, 'SELECT count(*) AS n, coalesce(sum(strlen(body)), 0) AS bytes FROM odsl_objects WHERE owner = $1', [owner]);
          const objects = Number(used?.['n'] ?? 0);
          const bytes = Number(used?.['bytes'] ?? 0);
          const freed = existing[0] ? Number(existing[0]['bytes']) : 0;
          if (!existing[0] && objects + 1 > quota.objects) return { ok: false, exceeded: 'objects', used: objects, limit: quota.objects };
          if (bytes - freed + Buffer.byteLength(text) > quota.bytes) return { ok: false, exceeded: 'bytes', used: bytes, limit: quota.bytes };
        }
        if (existing.length > 0) {
          await conn.run('UPDATE odsl_objects SET body = $3, updated_ms = $4 WHERE owner = $1 AND id = $2', [owner, id, text, ms]);
          return { ok: true, created: false };
        }
        await conn.run('INSERT INTO odsl_objects (owner, id, body, created_ms, updated_ms) VALUES ($1, $2, $3, $4, $4)', [owner, id, text, ms]);
        return { ok: true, created: true };
      }),
    get: (owner, id) =>
      serial(async () => {
        const rows = await queryRows(conn, 'SELECT * FROM odsl_objects WHERE owner = $1 AND id = $2', [owner, id]);
        return rows[0] ? rowToObject(rows[0]) : undefined;
      }),
    list: (owner, { limit, skip }) =>
      serial(async () => {
        const total = await queryRows(conn, 'SELECT count(*) AS n FROM odsl_objects WHERE owner = $1', [owner]);
        const rows = await queryRows(
          conn,
          'SELECT * FROM odsl_objects WHERE owner = $1 ORDER BY updated_ms DESC, id LIMIT $2 OFFSET $3',
          [owner, BigInt(limit), BigInt(skip)],
        );
        return { objects: rows.map(rowToObject), total: Number(total[0]?.['n'] ?? 0) };
      }),
    delete: (owner, id) =>
      serial(async () => {
        const rows = await queryRows(conn, 'DELETE FROM odsl_objects WHERE owner = $1 AND id = $2 RETURNING id', [owner, id]);
        return rows.length > 0;
      }),
    close: () =>
      serial(async () => {
        if (closed) return;
        closed = true;
        conn.closeSync();
      }),
  };
}
