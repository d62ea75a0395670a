/**
 * Where `rtmetrics token ...` does its work. DuckDB lets one process open a database file for
 * writing, so while a server runs the CLI goes through its admin API; when no server answers, it
 * opens the data dir's database itself, or, on RTM_STORE=clickhouse, the shared token tables in
 * ClickHouse (see docs/decisions.md).
 */
import type { ClickHouseConfig, Config } from '../config/config.ts';
import { createClickHouseConnection } from '../store/clickhouse/client.ts';
import { createClickHouseTokenStore, type ClickHouseTokenStore } from '../store/clickhouse/token-store.ts';
import { openDuckDb } from '../store/duckdb/database.ts';
import { createDuckDbTokenStore } from '../store/duckdb/token-store.ts';
import type { CreatedToken, TokenInfo, TokenInput } from '../store/token-store.ts';
import type { Clock } from '../model/clock.ts';
import { CliError, createAdminHttp, detailOf } from './admin-http.ts';
import { duckDbFile } from '../store/duckdb/engine.ts';

export interface TokenAdmin {
  /** How the work is done, for messages: the server URL or the database file. */
  readonly via: string;
  create(input: TokenInput): Promise<{ token: CreatedToken; secret: string }>;
  list(): Promise<TokenInfo[]>;
  revoke(id: string): Promise<boolean>;
  close(): Promise<void>;
}




export function createHttpTokenAdmin(url: string, adminSecret: string): TokenAdmin {
  const call = createAdminHttp(url, adminSecret);

  return {
    via: url,
    async create(input) {
      const r = await call('POST', '/admin/tokens', input);
      if (r.status !== 201) throw new CliError(`create failed: ${detailOf(r.body, r.status)}`);
      const { token: secret, ...token } = r.body as CreatedToken & { token: string };
      return { token, secret };
    },
    async list() {
      const r = await call('GET', '/admin/tokens');
      if (r.status !== 200) throw new CliError(`list failed: ${detailOf(r.body, r.status)}`);
      return (r.body as { tokens: TokenInfo[] }).tokens;
    },
    async revoke(id) {
      const r = await call('DELETE', `/admin/tokens/${encodeURIComponent(id)}`);
      if (r.status === 404) return false;
      if (r.status !== 204) throw new CliError(`revoke failed: ${detailOf(r.body, r.status)}`);
      return true;
    },
    async close() {},
  };
}

/**
 * With RTM_STORE=clickhouse the tokens are ClickHouse's (shared by every node, any number of
 * writers): the CLI writes there, as a node would, and every node sees the change within 5 s.
 */
async function openClickHouseTokenAdmin(clickhouse: ClickHouseConfig, nodeId: string, clock: Clock): Promise<TokenAdmin> {
  const { urls, database, user, password } = clickhouse;
  const url = urls[0];
  if (url === undefined) throw new CliError('RTM_CLICKHOUSE_URLS names no ClickHouse server');
  const conn = createClickHouseConnection({ url, database, ...(user === undefined ? {} : { username: user }), ...(password === undefined ? {} : { password }) });
  let store: ClickHouseTokenStore;
  try {
    // The CLI verifies nothing: its map is never read again.
    store = await createClickHouseTokenStore({ conn, clock, nodeId: `cli@${nodeId}`, refreshMs: 3_600_000 });
  } catch (err) {
    throw new CliError(`cannot open the tokens in ClickHouse at ${url}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return {
    via: `ClickHouse at ${url} (database ${database})`,
    create: (input) => store.create(input),
    list: () => store.list(),
    revoke: (id) => store.revoke(id),
    close: () => store.close(),
  };
}

/** The data dir's database (or, on RTM_STORE=clickhouse, ClickHouse) opened directly: only when no server holds it. */
export async function openDirectTokenAdmin(dataDir: string, clock: Clock, config?: Pick<Config, 'store' | 'nodeId'>): Promise<TokenAdmin> {
  if (config?.store.engine === 'clickhouse') return openClickHouseTokenAdmin(config.store.clickhouse, config.nodeId, clock);
  const file = duckDbFile(dataDir);
  let db;
  try {
    db = await openDuckDb(file);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    if (/lock/i.test(msg)) {
      throw new CliError(`${file} is in use by another process (a server on another address? pass --url)`);
    }
    throw new CliError(`cannot open ${file}: ${msg}`);
  }
  const store = await createDuckDbTokenStore({ db, clock });
  return {
    via: file,
    create: (input) => store.create(input),
    list: () => store.list(),
    revoke: (id) => store.revoke(id),
    async close() {
      await store.close?.();
      db.close();
    },
  };
}
