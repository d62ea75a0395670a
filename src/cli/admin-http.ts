/**
 * The admin HTTP API as the CLI calls it: probing whether rtmetrics answers at a URL, and
 * authenticated JSON calls whose refusals become CliErrors the user can act on.
 */

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

/** The registry error of an answer, for messages: "detail (code, HTTP status)". */
export function detailOf(body: unknown, status: number): string {
  const e = (body as { error?: { detail?: unknown; code?: unknown } } | undefined)?.error;
  return typeof e?.detail === 'string' ? `${e.detail} (${String(e.code)}, HTTP ${status})` : `HTTP ${status}`;
}

export type AdminCall = (method: string, route: string, body?: unknown) => Promise<{ status: number; body: unknown }>;

/** JSON calls to the admin API at `url` with the admin token; a 401/403 throws a CliError. */
export function createAdminHttp(url: string, adminSecret: string): AdminCall {
  return async (method, route, body) => {
    const res = await fetch(new URL(route, url), {
      method,
      headers: { authorization: `Bearer ${adminSecret}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    }).catch((err: unknown) => {
      throw new CliError(`cannot reach ${url}: ${err instanceof Error ? err.message : String(err)}`);
    });
    // 204 (revoked) has no body.
    const parsed: unknown = res.status === 204 ? undefined : await res.json().catch(() => undefined);
    if (res.status === 401 || res.status === 403) {
      throw new CliError(`the server refused the token: ${detailOf(parsed, res.status)}; set RTM_ADMIN_TOKEN or pass --token`);
    }
    return { status: res.status, body: parsed };
  };
}
