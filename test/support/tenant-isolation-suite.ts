/**
 * The tenant isolation suite (issue 5), run on each store engine (issue 10): tenant A (service
 * alpha) walks EVERY route of the app against tenant B's resources (service beta, its Azion
 * configuration and domain ids, B's usage entities, objects and token) and against ones that do
 * not exist. Each answer about B must be the very answer about the non-existent resource (status,
 * body with the probed id replaced, and the headers that carry data), so it reveals nothing of B;
 * refusals are 4xx. A's lists contain nothing of B. The walk fails when the app has a route it
 * does not probe. `test/tenant-isolation.test.ts` runs it on DuckDB,
 * `test/clickhouse-tenant-isolation.test.ts` on a ClickHouse node.
 */
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ADMIN_TOKEN, HARNESS_T0, type Harness } from './app-harness.ts';
import type { StoreNode } from './store-nodes.ts';
import { AZION_PRODUCTS } from '../../src/model/azion-products.ts';

const T = Math.floor(HARNESS_T0 / 1000) - 40;
const DAY = '2026-01-01';
const EDGE_APPLICATIONS = '1441740010';
const LIVE_STREAMING = '1441740004';
const INTELLIGENT_DNS = '1563390045';

/** What a probe names: B's real resources, or look-alikes that do not exist. */
interface Target {
  service: string;
  confId: string;
  domainId: string;
  entityId: string;
  objectId: string;
  provider: string;
  domain: string;
  tokenId: string;
  alertId: string;
}

interface Caller {
  name: string;
  secret: string;
}

interface Probe {
  /** `METHOD /url/pattern` of the route this probe exercises. */
  route: string;
  /** Who calls: A (read+ingest on alpha) or A's admin (admin scope on alpha only). */
  as: 'a' | 'aAdmin';
  /** `refusal`: a 4xx is expected; `same`: any answer, as long as beta's equals the ghost's. */
  expect: 'refusal' | 'same';
  request(t: Target): InjectOptions;
}

/** The ingest probe sends one good alpha line per target (beta, ghost). */
const WALK_ALPHA_LINES = 2;
/** A's own object with CDN timeseries properties filtered on beta and on the ghost service. */
const A_OBJECT = 'a-cdn-watch';

const bearer = (secret: string): Record<string, string> => ({ authorization: `Bearer ${secret}` });

function event(service: string, second: number, domain: string, over: Record<string, unknown> = {}): string {
  return JSON.stringify({ timestamp: second + 0.5, service, datacenter: 'FRA', domain, status: 200, cache: 'miss', resp_body_bytes: 1000, origin_status: 200, backend: `${service}-origin`, ...over });
}

function ndjsonOf(service: string, domain: string, count: number, over: Record<string, unknown> = {}): string {
  return `${Array.from({ length: count }, (_, i) => event(service, T + (i % 10), domain, over)).join('\n')}\n`;
}


const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The body with every id of `t` replaced by its role name (whole tokens only). */
function normalise(text: string, t: Target): string {
  let out = text;
  const byLength = Object.entries(t).sort((x, y) => y[1].length - x[1].length);
  for (const [role, value] of byLength) {
    out = out.replace(new RegExp(`(?<![A-Za-z0-9_])${escape(value)}(?![A-Za-z0-9_])`, 'g'), `<${role}>`);
  }
  return out;
}

const DATA_HEADERS = ['content-type', 'cache-control', 'x-total-count', 'retry-after'];

function shape(res: LightMyRequestResponse, t: Target): { status: number; body: string; headers: Record<string, unknown> } {
  return {
    status: res.statusCode,
    body: normalise(res.body, t),
    headers: Object.fromEntries(DATA_HEADERS.map((k) => [k, res.headers[k]])),
  };
}

function timeseriesProperty(service: string) {
  return { _type: 'VarMetricTimeSeries', provider: 'CDN', metric: 'Requests', calendar: '#P1D', filter: `service=${service}` };
}

const cdnQuery = (service: string) => ({ _metric: 'CDN/Requests', _calendar: '#P1D', _range: DAY, _filter: `service=${service}` });

