/**
 * `GET /rtm/v1/metrics`: the Prometheus exposition of rtmetrics' own metrics. Authenticated like
 * every API (a scraper sends `Authorization: Bearer <token>`). The figures are process-wide (all
 * tenants' traffic), so only an operator token (admin scope on all services) may scrape.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';
import { hasScope, type TokenVerifier } from '../../http/auth.ts';
import { Errors, RtmError } from '../../http/errors.ts';
import { authenticateRequest } from '../../http/request-principal.ts';

export interface MetricsRouteOptions {
  registry: Registry;
  tokens: TokenVerifier;
}

export const metricsRoute: FastifyPluginAsync<MetricsRouteOptions> = async (app, { registry, tokens }) => {
  app.get('/rtm/v1/metrics', async (req, reply) => {
    const principal = await authenticateRequest(req, tokens);
    if (!(hasScope(principal, 'admin') && principal.services === 'all')) {
      throw new RtmError(Errors.AUTH_FORBIDDEN, 'the server metrics cover every tenant: scraping needs an admin token on all services');
    }
    return reply.type(registry.contentType).send(await registry.metrics());
  });
};
