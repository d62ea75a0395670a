/**
 * Where `rtmetrics token ...` does its work. DuckDB lets one process open a database file for
 * writing, so while a server runs the CLI goes through its admin API; when no server answers, it
 * opens the data dir's database itself (see docs/decisions.md).
 */
import path from 'node:path';
import { openDuckDb } from '../store/duckdb/database.ts';
import { createDuckDbTokenStore } from '../store/duckdb/token-store.ts';
import type { CreatedToken, TokenInfo, TokenInput } from '../store/token-store.ts';
import type { Clock } from '../model/clock.ts';

export interface TokenAdmin {
  /** How the work is done, for messages: the server URL or the database file. */
  readonly via: string;
  create(input: TokenInput): Promise<{ token: CreatedToken; secret: string }>;
  list(): Promise<TokenInfo[]>;
  revoke(id: string): Promise<boolean>;
  close(): Promise<void>;
}

/** A failure to show the user as is (no stack). */
export class CliError extends Error {}

const TIMEOUT_MS = 10_000;

type Probe = { kind: 'rtmetrics' } | { kind: 'absent' } | { kind: 'foreign'; status: number };

/** Asks `url` who it is, without credentials: rtmetrics answers its native 401 envelope. */
export async function probeServer(url: string): Promise<Probe> {
  let res: Response;
  try {
    res = await fetch(new URL('/admin/tokens', url), { signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch {
    return { kind: 'absent' };
  }
  const body: unknown = await res.json().catch(() => undefined);
  const code = (body as { error?: { code?: unknown } } | undefined)?.error?.code;
  return typeof code === 'string' && code.startsWith('RTM_ERR_') ? { kind: 'rtmetrics' } : { kind: 'foreign', status: res.status };
}

function detailOf(body: unknown, status: number): string {
  const e = (body as { error?: { detail?: unknown; code?: unknown } } | undefined)?.error;
  return typeof e?.detail === 'string' ? `${e.detail} (${String(e.code)}, HTTP ${status})` : `HTTP ${status}`;
}

export function createHttpTokenAdmin(url: string, adminSecret: string): TokenAdmin {
  async function call(method: string, route: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const res = await fetch(new URL(route, url), {
      method,
      headers: {
        authorization: `Bearer ${adminSecret}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    }).catch((err: unknown) => {
      throw new CliError(`cannot reach ${url}: ${err instanceof Error ? err.message : String(err)}`);
    });
    const parsed: unknown = res.status === 204 ? undefined : await res.json().catch(() => undefined);
    if (res.status === 401 || res.status === 403) {
      throw new CliError(`the server refused the token: ${detailOf(parsed, res.status)}; set RTM_ADMIN_TOKEN or pass --token`);
    }
    return { status: res.status, body: parsed };
  }
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

/** The data dir's database opened directly: only when no server holds it. */
export async function openDirectTokenAdmin(dataDir: string, clock: Clock): Promise<TokenAdmin> {
  const file = path.join(dataDir, 'rtmetrics.duckdb');
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
