/**
 * buildApp(services) returns the Fastify instance with every dialect registered; it never
 * listens (main.ts does), so tests use app.inject().
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { renderError, toRtmError, Errors, RtmError, type Dialect } from './api/errors.ts';
import type { Services } from './services.ts';

/** Which envelope a URL's errors use. */
export function dialectOf(url: string): Dialect {
  if (url.startsWith('/v1/')) return 'fastly';
  if (url.startsWith('/metrics')) return 'azion';
  if (url.startsWith('/api/')) return 'odsl';
  return 'native';
}

export async function buildApp(services: Services): Promise<FastifyInstance> {
  const { config } = services;
  const app = Fastify({
    // pino.Logger is wider than FastifyBaseLogger; routes only need the base.
    loggerInstance: services.logger as FastifyBaseLogger,
    bodyLimit: config.limits.maxBodyBytes,
    genReqId: () => randomUUID(),
    // Dialects take ids and timestamps in the path; keep them untouched.
    routerOptions: { ignoreTrailingSlash: true },
  });

  installErrorHandling(app);

  // Each dialect is one plugin; they are registered below as they land.
  return app;
}

/**
 * The error and not-found handlers: registry errors rendered in the envelope of the URL's
 * dialect. Exported so plugin tests can build a bare Fastify instance that answers like the app.
 */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err, req, reply) => {
    const e = toRtmError(err);
    if (e.status >= 500) req.log.error({ err }, 'request failed');
    void reply.code(e.status).headers(e.headers).send(renderError[dialectOf(req.url)](e));
  });
  app.setNotFoundHandler((req: FastifyRequest, reply) => {
    const e = new RtmError(Errors.REQUEST_NOT_FOUND, `No route for ${req.method} ${req.url.split('?')[0] ?? ''}`);
    void reply.code(404).send(renderError[dialectOf(req.url)](e));
  });
}
