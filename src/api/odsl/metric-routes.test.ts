import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installErrorHandling } from '../../app.ts';
import { createFakeClock } from '../../model/clock.ts';
import { createDuckDbUsageStore } from '../../store/duckdb/usage-store.ts';
import { openDuckDb, type DuckDb } from '../../store/duckdb/database.ts';
import type { NewUsageEntity, UsageStore } from '../../store/usage-store.ts';
import { adminPrincipal, type Principal, type Scope, type TokenVerifier } from '../../http/auth.ts';
import { installRequestPrincipal } from '../../http/request-principal.ts';
import { odslMetricRoutes } from './metric-routes.ts';

const T0 = Date.UTC(2024, 10, 20);
const principal = (tokenId: string, scopes: Scope[]): Principal => ({ tokenId, name: `${tokenId}-app`, services: 'all', scopes: new Set(scopes) });
const TOKENS: Record<string, Principal> = {
  'secret-a': principal('tok-a', ['read', 'ingest']),
  'secret-b': principal('tok-b', ['read', 'ingest']),
  'secret-ro': principal('tok-ro', ['read']),
  'secret-wo': principal('tok-wo', ['ingest']),
  'secret-admin': adminPrincipal(),
};
const verifier: TokenVerifier = { verify: async (s) => TOKENS[s] };
const auth = (secret: string) => ({ authorization: `Bearer ${secret}` });

let db: DuckDb;
let usage: UsageStore;
let app: FastifyInstance;

const seed: NewUsageEntity[] = [
  { _id: 'a1', owner: 'tok-a', provider: 'RTMRequest', metric: 'ReadRequests', timestamp: T0, value: 1, type: 'api', action: 'read', service: 'object', httpstatus: 200, method: 'get', user: 'tok-a', application: 'api', duration: 12, responseSize: 512 },
  { _id: 'a2', owner: 'tok-a', provider: 'RTMRequest', metric: 'ReadRequests', timestamp: T0 + 1000, value: 1, type: 'api', action: 'read', service: 'data', httpstatus: 404, method: 'get', user: 'tok-a', application: 'web', duration: 3 },
  { _id: 'a3', owner: 'tok-a', provider: 'RTMRequest', metric: 'WriteRequests', timestamp: T0 + 2000, value: 1, type: 'api', action: 'write', service: 'object', httpstatus: 201, method: 'post', user: 'tok-a', application: 'api', duration: 40 },
  { _id: 'a4', owner: 'tok-a', provider: 'Billing', metric: 'Invoices', timestamp: T0 + 3000, value: 7 },
  { _id: 'b1', owner: 'tok-b', provider: 'Secret', metric: 'Hidden', timestamp: T0 + 500, value: 9, service: 'object' },
];

beforeAll(async () => {
  db = await openDuckDb(':memory:');
  usage = await createDuckDbUsageStore(db, { retentionSeconds: 395 * 86_400 });
  await usage.insert(seed);
  app = Fastify();
  installErrorHandling(app);
  installRequestPrincipal(app);
  await app.register(odslMetricRoutes, {
    usage,
    tokens: verifier,
    clock: createFakeClock(T0),
    build: { name: 'rtmetrics', version: '0.1.0', commit: 'abc1234', startTime: '2024-11-20T00:00:00.000Z' },
    cdnMetrics: ['Requests', 'BytesDelivered'],
    virtualTimeseries: async (req, p) => ({ delegated: true, token: p.tokenId, metric: (req.query as Record<string, string>)['_metric'] }),
    maxItems: 10,
  });
});

afterAll(async () => {
  await app.close();
  await usage.close();
  db.close();
});

const get = (url: string, secret = 'secret-a') => app.inject({ method: 'GET', url, headers: auth(secret) });
const ids = (body: string): string[] => (JSON.parse(body) as { _id: string }[]).map((e) => e._id);

