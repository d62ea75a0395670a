import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installErrorHandling } from '../../app.ts';
import { createFakeClock } from '../../model/clock.ts';
import type { SumQuery } from '../../store/store.ts';
import { authenticate } from '../../http/auth.ts';
import { bearer, createCdnStore, createFakeUsage, fakeTokens, NOW } from './timeseries-test-helpers.ts';
import { createVirtualTimeseriesHandler } from './virtual-timeseries.ts';

let app: FastifyInstance;
let queries: SumQuery[];
let closeStore: () => Promise<void>;

beforeAll(async () => {
  const cdn = await createCdnStore();
  queries = cdn.queries;
  closeStore = cdn.close;
  const handler = createVirtualTimeseriesHandler({ usage: createFakeUsage(), store: cdn.store, clock: createFakeClock(NOW), timeZone: 'UTC' });
  app = Fastify();
  installErrorHandling(app);
  // What H6a's GET /api/metric/v1 does when `_metric` is present.
  app.get('/api/metric/v1', async (req) => handler(req, await authenticate(req, fakeTokens)));
  await app.ready();
});

afterAll(async () => {
  await app.close();
  await closeStore();
});

const get = async (who: 'admin' | 'alice' | 'bob' | 'ingest', query: string) => {
  const res = await app.inject({ method: 'GET', url: `/api/metric/v1?${query}`, headers: bearer(who) });
  return { status: res.statusCode, body: res.json() as unknown };
};
const series = (calendar: string, observed: string, data: [string, number][], timezone = 'UTC') => ({
  _type: 'VarTimeSeries',
  calendar,
  timezone,
  observed,
  data: data.map(([time, value]) => ({ time, value })),
});

describe('virtual timeseries of usage entities (golden)', () => {
  it.each([
    [
      'alice: hourly read requests from a date',
      'alice',
      '_metric=RTMRequest/ReadRequests&_calendar=%23PT1H&_observed=summed&_range=from(2024-11-20)',
      series('#PT1H', 'summed', [['2024-11-20T00:00:00Z', 2], ['2024-11-20T01:00:00Z', 1], ['2024-11-21T09:00:00Z', 1]]),
    ],
    [
      'admin sees every owner',
      'admin',
      '_metric=RTMRequest/ReadRequests&_calendar=%23PT1H&_observed=sum&_range=from(2024-11-20)',
      series('#PT1H', 'summed', [['2024-11-20T00:00:00Z', 3], ['2024-11-20T01:00:00Z', 1], ['2024-11-21T09:00:00Z', 1]]),
    ],
    [
      'bob sees only his own',
      'bob',
      '_metric=RTMRequest/ReadRequests&_calendar=%23PT1H&_range=from(2024-11-20)',
      series('#PT1H', 'summed', [['2024-11-20T00:00:00Z', 1]]),
    ],
    [
      'averaged durations of yesterday (date rules)',
      'alice',
      '_metric=RTMRequest/ReadRequestDuration&_calendar=%23PT1H&_observed=averaged&_range=between(T-1Dh0m0s0,T-1Dh23m59s59)',
      series('#PT1H', 'averaged', [['2024-11-20T00:00:00Z', 30], ['2024-11-20T01:00:00Z', 90]]),
    ],
    [
      'highest duration per day',
      'alice',
      '_metric=RTMRequest/ReadRequestDuration&_calendar=%23P1D&_observed=high&_range=2024-11',
      series('#P1D', 'high', [['2024-11-20T00:00:00Z', 90]]),
    ],
    [
      'JSON _filter',
      'alice',
      `_metric=RTMRequest/ReadRequests&_calendar=%23P1D&_range=from(2024-11-20)&_filter=${encodeURIComponent('{"application":"api"}')}`,
      series('#P1D', 'summed', [['2024-11-20T00:00:00Z', 2], ['2024-11-21T00:00:00Z', 1]]),
    ],
    [
      'expression _filter',
      'alice',
      `_metric=RTMRequest/ReadRequests&_calendar=%23P1D&_range=from(2024-11-20)&_filter=${encodeURIComponent('application=web or application=cli')}`,
      series('#P1D', 'summed', [['2024-11-20T00:00:00Z', 1]]),
    ],
    [
      'a zone in _range sets the zone of the series',
      'alice',
      '_metric=RTMRequest/ReadRequests&_calendar=%23PT12H&_range=within(2024-11-20,Europe/Berlin)',
      series('#PT12H', 'summed', [['2024-11-20T00:00:00+01:00', 3]], 'Europe/Berlin'),
    ],
    [
      'default range: the last 24 hours in whole buckets',
      'alice',
      '_metric=Billing/Invoices&_calendar=%23PT6H',
      series('#PT6H', 'summed', [['2024-11-20T12:00:00Z', 3], ['2024-11-20T18:00:00Z', 5]]),
    ],
    [
      'none lists the points',
      'alice',
      '_metric=Billing/Invoices&_observed=none&_range=2024-11-20',
      series('#PT1H', 'none', [['2024-11-20T12:00:00Z', 3], ['2024-11-20T18:00:00Z', 5]]),
    ],
    [
      'delta over a day',
      'alice',
      '_metric=Billing/Invoices&_calendar=%23P1D&_observed=delta&_range=2024-11-20',
      series('#P1D', 'delta', [['2024-11-20T00:00:00Z', 2]]),
    ],
    [
      'a self-metering metric the token has not produced yet',
      'bob',
      '_metric=RTMRequest/WriteRequests&_range=2024-11',
      series('#PT1H', 'summed', []),
    ],
    [
      'a known metric with no points in the range',
      'alice',
      '_metric=Billing/Invoices&_range=2024-10',
      series('#PT1H', 'summed', []),
    ],
  ] as const)('%s', async (_name, who, query, expected) => {
    expect(await get(who, query)).toEqual({ status: 200, body: expected });
  });
});

