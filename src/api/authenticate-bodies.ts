/**
 * Unauthenticated bodies are never read: a request that carries a body to a route that needs a
 * token is authenticated in onRequest, before Fastify reads the body, so a client without a
 * valid token gets its 401 (and, through slowRequestPlugin, a closed connection) at once instead
 * of holding a socket while it uploads. The routes still check scopes and grants themselves;
 * the principal found here is kept on the request (setPrincipal) for them and for metering.
 *
 * fastify-plugin semantics: register it on the root app, after the limits.
 */
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { TokenVerifier } from '../http/auth.ts';
import { hasBody } from '../http/limits/slow-requests.ts';
import { authenticateRequest } from '../http/request-principal.ts';

export interface AuthenticateBodiesOptions {
  tokens: TokenVerifier;
  /** Routes (their URL pattern) that take a body without a token. Default: none. */
  isPublic?: (routeUrl: string) => boolean;
}

const plugin: FastifyPluginAsync<AuthenticateBodiesOptions> = async (app, { tokens, isPublic }) => {
  app.addHook('onRequest', async (req) => {
    if (!hasBody(req) || req.principal !== undefined) return;
    const route = req.routeOptions.url;
    // Unknown paths answer 404 whatever they carry; public routes need no token.
    if (route === undefined || isPublic?.(route)) return;
    await authenticateRequest(req, tokens);
  });
};

export const authenticateBodiesPlugin = fp(plugin, { name: 'rtm-authenticate-bodies', fastify: '5.x' });
