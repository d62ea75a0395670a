import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installErrorHandling } from '../../app.ts';
import { createFakeClock } from '../../model/clock.ts';
import type { SumQuery } from '../../store/store.ts';
import { authenticate } from '../../http/auth.ts';
import { bearer, createCdnStore, createFakeUsage, fakeTokens, NOW } from './timeseries-test-helpers.ts';
import { createVirtualTimeseriesHandler } from './virtual-timeseries.ts';

const DAY = 86_400;
let app: FastifyInstance;
let queries: SumQuery[];
let closeStore: () => Promise<void>;

beforeAll(async () => {
  const cdn = await createCdnStore();
  queries = cdn.queries;
  closeStore = cdn.close;
  const deps = { usage: createFakeUsage(), store: cdn.store, clock: createFakeClock(NOW), timeZone: 'UTC' };
  const defaults = createVirtualTimeseriesHandler(deps);
  // Small limits so "just under" and "just over" are short ranges.
  const small = createVirtualTimeseriesHandler({ ...deps, maxQueryRangeSeconds: { '1s': 3600, '1m': DAY, '1h': 10 * DAY, '1d': 60 * DAY } });
  app = Fastify();
  installErrorHandling(app);
  app.get('/api/metric/v1', async (req) => defaults(req, await authenticate(req, fakeTokens)));
  app.get('/api/small/v1', async (req) => small(req, await authenticate(req, fakeTokens)));
  await app.ready();
});

afterAll(async () => {
  await app.close();
  await closeStore();
});

const get = async (path: 'metric' | 'small', who: 'admin' | 'alice', query: string) => {
  const res = await app.inject({ method: 'GET', url: `/api/${path}/v1?${query}`, headers: bearer(who) });
  return { status: res.statusCode, body: res.json() as Record<string, unknown> };
};
const tooLarge = (message: string) => ({ status: 400, body: { status: 400, code: 'RTM_ERR_QUERY_RANGE_TOO_LARGE', message } });

describe('ODSL query range per tier, usage entities (tier of the calendar bucket)', () => {
  it('default 1m limit: 31 days of #PT1M pass, 32 days are a 400 in the ODSL envelope', async () => {
    const ok = await get('metric', 'alice', '_metric=RTMRequest/ReadRequests&_calendar=%23PT1M&_range=between(2024-10-01,2024-10-31)');
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ _type: 'VarTimeSeries', calendar: '#PT1M' });
    expect(await get('metric', 'alice', '_metric=RTMRequest/ReadRequests&_calendar=%23PT1M&_range=between(2024-10-01,2024-11-01)')).toEqual(
      tooLarge('the range is 32 days, longer than the 31 days a query may read from the 1m tier (RTM_MAX_QUERY_RANGE_1M); narrow _range or use a coarser _calendar'),
    );
  });

  it('#PT15M reads the 1m limit, #PT6H the 1h limit, #P1D the 1d limit (without "coarser" advice)', async () => {
    const q = (calendar: string, range: string) => `_metric=RTMRequest/ReadRequests&_calendar=${encodeURIComponent(calendar)}&_range=${range}`;
    expect((await get('small', 'alice', q('#PT15M', '2024-11-20'))).status).toBe(200);
    expect(await get('small', 'alice', q('#PT15M', 'between(2024-11-20,2024-11-21)'))).toEqual(
      tooLarge('the range is 2 days, longer than the 1 day a query may read from the 1m tier (RTM_MAX_QUERY_RANGE_1M); narrow _range or use a coarser _calendar'),
    );
    expect((await get('small', 'alice', q('#PT6H', 'between(2024-11-01,2024-11-10)'))).status).toBe(200);
    expect(await get('small', 'alice', q('#PT6H', 'between(2024-11-01,2024-11-11)'))).toEqual(
      tooLarge('the range is 11 days, longer than the 10 days a query may read from the 1h tier (RTM_MAX_QUERY_RANGE_1H); narrow _range or use a coarser _calendar'),
    );
    expect((await get('small', 'alice', q('#P1D', 'between(2024-09-01,2024-10-30)'))).status).toBe(200);
    expect(await get('small', 'alice', q('#P1D', 'between(2024-09-01,2024-10-31)'))).toEqual(
      tooLarge('the range is 61 days, longer than the 60 days a query may read from the 1d tier (RTM_MAX_QUERY_RANGE_1D); narrow _range'),
    );
  });
});

describe('ODSL query range per tier, CDN (the tier the store reads)', () => {
  it('#PT1H in UTC reads 1 h rows: 10 days pass, 11 days are refused before the store is asked', async () => {
    queries.length = 0;
    const ok = await get('small', 'admin', '_metric=CDN/Requests&_calendar=%23PT1H&_range=between(2024-11-11,2024-11-20)');
    expect(ok.status).toBe(200);
    expect(queries.map((q) => q.tier)).toEqual(['1h']);
    queries.length = 0;
    expect(await get('small', 'admin', '_metric=CDN/Requests&_calendar=%23PT1H&_range=between(2024-11-10,2024-11-20)')).toEqual(
      tooLarge('the range is 11 days, longer than the 10 days a query may read from the 1h tier (RTM_MAX_QUERY_RANGE_1H); narrow _range or use a coarser _calendar'),
    );
    expect(queries).toEqual([]);
  });

  it('#P1D in Europe/Berlin reads 1 h rows, so the 1h limit applies and only narrowing helps', async () => {
    expect((await get('small', 'admin', '_metric=CDN/Requests&_calendar=%23P1D&_range=between(2024-11-11,2024-11-20,Europe/Berlin)')).status).toBe(200);
    expect(await get('small', 'admin', '_metric=CDN/Requests&_calendar=%23P1D&_range=between(2024-11-10,2024-11-20,Europe/Berlin)')).toEqual(
      tooLarge('the range is 11 days, longer than the 10 days a query may read from the 1h tier (RTM_MAX_QUERY_RANGE_1H); narrow _range'),
    );
    // In UTC a #P1D calendar reads 1 d rows: 61 days are over the 1d limit of 60.
    expect((await get('small', 'admin', '_metric=CDN/Requests&_calendar=%23P1D&_range=between(2024-09-01,2024-10-30)')).status).toBe(200);
    expect((await get('small', 'admin', '_metric=CDN/Requests&_calendar=%23P1D&_range=between(2024-09-01,2024-10-31)')).body).toMatchObject({
      code: 'RTM_ERR_QUERY_RANGE_TOO_LARGE',
    });
  });
});
