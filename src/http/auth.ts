/**
 * Who is calling: tokens and what they may do. The same token works in every dialect's header
 * (`Fastly-Key`, `Authorization: Token`, `Authorization: Bearer`).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { Errors, RtmError } from './errors.ts';

/** read: query; ingest: send events and usage entities; write: store and delete ODSL objects; admin: manage tokens and services. */
export type Scope = 'read' | 'ingest' | 'write' | 'admin';
export const SCOPES: readonly Scope[] = ['read', 'ingest', 'write', 'admin'];

export interface Principal {
  /** Stable token id (not the secret): the `user` of usage entities. */
  tokenId: string;
  /** Human name of the token: the `application` of usage entities. */
  name: string;
  /** Services the token is granted, or 'all'. */
  services: 'all' | ReadonlySet<string>;
  scopes: ReadonlySet<Scope>;
}

/** Looks tokens up by their secret. Implementations compare hashes in constant time. */
export interface TokenVerifier {
  verify(secret: string): Promise<Principal | undefined>;
}

export const sha256Hex = (secret: string): string => createHash('sha256').update(secret).digest('hex');

/** Constant-time comparison of two hex digests. */
export function digestsEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The token of a request, from whichever dialect header carries it. */
export function tokenOf(req: FastifyRequest): string | undefined {
  const fastlyKey = req.headers['fastly-key'];
  if (typeof fastlyKey === 'string' && fastlyKey !== '') return fastlyKey.trim();
  const authz = req.headers.authorization;
  if (typeof authz === 'string') {
    const m = /^(?:Bearer|Token)\s+(\S+)\s*$/i.exec(authz);
    if (m?.[1]) return m[1];
  }
  return undefined;
}

/** Resolves the caller or throws the 401 of the registry. */
export async function authenticate(req: FastifyRequest, verifier: TokenVerifier): Promise<Principal> {
  const secret = tokenOf(req);
  if (!secret) throw new RtmError(Errors.AUTH_MISSING, 'Provide a token in Fastly-Key or Authorization');
  const principal = await verifier.verify(secret);
  if (!principal) throw new RtmError(Errors.AUTH_INVALID);
  return principal;
}

export function hasScope(p: Principal, scope: Scope): boolean {
  return p.scopes.has('admin') || p.scopes.has(scope);
}

export function canAccessService(p: Principal, service: string): boolean {
  return p.services === 'all' || p.services.has(service);
}

export function canRead(p: Principal, service: string): boolean {
  return hasScope(p, 'read') && canAccessService(p, service);
}

export function canIngest(p: Principal, service: string): boolean {
  return hasScope(p, 'ingest') && canAccessService(p, service);
}

/** The built-in admin token: every scope on every service. */
export function adminPrincipal(): Principal {
  return { tokenId: 'admin', name: 'admin', services: 'all', scopes: new Set(SCOPES) };
}

/**
 * Whose usage entities a principal sees: its own, or every owner's (undefined) for an admin
 * token on all services. A tenant admin (admin scope on some services) still sees only its own.
 */
export function usageOwnerOf(p: Principal): string | undefined {
  return p.services === 'all' && p.scopes.has('admin') ? undefined : p.tokenId;
}