describe('virtual timeseries of CDN traffic (golden)', () => {
  it.each([
    ['admin: requests per day (1 d tier)', 'admin', '_metric=CDN/Requests&_calendar=%23P1D&_range=from(2024-11-20)',
      series('#P1D', 'summed', [['2024-11-20T00:00:00Z', 12], ['2024-11-21T00:00:00Z', 1]]), '1d'],
    ['alice reads only s1 (1 h tier)', 'alice', '_metric=CDN/Requests&_calendar=%23PT1H&_range=from(2024-11-20)',
      series('#PT1H', 'summed', [['2024-11-20T00:00:00Z', 2], ['2024-11-20T01:00:00Z', 3], ['2024-11-21T02:00:00Z', 1]]), '1h'],
    ['a service the token cannot read yields nothing', 'alice', '_metric=CDN/Requests&_calendar=%23P1D&_range=2024-11&_filter=service%3Ds2',
      series('#P1D', 'summed', []), undefined],
    ['bytes delivered = header + body bytes', 'alice', '_metric=CDN/BytesDelivered&_calendar=%23P1D&_range=2024-11',
      series('#P1D', 'summed', [['2024-11-20T00:00:00Z', 1650], ['2024-11-21T00:00:00Z', 0]]), '1d'],
    ['bytes from origin', 'admin', '_metric=CDN/BytesFromOrigin&_calendar=%23P1D&_range=2024-11',
      series('#P1D', 'summed', [['2024-11-20T00:00:00Z', 100], ['2024-11-21T00:00:00Z', 0]]), '1d'],
    ['cache hits', 'admin', '_metric=CDN/CacheHits&_calendar=%23P1D&_range=2024-11-20',
      series('#P1D', 'summed', [['2024-11-20T00:00:00Z', 4]]), '1d'],
    ['5xx errors', 'admin', '_metric=CDN/Errors5xx&_calendar=%23P1D&_range=2024-11-21',
      series('#P1D', 'summed', [['2024-11-21T00:00:00Z', 1]]), '1d'],
    ['filter by datacenter', 'admin', `_metric=CDN/Requests&_calendar=%23P1D&_range=2024-11&_filter=${encodeURIComponent('{"datacenter":"LHR"}')}`,
      series('#P1D', 'summed', [['2024-11-20T00:00:00Z', 3]]), '1d'],
    ['filter by domain (case-insensitive host)', 'admin', `_metric=CDN/Requests&_calendar=%23P1D&_range=2024-11&_filter=${encodeURIComponent('domain=A.EXAMPLE')}`,
      series('#P1D', 'summed', [['2024-11-20T00:00:00Z', 9], ['2024-11-21T00:00:00Z', 1]]), '1d'],
    ['a Berlin day reads the 1 h tier', 'admin', '_metric=CDN/Requests&_calendar=%23P1D&_range=within(2024-11-20,Europe/Berlin)',
      series('#P1D', 'summed', [['2024-11-20T00:00:00+01:00', 12]], 'Europe/Berlin'), '1h'],
    ['high of 6-hour buckets is the busiest hour', 'admin', '_metric=CDN/Requests&_calendar=%23PT6H&_observed=high&_range=2024-11-20',
      series('#PT6H', 'high', [['2024-11-20T00:00:00Z', 9]]), '1h'],
  ] as const)('%s', async (_name, who, query, expected, tier) => {
    queries.length = 0;
    expect(await get(who, query)).toEqual({ status: 200, body: expected });
    expect(queries.map((q) => q.tier)).toEqual(tier ? [tier] : []);
  });

  it('lets the store add whole buckets for sums, and reads tier points for other aggregations', async () => {
    queries.length = 0;
    await get('admin', '_metric=CDN/Requests&_calendar=%23PT6H&_observed=summed&_range=2024-11-20');
    await get('admin', '_metric=CDN/Requests&_calendar=%23PT6H&_observed=low&_range=2024-11-20');
    expect(queries.map((q) => [q.tier, q.bucketSeconds])).toEqual([['1h', 21_600], ['1h', 3600]]);
  });
});

