/**
 * Tokens shared by every node of a cluster, in append-only tables on the first shard
 * (./token-tables.ts). verify() never queries: it looks in a map of the live tokens
 * (./token-cache.ts) that each node reads again every `refreshMs`, so a token created or revoked
 * on one node takes effect on every node within refreshMs + two reads' time limits (1 + 2 x 1.5
 * = 4 s by default, under the 5 s of issue 10), and at once on the node that did it. list() and
 * revoke() read the table, the truth. A read that fails keeps the last map in use (docs/decisions.md).
 */
import { sha256Hex } from '../../http/auth.ts';
import type { Clock } from '../../model/clock.ts';
import { byCreation, checkTokenInput, copyTokenInfo, newTokenId, newTokenSecret, principalOfSecret, type TokenInfo, type TokenStore } from '../token-store.ts';
import type { ClickHouseConnection } from './client.ts';
import { createFailureReport, startRefreshLoop } from './refresh-loop.ts';
import { createTokenCache } from './token-cache.ts';
import { ensureTokenTables, insertRevocation, insertTokens, isLiveToken, readStoredTokens } from './token-tables.ts';

export interface ClickHouseTokenStoreOptions {
  /** The first shard (the tables live there only). The store closes it. */
  conn: ClickHouseConnection;
  clock: Clock;
  /** Names this node in the rows it writes. */
  nodeId: string;
  /**
   * Tokens to copy into the tables at open when no row has their id: the node's own tokens from
   * before they were shared (its DuckDB file). A token revoked since keeps its row, so it is
   * never copied back to life. Default: none.
   */
  adopt?: readonly { info: TokenInfo; digest: string }[];
  /** Pause between the end of one read of the tables and the next, ms. Default 1,000. */
  refreshMs?: number;
  /** Limit of one background read, ms. Default 1,500 (two of them and refreshMs stay under 5 s). */
  refreshTimeoutMs?: number;
  /** Limit of each statement of create, list and revoke, ms. Default 10,000. */
  requestTimeoutMs?: number;
  /**
   * Told when a background read fails: the first of a run of failures, then every 60th. The
   * tokens read last stay in use meanwhile. Default: nothing.
   */
  onRefreshError?: (err: unknown, failuresInARow: number) => void;
}

export interface ClickHouseTokenStore extends TokenStore {
  /** Reads the tables now (as the timer does) and resolves when the map holds what they held. */
  refresh(): Promise<void>;
  close(): Promise<void>;
}


async function adoptMissing(conn: ClickHouseConnection, tokens: readonly { info: TokenInfo; digest: string }[], node: string, timeoutMs: number): Promise<void> {
  if (tokens.length === 0) return;
  const known = new Set((await readStoredTokens(conn, { timeoutMs })).flatMap((t) => [t.info.id, t.digest]));
  const missing = tokens.filter((t) => !known.has(t.info.id) && !known.has(t.digest));
  if (missing.length > 0) await insertTokens(conn, missing.map((t) => ({ ...t, node })), { timeoutMs });
}

export async function createClickHouseTokenStore(opts: ClickHouseTokenStoreOptions): Promise<ClickHouseTokenStore> {
  const { conn, clock, nodeId } = opts;
  const refreshMs = opts.refreshMs ?? 1000;
  const refreshTimeoutMs = opts.refreshTimeoutMs ?? 1500;
  const timeoutMs = opts.requestTimeoutMs ?? 10_000;
  const cache = createTokenCache();
  const load = async (limitMs: number): Promise<void> => {
    const apply = cache.beginRefresh();
    apply(await readStoredTokens(conn, { timeoutMs: limitMs }));
  };
  try {
    await ensureTokenTables(conn);
    await adoptMissing(conn, opts.adopt ?? [], nodeId, timeoutMs);
    await load(timeoutMs);
  } catch (err) {
    await conn.close().catch(() => undefined);
    throw err;
  }

  let closed = false;
  const failures = createFailureReport(opts.onRefreshError);
  const inFlight = new Set<Promise<unknown>>();
  /** Runs one operation of the store, so close() can wait for it. */
  const tracked = <T>(work: () => Promise<T>): Promise<T> => {
    if (closed) return Promise.reject(new Error('the token store is closed'));
    const p = work();
    inFlight.add(p);
    const forget = (): void => void inFlight.delete(p);
    p.then(forget, forget);
    return p;
  };

  const backgroundRead = async (): Promise<void> => {
    try {
      await load(refreshTimeoutMs);
      failures.succeeded();
    } catch (err) {
      failures.failed(err);
    }
  };
  // Reads never overlap, and a slow one delays the next.
  const loop = startRefreshLoop(refreshMs, backgroundRead);

  return {
    verify: async (secret) => principalOfSecret(secret, (digest) => cache.find(digest)),
    create(input) {
      const checked = checkTokenInput(input);
      if (!checked.ok) return Promise.reject(new Error(checked.reason));
      return tracked(async () => {
        const secret = newTokenSecret();
        const digest = sha256Hex(secret);
        let id = newTokenId();
        while (cache.hasId(id)) id = newTokenId();
        const createdMs = clock.now();
        const { name, services, scopes } = checked.value;
        const info: TokenInfo = { id, name, services: services === 'all' ? 'all' : [...services], scopes: [...scopes], created: new Date(createdMs).toISOString() };
        await insertTokens(conn, [{ info, digest, node: nodeId }], { timeoutMs });
        cache.created(info, digest);
        return { token: copyTokenInfo(info), secret };
      });
    },
    list() {
      return tracked(async () =>
        (await readStoredTokens(conn, { timeoutMs }))
          .filter((t) => !t.revoked)
          .map((t) => copyTokenInfo(t.info))
          .sort(byCreation),
      );
    },
    revoke(id) {
      return tracked(async () => {
        if (!(await isLiveToken(conn, id, { timeoutMs }))) return false;
        await insertRevocation(conn, { id, revokedMs: clock.now(), node: nodeId }, { timeoutMs });
        cache.revoked(id);
        return true;
      });
    },
    refresh: () => tracked(() => load(timeoutMs)),
    async close() {
      if (closed) return;
      closed = true;
      await loop.stop();
      await Promise.allSettled([...inFlight]);
      await conn.close();
    },
  };
}
