/**
 * Golden tests of the Azion v3 routes over a real metric store and catalog, run on each store
 * engine (issue 10): src/api/azion/routes.test.ts on DuckDB (in memory),
 * test/clickhouse-azion-routes.test.ts on ClickHouse. The engines give configurations and domains
 * different ids (DuckDB counts from 1; ClickHouse derives them from the names, docs/decisions.md
 * "Catalog ids on ClickHouse"), so the suite reads by the ids its catalog lists and each engine
 * checks its own scheme.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dimensionRecord, edgeRecord, fixedTokens } from './azion-fixtures.ts';
import { installErrorHandling } from '../../src/app.ts';
import { createFakeClock, type Clock } from '../../src/model/clock.ts';
import type { RecordSet } from '../../src/model/record.ts';
import type { Catalog } from '../../src/store/catalog.ts';
import type { MetricStore } from '../../src/store/store.ts';
import { azionRoutes } from '../../src/api/azion/routes.ts';
import { deltaFromRecordSet } from '../../src/model/delta.ts';

const T0 = Date.UTC(2021, 1, 3, 0, 0) / 1000; // 2021-02-03 00:00 UTC
const EDGE_APP = 1441740010;
const IDNS = 1563390045;
const IMAGES = 1441110021;
const RANGE = 'date_from=2021-02-03T00:00Z&date_to=2021-02-03T00:05Z';
const MS = [0, 1, 2, 3, 4].map((m) => (T0 + m * 60) * 1000);

const www = { service: 'shop', domain: 'www.shop.com' };
const img = { service: 'shop', domain: 'img.shop.com' };
const records: RecordSet = {
  edge: [
    edgeRecord(
      { ...www, second: T0 + 10 },
      {
        requests: 3,
        hits: 2,
        req_header_bytes: 100,
        req_body_bytes: 50,
        resp_header_bytes: 300,
        resp_body_bytes: 1000,
        hit_resp_header_bytes: 200,
        hit_resp_body_bytes: 800,
        status_2xx: 2,
        status_200: 2,
        status_4xx: 1,
        status_404: 1,
        waf_blocked: 1,
        waf_passed: 2,
      },
    ),
    edgeRecord({ ...img, second: T0 + 70, datacenter: 'LHR' }, { requests: 1, req_header_bytes: 40, resp_header_bytes: 100, resp_body_bytes: 500, status_2xx: 1, status_200: 1 }),
    edgeRecord({ ...www, second: T0 + 130, product: 'image_processor' }, { requests: 2, status_2xx: 2, status_200: 2 }),
    edgeRecord({ service: 'blog', domain: 'blog.io', product: 'intelligent_dns', second: T0 + 5 }, { requests: 4 }),
    edgeRecord({ service: 'blog', domain: 'zone2.io', product: 'intelligent_dns', second: T0 + 65 }, { requests: 1 }),
    edgeRecord({ service: 'blog', domain: 'blog.io', product: 'intelligent_dns', second: T0 + 66 }, { requests: 2 }),
  ],
  origin: [],
  dimension: [
    dimensionRecord({ ...www, second: T0 + 10 }, 'status', '200', 2, 900),
    dimensionRecord({ ...www, second: T0 + 10 }, 'status', '404', 1, 400),
    dimensionRecord({ ...www, second: T0 + 10 }, 'method', 'GET', 2, 900),
    dimensionRecord({ ...www, second: T0 + 10 }, 'method', 'POST', 1, 400),
    dimensionRecord({ ...img, second: T0 + 70 }, 'status', '200', 1, 600),
    dimensionRecord({ ...img, second: T0 + 70 }, 'method', 'GET', 1, 600),
  ],
};
/** The configuration and domain ids the suite reads by (the catalog's, looked up by name). */
export interface AzionIds {
  shop: number;
  www: number;
  img: number;
  blog: number;
  blogIo: number;
  zone2: number;
}

/** A metric store and catalog on one engine, for the Azion routes suite. */
export interface AzionBackend {
  /** Names the engine in the suite's title, e.g. `DuckDB`. */
  name: string;
  open(clock: Clock): Promise<{ store: MetricStore; catalog: Catalog; close(): Promise<void> }>;
  /** Checks the ids the engine's catalog gave (each engine has its own scheme). */
  checkIds(ids: AzionIds): void;
}

