/**
 * The ODSL object table on the first shard (docs/store.md, "ODSL objects"): append-only, since
 * 18.16 has no UPDATE or DELETE to rely on (FACTS.md). Each put or delete adds one version row of
 * (owner, id); a read takes the newest version of each and drops those whose newest is a delete
 * marker. ReplacingMergeTree(version) lets merges discard superseded versions (the table stays
 * about one row per object), but no read relies on a merge having happened.
 */
import type { JsonObject, StoredObject } from '../object-store.ts';
import { intLiteral, literal, type ClickHouseConnection, type RequestOptions } from './client.ts';
import { runCreates } from './schema.ts';

export const OBJECTS_TABLE = 'odsl_objects';

export function objectTableStatements(db: string): string[] {
  return [
    `CREATE DATABASE IF NOT EXISTS ${db}`,
    // version: microseconds, above every version this node saw for the object (a delete after a
    // put in the same ms still wins); write_id breaks a tie between two nodes. node: for an operator.
    `CREATE TABLE IF NOT EXISTS ${db}.${OBJECTS_TABLE} (owner String, id String, version Int64, write_id String, deleted UInt8, ` +
      'body String, created_ms Int64, updated_ms Int64, node String) ENGINE = ReplacingMergeTree(version) ORDER BY (owner, id)',
  ];
}

/** Creates what is missing; safe when several nodes start at once. */
export const ensureObjectTable = (conn: ClickHouseConnection): Promise<void> => runCreates(conn, objectTableStatements(conn.database));

/** The newest version of each (owner, id) matching `where`, delete markers included (LIMIT 1 BY: exact on 18.16 and now). */
const latest = (db: string, where: string): string =>
  `SELECT owner, id, version, deleted, body, created_ms, updated_ms FROM ${db}.${OBJECTS_TABLE} WHERE ${where} ` +
  'ORDER BY owner, id, version DESC, write_id DESC LIMIT 1 BY owner, id';

/** The newest version of one object, a delete marker included; undefined when it never existed. */
export interface ObjectVersion {
  version: number;
  deleted: boolean;
  object: StoredObject;
  bytes: number;
}

const toVersion = ([owner, id, version, deleted, body, createdMs, updatedMs]: unknown[]): ObjectVersion => {
  const text = String(body);
  return {
    version: Number(version),
    deleted: Number(deleted) === 1,
    bytes: Buffer.byteLength(text),
    object: {
      owner: String(owner),
      id: String(id),
      body: Number(deleted) === 1 ? {} : (JSON.parse(text) as JsonObject),
      created: Number(createdMs),
      updated: Number(updatedMs),
    },
  };
};

const ownerIs = (owner: string): string => `owner = ${literal(owner)}`;

export async function readObjectVersion(conn: ClickHouseConnection, owner: string, id: string, options?: RequestOptions): Promise<ObjectVersion | undefined> {
  const rows = await conn.rows(latest(conn.database, `${ownerIs(owner)} AND id = ${literal(id)}`), options);
  return rows[0] ? toVersion(rows[0]) : undefined;
}

/** How many live objects `owner` has and the bytes of their JSON text. */
export async function readOwnerUsage(conn: ClickHouseConnection, owner: string, options?: RequestOptions): Promise<{ objects: number; bytes: number }> {
  const rows = await conn.rows(`SELECT count(), sum(length(body)) FROM (${latest(conn.database, ownerIs(owner))}) WHERE deleted = 0`, options);
  return { objects: Number(rows[0]?.[0] ?? 0), bytes: Number(rows[0]?.[1] ?? 0) };
}

/** A page of the owner's live objects, newest update first, and how many there are. */
export async function readObjectPage(
  conn: ClickHouseConnection,
  owner: string,
  page: { limit: number; skip: number },
  options?: RequestOptions,
): Promise<{ objects: StoredObject[]; total: number }> {
  const live = `(${latest(conn.database, ownerIs(owner))}) WHERE deleted = 0`;
  const [rows, total] = await Promise.all([
    conn.rows(`SELECT * FROM ${live} ORDER BY updated_ms DESC, id LIMIT ${intLiteral(Math.max(0, page.skip))}, ${intLiteral(Math.max(0, page.limit))}`, options),
    conn.rows(`SELECT count() FROM ${live}`, options),
  ]);
  return { objects: rows.map((r) => toVersion(r).object), total: Number(total[0]?.[0] ?? 0) };
}

export interface ObjectRow {
  owner: string;
  id: string;
  version: number;
  writeId: string;
  /** The JSON text; undefined writes a delete marker. */
  body: string | undefined;
  createdMs: number;
  updatedMs: number;
  node: string;
}

/** Inserts one version row (one request, one part). */
export async function insertObjectVersion(conn: ClickHouseConnection, row: ObjectRow, options?: RequestOptions): Promise<void> {
  await conn.insert(
    `${conn.database}.${OBJECTS_TABLE}`,
    [
      {
        owner: row.owner,
        id: row.id,
        version: row.version,
        write_id: row.writeId,
        deleted: row.body === undefined ? 1 : 0,
        body: row.body ?? '',
        created_ms: Math.floor(row.createdMs),
        updated_ms: Math.floor(row.updatedMs),
        node: row.node,
      },
    ],
    options,
  );
}
