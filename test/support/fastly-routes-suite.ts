/**
 * The Fastly real-time routes through the whole app, run on each store engine (issue 10):
 * events ingested as a client sends them, then channel, Domain Inspector and Origin Inspector
 * answers checked against the numbers computed here from those events. On DuckDB the answers
 * come from the node's window; on ClickHouse from the store (docs/cluster.md), published
 * later by the read lag: the one difference, which each engine states as its AggregateDelay.
 * test/fastly-routes.test.ts runs it on DuckDB, test/clickhouse-fastly-routes.test.ts on
 * ClickHouse.
 */
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, HARNESS_T0, type Harness } from './app-harness.ts';
import type { StoreNode } from './store-nodes.ts';

const NOW = Math.floor(HARNESS_T0 / 1000);
const S0 = NOW - 3;
const S1 = NOW - 2;
const SERVICE = 'fsvc';

const event = (second: number, over: Record<string, unknown>): string =>
  JSON.stringify({ timestamp: second + 0.5, service: SERVICE, datacenter: 'FRA', domain: 'www.f.example', status: 200, ...over });

/** S0: two FRA hits of 1000 bytes, a FRA miss of 500 fetched from origin-a (200), a LHR miss of 100 on api. from origin-b (404). S1: one LHR hit of 300. */
const EVENTS = [
  event(S0, { cache: 'hit', resp_body_bytes: 1000 }),
  event(S0, { cache: 'hit', resp_body_bytes: 1000 }),
  event(S0, { cache: 'miss', resp_body_bytes: 500, origin_status: 200, backend: 'origin-a' }),
  event(S0, { datacenter: 'LHR', domain: 'api.f.example', cache: 'miss', status: 404, resp_body_bytes: 100, origin_status: 404, backend: 'origin-b' }),
  event(S1, { datacenter: 'LHR', cache: 'hit', resp_body_bytes: 300 }),
];

interface Answer {
  Timestamp: number;
  AggregateDelay: number;
  Data: { recorded: number; aggregated: Record<string, unknown>; datacenter: Record<string, Record<string, unknown>> }[];
  Error?: string;
}

export interface FastlyRoutesEngine {
  node: StoreNode;
  /** The AggregateDelay the engine's answers state: when a second is published after it ends, s. */
  aggregateDelay: number;
}

