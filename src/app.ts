/**
 * buildApp(services) returns the Fastify instance with every dialect registered; it never
 * listens (main.ts does), so tests use app.inject().
 */
import type { TopValueCounts } from './aggregate/top-value-counts.ts';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { renderError, toRtmError, Errors, RtmError, type Dialect } from './http/errors.ts';
import { realtimeDelaySeconds, type Config } from './config/config.ts';
import type { Services } from './services.ts';
import { rateLimitPlugin } from './http/limits/rate-limit.ts';
import { concurrencyLimitPlugin } from './http/limits/concurrency.ts';
import { slowRequestPlugin } from './http/limits/slow-requests.ts';
import { authenticateBodiesPlugin } from './api/authenticate-bodies.ts';
import { HEALTH_PATHS, healthRoutes } from './api/health/health-routes.ts';
import { createReadiness } from './api/health/readiness.ts';
import { OVER_BUDGET_MARGIN } from './config/memory-budget.ts';
import { adminRoutes } from './api/admin/token-routes.ts';
import { serviceAdminRoutes } from './api/admin/service-routes.ts';
import { azionRoutes } from './api/azion/routes.ts';
import { fastlyRoutes } from './api/fastly/routes.ts';
import { createRealtimeReader } from './api/fastly/realtime-reader.ts';
import { storeReadHorizon } from './api/fastly/store-read-horizon.ts';
import { metricsRoute } from './api/native/metrics-route.ts';
import { nativeRoutes } from './api/native/native-routes.ts';
import { queryRoutes } from './api/native/query-routes.ts';
import { billingRoutes } from './api/native/billing-routes.ts';
import { streamRoutes } from './api/native/stream-routes.ts';
import { prometheusRoute } from './api/native/prometheus-route.ts';
import { alertRoutes } from './api/native/alert-routes.ts';
import { createAlertEvaluator } from './alerts/evaluator.ts';
import { createWebhookSender } from './alerts/webhook.ts';
import type { QuerySources } from './query/run-query.ts';
import { createPublishedSeconds } from './query/published-seconds.ts';
import { CDN_METRIC_NAMES } from './api/odsl/cdn-provider.ts';
import { odslMetricRoutes } from './api/odsl/metric-routes.ts';
import { createUsageQuota } from './api/odsl/usage-quota.ts';
import { odslObjectRoutes } from './api/odsl/object-routes.ts';
import { selfMeteringHook } from './api/odsl/self-metering.ts';
import { createVirtualTimeseriesHandler } from './api/odsl/virtual-timeseries.ts';
import { installRequestPrincipal } from './http/request-principal.ts';
import { buildInfo } from './build-info.ts';
import { installOpenApi } from './api/openapi.ts';
import { dashboardRoutes } from './dashboard/dashboard-routes.ts';
import { ingestRoutes } from './ingest/ingest-route.ts';

/** Which envelope a URL's errors use. */
export function dialectOf(url: string): Dialect {
  if (url.startsWith('/v1/')) return 'fastly';
  if (url.startsWith('/metrics')) return 'azion';
  if (url.startsWith('/api/')) return 'odsl';
  return 'native';
}

/**
 * Fastify's two info lines per request cost ~0.25 ms each on the main thread (a synchronous
 * write), which an ingest server taking thousands of requests a second cannot spend: requests
 * are logged at debug (LOG_LEVEL=debug); a request that errored is still logged at error.
 */
class DebugRequestLog extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ req: request }, 'incoming request');
  }
  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) super.requestCompleted(error, request, reply);
    else reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}

