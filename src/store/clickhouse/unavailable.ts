/**
 * A read that fails because ClickHouse (or one shard of the cluster) does not answer becomes
 * 503 RTM_ERR_STORE_UNAVAILABLE naming the shard, so every dialect answers "retry later" in its
 * own envelope; any other failure (an SQL error: a bug) stays what it was, a 500. Never partial
 * sums: a Distributed read with a shard down fails as a whole (skip_unavailable_shards stays 0).
 *
 * What 18.16 answers, tried with a shard SIGKILLed (docs/cluster.md "When a shard is down"): a
 * Distributed read through a live shard fails with `Code: 279` (ALL_CONNECTION_TRIES_FAILED,
 * with `Code: 210` NETWORK_ERROR "Connection refused" inside); a read sent to the dead shard
 * itself fails in the transport (ECONNREFUSED), without a server code.
 */
import { Errors, RtmError } from '../../http/errors.ts';
import type { ClickHouseConnection } from './client.ts';
import { clickHouseErrorCode } from './client.ts';

/** Server codes of a shard that does not answer: ALL_CONNECTION_TRIES_FAILED, NETWORK_ERROR, SOCKET_TIMEOUT. */
const UNREACHABLE_CODES: ReadonlySet<number> = new Set([279, 210, 209]);

/** Node's codes of a connection that failed or was cut. */
const TRANSPORT_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Seconds a client should wait before retrying a read or an ingest the store cannot take now. */
export const STORE_RETRY_AFTER_SECONDS = 5;

/** True when `err` says ClickHouse did not answer (transport failure, time limit, unreachable shard); false for an answer that is an error. */
export function isUnavailable(err: unknown): boolean {
  const code = serverCode(err);
  if (code !== undefined) return UNREACHABLE_CODES.has(code);
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const c = (e as { code?: unknown }).code;
    if (typeof c === 'string' && TRANSPORT_CODES.has(c)) return true;
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return true;
    if (/socket hang up|aborted|timeout|timed out/i.test(e.message)) return true;
  }
  return false;
}

/** The first `Code: N` ClickHouse answered along the cause chain (the outermost names it first). */
function serverCode(err: unknown): number | undefined {
  for (let e: unknown = err, depth = 0; e !== undefined && depth < 5; e = e instanceof Error ? e.cause : undefined, depth++) {
    const own = (e as { code?: unknown } | null)?.code;
    if (typeof own === 'number') return own;
    const parsed = clickHouseErrorCode(e);
    if (parsed !== undefined) return parsed;
    if (!(e instanceof Error)) return undefined;
  }
  return undefined;
}

/** The shard as an operator knows it, without credentials in the URL. */
export function shardLabel(url: string, index: number, count: number): string {
  let shown = url;
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    shown = u.toString().replace(/\/$/, '');
  } catch {
    // Not a URL: config refuses those, keep it as given.
  }
  return count === 1 ? `ClickHouse at ${shown}` : `ClickHouse shard ${index + 1} of ${count} at ${shown}`;
}

export interface UnavailableGuardOptions {
  /** Every shard, in RTM_CLICKHOUSE_URLS order: asked which one does not answer. */
  shards: readonly ClickHouseConnection[];
  /** Limit of each probe, ms. Default 2,000. */
  probeTimeoutMs?: number;
}

/** Turns unavailability into STORE_UNAVAILABLE naming the shard (probed); anything else passes unchanged. */
export function createUnavailableGuard(opts: UnavailableGuardOptions): (err: unknown) => Promise<never> {
  const probeTimeoutMs = opts.probeTimeoutMs ?? 2000;
  const { shards } = opts;
  return async (err) => {
    if (!isUnavailable(err)) throw err;
    const probes = await Promise.allSettled(shards.map((s) => s.rows('SELECT 1', { timeoutMs: probeTimeoutMs })));
    const down = probes.map((p, i) => (p.status === 'rejected' ? i : -1)).filter((i) => i >= 0);
    const label = (i: number): string => shardLabel((shards[i] as ClickHouseConnection).url, i, shards.length);
    const who =
      down.length === 0
        ? `${shards.length === 1 ? label(0) : 'a ClickHouse shard'} did not answer the read (every shard answers again now)`
        : `${down.map(label).join(', ')} ${down.length === 1 ? 'does' : 'do'} not answer`;
    const e = new RtmError(Errors.STORE_UNAVAILABLE, `${who}; no partial answer is given, retry later`, { 'retry-after': String(STORE_RETRY_AFTER_SECONDS) });
    // The driver's text stays in the log (the cause), never in the body.
    Object.defineProperty(e, 'cause', { value: err, enumerable: false });
    throw e;
  };
}

/** `conn` whose reads answer STORE_UNAVAILABLE when the cluster does not answer (see createUnavailableGuard). */
export function guardReads(conn: ClickHouseConnection, guard: (err: unknown) => Promise<never>): ClickHouseConnection {
  return {
    url: conn.url,
    database: conn.database,
    rows: (sql, o) => conn.rows(sql, o).catch(guard),
    command: (sql, o) => conn.command(sql, o),
    insert: (table, rows, o) => conn.insert(table, rows, o),
    insertText: (table, ndjson, o) => conn.insertText(table, ndjson, o),
    close: () => conn.close(),
  };
}
