/**
 * API tokens kept by the store: only the SHA-256 of each secret is stored; the secret is shown
 * once, when the token is created. Implementations: ./duckdb/token-store.ts (one node's file) and
 * ./clickhouse/token-store.ts (shared by the nodes of a cluster).
 */
import { randomBytes } from 'node:crypto';
import { SCOPES, digestsEqual, sha256Hex, type Principal, type Scope, type TokenVerifier } from '../http/auth.ts';

/** A token as listed: never its secret nor its hash. */
export interface TokenInfo {
  /** Short random public id (what `token revoke` takes); not a secret. */
  id: string;
  name: string;
  services: 'all' | string[];
  scopes: Scope[];
  /** Creation time, RFC 3339. */
  created: string;
}

export type CreatedToken = TokenInfo;

export interface TokenInput {
  name: string;
  services: 'all' | string[];
  scopes: Scope[];
}

export interface TokenStore extends TokenVerifier {
  /** Stores a new token; the returned secret is not kept anywhere and cannot be read again. */
  create(input: TokenInput): Promise<{ token: CreatedToken; secret: string }>;
  list(): Promise<TokenInfo[]>;
  /** False when no live token has this id. */
  revoke(id: string): Promise<boolean>;
  close?(): Promise<void>;
}

/** Service ids as events.md defines them. */
export const SERVICE_ID = /^[A-Za-z0-9_-]{1,64}$/;
export const MAX_TOKEN_NAME = 200;

export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Validates and normalises a token request (deduplicated, sorted services and scopes). */
export function checkTokenInput(input: {
  name: unknown;
  services: unknown;
  scopes: unknown;
}): Checked<TokenInput> {
  const { name, services, scopes } = input;
  if (typeof name !== 'string' || name.trim() === '' || name.length > MAX_TOKEN_NAME) {
    return { ok: false, reason: `name must be a non-empty string of at most ${MAX_TOKEN_NAME} characters` };
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return { ok: false, reason: 'name must not contain control characters' };
  let svc: 'all' | string[];
  if (services === 'all') svc = 'all';
  else if (Array.isArray(services) && services.length > 0) {
    const bad = services.find((s) => typeof s !== 'string' || !SERVICE_ID.test(s));
    if (bad !== undefined) return { ok: false, reason: `invalid service id ${JSON.stringify(bad)} (expected [A-Za-z0-9_-]{1,64})` };
    svc = [...new Set(services as string[])].sort();
  } else return { ok: false, reason: "services must be 'all' or a non-empty list of service ids" };
  if (!Array.isArray(scopes) || scopes.length === 0) {
    return { ok: false, reason: `scopes must be a non-empty list of ${SCOPES.join(', ')}` };
  }
  const badScope = scopes.find((s) => !SCOPES.includes(s as Scope));
  if (badScope !== undefined) return { ok: false, reason: `unknown scope ${JSON.stringify(badScope)} (expected ${SCOPES.join(', ')})` };
  const sc = SCOPES.filter((s) => scopes.includes(s));
  return { ok: true, value: { name: name.trim(), services: svc, scopes: sc } };
}

/** `rtm_` + 32 base64url characters (192 random bits). */
export const newTokenSecret = (): string => `rtm_${randomBytes(24).toString('base64url')}`;

/** `tk_` + 12 hex characters: public, short enough to type, never `admin`. */
export const newTokenId = (): string => `tk_${randomBytes(6).toString('hex')}`;

/** What a verified token may do: the principal the routes check. */
export function tokenPrincipal(info: TokenInfo): Principal {
  return {
    tokenId: info.id,
    name: info.name,
    services: info.services === 'all' ? 'all' : new Set(info.services),
    scopes: new Set(info.scopes),
  };
}

/** A copy a caller may change without changing the store's own. */
export const copyTokenInfo = (info: TokenInfo): TokenInfo => ({
  ...info,
  services: info.services === 'all' ? 'all' : [...info.services],
  scopes: [...info.scopes],
});

/** Oldest first, then by id: the order `list()` returns. */
export const byCreation = (a: TokenInfo, b: TokenInfo): number => a.created.localeCompare(b.created) || a.id.localeCompare(b.id);

/**
 * The principal of `secret` among live tokens looked up by digest: what every store's verify()
 * does. The lookup is by digest (a digest reveals nothing usable through timing); the final
 * comparison is constant-time all the same.
 */
export function principalOfSecret(secret: string, find: (digest: string) => { digest: string; principal: Principal } | undefined): Principal | undefined {
  const digest = sha256Hex(secret);
  const live = find(digest);
  return live && digestsEqual(live.digest, digest) ? live.principal : undefined;
}