describe('virtual timeseries errors (ODSL envelope)', () => {
  it.each([
    ['unknown metric', 'alice', '_metric=RTMRequest/Nope', 404, 'RTM_ERR_ODSL_UNKNOWN_METRIC', 'no metric "Nope" of provider "RTMRequest" is known to this token'],
    ["another owner's metric", 'bob', '_metric=Billing/Invoices&_range=2024-11', 404, 'RTM_ERR_ODSL_UNKNOWN_METRIC', 'no metric "Invoices" of provider "Billing" is known to this token'],
    ['unknown CDN metric', 'admin', '_metric=CDN/Bandwidth', 404, 'RTM_ERR_ODSL_UNKNOWN_METRIC', 'provider CDN has no metric "Bandwidth" (known: Requests, BytesDelivered, BytesFromOrigin, CacheHits, Errors5xx, edge_time_p50, edge_time_p90, edge_time_p95, edge_time_p99, edge_time_p999, origin_time_p50, origin_time_p90, origin_time_p95, origin_time_p99, origin_time_p999, object_size_p50, object_size_p90, object_size_p95, object_size_p99, object_size_p999, Bandwidth95th)'],
    ['no slash in _metric', 'alice', '_metric=RTMRequest', 400, 'RTM_ERR_ODSL_BAD_METRIC', '_metric "RTMRequest" is not provider/metric (e.g. RTMRequest/ReadRequests)'],
    ['bad calendar', 'alice', '_metric=RTMRequest/ReadRequests&_calendar=%23P1W', 400, 'RTM_ERR_ODSL_BAD_CALENDAR', 'unknown calendar "#P1W" (use one of #PT1M, #PT5M, #PT15M, #PT30M, #PT1H, #PT6H, #PT12H, #P1D)'],
    ['bad observed', 'alice', '_metric=RTMRequest/ReadRequests&_observed=median', 400, 'RTM_ERR_ODSL_BAD_OBSERVED', 'unknown observed "median" (use one of summed, averaged, high, low, beginning, end, delta, none, or sum)'],
    ['bad range', 'alice', '_metric=RTMRequest/ReadRequests&_range=2024-13', 400, 'RTM_ERR_ODSL_BAD_RANGE', 'invalid date "2024-13": month out of range 01-12'],
    ['range too large', 'alice', '_metric=RTMRequest/ReadRequests&_calendar=%23PT1M&_range=between(2000,2024)', 400, 'RTM_ERR_QUERY_RANGE_TOO_LARGE', 'the range spans more than 527040 #PT1M buckets; narrow _range or use a coarser _calendar'],
    ['unknown filter field', 'alice', `_metric=RTMRequest/ReadRequests&_filter=${encodeURIComponent('{"colour":"red"}')}`, 400, 'RTM_ERR_ODSL_BAD_FILTER', undefined],
    ['CDN filter on another field', 'admin', '_metric=CDN/Requests&_filter=application%3Dapi', 400, 'RTM_ERR_ODSL_BAD_TS_FILTER', undefined],
    ['CDN or-filter', 'admin', '_metric=CDN/Requests&_filter=service%3Ds1%20or%20service%3Ds2', 400, 'RTM_ERR_ODSL_BAD_TS_FILTER', 'CDN filters take only equality or $in on service, domain and datacenter, combined with and'],
    ['CDN without the read scope', 'ingest', '_metric=CDN/Requests', 403, 'RTM_ERR_AUTH_FORBIDDEN', 'reading CDN metrics needs the read scope'],
    ['a repeated parameter', 'alice', '_metric=RTMRequest/ReadRequests&_range=2024&_range=2023', 400, 'RTM_ERR_ODSL_BAD_PARAM', '_range must be given once'],
  ] as const)('%s -> %i %s', async (_name, who, query, status, code, message) => {
    const res = await get(who, query);
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ status, code });
    if (message) expect((res.body as { message: string }).message).toBe(message);
    else expect((res.body as { message: string }).message).toMatch(/unknown field "(colour|application)"/);
  });

  it('answers 401 without a token', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/metric/v1?_metric=RTMRequest/ReadRequests' });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ status: 401, message: 'Provide a token in Fastly-Key or Authorization', code: 'RTM_ERR_AUTH_MISSING' });
  });
});