/**
 * A configuration lists its domains by ascending id (the Catalog contract): on DuckDB the order
 * they were first seen, on ClickHouse the order of their derived ids.
 */
const ascending = (...ids: number[]): number[] => ids.sort((a, b) => a - b);

/** Registers the Azion v3 routes suite on `backend`; call once from a test file. */
export function defineAzionRoutesSuite(backend: AzionBackend): void {
  describe(`Azion v3 routes on ${backend.name}`, () => {
    let opened: Awaited<ReturnType<AzionBackend['open']>> | undefined;
    let store: MetricStore;
    let catalog: Catalog;
    let app: FastifyInstance;
    let id: AzionIds;
    const clock = createFakeClock((T0 + 5 * 60 + 30) * 1000); // 00:05:30

    const build = async (timeZone: string): Promise<FastifyInstance> => {
      const a = Fastify();
      installErrorHandling(a);
      await a.register(azionRoutes, { store, catalog, tokens: fixedTokens(), clock, timeZone });
      return a;
    };

    beforeAll(async () => {
      opened = await backend.open(clock);
      ({ store, catalog } = opened);
      await store.append({ lsn: 1, delta: deltaFromRecordSet(records) });
      await catalog.observe(records);
      const services = await catalog.services();
      const idOf = (service: string, domain?: string): number => {
        const s = services.find((x) => x.service === service);
        const found = domain === undefined ? s?.id : s?.domains.find((d) => d.domain === domain)?.id;
        if (found === undefined) throw new Error(`the catalog has no id for ${service} ${domain ?? ''}`);
        return found;
      };
      id = { shop: idOf('shop'), www: idOf('shop', 'www.shop.com'), img: idOf('shop', 'img.shop.com'), blog: idOf('blog'), blogIo: idOf('blog', 'blog.io'), zone2: idOf('blog', 'zone2.io') };
      app = await build('UTC');
    });

    afterAll(async () => {
      await app?.close();
      await opened?.close();
    });

    it("reads by the ids of the engine's catalog", () => {
      backend.checkIds(id);
    });

    const get = async (url: string, token = 'reader-all') => {
      const res = await app.inject({ method: 'GET', url, headers: { authorization: `Token ${token}`, accept: 'application/json; version=3' } });
      return { status: res.statusCode, body: res.json() as unknown };
    };
    const metric = (conf: number, name: string, query = RANGE, prod = EDGE_APP) => get(`/metrics/products/${prod}/configurations/${conf}/metrics/${name}?${query}`);
    const series = (values: (number | string)[]) => values.map((v, i) => [MS[i], v]);

    describe('GET /metrics/products/:prod_id/configurations', () => {
      it('lists the configurations of the product with their domain ids', async () => {
        expect(await get(`/metrics/products/${EDGE_APP}/configurations`)).toEqual({
          status: 200,
          body: [{ id: id.shop, name: 'shop', active: true, domains: ascending(id.www, id.img) }],
        });
        expect((await get(`/metrics/products/${IDNS}/configurations`)).body).toEqual([{ id: id.blog, name: 'blog', active: true, domains: ascending(id.blogIo, id.zone2) }]);
        // www.shop.com alone was seen with the image processor
        expect((await get(`/metrics/products/${IMAGES}/configurations`)).body).toEqual([{ id: id.shop, name: 'shop', active: true, domains: [id.www] }]);
        expect((await get('/metrics/products/1531930033/configurations')).body).toEqual([]);
      });

      it('shows only what the token may read, and the renamed name', async () => {
        expect((await get(`/metrics/products/${IDNS}/configurations`, 'reader-shop')).body).toEqual([]);
        await catalog.rename('blog', 'The Blog');
        expect((await get(`/metrics/products/${IDNS}/configurations`, 'admin')).body).toEqual([{ id: id.blog, name: 'The Blog', active: true, domains: ascending(id.blogIo, id.zone2) }]);
        await catalog.rename('blog', 'blog');
      });

      it('answers 404 for an unknown product, 401 / 403 for tokens', async () => {
        expect(await get('/metrics/products/42/configurations')).toEqual({
          status: 404,
          body: { detail: 'No product 42', code: 'RTM_ERR_AZION_UNKNOWN_PRODUCT' },
        });
        const none = await app.inject({ method: 'GET', url: `/metrics/products/${EDGE_APP}/configurations` });
        expect(none.statusCode).toBe(401);
        expect(none.json()).toMatchObject({ code: 'RTM_ERR_AUTH_MISSING' });
        expect(await get(`/metrics/products/${EDGE_APP}/configurations`, 'wrong')).toMatchObject({ status: 401, body: { code: 'RTM_ERR_AUTH_INVALID' } });
        expect(await get(`/metrics/products/${EDGE_APP}/configurations`, 'ingest-only')).toMatchObject({ status: 403, body: { code: 'RTM_ERR_AUTH_FORBIDDEN' } });
      });
    });

    describe('Edge Applications metrics', () => {
      it('data_transferred: total by default, in and out as dimensions, integer bytes', async () => {
        expect(await metric(id.shop, 'data_transferred')).toEqual({ status: 200, body: series([1450, 640, 0, 0, 0]) });
        expect((await metric(id.shop, 'data_transferred/dimensions/total')).body).toEqual(series([1450, 640, 0, 0, 0]));
        expect((await metric(id.shop, 'data_transferred/dimensions/in')).body).toEqual(series([150, 40, 0, 0, 0]));
        expect((await metric(id.shop, 'data_transferred/dimensions/out')).body).toEqual(series([1300, 600, 0, 0, 0]));
        expect((await metric(id.shop, 'data_transferred_total')).body).toEqual(series([1450, 640, 0, 0, 0]));
      });

      it('counts: data_offloaded, cdn_requests, requests_offloaded, requests_per_second', async () => {
        expect((await metric(id.shop, 'data_offloaded')).body).toEqual(series([1000, 0, 0, 0, 0]));
        expect((await metric(id.shop, 'cdn_requests')).body).toEqual(series([3, 1, 0, 0, 0]));
        expect((await metric(id.shop, 'requests_offloaded')).body).toEqual(series([2, 0, 0, 0, 0]));
        expect((await metric(id.shop, 'requests_per_second')).body).toEqual(series([3 / 60, 1 / 60, 0, 0, 0]));
      });

      it('status_code: all, classes, exact codes', async () => {
        expect((await metric(id.shop, 'status_code')).body).toEqual(series([3, 1, 0, 0, 0]));
        expect((await metric(id.shop, 'status_code/dimensions/2xx')).body).toEqual(series([2, 1, 0, 0, 0]));
        expect((await metric(id.shop, 'status_code/dimensions/4XX')).body).toEqual(series([1, 0, 0, 0, 0]));
        expect((await metric(id.shop, 'status_code/dimensions/404')).body).toEqual(series([1, 0, 0, 0, 0]));
        expect((await metric(id.shop, 'status_code/dimensions/200')).body).toEqual(series([2, 1, 0, 0, 0]));
        expect((await metric(id.shop, 'status_code/dimensions/503')).body).toEqual(series([0, 0, 0, 0, 0]));
      });

      it('http_method: all, or one method in any letter case', async () => {
        expect((await metric(id.shop, 'http_method')).body).toEqual(series([3, 1, 0, 0, 0]));
        expect((await metric(id.shop, 'http_method/dimensions/GET')).body).toEqual(series([2, 1, 0, 0, 0]));
        expect((await metric(id.shop, 'http_method/dimensions/post')).body).toEqual(series([1, 0, 0, 0, 0]));
      });

      it('waf: all three verdicts, or one', async () => {
        expect((await metric(id.shop, 'waf')).body).toEqual(series([3, 0, 0, 0, 0]));
        expect((await metric(id.shop, 'waf/dimensions/blocked')).body).toEqual(series([1, 0, 0, 0, 0]));
        expect((await metric(id.shop, 'waf/dimensions/passed')).body).toEqual(series([2, 0, 0, 0, 0]));
        expect((await metric(id.shop, 'waf/dimensions/logged')).body).toEqual(series([0, 0, 0, 0, 0]));
      });

      it('bandwidth: bits per second averaged over the bucket', async () => {
        expect((await metric(id.shop, 'bandwidth')).body).toEqual(series([(1450 * 8) / 60, (640 * 8) / 60, 0, 0, 0]));
        expect((await metric(id.shop, 'bandwidth/dimensions/in')).body).toEqual(series([(150 * 8) / 60, (40 * 8) / 60, 0, 0, 0]));
        expect((await metric(id.shop, 'bandwidth/dimensions/out')).body).toEqual(series([(1300 * 8) / 60, (600 * 8) / 60, 0, 0, 0]));
      });

      it('a domain id reads that domain only', async () => {
        expect((await metric(id.img, 'cdn_requests')).body).toEqual(series([0, 1, 0, 0, 0]));
        expect((await metric(id.www, 'http_method/dimensions/GET')).body).toEqual(series([2, 0, 0, 0, 0]));
      });
    });

    describe('other products', () => {
      it('images_processed counts 2xx of the image processor', async () => {
        expect((await metric(id.shop, 'images_processed', RANGE, IMAGES)).body).toEqual(series([0, 0, 2, 0, 0]));
      });

      it('idns_queries and hosted_zones (distinct domains with queries)', async () => {
        expect((await metric(id.blog, 'idns_queries', RANGE, IDNS)).body).toEqual(series([4, 3, 0, 0, 0]));
        expect((await metric(id.blog, 'hosted_zones', RANGE, IDNS)).body).toEqual(series([1, 2, 0, 0, 0]));
        expect((await metric(id.zone2, 'hosted_zones', RANGE, IDNS)).body).toEqual(series([0, 1, 0, 0, 0]));
      });

      it('a product without traffic of a configuration answers 404', async () => {
        expect(await metric(id.shop, 'invocations', RANGE, 1531930033)).toEqual({
          status: 404,
          body: { detail: `No configuration or domain ${id.shop} for this product`, code: 'RTM_ERR_AZION_UNKNOWN_CONFIGURATION' },
        });
      });
    });

    describe('timestamps and buckets', () => {
      it('human_readable in any letter case gives "YYYY-MM-DD hh:mm" in the zone of the dates', async () => {
        const body = (await metric(id.shop, 'cdn_requests', `${RANGE}&human_readable=TrUe`)).body;
        expect(body).toEqual([
          ['2021-02-03 00:00', 3],
          ['2021-02-03 00:01', 1],
          ['2021-02-03 00:02', 0],
          ['2021-02-03 00:03', 0],
          ['2021-02-03 00:04', 0],
        ]);
        expect((await metric(id.shop, 'cdn_requests', `${RANGE}&human_readable=false`)).body).toEqual(series([3, 1, 0, 0, 0]));
      });

      it('local dates in RTM_TZ (a space for T, as in the seed) and human_readable in that zone', async () => {
        const berlin = await build('Europe/Berlin');
        const res = await berlin.inject({
          method: 'GET',
          url: `/metrics/products/${EDGE_APP}/configurations/${id.shop}/metrics/cdn_requests?date_from=2021-02-03+01:00&date_to=2021-02-03%2001:03&human_readable=true`,
          headers: { authorization: 'Token admin' },
        });
        await berlin.close();
        expect(res.json()).toEqual([
          ['2021-02-03 01:00', 3],
          ['2021-02-03 01:01', 1],
          ['2021-02-03 01:02', 0],
        ]);
      });

      it('granularity overrides the bucket size; buckets are aligned to the epoch', async () => {
        expect((await metric(id.shop, 'cdn_requests', `${RANGE}&granularity=5minutes`)).body).toEqual([[T0 * 1000, 4]]);
        expect((await metric(id.shop, 'cdn_requests', `${RANGE}&granularity=day`)).body).toEqual([[T0 * 1000, 4]]);
        expect((await metric(id.shop, 'cdn_requests', 'date_from=2021-02-02T23:00Z&date_to=2021-02-03T01:00Z&granularity=hour')).body).toEqual([
          [(T0 - 3600) * 1000, 0],
          [T0 * 1000, 4],
        ]);
        // 2 hours: 5-minute buckets by default
        const twoHours = (await metric(id.shop, 'cdn_requests', 'date_from=2021-02-02T23:00Z&date_to=2021-02-03T01:00Z')).body as unknown[][];
        expect(twoHours).toHaveLength(24);
        expect(twoHours[12]).toEqual([T0 * 1000, 4]);
      });

      it('last-hour: 60 minute buckets ending with the current one; date_to is ignored', async () => {
        const body = (await metric(id.shop, 'cdn_requests', 'date_from=last-hour&date_to=garbage')).body as [number, number][];
        expect(body).toHaveLength(60);
        expect(body[59]).toEqual([(T0 + 5 * 60) * 1000, 0]);
        expect(body.slice(54, 56)).toEqual([
          [T0 * 1000, 3],
          [(T0 + 60) * 1000, 1],
        ]);
      });

      it('date_from equal to date_to is an empty range', async () => {
        expect((await metric(id.shop, 'cdn_requests', 'date_from=2021-02-03T00:00Z&date_to=2021-02-03T00:00Z')).body).toEqual([]);
      });
    });

    describe('errors', () => {
      const error = (status: number, code: string, detail: string) => ({ status, body: { detail, code } });

      it('404 for unknown product, configuration, metric', async () => {
        expect(await metric(id.shop, 'cdn_requests', RANGE, 7)).toEqual(error(404, 'RTM_ERR_AZION_UNKNOWN_PRODUCT', 'No product 7'));
        expect(await metric(99, 'cdn_requests')).toEqual(error(404, 'RTM_ERR_AZION_UNKNOWN_CONFIGURATION', 'No configuration or domain 99 for this product'));
        expect(await metric(id.shop, 'nope')).toEqual(error(404, 'RTM_ERR_AZION_UNKNOWN_METRIC', 'No metric nope for this product'));
        expect(await metric(id.shop, 'invocations')).toEqual(error(404, 'RTM_ERR_AZION_UNKNOWN_METRIC', 'No metric invocations for this product'));
      });

      it('a configuration the token may not read looks exactly like a missing one', async () => {
        const hidden = await get(`/metrics/products/${IDNS}/configurations/${id.blog}/metrics/idns_queries?${RANGE}`, 'reader-shop');
        const missing = await get(`/metrics/products/${IDNS}/configurations/99/metrics/idns_queries?${RANGE}`, 'reader-shop');
        expect(hidden.status).toBe(404);
        expect(JSON.stringify(hidden.body).replace(String(id.blog), 'N')).toBe(JSON.stringify(missing.body).replace('99', 'N'));
      });

      it('400 for an unknown dimension, bad dates, bad granularity', async () => {
        expect(await metric(id.shop, 'data_transferred/dimensions/sideways')).toEqual(
          error(400, 'RTM_ERR_AZION_UNKNOWN_DIMENSION', 'No dimension sideways for data_transferred; dimensions: total, in, out'),
        );
        expect(await metric(id.shop, 'cdn_requests/dimensions/total')).toMatchObject({ status: 400, body: { code: 'RTM_ERR_AZION_UNKNOWN_DIMENSION' } });
        expect(await metric(id.shop, 'cdn_requests', '')).toEqual(error(400, 'RTM_ERR_AZION_BAD_DATE', 'date_from is required'));
        expect(await metric(id.shop, 'cdn_requests', 'date_from=2021-02-03T00:05Z&date_to=2021-02-03T00:00Z')).toEqual(
          error(400, 'RTM_ERR_AZION_BAD_DATE', 'date_from is after date_to'),
        );
        expect(await metric(id.shop, 'cdn_requests', 'date_from=yesterday')).toMatchObject({ status: 400, body: { code: 'RTM_ERR_AZION_BAD_DATE' } });
        expect(await metric(id.shop, 'cdn_requests', `${RANGE}&granularity=week`)).toMatchObject({ status: 400, body: { code: 'RTM_ERR_REQUEST_BAD_PARAM' } });
        expect(await metric(id.shop, 'cdn_requests', `${RANGE}&human_readable=maybe`)).toMatchObject({ status: 400, body: { code: 'RTM_ERR_REQUEST_BAD_PARAM' } });
        expect(await metric(id.shop, 'cdn_requests', 'date_from=2000-01-01T00:00Z&granularity=minute')).toMatchObject({
          status: 400,
          body: { code: 'RTM_ERR_QUERY_RANGE_TOO_LARGE' },
        });
      });

      it('401 / 403 on metric routes', async () => {
        expect(await get(`/metrics/products/${EDGE_APP}/configurations/${id.shop}/metrics/cdn_requests?${RANGE}`, 'nope')).toMatchObject({ status: 401 });
        expect(await get(`/metrics/products/${EDGE_APP}/configurations/${id.shop}/metrics/cdn_requests?${RANGE}`, 'ingest-only')).toMatchObject({ status: 403 });
      });
    });
  });
}
