/**
 * The caller of a request, kept on the request once a route has authenticated it, so that
 * request-wide hooks (self-metering) know who made it. Routes call setPrincipal after
 * authenticate(); requests that never authenticate stay `undefined` (metered as anonymous).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authenticate, type Principal, type TokenVerifier } from './auth.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal | undefined;
  }
}

/** Declares `req.principal` on the root app (once, before routes) so every request has the same shape. */
export function installRequestPrincipal(app: FastifyInstance): void {
  if (!app.hasRequestDecorator('principal')) app.decorateRequest('principal', undefined);
}

export function setPrincipal(req: FastifyRequest, principal: Principal): void {
  req.principal = principal;
}

/** authenticate() and keep the caller on the request: what every route should call. */
export async function authenticateRequest(req: FastifyRequest, verifier: TokenVerifier): Promise<Principal> {
  const principal = await authenticate(req, verifier);
  req.principal = principal;
  return principal;
}