describe('GET /api/metric', () => {
  it('answers the build information', async () => {
    const res = await get('/api/metric');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ name: 'rtmetrics', version: '0.1.0', commit: 'abc1234', startTime: '2024-11-20T00:00:00.000Z' });
  });

  it('needs a token, answered in the odsl envelope', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/metric' });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ status: 401, message: 'Provide a token in Fastly-Key or Authorization', code: 'RTM_ERR_AUTH_MISSING' });
    expect((await get('/api/metric', 'wrong')).json()).toMatchObject({ status: 401, code: 'RTM_ERR_AUTH_INVALID' });
  });
});

describe('GET /api/metric/v1 (list)', () => {
  it('lists the token\'s entities newest first, with ISO times, no owner, and the total', async () => {
    const res = await get('/api/metric/v1');
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-total-count']).toBe('4');
    expect(res.json()).toEqual([
      { _id: 'a4', provider: 'Billing', metric: 'Invoices', timestamp: '2024-11-20T00:00:03.000Z', value: 7 },
      {
        _id: 'a3', provider: 'RTMRequest', metric: 'WriteRequests', timestamp: '2024-11-20T00:00:02.000Z', value: 1,
        type: 'api', action: 'write', application: 'api', duration: 40, httpstatus: 201, method: 'post', service: 'object', user: 'tok-a',
      },
      {
        _id: 'a2', provider: 'RTMRequest', metric: 'ReadRequests', timestamp: '2024-11-20T00:00:01.000Z', value: 1,
        type: 'api', action: 'read', application: 'web', duration: 3, httpstatus: 404, method: 'get', service: 'data', user: 'tok-a',
      },
      {
        _id: 'a1', provider: 'RTMRequest', metric: 'ReadRequests', timestamp: '2024-11-20T00:00:00.000Z', value: 1,
        type: 'api', action: 'read', application: 'api', duration: 12, httpstatus: 200, method: 'get', responseSize: 512,
        service: 'object', user: 'tok-a',
      },
    ]);
  });

  it.each([
    ['?service=object', ['a3', 'a1']],
    ['?service=object&httpstatus=200', ['a1']],
    ['?application=api&application=web', ['a3', 'a2', 'a1']],
    ['?_id=a2', ['a2']],
    [`?_filter=${encodeURIComponent('{"application": "api"}')}`, ['a3', 'a1']],
    [`?_filter=${encodeURIComponent('{"httpstatus": {"$gte": 400}}')}`, ['a2']],
    [`?_filter=${encodeURIComponent('{"service": {"$in": ["data", "nothing"]}}')}`, ['a2']],
    [`?_filter=${encodeURIComponent('{"httpstatus": {"$ne": 200}}')}`, ['a4', 'a3', 'a2']],
    [`?_filter=${encodeURIComponent('(service=object or service=data) and httpstatus=200')}`, ['a1']],
    [`?_filter=${encodeURIComponent('duration>3 and duration<=40')}&provider=RTMRequest`, ['a3', 'a1']],
    [`?_filter=${encodeURIComponent('timestamp>=2024-11-20T00:00:01Z')}`, ['a4', 'a3', 'a2']],
    [`?_sort=${encodeURIComponent('{"timestamp": 1}')}`, ['a1', 'a2', 'a3', 'a4']],
    ['?_sort=-duration,timestamp', ['a3', 'a1', 'a2', 'a4']],
    ['?_sort=timestamp&_limit=2&_skip=1', ['a2', 'a3']],
    ['?_limit=0', []],
  ])('%s', async (query, expected) => {
    const res = await get(`/api/metric/v1${query}`);
    expect(res.statusCode).toBe(200);
    expect(ids(res.body)).toEqual(expected);
  });

  it('reports the total of all matches, not of the page', async () => {
    const res = await get('/api/metric/v1?_limit=1&provider=RTMRequest');
    expect(res.headers['x-total-count']).toBe('3');
    expect(ids(res.body)).toEqual(['a3']);
  });

  it('lets the admin token see every owner', async () => {
    const res = await get('/api/metric/v1?_sort=_id', 'secret-admin');
    expect(ids(res.body)).toEqual(['a1', 'a2', 'a3', 'a4', 'b1']);
  });

  it.each([
    ['?_limit=10001', 400, 'RTM_ERR_QUERY_BAD_LIMIT', /_limit must be an integer 0..10000/],
    ['?_limit=abc', 400, 'RTM_ERR_QUERY_BAD_LIMIT', /_limit must be an integer/],
    ['?_limit=-1', 400, 'RTM_ERR_QUERY_BAD_LIMIT', /_limit/],
    ['?_skip=x', 400, 'RTM_ERR_ODSL_BAD_PARAM', /_skip must be an integer/],
    ['?_limit=1&_limit=2', 400, 'RTM_ERR_ODSL_BAD_PARAM', /_limit given more than once/],
    ['?_filter=nope%3D1', 400, 'RTM_ERR_ODSL_BAD_FILTER', /unknown field "nope"/],
    ['?_filter=%7B%22service%22', 400, 'RTM_ERR_ODSL_BAD_FILTER', /invalid JSON filter/],
    ['?colour=red', 400, 'RTM_ERR_ODSL_BAD_FILTER', /unknown field "colour"/],
    ['?httpstatus=ok', 400, 'RTM_ERR_ODSL_BAD_FILTER', /httpstatus expects a number/],
    ['?_sort=colour', 400, 'RTM_ERR_ODSL_BAD_SORT', /cannot sort by unknown field "colour"/],
    ['?_calendar=%23PT1H', 400, 'RTM_ERR_ODSL_BAD_PARAM', /unknown parameter _calendar/],
    ['?_function=nope', 400, 'RTM_ERR_ODSL_UNKNOWN_FUNCTION', /unknown _function "nope"/],
  ])('%s -> %s', async (query, status, code, message) => {
    const res = await get(`/api/metric/v1${query}`);
    expect(res.statusCode).toBe(status);
    const body = res.json<{ status: number; message: string; code: string }>();
    expect(body).toEqual({ status, code, message: expect.stringMatching(message) });
  });

  it('needs the read scope', async () => {
    const res = await get('/api/metric/v1', 'secret-wo');
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ status: 403, code: 'RTM_ERR_AUTH_FORBIDDEN' });
  });

  it('delegates _metric queries to the virtual timeseries', async () => {
    const res = await get('/api/metric/v1?_metric=RTMRequest/ReadRequests&_calendar=%23PT1H');
    expect(res.json()).toEqual({ delegated: true, token: 'tok-a', metric: 'RTMRequest/ReadRequests' });
  });
});