export async function buildApp(services: Services): Promise<FastifyInstance> {
  const { config } = services;
  const app = Fastify({
    // pino.Logger is wider than FastifyBaseLogger; routes only need the base.
    loggerInstance: services.logger as FastifyBaseLogger,
    bodyLimit: config.limits.maxBodyBytes,
    genReqId: () => randomUUID(),
    // Dialects take ids and timestamps in the path; keep them untouched.
    // maxParamLength: ODSL object ids and property names may be 128 characters (Fastify's default is 100).
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PATH_PARAM_LENGTH },
    frameworkErrors,
    ...nodeTimeouts(config.limits),
    logController: new DebugRequestLog(),
  });

  installErrorHandling(app);
  installRequestPrincipal(app);
  await installOpenApi(app, buildInfo().version);
  // Every API request becomes an RTMRequest usage entity (batched, off the request path).
  app.addHook('onResponse', selfMeteringHook(services.usageRecorder, { skip: (req) => isPublicUrl(req.url) }));
  const { requestSeconds, ingestLines } = services.metrics.self;
  app.addHook('onResponse', async (req, reply) => {
    requestSeconds.observe({ dialect: dialectOf(req.url), status: `${Math.floor(reply.statusCode / 100)}xx` }, reply.elapsedTime / 1000);
  });
  // Stalled uploads are cut off and refused bodies never read (every route, the public ones too).
  const { slowRequestsAborted } = services.metrics.self;
  await app.register(slowRequestPlugin, {
    limits: config.limits,
    render: (e, url) => renderError[dialectOf(url)](e),
    onAbort: (reason) => slowRequestsAborted.inc({ reason }),
  });
  // The dashboard's static files and the health checks carry no data: no token, no limits.
  await app.register(dashboardRoutes);
  const readiness = createReadiness({
    ping: () => services.engine.ping(),
    walDir: path.join(config.dataDir, 'wal'),
    logger: services.logger,
    memory: { rss: () => services.memory.rss(), budgetBytes: config.memoryBudget.totalBytes, margin: OVER_BUDGET_MARGIN },
    // Only on an engine with a spool budget (ClickHouse): the DuckDB report stays as it was.
    ...(services.engine.metrics.writeRefusal === undefined ? {} : { ingestRefusal: () => services.engine.metrics.writeRefusal?.() }),
  });
  await app.register(healthRoutes, { readiness, fatal: () => services.engine.fatal() });

  // Limits cover every route registered after them.
  const limited = { limits: config.limits, tokens: services.tokens };
  await app.register(rateLimitPlugin, limited);
  await app.register(concurrencyLimitPlugin, limited);
  await app.register(authenticateBodiesPlugin, { tokens: services.tokens });

  const { tokens, store, catalog, clock } = services;
  await app.register(adminRoutes, {
    verifier: tokens,
    store: services.tokenStore,
    onRevoke: (id) => services.serviceQuota.forget(id),
  });
  await app.register(serviceAdminRoutes, { catalog, verifier: tokens });
  await app.register(ingestRoutes, {
    sink: services.ingest,
    tokens,
    limits: config.limits,
    serviceQuota: services.serviceQuota,
    keyCaps: services.keyCaps,
    clock,
    parsePool: services.parsePool,
    idempotency: services.idempotency,
    publicationHold: services.publicationHold,
    refusal: () => services.ingestRefusal(),
    onReplay: () => services.metrics.self.idempotentReplays.inc(),
    ...(config.topValues ? { onTopValues: (counts: TopValueCounts) => services.topValues.add(counts) } : {}),
    keepPathQuery: config.keepPathQuery,
    distributions: config.distributions,
    onLines: (accepted, rejected, folded) => {
      ingestLines.inc({ outcome: 'accepted' }, accepted);
      ingestLines.inc({ outcome: 'rejected' }, rejected);
      // Accepted lines with a domain, datacenter or backend past the service's cap, counted under __other__ (a subset of accepted, each line once).
      if (folded > 0) ingestLines.inc({ outcome: 'folded_other' }, folded);
    },
  });

  // On ClickHouse other nodes write the same store: every second is read from it, published
  // once every node's writes for it are in (store-read-horizon.ts); else the window serves the
  // recent seconds.
  const sharedStore = config.store.engine === 'clickhouse';
  const delaySeconds = realtimeDelaySeconds(config);
  const realtimeWindow = sharedStore ? storeReadHorizon({ clock, storedThrough: services.storedThrough, settled: services.storeSettled, delaySeconds }) : services.window;
  const realtime = createRealtimeReader(realtimeWindow, store);
  const maxRange = config.limits.maxQueryRangeSeconds;
  const published = createPublishedSeconds({ source: realtime, onError: (err) => services.logger.error({ err }, 'published-seconds notifier failed') });
  app.addHook('onClose', async () => published.close());
  await app.register(fastlyRoutes, {
    source: realtime,
    tokens,
    aggregateDelaySeconds: delaySeconds,
    limits: { maxLookbackSeconds: maxRange['1s'] },
    longPoll: { maxWaitMs: config.fastlyLongPollSeconds * 1000, waitBeyond: published.waitBeyond },
  });
  await app.register(azionRoutes, { store, catalog, tokens, clock, timeZone: config.timeZone, limits: config.limits });

  const timeseries = { usage: services.usage, store, clock, timeZone: config.timeZone, maxQueryRangeSeconds: maxRange, storedThrough: services.storedThrough };
  await app.register(odslMetricRoutes, {
    usage: services.usage,
    tokens,
    clock,
    build: { ...buildInfo(), startTime: services.startedAt.toISOString() },
    virtualTimeseries: createVirtualTimeseriesHandler(timeseries),
    cdnMetrics: CDN_METRIC_NAMES,
    quota: createUsageQuota({ usage: services.usage, limits: config.limits, clock }),
  });
  const objectQuota = { objects: config.limits.objectsPerToken || Infinity, bytes: config.limits.objectBytesPerToken || Infinity };
  await app.register(odslObjectRoutes, { objects: services.objects, tokens, virtualTimeseries: timeseries, quota: objectQuota });
  await app.register(metricsRoute, { registry: services.metrics.registry, tokens });
  const listServices = async (): Promise<string[]> => (await catalog.services()).map((s) => s.service);
  const querySources: QuerySources = {
    store,
    realtime,
    windowFrom: () => realtimeWindow.oldestSecond(),
    storedThrough: services.storedThrough,
    listServices,
    limits: maxRange,
  };
  await app.register(queryRoutes, { tokens, sources: querySources });
  await app.register(billingRoutes, { tokens, sources: querySources, clock });
  const alertMetrics = services.metrics.self.alerts;
  const evaluator = createAlertEvaluator({
    store: services.alerts,
    sources: querySources,
    published,
    logger: services.logger,
    webhook: createWebhookSender({
      ...config.alertWebhook,
      onOutcome: (outcome) => alertMetrics.notifications.inc({ outcome }),
      onRetry: () => alertMetrics.retries.inc(),
      onRefused: (url, reason) => services.logger.warn({ url, reason }, 'alert webhook refused: private or loopback address (RTM_ALERT_WEBHOOK_ALLOW_PRIVATE=1 allows it)'),
    }),
    onEvaluated: () => alertMetrics.evaluations.inc(),
    onFiringChanged: (n) => alertMetrics.firing.set(n),
  });
  app.addHook('onClose', () => evaluator.close());
  await app.register(alertRoutes, { tokens, store: services.alerts, evaluator });
  await app.register(prometheusRoute, {
    tokens,
    sources: querySources,
    serviceNames: async () => new Map((await catalog.services()).map((s) => [s.service, s.name])),
  });
  await app.register(streamRoutes, {
    tokens,
    source: realtime,
    published,
    limits: {
      perToken: config.limits.streamsPerToken,
      heartbeatSeconds: config.streamHeartbeatSeconds,
      maxBufferedBytes: config.limits.streamMaxBufferedBytes,
      maxResumeSeconds: maxRange['1s'],
    },
    metrics: services.metrics.self.streams,
  });
  await app.register(nativeRoutes, {
    source: realtime,
    tokens,
    listServices: async () => (await catalog.services()).map((s) => s.service),
    maxLiveSeconds: Math.min(600, maxRange['1s']),
  });
  return app;
}