/** Every route of every dialect, probed with a target. */
const PROBES: Probe[] = [
  // Fastly real-time APIs: a token not granted the service gets 403 whether it exists or not.
  ...['channel', 'domains', 'origins'].flatMap((api): Probe[] => [
    { route: `GET /v1/${api}/:service_id/ts/:ts`, as: 'a', expect: 'refusal', request: (t) => ({ method: 'GET', url: `/v1/${api}/${t.service}/ts/0` }) },
    { route: `GET /v1/${api}/:service_id/ts/:ts`, as: 'a', expect: 'refusal', request: (t) => ({ method: 'GET', url: `/v1/${api}/${t.service}/ts/h` }) },
    { route: `GET /v1/${api}/:service_id/ts/:ts`, as: 'a', expect: 'refusal', request: (t) => ({ method: 'GET', url: `/v1/${api}/${t.service}/ts/${T}` }) },
    { route: `GET /v1/${api}/:service_id/ts/:ts/limit/:n`, as: 'a', expect: 'refusal', request: (t) => ({ method: 'GET', url: `/v1/${api}/${t.service}/ts/h/limit/5` }) },
  ]),

  // Azion: configurations and domains of B answer as unknown ids.
  ...[EDGE_APPLICATIONS, LIVE_STREAMING].flatMap((prod): Probe[] => [
    { route: 'GET /metrics/products/:prodId/configurations/:confId/metrics/:metric', as: 'a', expect: 'refusal', request: (t) => ({ method: 'GET', url: `/metrics/products/${prod}/configurations/${t.confId}/metrics/cdn_requests?date_from=last-hour` }) },
    { route: 'GET /metrics/products/:prodId/configurations/:confId/metrics/:metric', as: 'a', expect: 'refusal', request: (t) => ({ method: 'GET', url: `/metrics/products/${prod}/configurations/${t.domainId}/metrics/data_transferred?date_from=last-hour` }) },
    { route: 'GET /metrics/products/:prodId/configurations/:confId/metrics/:metric', as: 'a', expect: 'refusal', request: (t) => ({ method: 'GET', url: `/metrics/products/${prod}/configurations/${t.confId}/metrics/no_such_metric` }) },
    { route: 'GET /metrics/products/:prodId/configurations/:confId/metrics/:metric/dimensions/:dimension', as: 'a', expect: 'refusal', request: (t) => ({ method: 'GET', url: `/metrics/products/${prod}/configurations/${t.confId}/metrics/data_transferred/dimensions/out?date_from=last-hour` }) },
    { route: 'GET /metrics/products/:prodId/configurations/:confId/metrics/:metric/dimensions/:dimension', as: 'a', expect: 'refusal', request: (t) => ({ method: 'GET', url: `/metrics/products/${prod}/configurations/${t.domainId}/metrics/status_code/dimensions/nope` }) },
  ]),
  // A product only B uses lists as empty as a product nobody uses.
  { route: 'GET /metrics/products/:prodId/configurations', as: 'a', expect: 'same', request: (t) => ({ method: 'GET', url: `/metrics/products/${t.service === 'beta' ? LIVE_STREAMING : INTELLIGENT_DNS}/configurations` }) },

  // OpenDataDSL metric service.
  { route: 'GET /api/metric', as: 'a', expect: 'same', request: () => ({ method: 'GET', url: '/api/metric' }) },
  { route: 'GET /api/metric/v1/:id', as: 'a', expect: 'refusal', request: (t) => ({ method: 'GET', url: `/api/metric/v1/${t.entityId}` }) },
  { route: 'GET /api/metric/v1', as: 'a', expect: 'same', request: (t) => ({ method: 'GET', url: '/api/metric/v1', query: { _id: t.entityId } }) },
  { route: 'GET /api/metric/v1', as: 'a', expect: 'same', request: (t) => ({ method: 'GET', url: '/api/metric/v1', query: { _filter: JSON.stringify({ user: t.tokenId }) } }) },
  { route: 'GET /api/metric/v1', as: 'a', expect: 'same', request: (t) => ({ method: 'GET', url: '/api/metric/v1', query: { provider: t.provider } }) },
  { route: 'GET /api/metric/v1', as: 'a', expect: 'refusal', request: (t) => ({ method: 'GET', url: '/api/metric/v1', query: { _function: 'listMetrics', provider: t.provider } }) },
  { route: 'GET /api/metric/v1', as: 'a', expect: 'refusal', request: (t) => ({ method: 'GET', url: '/api/metric/v1', query: { _metric: `${t.provider}/Calls`, _range: DAY } }) },
  { route: 'GET /api/metric/v1', as: 'a', expect: 'same', request: (t) => ({ method: 'GET', url: '/api/metric/v1', query: cdnQuery(t.service) }) },
  { route: 'GET /api/metric/v1', as: 'a', expect: 'same', request: (t) => ({ method: 'GET', url: '/api/metric/v1', query: { ...cdnQuery(t.service), _filter: `domain=${t.domain}` } }) },
  { route: 'GET /api/metric/v1', as: 'a', expect: 'same', request: (t) => ({ method: 'GET', url: '/api/metric/v1', query: { _metric: 'RTMRequest/ReadRequests', _range: DAY, _filter: `user=${t.tokenId}` } }) },
  // An entity cannot be written under B's id (ids are the server's).
  { route: 'POST /api/metric/v1', as: 'a', expect: 'same', request: (t) => ({ method: 'POST', url: '/api/metric/v1', payload: { _id: t.entityId, provider: t.provider, metric: 'Calls', timestamp: `${DAY}T00:00:00Z` } }) },

  // OpenDataDSL objects: B's ids are A's empty namespace.
  { route: 'GET /api/object/v1', as: 'a', expect: 'same', request: (t) => ({ method: 'GET', url: '/api/object/v1', query: cdnQuery(t.service) }) },
  { route: 'GET /api/object/v1/:id', as: 'a', expect: 'refusal', request: (t) => ({ method: 'GET', url: `/api/object/v1/${t.objectId}` }) },
  { route: 'GET /api/object/v1/:id', as: 'a', expect: 'same', request: (t) => ({ method: 'GET', url: `/api/object/v1/${t.objectId}`, query: cdnQuery(t.service) }) },
  { route: 'GET /api/object/v1/:id/:property', as: 'a', expect: 'refusal', request: (t) => ({ method: 'GET', url: `/api/object/v1/${t.objectId}/traffic` }) },
  { route: 'GET /api/object/v1/:id/:property', as: 'a', expect: 'same', request: (t) => ({ method: 'GET', url: `/api/object/v1/${A_OBJECT}/${t.service}`, query: { _range: DAY } }) },
  { route: 'GET /api/object/v1/:id/:property', as: 'a', expect: 'refusal', request: (t) => ({ method: 'GET', url: `/api/object/v1/${A_OBJECT}/bill-${t.provider}`, query: { _range: DAY } }) },
  { route: 'DELETE /api/object/v1/:id', as: 'a', expect: 'refusal', request: (t) => ({ method: 'DELETE', url: `/api/object/v1/${t.objectId}` }) },

  // Native API.
  { route: 'GET /rtm/v1/services/:service/live', as: 'a', expect: 'refusal', request: (t) => ({ method: 'GET', url: `/rtm/v1/services/${t.service}/live` }) },
  { route: 'GET /rtm/v1/services/:service/live', as: 'a', expect: 'refusal', request: (t) => ({ method: 'GET', url: `/rtm/v1/services/${t.service}/live?seconds=5&fields=requests` }) },
  { route: 'GET /rtm/v1/services', as: 'a', expect: 'same', request: () => ({ method: 'GET', url: '/rtm/v1/services' }) },
  // Alerts: a rule on B's service is refused like one on a ghost; B's rules are absent to A.
  { route: 'POST /rtm/v1/alerts', as: 'a', expect: 'refusal', request: (t) => ({ method: 'POST', url: '/rtm/v1/alerts', payload: { name: 'spy', metric: 'requests', filters: [{ field: 'service', op: 'in', value: [t.service] }], windowSeconds: 60, comparison: '>', threshold: 1, webhook: 'http://127.0.0.1:9/hook' } }) },
  { route: 'GET /rtm/v1/alerts', as: 'a', expect: 'same', request: () => ({ method: 'GET', url: '/rtm/v1/alerts' }) },
  { route: 'DELETE /rtm/v1/alerts/:id', as: 'a', expect: 'refusal', request: (t) => ({ method: 'DELETE', url: `/rtm/v1/alerts/${t.alertId}` }) },
  { route: 'DELETE /rtm/v1/alerts/:id', as: 'aAdmin', expect: 'refusal', request: (t) => ({ method: 'DELETE', url: `/rtm/v1/alerts/${t.alertId}` }) },
  // Billing: B's service answers like an unknown one.
  { route: 'GET /rtm/v1/billing/bandwidth-p95', as: 'a', expect: 'refusal', request: (t) => ({ method: 'GET', url: `/rtm/v1/billing/bandwidth-p95?service=${t.service}&from=${T - 3_600}&to=${T + 20}` }) },
  // Prometheus export: B's service is refused like an unknown one; the unfiltered scrape holds A's series only.
  { route: 'GET /rtm/v1/prometheus', as: 'a', expect: 'refusal', request: (t) => ({ method: 'GET', url: `/rtm/v1/prometheus?service=${t.service}` }) },
  { route: 'GET /rtm/v1/prometheus', as: 'a', expect: 'same', request: () => ({ method: 'GET', url: '/rtm/v1/prometheus?aggregate_only=true&metric_allowlist=^fastly_rt_resp_body_bytes_total$' }) },
  // Streams: B's service is refused like one that does not exist (an accepted stream never ends, so only refusals are probed).
  { route: 'GET /rtm/v1/stream', as: 'a', expect: 'refusal', request: (t) => ({ method: 'GET', url: `/rtm/v1/stream?service=${t.service}` }) },
  { route: 'GET /rtm/v1/stream', as: 'a', expect: 'refusal', request: (t) => ({ method: 'GET', url: `/rtm/v1/stream?service=alpha&service=${t.service}&fields=requests`, headers: { 'last-event-id': String(T) } }) },
  // Native query: B's service filtered, grouped or not, answers like a service nobody has.
  { route: 'POST /rtm/v1/query', as: 'a', expect: 'same', request: (t) => ({ method: 'POST', url: '/rtm/v1/query', payload: { from: T - 60, to: T + 20, granularity: 'all', metrics: ['requests'], groupBy: ['service', 'domain'], filters: [{ field: 'service', op: 'eq', value: t.service }] } }) },
  { route: 'POST /rtm/v1/query', as: 'a', expect: 'same', request: (t) => ({ method: 'POST', url: '/rtm/v1/query', payload: { from: T - 60, to: T + 20, granularity: '1s', metrics: ['requests'], groupBy: ['status'], filters: [{ field: 'domain', op: 'in', value: [t.domain] }] } }) },
  { route: 'POST /rtm/v1/query', as: 'a', expect: 'same', request: (t) => ({ method: 'POST', url: '/rtm/v1/query', payload: { from: T - 60, to: T + 20, metrics: ['backend_responses'], groupBy: ['backend'], filters: [{ field: 'service', op: 'not_in', value: ['alpha', t.service] }] } }) },
  { route: 'GET /rtm/v1/query', as: 'a', expect: 'same', request: (t) => ({ method: 'GET', url: `/rtm/v1/query?from=${T - 60}&to=${T + 20}&granularity=all&metrics=resp_body_bytes&groupBy=service,product&filter=service:in:${t.service}|alpha` }) },
  { route: 'GET /rtm/v1/query', as: 'a', expect: 'same', request: () => ({ method: 'GET', url: `/rtm/v1/query?from=${T - 60}&to=${T + 20}&granularity=1m&metrics=resp_body_bytes&groupBy=domain`, headers: { accept: 'text/csv' } }) },

  // Admin: A has no admin scope; A's admin token (scoped to alpha) sees B's things as absent.
  { route: 'GET /admin/tokens', as: 'a', expect: 'refusal', request: () => ({ method: 'GET', url: '/admin/tokens' }) },
  { route: 'GET /rtm/v1/metrics', as: 'a', expect: 'refusal', request: () => ({ method: 'GET', url: '/rtm/v1/metrics' }) },
  { route: 'GET /rtm/v1/metrics', as: 'aAdmin', expect: 'refusal', request: () => ({ method: 'GET', url: '/rtm/v1/metrics' }) },
  { route: 'GET /admin/tokens', as: 'aAdmin', expect: 'same', request: () => ({ method: 'GET', url: '/admin/tokens' }) },
  { route: 'POST /admin/tokens', as: 'a', expect: 'refusal', request: (t) => ({ method: 'POST', url: '/admin/tokens', payload: { name: 'x', services: [t.service], scopes: ['read'] } }) },
  { route: 'POST /admin/tokens', as: 'aAdmin', expect: 'refusal', request: (t) => ({ method: 'POST', url: '/admin/tokens', payload: { name: 'x', services: [t.service], scopes: ['read'] } }) },
  { route: 'DELETE /admin/tokens/:id', as: 'a', expect: 'refusal', request: (t) => ({ method: 'DELETE', url: `/admin/tokens/${t.tokenId}` }) },
  { route: 'DELETE /admin/tokens/:id', as: 'aAdmin', expect: 'refusal', request: (t) => ({ method: 'DELETE', url: `/admin/tokens/${t.tokenId}` }) },
  { route: 'GET /admin/services', as: 'a', expect: 'refusal', request: () => ({ method: 'GET', url: '/admin/services' }) },
  { route: 'GET /admin/services', as: 'aAdmin', expect: 'same', request: () => ({ method: 'GET', url: '/admin/services' }) },
  { route: 'POST /admin/services/:service/rename', as: 'a', expect: 'refusal', request: (t) => ({ method: 'POST', url: `/admin/services/${t.service}/rename`, payload: { name: 'pwned' } }) },
  { route: 'POST /admin/services/:service/rename', as: 'aAdmin', expect: 'refusal', request: (t) => ({ method: 'POST', url: `/admin/services/${t.service}/rename`, payload: { name: 'pwned' } }) },

  // Ingest: a line for B's service is rejected like a line for a service nobody has.
  {
    route: 'POST /ingest',
    as: 'a',
    expect: 'same',
    request: (t) => ({ method: 'POST', url: '/ingest', headers: { 'content-type': 'application/x-ndjson' }, payload: `${event('alpha', T, 'www.alpha.example')}\n${event(t.service, T, 'www.beta.example')}\n` }),
  },
  // Objects last: A may create an object under any id, in its own namespace only.
  { route: 'POST /api/object/v1', as: 'a', expect: 'same', request: (t) => ({ method: 'POST', url: '/api/object/v1', payload: { _id: t.objectId, note: 'mine' } }) },
];

