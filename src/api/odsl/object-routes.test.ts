import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installErrorHandling } from '../../app.ts';
import { createFakeClock } from '../../model/clock.ts';
import { openDuckDb, type DuckDb } from '../../store/duckdb/database.ts';
import { createDuckDbObjectStore } from '../../store/duckdb/object-store.ts';
import type { ObjectStore } from '../../store/object-store.ts';
import { authenticate } from '../../http/auth.ts';
import { odslObjectRoutes } from './object-routes.ts';
import { bearer, createCdnStore, createFakeUsage, fakeTokens, NOW } from './timeseries-test-helpers.ts';

let app: FastifyInstance;
let db: DuckDb;
let objects: ObjectStore;
let closeStore: () => Promise<void>;

beforeAll(async () => {
  db = await openDuckDb(':memory:');
  objects = await createDuckDbObjectStore({ db });
  const cdn = await createCdnStore();
  closeStore = cdn.close;
  app = Fastify();
  installErrorHandling(app);
  app.decorateRequest('principal', undefined);
  // As the app does: authentication sets req.principal before the routes run.
  app.addHook('preHandler', async (req) => {
    req.principal = await authenticate(req, fakeTokens);
  });
  await app.register(odslObjectRoutes, {
    objects,
    tokens: fakeTokens,
    virtualTimeseries: { usage: createFakeUsage(), store: cdn.store, clock: createFakeClock(NOW), timeZone: 'UTC' },
    maxObjectBytes: 4096,
  });
  await app.ready();
});

afterAll(async () => {
  await app.close();
  await objects.close();
  db.close();
  await closeStore();
});

