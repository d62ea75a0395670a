/**
 * The token tables on the first shard (docs/store.md, "Tokens"): append-only, since 18.16 has no
 * DELETE or UPDATE to rely on (FACTS.md). `api_tokens` gets one row per token created (the SHA-256
 * of its secret, never the secret), `api_token_revocations` one row per revocation; a token is live
 * while no revocation names its id. Neither table is sharded: every node reads and writes them
 * on the first shard, as it does published_lsn.
 */
import { SCOPES, type Scope } from '../../http/auth.ts';
import type { TokenInfo } from '../token-store.ts';
import { literal, type ClickHouseConnection, type RequestOptions } from './client.ts';
import { runCreates } from './schema.ts';

export const TOKENS_TABLE = 'api_tokens';
export const TOKEN_REVOCATIONS_TABLE = 'api_token_revocations';

/** A token row as read: its info, the digest of its secret, and whether a revocation names it. */
export interface StoredToken {
  info: TokenInfo;
  digest: string;
  revoked: boolean;
}

export function tokenTableStatements(db: string): string[] {
  return [
    `CREATE DATABASE IF NOT EXISTS ${db}`,
    // `services` is empty when all_services is 1; `node` is the node that wrote the row (for an operator).
    `CREATE TABLE IF NOT EXISTS ${db}.${TOKENS_TABLE} (id String, name String, all_services UInt8, services Array(String), scopes Array(String), ` +
      'secret_sha256 String, created_ms Int64, node String) ENGINE = MergeTree ORDER BY id',
    `CREATE TABLE IF NOT EXISTS ${db}.${TOKEN_REVOCATIONS_TABLE} (id String, revoked_ms Int64, node String) ENGINE = MergeTree ORDER BY id`,
  ];
}

/** Creates what is missing; safe when several nodes start at once. */
export const ensureTokenTables = (conn: ClickHouseConnection): Promise<void> => runCreates(conn, tokenTableStatements(conn.database));

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

/** Every token row, revoked ones flagged; a row inserted twice (a resent insert) counts once. */
export async function readStoredTokens(conn: ClickHouseConnection, options?: RequestOptions): Promise<StoredToken[]> {
  const db = conn.database;
  // One query: the IN subquery is read before the table, and a revocation is only written once
  // its token row is visible, so every revocation it sees finds its token row.
  const rows = await conn.rows(
    `SELECT id, name, all_services, services, scopes, secret_sha256, created_ms, id IN (SELECT id FROM ${db}.${TOKEN_REVOCATIONS_TABLE}) ` +
      `FROM ${db}.${TOKENS_TABLE}`,
    options,
  );
  const byId = new Map<string, StoredToken>();
  for (const [id, name, all, services, scopes, digest, createdMs, revoked] of rows) {
    const key = String(id);
    if (byId.has(key)) continue;
    byId.set(key, {
      info: {
        id: key,
        name: String(name),
        services: Number(all) === 1 ? 'all' : strings(services),
        scopes: SCOPES.filter((s: Scope) => strings(scopes).includes(s)),
        created: new Date(Number(createdMs)).toISOString(),
      },
      digest: String(digest),
      revoked: Number(revoked) === 1,
    });
  }
  return [...byId.values()];
}

/** A token row to write; its creation time is info.created. */
export interface NewTokenRow {
  info: TokenInfo;
  digest: string;
  node: string;
}

/** Inserts token rows in one request (one part: all of them land or none). */
export async function insertTokens(conn: ClickHouseConnection, tokens: readonly NewTokenRow[], options?: RequestOptions): Promise<void> {
  const rows = tokens.map(({ info, digest, node }) => ({
    id: info.id,
    name: info.name,
    all_services: info.services === 'all' ? 1 : 0,
    services: info.services === 'all' ? [] : info.services,
    scopes: info.scopes,
    secret_sha256: digest,
    created_ms: Date.parse(info.created),
    node,
  }));
  await conn.insert(`${conn.database}.${TOKENS_TABLE}`, rows, options);
}

/** Whether a token row has this id and no revocation names it. */
export async function isLiveToken(conn: ClickHouseConnection, id: string, options?: RequestOptions): Promise<boolean> {
  const db = conn.database;
  const rows = await conn.rows(
    `SELECT count() FROM ${db}.${TOKENS_TABLE} WHERE id = ${literal(id)} ` +
      `AND id NOT IN (SELECT id FROM ${db}.${TOKEN_REVOCATIONS_TABLE} WHERE id = ${literal(id)})`,
    options,
  );
  return Number(rows[0]?.[0]) > 0;
}

export async function insertRevocation(conn: ClickHouseConnection, revocation: { id: string; revokedMs: number; node: string }, options?: RequestOptions): Promise<void> {
  await conn.insert(
    `${conn.database}.${TOKEN_REVOCATIONS_TABLE}`,
    [{ id: revocation.id, revoked_ms: Math.floor(revocation.revokedMs), node: revocation.node }],
    options,
  );
}
