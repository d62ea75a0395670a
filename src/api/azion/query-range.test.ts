/**
 * The query range per tier on the Azion routes: checked once the buckets' tier is known,
 * answered in Azion's `{detail, code}` envelope.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { edgeRecord, fixedTokens } from '../../../test/support/azion-fixtures.ts';
import { installErrorHandling } from '../../app.ts';
import { testConfig } from '../../config/config.ts';
import { createFakeClock } from '../../model/clock.ts';
import { createDuckDbCatalog, sequentialIds } from '../../store/duckdb/catalog-store.ts';
import { openDuckDb, type DuckDb } from '../../store/duckdb/database.ts';
import { createDuckDbMetricStore } from '../../store/duckdb/metric-store.ts';
import type { Catalog } from '../../store/catalog.ts';
import type { MetricStore } from '../../store/store.ts';
import { azionRoutes } from './routes.ts';
import { deltaFromRecordSet } from '../../model/delta.ts';

const DAY = 86_400;
const T0 = Date.UTC(2021, 1, 3) / 1000; // 2021-02-03 00:00 UTC
const EDGE_APP = 1441740010;

describe('Azion query range per tier', () => {
  let db: DuckDb;
  let store: MetricStore;
  let catalog: Catalog;
  let defaults: FastifyInstance;
  let small: FastifyInstance;

  beforeAll(async () => {
    db = await openDuckDb(':memory:');
    store = await createDuckDbMetricStore(db, { retention: testConfig('/unused').retention });
    catalog = await createDuckDbCatalog({ db, newId: sequentialIds() });
    const records = { edge: [edgeRecord({ service: 'shop', domain: 'www.shop.com', second: T0 + 10 }, { requests: 3 })], origin: [], dimension: [] };
    await store.append({ lsn: 1, delta: deltaFromRecordSet(records)});
    await catalog.observe(records);
    const base = { store, catalog, tokens: fixedTokens(), clock: createFakeClock((T0 + DAY) * 1000), timeZone: 'UTC' };
    defaults = Fastify();
    installErrorHandling(defaults);
    await defaults.register(azionRoutes, base);
    small = Fastify();
    installErrorHandling(small);
    await small.register(azionRoutes, { ...base, limits: { maxQueryRangeSeconds: { '1s': 3600, '1m': DAY, '1h': 10 * DAY, '1d': 60 * DAY } } });
  });

  afterAll(async () => {
    await defaults.close();
    await small.close();
    await catalog.close();
    await store.close();
    db.close();
  });

  const get = async (app: FastifyInstance, query: string) => {
    const res = await app.inject({
      method: 'GET',
      url: `/metrics/products/${EDGE_APP}/configurations/1/metrics/cdn_requests?${query}`,
      headers: { authorization: 'Token reader-all', accept: 'application/json; version=3' },
    });
    return { status: res.statusCode, body: res.json() as unknown };
  };
  const tooLarge = (detail: string) => ({ status: 400, body: { detail, code: 'RTM_ERR_QUERY_RANGE_TOO_LARGE' } });

  it('default 1m limit: 31 days by minute answer every bucket, one minute more is a 400', async () => {
    const ok = await get(defaults, 'date_from=2021-01-03T00:00Z&date_to=2021-02-03T00:00Z&granularity=minute');
    expect(ok.status).toBe(200);
    expect((ok.body as unknown[]).length).toBe(31 * 1440);
    expect(await get(defaults, 'date_from=2021-01-03T00:00Z&date_to=2021-02-03T00:01Z&granularity=minute')).toEqual(
      tooLarge('the range is 31 days 1 minute, longer than the 31 days a query may read from the 1m tier (RTM_MAX_QUERY_RANGE_1M); narrow date_from..date_to or use a coarser granularity (hour or day)'),
    );
  });

  it('5-minute buckets read the 1m tier; hour buckets the 1h tier; day buckets the 1d tier', async () => {
    expect((await get(small, 'date_from=2021-02-03T00:00Z&date_to=2021-02-04T00:00Z&granularity=5minutes')).status).toBe(200);
    expect(await get(small, 'date_from=2021-02-03T00:00Z&date_to=2021-02-04T00:01Z&granularity=5minutes')).toEqual(
      tooLarge('the range is 1 day 1 minute, longer than the 1 day a query may read from the 1m tier (RTM_MAX_QUERY_RANGE_1M); narrow date_from..date_to or use a coarser granularity (hour or day)'),
    );
    const hourly = await get(small, 'date_from=2021-01-25T00:00Z&date_to=2021-02-04T00:00Z&granularity=hour');
    expect(hourly.status).toBe(200);
    expect((hourly.body as [number, number][]).find(([t]) => t === T0 * 1000)).toEqual([T0 * 1000, 3]);
    expect(await get(small, 'date_from=2021-01-24T00:00Z&date_to=2021-02-04T00:00Z&granularity=hour')).toEqual(
      tooLarge('the range is 11 days, longer than the 10 days a query may read from the 1h tier (RTM_MAX_QUERY_RANGE_1H); narrow date_from..date_to or use granularity=day'),
    );
    expect((await get(small, 'date_from=2020-12-05T00:00Z&date_to=2021-02-03T00:00Z')).status).toBe(200);
    expect(await get(small, 'date_from=2020-12-04T00:00Z&date_to=2021-02-03T00:00Z')).toEqual(
      tooLarge('the range is 61 days, longer than the 60 days a query may read from the 1d tier (RTM_MAX_QUERY_RANGE_1D); narrow date_from..date_to'),
    );
  });

  it('relative ranges are held to the limit too', async () => {
    expect((await get(small, 'date_from=last-24-hours&granularity=minute')).status).toBe(200);
    expect((await get(small, 'date_from=last-3-days&granularity=minute')).body).toMatchObject({ code: 'RTM_ERR_QUERY_RANGE_TOO_LARGE' });
  });
});