/** Routes that carry no tenant data: the dashboard's static files, the API reference and the health checks, served without a token. */
const PUBLIC_ROUTES = [
  'GET /',
  'GET /dashboard',
  // The dashboard's modules and uPlot (@fastify/static).
  'GET /dashboard/*',
  // The API reference (@fastify/swagger, @fastify/swagger-ui): generated from route schemas.
  'GET /openapi.json',
  'GET /docs',
  'GET /docs/static/index.html',
  'GET /docs/static/swagger-initializer.js',
  'GET /docs/static/*',
  'GET /docs/json',
  'GET /docs/yaml',
  // Health probes (load balancers, orchestrators).
  'GET /healthz',
  'GET /readyz',
];
/** A file each wildcard public route serves. */
const WILDCARD_SAMPLE: Readonly<Record<string, string>> = { 'GET /docs/static/*': 'swagger-ui.css', 'GET /dashboard/*': 'app.js' };

type CallerName = 'a' | 'aAdmin' | 'b';

/**
 * Where the suite runs: the tokens, B's resources and the traffic are made on `setup`, and A
 * probes `probe`; on one node the two are the same node, on a cluster two nodes (issue 10).
 */
export interface IsolationNodes {
  /** Names the nodes in the suite's title, e.g. `DuckDB`. */
  name: string;
  start(): Promise<{ setup: Harness; probe: Harness }>;
  stop(): Promise<void>;
}