type Who = 'admin' | 'alice' | 'bob' | 'ingest';
const call = async (who: Who, method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown) => {
  const res = await app.inject({ method, url, headers: bearer(who), ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: res.statusCode, body: res.body === '' ? undefined : (res.json() as unknown), headers: res.headers };
};

// The seed's example, with the provider this service meters itself with.
const AAA = {
  _id: 'AAA',
  name: 'Process runs',
  PROCESS_RUNS_HOURLY: {
    _id: 'PROCESS_RUNS_HOURLY',
    _type: 'VarMetricTimeSeries',
    provider: 'RTMRequest',
    metric: 'ReadRequests',
    calendar: '#PT1H',
    observed: 'summed',
  },
  API_READS_DAILY: {
    _type: 'VarMetricTimeSeries',
    provider: 'RTMRequest',
    metric: 'ReadRequests',
    calendar: '#P1D',
    filter: { application: 'api' },
  },
  TRAFFIC: { _type: 'VarMetricTimeSeries', provider: 'CDN', metric: 'Requests', calendar: 'P1D', filter: 'service=s1' },
  tags: ['billing'],
};

describe('objects (golden)', () => {
  it('stores an object (201), replaces it (200) and answers it', async () => {
    expect(await call('alice', 'POST', '/api/object/v1', AAA)).toMatchObject({ status: 201, body: AAA });
    expect(await call('alice', 'POST', '/api/object/v1', AAA)).toMatchObject({ status: 200, body: AAA });
    expect(await call('alice', 'GET', '/api/object/v1/AAA')).toMatchObject({ status: 200, body: AAA });
  });

  it('generates an _id when there is none', async () => {
    const res = await call('alice', 'POST', '/api/object/v1', { note: 'x' });
    expect(res.status).toBe(201);
    const id = (res.body as { _id: string })._id;
    expect(id).toMatch(/^[0-9a-f]{24}$/);
    expect(await call('alice', 'GET', `/api/object/v1/${id}`)).toMatchObject({ status: 200, body: { _id: id, note: 'x' } });
    expect(await call('alice', 'DELETE', `/api/object/v1/${id}`)).toMatchObject({ status: 204, body: undefined });
    expect((await call('alice', 'GET', `/api/object/v1/${id}`)).status).toBe(404);
  });

  it("keeps each token's objects apart", async () => {
    expect(await call('bob', 'GET', '/api/object/v1/AAA')).toMatchObject({
      status: 404,
      body: { status: 404, message: 'no object "AAA"', code: 'RTM_ERR_ODSL_UNKNOWN_OBJECT' },
    });
    expect((await call('bob', 'DELETE', '/api/object/v1/AAA')).status).toBe(404);
    await call('bob', 'POST', '/api/object/v1', { _id: 'AAA', owner: 'bob' });
    expect((await call('bob', 'GET', '/api/object/v1/AAA')).body).toEqual({ _id: 'AAA', owner: 'bob' });
    expect((await call('alice', 'GET', '/api/object/v1/AAA')).body).toMatchObject({ name: 'Process runs' });
  });

  it('lists the token\'s objects with the total in x-total-count', async () => {
    const res = await call('bob', 'GET', '/api/object/v1?_limit=10');
    expect(res.status).toBe(200);
    expect(res.body).toEqual([{ _id: 'AAA', owner: 'bob' }]);
    expect(res.headers['x-total-count']).toBe('1');
    expect((await call('bob', 'GET', '/api/object/v1?_limit=0')).body).toMatchObject({ status: 400, code: 'RTM_ERR_ODSL_BAD_PARAM' });
  });
});

describe('timeseries of object properties (golden)', () => {
  const ts = (calendar: string, observed: string, data: [string, number][]) => ({
    _type: 'VarTimeSeries',
    calendar,
    timezone: 'UTC',
    observed,
    data: data.map(([time, value]) => ({ time, value })),
  });

  it.each([
    ['/api/object/v1/AAA/PROCESS_RUNS_HOURLY?_range=from(2024-11-20)',
      ts('#PT1H', 'summed', [['2024-11-20T00:00:00Z', 2], ['2024-11-20T01:00:00Z', 1], ['2024-11-21T09:00:00Z', 1]])],
    ['/api/object/v1/AAA/PROCESS_RUNS_HOURLY?_range=between(T-1Dh0m0s0,T-1Dh23m59s59)',
      ts('#PT1H', 'summed', [['2024-11-20T00:00:00Z', 2], ['2024-11-20T01:00:00Z', 1]])],
    ['/api/object/v1/AAA/API_READS_DAILY?_range=2024-11', ts('#P1D', 'summed', [['2024-11-20T00:00:00Z', 2], ['2024-11-21T00:00:00Z', 1]])],
    ['/api/object/v1/AAA/TRAFFIC?_range=2024-11', ts('#P1D', 'summed', [['2024-11-20T00:00:00Z', 5], ['2024-11-21T00:00:00Z', 1]])],
    // `_metric` on an object path is a virtual timeseries, as in the seed's examples.
    ['/api/object/v1?_metric=RTMRequest/ReadRequests&_calendar=%23P1D&_range=2024-11-20', ts('#P1D', 'summed', [['2024-11-20T00:00:00Z', 3]])],
    ['/api/object/v1/private/ICE.NDEX.NLB?_metric=RTMRequest/ReadRequests&_calendar=%23PT1H&_observed=summed&_range=2024-11-20',
      ts('#PT1H', 'summed', [['2024-11-20T00:00:00Z', 2], ['2024-11-20T01:00:00Z', 1]])],
  ])('GET %s', async (url, expected) => {
    expect(await call('alice', 'GET', url)).toMatchObject({ status: 200, body: expected });
  });

  it.each([
    ['/api/object/v1/AAA/NOPE', 404, 'RTM_ERR_ODSL_UNKNOWN_PROPERTY', 'object "AAA" has no property "NOPE"'],
    ['/api/object/v1/AAA/_id', 404, 'RTM_ERR_ODSL_UNKNOWN_PROPERTY', 'object "AAA" has no property "_id"'],
    ['/api/object/v1/AAA/name', 400, 'RTM_ERR_ODSL_NOT_A_TIMESERIES', 'property "name" is not a VarMetricTimeSeries'],
    ['/api/object/v1/AAA/tags', 400, 'RTM_ERR_ODSL_NOT_A_TIMESERIES', 'property "tags" is not a VarMetricTimeSeries'],
    ['/api/object/v1/ZZZ/PROCESS_RUNS_HOURLY', 404, 'RTM_ERR_ODSL_UNKNOWN_OBJECT', 'no object "ZZZ"'],
    ['/api/object/v1/AAA/PROCESS_RUNS_HOURLY?_range=later', 400, 'RTM_ERR_ODSL_BAD_RANGE', 'invalid date "later" (expected yyyy, yyyy-MM, yyyy-MM-dd, yyyy-MM-ddTHH[:mm[:ss]] or a date rule such as T-1Dh0m0s0)'],
  ])('GET %s -> %i %s', async (url, status, code, message) => {
    expect(await call('alice', 'GET', url)).toMatchObject({ status, body: { status, code, message } });
  });
});

describe('object validation', () => {
  const tsProp = { _type: 'VarMetricTimeSeries', provider: 'RTMRequest', metric: 'ReadRequests', calendar: '#PT1H' };
  it.each([
    ['an array', [1, 2], 'the body must be a JSON object'],
    ['a bad _id', { _id: 'a/b' }, '_id must be 1-128 characters of A-Z a-z 0-9 _ . : @ -'],
    ['a bad property name', { 'a b': 1 }, 'property name "a b" must be 1-128 characters of A-Z a-z 0-9 _ . : @ -'],
    ['a timeseries without a metric', { X: { ...tsProp, metric: undefined } }, 'X.metric: Expected required property'],
    ['a timeseries with an unknown key', { X: { ...tsProp, colour: 'red' } }, 'X.colour: Unexpected property'],
    ['a bad calendar', { X: { ...tsProp, calendar: '#P1W' } }, 'X.calendar: unknown calendar "#P1W"'],
    ['a bad observed', { X: { ...tsProp, observed: 'median' } }, 'X.observed: unknown observed "median"'],
    ['a bad filter', { X: { ...tsProp, filter: { colour: 'red' } } }, 'X.filter: unknown field "colour"'],
    ['a CDN filter on another field', { X: { ...tsProp, provider: 'CDN', metric: 'Requests', filter: 'application=api' } }, 'X.filter: unknown field "application"'],
    ['deep nesting', { X: JSON.parse('['.repeat(20) + ']'.repeat(20)) as unknown }, 'nested deeper than 16 levels'],
  ])('rejects %s', async (_name, body, message) => {
    const res = await call('alice', 'POST', '/api/object/v1', body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ status: 400, code: 'RTM_ERR_ODSL_BAD_OBJECT' });
    expect((res.body as { message: string }).message).toContain(message);
  });

  it('refuses a body over the size limit with 413', async () => {
    const res = await call('alice', 'POST', '/api/object/v1', { big: 'x'.repeat(5000) });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ status: 413 });
  });

  it('needs a token with the read scope', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/object/v1/AAA' });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ status: 401, code: 'RTM_ERR_AUTH_MISSING' });
    expect(await call('ingest', 'GET', '/api/object/v1/AAA')).toMatchObject({ status: 403, body: { code: 'RTM_ERR_AUTH_FORBIDDEN' } });
  });
});