describe('GET /api/metric/v1/{id}', () => {
  it('answers one entity', async () => {
    const res = await get('/api/metric/v1/a4');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ _id: 'a4', provider: 'Billing', metric: 'Invoices', timestamp: '2024-11-20T00:00:03.000Z', value: 7 });
  });

  it('answers 404 alike for an absent entity and another token\'s', async () => {
    const absent = await get('/api/metric/v1/zzz');
    const foreign = await get('/api/metric/v1/b1');
    expect(absent.statusCode).toBe(404);
    expect(foreign.statusCode).toBe(404);
    expect(absent.json()).toEqual({ status: 404, message: 'no metric with id "zzz"', code: 'RTM_ERR_ODSL_UNKNOWN_ENTITY' });
    expect(foreign.json()).toEqual({ status: 404, message: 'no metric with id "b1"', code: 'RTM_ERR_ODSL_UNKNOWN_ENTITY' });
    expect((await get('/api/metric/v1/b1', 'secret-b')).json()).toMatchObject({ _id: 'b1', provider: 'Secret' });
  });
});

describe('GET /api/metric/v1?_function=listMetrics', () => {
  it.each([
    ['RTMRequest', ['ReadRequests', 'ReadRequestDuration', 'ReadRequestResponseSize', 'WriteRequests', 'DeleteRequests']],
    ['CDN', ['Requests', 'BytesDelivered']],
    ['Billing', ['Invoices']],
  ])('lists the metrics of %s', async (provider, expected) => {
    const res = await get(`/api/metric/v1?_function=listMetrics&provider=${provider}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(expected);
  });

  it('answers 400 without a provider and 404 for an unknown (or another token\'s) provider', async () => {
    const missing = await get('/api/metric/v1?_function=listMetrics');
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toEqual({
      status: 400,
      code: 'RTM_ERR_ODSL_MISSING_PROVIDER',
      message: 'listMetrics needs a provider query parameter, e.g. ?_function=listMetrics&provider=RTMRequest',
    });
    const unknown = await get('/api/metric/v1?_function=listMetrics&provider=Secret');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toEqual({ status: 404, code: 'RTM_ERR_ODSL_UNKNOWN_PROVIDER', message: 'no metrics for provider "Secret"' });
  });
});

describe('POST /api/metric/v1', () => {
  const post = (payload: string, contentType = 'application/json', secret = 'secret-b') =>
    app.inject({ method: 'POST', url: '/api/metric/v1', headers: { ...auth(secret), 'content-type': contentType }, payload });

  it('stores one JSON object, owned by the token, value defaulting to 1', async () => {
    const res = await post(JSON.stringify({ provider: 'Jobs', metric: 'Runs', timestamp: '2024-11-21T10:00:00Z', application: 'etl' }));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ accepted: 1, rejected: 0, errors: [] });
    const list = await get('/api/metric/v1?provider=Jobs', 'secret-b');
    const [only] = list.json<Record<string, unknown>[]>();
    expect(only).toEqual({ _id: expect.stringMatching(/^[0-9a-f]{24}$/), provider: 'Jobs', metric: 'Runs', timestamp: '2024-11-21T10:00:00.000Z', value: 1, application: 'etl' });
    expect((await get('/api/metric/v1?provider=Jobs', 'secret-a')).json()).toEqual([]);
  });

  it('keeps the good items of an array and reports the bad ones by index', async () => {
    const res = await post(JSON.stringify([
      { provider: 'Mixed', metric: 'Ok', timestamp: T0, value: 3, httpstatus: 200, duration: 1.5, responseSize: 10 },
      { metric: 'NoProvider', timestamp: T0 },
      { provider: 'Mixed', metric: 'Ok', timestamp: 'yesterday' },
      { provider: 'Mixed', metric: 'Ok', timestamp: T0, value: '3' },
      { provider: 'Mixed', metric: 'Ok', timestamp: T0, httpstatus: 999 },
    ]));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      accepted: 1,
      rejected: 4,
      errors: [
        { line: 2, reason: 'provider is required' },
        { line: 3, reason: 'timestamp "yesterday" is not an ISO-8601 time' },
        { line: 4, reason: 'value must be a number, got "3"' },
        { line: 5, reason: 'httpstatus must be an integer 100..599, got 999' },
      ],
    });
    expect((await get('/api/metric/v1?provider=Mixed', 'secret-b')).json()).toEqual([
      { _id: expect.any(String), provider: 'Mixed', metric: 'Ok', timestamp: '2024-11-20T00:00:00.000Z', value: 3, duration: 1.5, httpstatus: 200, responseSize: 10 },
    ]);
  });

  it('takes NDJSON with line numbers that count blank lines', async () => {
    const body = [
      JSON.stringify({ provider: 'Nd', metric: 'A', timestamp: T0 }),
      '',
      '{not json',
      JSON.stringify({ provider: 'Nd', metric: 'B', timestamp: T0, _id: 'mine' }),
      JSON.stringify({ provider: 'Nd', metric: 'C', timestamp: T0, colour: 'red' }),
      JSON.stringify({ provider: 'Nd/x', metric: 'C', timestamp: T0 }),
      JSON.stringify({ provider: 'Nd', metric: 'D', timestamp: T0, user: 5 }),
      JSON.stringify({ provider: 'Nd', metric: 'E', timestamp: T0 + 1 }),
    ].join('\n');
    const res = await post(body, 'application/x-ndjson');
    expect(res.json()).toEqual({
      accepted: 2,
      rejected: 5,
      errors: [
        { line: 3, reason: expect.stringMatching(/^invalid JSON: /) },
        { line: 4, reason: '_id is assigned by the server' },
        { line: 5, reason: 'unknown field "colour"' },
        { line: 6, reason: 'provider must be 1-128 characters of A-Z a-z 0-9 _ . : -, got "Nd/x"' },
        { line: 7, reason: 'user must be a string, got 5' },
      ],
    });
    expect((await get('/api/metric/v1?_function=listMetrics&provider=Nd', 'secret-b')).json()).toEqual(['A', 'E']);
  });

  it('refuses a body with too many items, a scalar body, and a token without ingest', async () => {
    const many = await post(JSON.stringify(Array.from({ length: 11 }, () => ({ provider: 'P', metric: 'M', timestamp: T0 }))));
    expect(many.statusCode).toBe(413);
    expect(many.json()).toMatchObject({ status: 413, code: 'RTM_ERR_INGEST_TOO_MANY_EVENTS' });
    const scalar = await post('42');
    expect(scalar.statusCode).toBe(400);
    expect(scalar.json()).toMatchObject({ status: 400, code: 'RTM_ERR_ODSL_BAD_BODY' });
    const bad = await post('{"provider": ');
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ status: 400 });
    const ro = await post(JSON.stringify({ provider: 'P', metric: 'M', timestamp: T0 }), 'application/json', 'secret-ro');
    expect(ro.statusCode).toBe(403);
    expect(ro.json()).toMatchObject({ status: 403, code: 'RTM_ERR_AUTH_FORBIDDEN', message: 'this token has no ingest scope' });
  });
});

describe('reserved providers and owners', () => {
  const post = (payload: unknown, secret = 'secret-b') =>
    app.inject({ method: 'POST', url: '/api/metric/v1', headers: { ...auth(secret), 'content-type': 'application/json' }, payload: JSON.stringify(payload) });

  it('refuses entities of the system providers (RTMRequest, CDN), from tenants and the admin alike', async () => {
    const forged = { provider: 'RTMRequest', metric: 'ReadRequests', timestamp: T0, user: 'tok-a', application: 'api', service: 'object' };
    for (const secret of ['secret-b', 'secret-admin']) {
      const res = await post([forged, { provider: 'CDN', metric: 'Requests', timestamp: T0 }, { provider: 'Fine', metric: 'Ok', timestamp: T0 }], secret);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({
        accepted: 1,
        rejected: 2,
        errors: [
          { line: 1, reason: 'provider "RTMRequest" is reserved: rtmetrics records these entities itself' },
          { line: 2, reason: 'provider "CDN" is reserved: rtmetrics records these entities itself' },
        ],
      });
    }
    // Only the seed's real RTMRequest entities exist.
    const all = await get('/api/metric/v1?provider=RTMRequest&_sort=_id', 'secret-admin');
    expect(ids(all.body)).toEqual(['a1', 'a2', 'a3']);
  });

  it('shows the owner to operators and lets them filter and sort by it', async () => {
    const list = await get('/api/metric/v1?_sort=_id&_id=a1&_id=a2&_id=a3&_id=a4&_id=b1', 'secret-admin');
    expect(list.json<{ _id: string; owner: string }[]>().map((e) => [e._id, e.owner])).toEqual([
      ['a1', 'tok-a'],
      ['a2', 'tok-a'],
      ['a3', 'tok-a'],
      ['a4', 'tok-a'],
      ['b1', 'tok-b'],
    ]);
    expect(ids((await get('/api/metric/v1?owner=tok-b&provider=Secret', 'secret-admin')).body)).toEqual(['b1']);
    expect(ids((await get('/api/metric/v1?_filter=owner%3Dtok-a%20and%20provider%3DBilling', 'secret-admin')).body)).toEqual(['a4']);
    expect((await get('/api/metric/v1?_sort=-owner&_limit=1&provider=Secret', 'secret-admin')).json()[0]).toMatchObject({ owner: 'tok-b' });
    expect((await get('/api/metric/v1/b1', 'secret-admin')).json()).toMatchObject({ _id: 'b1', owner: 'tok-b' });
  });

  it('keeps the owner out of a tenant\'s view and filters', async () => {
    const own = await get('/api/metric/v1?_sort=_id', 'secret-a');
    expect(own.json<Record<string, unknown>[]>().every((e) => !('owner' in e))).toBe(true);
    const res = await get('/api/metric/v1?owner=tok-b', 'secret-a');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'RTM_ERR_ODSL_BAD_FILTER', message: expect.stringMatching(/unknown field "owner"/) });
  });
});