/** The suite on one node: setup and probe are the same. */
export function oneNode(node: StoreNode): IsolationNodes {
  return {
    name: node.name,
    async start() {
      const h = await node.start();
      return { setup: h, probe: h };
    },
    stop: () => node.stop(),
  };
}

/** Registers the isolation suite on `node`; call once from a test file. */
export function defineTenantIsolationSuite(node: IsolationNodes): void {
  /** The node A probes (every test below asks it). */
  let h: Harness;
  /** The node the tokens, B's resources and the traffic were made on. */
  let setup: Harness;
  let callers: Record<CallerName, Caller>;
  let beta: Target;
  let ghost: Target;
  let alphaEvents = 0;

  const call = (as: CallerName, opts: InjectOptions, on: Harness = h): Promise<LightMyRequestResponse> =>
    on.inject({ ...opts, headers: { ...bearer(callers[as].secret), ...(opts.headers as Record<string, string> | undefined) } });

  describe(`tenant isolation on ${node.name}`, () => {
    beforeAll(async () => {
      ({ setup, probe: h } = await node.start());
      const a = await setup.token('tenant-a', ['alpha'], ['read', 'ingest', 'write']);
      const aAdmin = await setup.token('tenant-a-admin', ['alpha'], ['read', 'ingest', 'admin']);
      const b = await setup.token('tenant-b', ['beta'], ['read', 'ingest', 'write']);
      callers = { a: { name: 'a', secret: a.secret }, aAdmin: { name: 'aAdmin', secret: aAdmin.secret }, b: { name: 'b', secret: b.secret } };

      alphaEvents = 30;
      await setup.ingest(ADMIN_TOKEN, ndjsonOf('alpha', 'www.alpha.example', alphaEvents));
      await setup.ingest(ADMIN_TOKEN, ndjsonOf('beta', 'www.beta.example', 20));
      await setup.ingest(ADMIN_TOKEN, ndjsonOf('beta', 'live.beta.example', 7, { product: 'live_streaming' }));
      await setup.publishThrough(T + 10);
      await setup.waitForCatalog(['alpha', 'beta']);

      // B's private usage entities and object.
      const posted = await call('b', {
        method: 'POST',
        url: '/api/metric/v1',
        payload: [1, 2, 3].map((v) => ({ provider: 'BillingB', metric: 'Calls', value: v, timestamp: `${DAY}T00:0${v}:00Z`, service: 'beta' })),
      }, setup);
      expect(posted.json()).toMatchObject({ accepted: 3, rejected: 0 });
      const bList = await call('b', { method: 'GET', url: '/api/metric/v1', query: { provider: 'BillingB' } }, setup);
      const bEntity = (bList.json() as { _id: string }[])[0]?._id ?? '';
      expect(bEntity).not.toBe('');
      const bObject = await call('b', { method: 'POST', url: '/api/object/v1', payload: { _id: 'b-secret-object', traffic: timeseriesProperty('beta') } }, setup);
      expect(bObject.statusCode).toBe(201);
      const aObject = await call('a', { method: 'POST', url: '/api/object/v1', payload: {
          _id: A_OBJECT,
          beta: timeseriesProperty('beta'),
          ghostsvc: timeseriesProperty('ghostsvc'),
          'bill-BillingB': { _type: 'VarMetricTimeSeries', provider: 'BillingB', metric: 'Calls', calendar: '#P1D' },
          'bill-GhostProv': { _type: 'VarMetricTimeSeries', provider: 'GhostProv', metric: 'Calls', calendar: '#P1D' },
        },
      }, setup);
      expect(aObject.statusCode).toBe(201);

      const bAlert = await call('b', { method: 'POST', url: '/rtm/v1/alerts', payload: { name: 'b-secret-alert', metric: 'requests', filters: [{ field: 'service', op: 'eq', value: 'beta' }], windowSeconds: 60, comparison: '>', threshold: 1e12, webhook: 'http://127.0.0.1:9/b-hook' } }, setup);
      expect(bAlert.statusCode).toBe(201);

      // B's own requests are RTMRequest entities of B: stored now, so the walk could find them.
      await setup.services.usageRecorder.flush();
      // The probed node knows the tokens and the services (at once on one node, within the refresh on a cluster).
      for (const c of Object.values(callers)) await vi.waitFor(async () => expect(await h.services.tokens.verify(c.secret), c.name).toBeDefined(), { timeout: 10_000, interval: 50 });
      await h.waitForCatalog(['alpha', 'beta']);

      const catalog = await setup.services.catalog.services();
      const betaEntry = catalog.find((s) => s.service === 'beta');
      const usedIds = catalog.flatMap((s) => [s.id, ...s.domains.map((d) => d.id)]);
      const unused = Math.max(...usedIds) + 1000;
      beta = {
        service: 'beta',
        confId: String(betaEntry?.id),
        domainId: String(betaEntry?.domains[0]?.id),
        entityId: bEntity,
        objectId: 'b-secret-object',
        provider: 'BillingB',
        domain: 'www.beta.example',
        tokenId: b.id,
        alertId: (bAlert.json() as { id: string }).id,
      };
      ghost = {
        service: 'ghostsvc',
        confId: String(unused),
        domainId: String(unused + 1),
        entityId: bEntity.replace(/[0-9a-f]/g, '0'),
        objectId: 'ghost-object',
        provider: 'GhostProv',
        domain: 'www.ghost.example',
        tokenId: 'tk_000000000000',
        alertId: 'al_0000000000000000',
      };
      expect(ghost.entityId).not.toBe(beta.entityId);
    }, 60_000);

    afterAll(async () => {
      await node.stop();
    });

    describe('tenant isolation', () => {
      it('the walk covers every route the app has', () => {
        const covered = new Set([...PROBES.map((p) => p.route), ...PUBLIC_ROUTES]);
        const routes = h.routes.map((r) => `${r.method} ${r.url}`);
        // A new route must be added to PROBES (or PUBLIC_ROUTES when it carries no tenant data).
        expect(routes.filter((r) => !covered.has(r)), 'routes the isolation walk does not probe').toEqual([]);
        expect([...covered].filter((r) => !routes.includes(r)), 'probes of routes that do not exist').toEqual([]);
      });

      it("answers A about B's resources exactly as about resources that do not exist", async () => {
        const failures: string[] = [];
        for (const probe of PROBES) {
          const forBeta = await call(probe.as, probe.request(beta));
          const forGhost = await call(probe.as, probe.request(ghost));
          const label = `${probe.as} ${probe.route} ${JSON.stringify(probe.request(beta)).slice(0, 200)}`;
          if (forBeta.statusCode >= 500 || forGhost.statusCode >= 500) failures.push(`${label}: 5xx ${forBeta.body}`);
          // A 401 would mean the probe never got past authentication: it would test nothing.
          if (forBeta.statusCode === 401) failures.push(`${label}: 401, the caller's token was not accepted`);
          if (probe.expect === 'refusal' && !(forBeta.statusCode >= 400 && forBeta.statusCode < 500)) {
            failures.push(`${label}: expected a refusal, got ${forBeta.statusCode} ${forBeta.body.slice(0, 300)}`);
          }
          const [x, y] = [shape(forBeta, beta), shape(forGhost, ghost)];
          if (JSON.stringify(x) !== JSON.stringify(y)) failures.push(`${label}:\n  beta:  ${JSON.stringify(x).slice(0, 600)}\n  ghost: ${JSON.stringify(y).slice(0, 600)}`);
          for (const leak of ['www.beta.example', 'live.beta.example', 'BillingB', beta.tokenId, 'tenant-b', 'b-secret-alert', 'b-hook']) {
            if (forBeta.body.includes(leak) && !JSON.stringify(probe.request(beta)).includes(leak)) failures.push(`${label}: body mentions ${leak}`);
          }
        }
        expect(failures).toEqual([]);
      });

      it("leaves B's data as it was", async () => {
        expect((await call('b', { method: 'GET', url: `/api/object/v1/${beta.objectId}` })).json()).toEqual({ _id: beta.objectId, traffic: timeseriesProperty('beta') });
        const names = (await h.services.catalog.services()).map((s) => [s.service, s.name]);
        expect(names).toEqual(expect.arrayContaining([['beta', 'beta']]));
        expect((await call('b', { method: 'GET', url: '/rtm/v1/services' })).json()).toEqual({ services: ['beta'] });
        // Alert rules are the node's own (its DuckDB file, on every engine): B's are on the node B made them on.
        expect((await call('b', { method: 'GET', url: '/rtm/v1/alerts' }, setup)).json().alerts.map((r: { id: string }) => r.id)).toEqual([beta.alertId]);
        const metrics = await call('b', { method: 'GET', url: '/api/metric/v1', query: { _function: 'listMetrics', provider: 'BillingB' } });
        expect(metrics.json()).toEqual(['Calls']);
        const entities = await call('b', { method: 'GET', url: '/api/metric/v1', query: { provider: 'BillingB' } });
        expect(entities.headers['x-total-count']).toBe('3');
      });

      it("public routes carry nothing of any tenant", async () => {
        for (const route of PUBLIC_ROUTES) {
          const res = await h.inject({ method: 'GET', url: route.slice(4).replace('*', WILDCARD_SAMPLE[route] ?? '') });
          expect(res.statusCode, route).toBeLessThan(400);
          expect(res.body).not.toContain('beta.example');
          expect(res.body).not.toContain('alpha.example');
        }
      });
    });

    describe("A's lists hold nothing of B", () => {
      it('Azion configurations: only alpha, in every product', async () => {
        const alpha = (await h.services.catalog.services()).find((s) => s.service === 'alpha');
        for (const prodId of Object.keys(AZION_PRODUCTS)) {
          const res = await call('a', { method: 'GET', url: `/metrics/products/${prodId}/configurations` });
          expect(res.statusCode).toBe(200);
          const expected = prodId === EDGE_APPLICATIONS ? [{ id: alpha?.id, name: 'alpha', active: true, domains: alpha?.domains.map((d) => d.id) }] : [];
          expect(res.json(), prodId).toEqual(expected);
        }
      });

      it('native services and admin lists', async () => {
        expect((await call('a', { method: 'GET', url: '/rtm/v1/services' })).json()).toEqual({ services: ['alpha'] });
        const services = (await call('aAdmin', { method: 'GET', url: '/admin/services' })).json() as { services: { service: string }[] };
        expect(services.services.map((s) => s.service)).toEqual(['alpha']);
        const tokens = (await call('aAdmin', { method: 'GET', url: '/admin/tokens' })).json() as { tokens: { name: string }[] };
        expect(tokens.tokens.map((t) => t.name).sort()).toEqual(['tenant-a', 'tenant-a-admin']);
      });

      it("ODSL entities: A's own only, and listMetrics of B's provider is unknown", async () => {
        for (const n of new Set([setup, h])) await n.services.usageRecorder.flush();
        const bOwn = await call('b', { method: 'GET', url: '/api/metric/v1', query: { provider: 'RTMRequest' } });
        expect(Number(bOwn.headers['x-total-count'])).toBeGreaterThan(0);
        const res = await call('a', { method: 'GET', url: '/api/metric/v1', query: { _limit: '10000' } });
        expect(res.statusCode).toBe(200);
        const items = res.json() as { _id: string; provider: string; user?: string; application?: string }[];
        expect(Number(res.headers['x-total-count'])).toBe(items.length);
        expect(items.length).toBeGreaterThan(0);
        for (const e of items) {
          expect(e._id).not.toBe(beta.entityId);
          expect(e.provider).not.toBe('BillingB');
          expect(e.user).not.toBe(beta.tokenId);
          expect(e.application).not.toBe('tenant-b');
        }
        const bProvider = await call('a', { method: 'GET', url: '/api/metric/v1', query: { _function: 'listMetrics', provider: 'BillingB' } });
        expect(bProvider.statusCode).toBe(404);
      });

      it("CDN timeseries: alpha's traffic only, nothing for a filter on beta", async () => {
        for (const n of new Set([setup, h])) await n.publishThrough(T + 10);
        const all = await call('a', { method: 'GET', url: '/api/metric/v1', query: { _metric: 'CDN/Requests', _calendar: '#P1D', _range: DAY } });
        expect(all.statusCode).toBe(200);
        const total = (all.json() as { data: { value: number }[] }).data.reduce((s, p) => s + p.value, 0);
        expect(total).toBe(alphaEvents + WALK_ALPHA_LINES);

        const onBeta = await call('a', { method: 'GET', url: '/api/metric/v1', query: cdnQuery('beta') });
        expect((onBeta.json() as { data: { value: number }[] }).data.every((p) => p.value === 0)).toBe(true);
        const both = await call('a', { method: 'GET', url: '/api/metric/v1', query: { ...cdnQuery('beta'), _filter: '{"service": {"$in": ["alpha", "beta"]}}' } });
        expect((both.json() as { data: { value: number }[] }).data.reduce((s, p) => s + p.value, 0)).toBe(alphaEvents + WALK_ALPHA_LINES);
      });

      it("an all-services reader gets Fastly's No data for a service that does not exist", async () => {
        const reader = await h.token('reader-all', 'all', ['read']);
        const res = await h.inject({ method: 'GET', url: '/v1/channel/ghostsvc/ts/0', headers: { 'fastly-key': reader.secret } });
        expect(res.statusCode).toBe(200);
        expect(res.json()).toMatchObject({ Data: [], Error: 'No data available, please retry' });
      });
    });

    describe('ingest by A of a beta event', () => {
      it('rejects the beta line with its number and keeps A’s good lines', async () => {
        const body = [event('alpha', T, 'www.alpha.example'), event('beta', T, 'www.beta.example'), event('alpha', T + 1, 'www.alpha.example'), '{"broken"', event('beta', T + 2, 'www.beta.example')].join('\n');
        const res = await call('a', { method: 'POST', url: '/ingest', headers: { 'content-type': 'application/x-ndjson' }, payload: body });
        expect(res.statusCode).toBe(200);
        const out = res.json() as { accepted: number; rejected: number; errors: { line: number; reason: string }[] };
        expect(out.accepted).toBe(2);
        expect(out.rejected).toBe(3);
        expect(out.errors.map((e) => e.line)).toEqual([2, 4, 5]);
        expect(out.errors[0]?.reason).toMatch(/beta/);
        expect(out.errors[2]?.reason).toBe(out.errors[0]?.reason);

        await h.publishThrough(T + 10);
        const bSees = await call('b', { method: 'GET', url: `/v1/channel/beta/ts/${T - 1}` });
        const requests = (bSees.json() as { Data: { aggregated: { requests?: number } }[] }).Data.reduce((s, d) => s + (d.aggregated.requests ?? 0), 0);
        expect(requests).toBe(27);
      });
    });
  });
}