/** Registers the suite on `engine`; call once from a test file. */
export function defineFastlyRoutesSuite(engine: FastlyRoutesEngine): void {
  let h: Harness;
  const get = async (url: string): Promise<{ res: LightMyRequestResponse; body: Answer }> => {
    const res = await h.inject({ method: 'GET', url, headers: { 'fastly-key': ADMIN_TOKEN } });
    expect(res.statusCode, res.body).toBe(200);
    return { res, body: res.json<Answer>() };
  };

  describe(`Fastly real-time routes on ${engine.node.name}`, () => {
    beforeAll(async () => {
      h = await engine.node.start();
      expect(await h.ingest(ADMIN_TOKEN, EVENTS.join('\n'))).toMatchObject({ accepted: EVENTS.length, rejected: 0 });
      await h.publishThrough(S1);
    }, 60_000);

    afterAll(async () => {
      await engine.node.stop();
    });

    it('channel ts/{t}: each second aggregated and by datacenter, up to the newest published', async () => {
      const { res, body } = await get(`/v1/channel/${SERVICE}/ts/${S0}`);
      expect(res.headers['cache-control']).toBe('max-age=1');
      expect(body.AggregateDelay).toBe(engine.aggregateDelay);
      // Published through S1 + 1 (an empty second): the next cursor is the one after it.
      expect(body.Timestamp).toBe(S1 + 2);
      expect(body.Data.map((d) => d.recorded)).toEqual([S0, S1]);
      const [first, second] = body.Data;
      expect(first?.aggregated).toMatchObject({ requests: 4, hits: 2, miss: 2, resp_body_bytes: 2600, body_size: 2600, hit_resp_body_bytes: 2000, miss_resp_body_bytes: 600, status_2xx: 3, status_200: 3, status_4xx: 1, status_404: 1, origin_fetches: 2, edge_hit_ratio: 0.5 });
      expect(Object.keys(first?.datacenter ?? {}).sort()).toEqual(['FRA', 'LHR']);
      expect(first?.datacenter['FRA']).toMatchObject({ requests: 3, hits: 2, miss: 1, resp_body_bytes: 2500, origin_fetches: 1 });
      expect(first?.datacenter['LHR']).toMatchObject({ requests: 1, miss: 1, resp_body_bytes: 100, status_404: 1 });
      expect(second?.aggregated).toMatchObject({ requests: 1, hits: 1, resp_body_bytes: 300, edge_hit_ratio: 1 });
      expect(Object.keys(second?.datacenter ?? {})).toEqual(['LHR']);
    });

    it('channel ts/h and its limit; ts/0 when the newest published second is empty', async () => {
      const all = await get(`/v1/channel/${SERVICE}/ts/h`);
      expect(all.body.Data.map((d) => [d.recorded, d.aggregated['requests']])).toEqual([
        [S0, 4],
        [S1, 1],
      ]);
      const limited = await get(`/v1/channel/${SERVICE}/ts/h/limit/1`);
      expect(limited.body.Data.map((d) => [d.recorded, d.aggregated['requests']])).toEqual([[S1, 1]]);
      const last = await get(`/v1/channel/${SERVICE}/ts/0`);
      expect(last.body).toEqual({ Timestamp: S1 + 2, AggregateDelay: engine.aggregateDelay, Data: [], Error: 'No data available, please retry' });
    });

    it('Domain Inspector: per domain, and per datacenter and domain', async () => {
      const { body } = await get(`/v1/domains/${SERVICE}/ts/${S0}`);
      expect(body.AggregateDelay).toBe(engine.aggregateDelay);
      expect(body.Data.map((d) => d.recorded)).toEqual([S0, S1]);
      const [first, second] = body.Data;
      expect(Object.keys(first?.aggregated ?? {}).sort()).toEqual(['api.f.example', 'www.f.example']);
      expect(first?.aggregated['www.f.example']).toMatchObject({ requests: 3, edge_hit_requests: 2, edge_miss_requests: 1, resp_body_bytes: 2500, origin_fetches: 1, status_200: 3 });
      expect(first?.aggregated['api.f.example']).toMatchObject({ requests: 1, edge_miss_requests: 1, resp_body_bytes: 100, origin_status_404: 1, status_404: 1 });
      expect(Object.keys(first?.datacenter['FRA'] ?? {})).toEqual(['www.f.example']);
      expect(first?.datacenter['LHR']?.['api.f.example']).toMatchObject({ requests: 1 });
      expect(second?.aggregated).toEqual({ 'www.f.example': expect.objectContaining({ requests: 1, edge_hit_requests: 1, resp_body_bytes: 300 }) as unknown });
    });

    it('Origin Inspector: per backend, and per datacenter and backend', async () => {
      const { body } = await get(`/v1/origins/${SERVICE}/ts/${S0}`);
      expect(body.AggregateDelay).toBe(engine.aggregateDelay);
      // S1 fetched nothing from origin.
      expect(body.Data.map((d) => d.recorded)).toEqual([S0]);
      const [first] = body.Data;
      expect(Object.keys(first?.aggregated ?? {}).sort()).toEqual(['origin-a', 'origin-b']);
      expect(first?.aggregated['origin-a']).toMatchObject({ responses: 1, status_2xx: 1, status_200: 1 });
      expect(first?.aggregated['origin-b']).toMatchObject({ responses: 1, status_4xx: 1, status_404: 1 });
      expect(Object.keys(first?.datacenter['FRA'] ?? {})).toEqual(['origin-a']);
      expect(Object.keys(first?.datacenter['LHR'] ?? {})).toEqual(['origin-b']);
    });
  });
}
