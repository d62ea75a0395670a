/**
 * Tokens in DuckDB (table `api_tokens`): the SHA-256 of each secret, never the secret.
 *
 * Every live token is loaded into memory when the store opens and kept there (tokens are few:
 * an operator creates them), so verify() is a hash and a Map lookup and never touches the
 * database. Only this process writes the file (DuckDB allows one read-write process), so the
 * Map cannot go stale: create and revoke update the table first, then the Map.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { sha256Hex, type Principal, type Scope } from '../../http/auth.ts';
import type { Clock } from '../../model/clock.ts';
import {
  byCreation,
  checkTokenInput,
  copyTokenInfo as copy,
  newTokenId,
  newTokenSecret,
  type TokenInfo,
  type TokenInput,
  type TokenStore,
  tokenPrincipal as principalOf,
  principalOfSecret,
} from '../token-store.ts';
import { queryRows, type DuckDb } from './database.ts';
import { createLock } from './sql.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS api_tokens (
  id VARCHAR PRIMARY KEY,
  name VARCHAR NOT NULL,
  services VARCHAR NOT NULL,      -- 'all' or a JSON array of service ids
  scopes VARCHAR NOT NULL,        -- comma-separated
  secret_sha256 VARCHAR NOT NULL UNIQUE,
  created_ms BIGINT NOT NULL
)`;

interface Live {
  info: TokenInfo;
  digest: string;
  principal: Principal;
}

export interface DuckDbTokenStoreOptions {
  db: DuckDb;
  clock: Clock;
}

function rowToLive(row: Record<string, unknown>): Live {
  const services = String(row['services']);
  const info: TokenInfo = {
    id: String(row['id']),
    name: String(row['name']),
    services: services === 'all' ? 'all' : (JSON.parse(services) as string[]),
    scopes: String(row['scopes']).split(',').filter(Boolean) as Scope[],
    created: new Date(Number(row['created_ms'])).toISOString(),
  };
  return { info, digest: String(row['secret_sha256']), principal: principalOf(info) };
}

/**
 * Every token of the file with the digest of its secret, none when the file has no token table:
 * what the ClickHouse engine copies into the shared tables at start when they lack the id (the
 * node's tokens from before they were shared). Opens and closes a connection of its own.
 */
export async function readDuckDbTokens(db: DuckDb): Promise<{ info: TokenInfo; digest: string }[]> {
  const conn = await db.connect();
  try {
    if ((await queryRows(conn, "SELECT 1 FROM duckdb_tables() WHERE table_name = 'api_tokens'")).length === 0) return [];
    return (await queryRows(conn, 'SELECT * FROM api_tokens')).map(rowToLive).map(({ info, digest }) => ({ info, digest }));
  } finally {
    conn.closeSync();
  }
}

export async function createDuckDbTokenStore({ db, clock }: DuckDbTokenStoreOptions): Promise<TokenStore> {
  const conn: DuckDBConnection = await db.connect();
  await conn.run(SCHEMA);
  const byDigest = new Map<string, Live>();
  const byId = new Map<string, Live>();
  for (const row of await queryRows(conn, 'SELECT * FROM api_tokens')) {
    const live = rowToLive(row);
    byDigest.set(live.digest, live);
    byId.set(live.info.id, live);
  }

  // One statement at a time on this connection.
  const { run: serial } = createLock();
  let closed = false;

  async function insert(input: TokenInput): Promise<{ live: Live; secret: string }> {
    const secret = newTokenSecret();
    const digest = sha256Hex(secret);
    let id = newTokenId();
    while (byId.has(id)) id = newTokenId();
    const createdMs = clock.now();
    await conn.run(
      'INSERT INTO api_tokens (id, name, services, scopes, secret_sha256, created_ms) VALUES ($1, $2, $3, $4, $5, $6)',
      [
        id,
        input.name,
        input.services === 'all' ? 'all' : JSON.stringify(input.services),
        input.scopes.join(','),
        digest,
        BigInt(Math.floor(createdMs)),
      ],
    );
    const info: TokenInfo = {
      id,
      name: input.name,
      services: input.services === 'all' ? 'all' : [...input.services],
      scopes: [...input.scopes],
      created: new Date(createdMs).toISOString(),
    };
    return { live: { info, digest, principal: principalOf(info) }, secret };
  }

  return {
    verify: async (secret) => principalOfSecret(secret, (digest) => byDigest.get(digest)),
    create(input) {
      const checked = checkTokenInput(input);
      if (!checked.ok) return Promise.reject(new Error(checked.reason));
      return serial(async () => {
        const { live, secret } = await insert(checked.value);
        byDigest.set(live.digest, live);
        byId.set(live.info.id, live);
        return { token: copy(live.info), secret };
      });
    },
    async list() {
      return [...byId.values()]
        .map((l) => copy(l.info))
        .sort(byCreation);
    },
    revoke(id) {
      return serial(async () => {
        const live = byId.get(id);
        if (!live) return false;
        await conn.run('DELETE FROM api_tokens WHERE id = $1', [id]);
        byId.delete(id);
        byDigest.delete(live.digest);
        return true;
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      // Queued behind every statement already submitted: they finish first.
      await serial(async () => undefined);
      conn.closeSync();
    },
  };
}