/**
 * Node's own limits on the socket, behind slowRequestPlugin's: headers within
 * headersTimeoutSeconds, and a whole request within requestTimeoutSeconds plus a margin (the
 * plugin answers first, in the dialect's envelope; Node's plain 408 is the backstop). Node checks
 * them every connectionsCheckingInterval.
 */
function nodeTimeouts(limits: Config['limits']): { requestTimeout: number; http: { headersTimeout: number; requestTimeout: number; connectionsCheckingInterval: number } } {
  const ms = (seconds: number): number => (seconds > 0 && Number.isFinite(seconds) ? Math.round(seconds * 1000) : 0);
  const requestTimeout = ms(limits.requestTimeoutSeconds) && ms(limits.requestTimeoutSeconds) + 10_000;
  const headers = ms(limits.headersTimeoutSeconds);
  const headersTimeout = requestTimeout > 0 && (headers === 0 || headers > requestTimeout) ? requestTimeout : headers;
  return { requestTimeout, http: { headersTimeout, requestTimeout, connectionsCheckingInterval: 1000 } };
}

/** The static pages (dashboard, API reference) carry no data: not metered as API requests. */
const isPublicUrl = (url: string): boolean =>
  url === '/' || url.startsWith('/dashboard') || url.startsWith('/docs') || url.startsWith('/openapi.json') || HEALTH_PATHS.includes(url.split('?')[0] ?? '');

/** Longest path parameter the router matches; longer ones answer RTM_ERR_REQUEST_URI_TOO_LONG. */
export const MAX_PATH_PARAM_LENGTH = 256;

/**
 * The router's own errors (a URL with bad percent-encoding, a path parameter over
 * MAX_PATH_PARAM_LENGTH) in the registry and the dialect's envelope, like every other error;
 * without this Fastify answers them in its own shape.
 */
const frameworkErrors = (err: { code?: string }, req: FastifyRequest, reply: FastifyReply): void => {
  const e =
    err.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? new RtmError(Errors.REQUEST_URI_TOO_LONG, `a path segment is longer than ${MAX_PATH_PARAM_LENGTH} characters`)
      : new RtmError(Errors.REQUEST_BAD_PARAM, 'the URL is not valid percent-encoded UTF-8');
  void reply.code(e.status).send(renderError[dialectOf(req.url)](e));
};

/** Logs a 5xx with its cause; a logger that throws must not turn the answer into Fastify's own 500. */
function logFailure(req: FastifyRequest, err: unknown, e: RtmError): void {
  try {
    req.log.error({ err, code: e.code }, 'request failed');
  } catch {
    req.log.error({ code: e.code, message: err instanceof Error ? err.message : String(err) }, 'request failed');
  }
}

/**
 * The error and not-found handlers: registry errors rendered in the envelope of the URL's
 * dialect. Exported so plugin tests can build a bare Fastify instance that answers like the app.
 */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err, req, reply) => {
    const e = toRtmError(err);
    if (e.status >= 500) logFailure(req, err, e);
    void reply.code(e.status).headers(e.headers).send(renderError[dialectOf(req.url)](e));
  });
  app.setNotFoundHandler((req: FastifyRequest, reply) => {
    const e = new RtmError(Errors.REQUEST_NOT_FOUND, `No route for ${req.method} ${req.url.split('?')[0] ?? ''}`);
    void reply.code(404).send(renderError[dialectOf(req.url)](e));
  });
}
