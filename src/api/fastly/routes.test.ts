import fc from 'fast-check';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installErrorHandling } from '../../app.ts';
import { createFakeClock, type FakeClock } from '../../model/clock.ts';
import { NO_DATA_MESSAGE, fastlyRoutes } from './routes.ts';
import { createFakeSource, createFakeTokens, edgeRecord, originRecord, type FakeSource } from './test-helpers.ts';

const T0 = 1_700_000_000;
const DELAY = 1;
const ADMIN = { 'fastly-key': 'admin-key' };

interface Body {
  Timestamp: number;
  AggregateDelay: number;
  Data: { recorded: number; aggregated: Record<string, unknown>; datacenter: Record<string, unknown> }[];
  Error?: string;
}

let app: FastifyInstance;
let clock: FakeClock;
let source: FakeSource;

/** Sets the clock so that `second` is the newest published one. */
const publishUpTo = (second: number): void => clock.set((second + DELAY + 1) * 1000 + 250);

async function get(url: string, headers: Record<string, string> = ADMIN) {
  const res = await app.inject({ method: 'GET', url, headers });
  return { status: res.statusCode, headers: res.headers, body: res.json() as Body };
}

beforeEach(async () => {
  clock = createFakeClock(0);
  publishUpTo(T0);
  source = createFakeSource(clock, DELAY);
  app = Fastify();
  installErrorHandling(app);
  await app.register(fastlyRoutes, { source, tokens: createFakeTokens(), aggregateDelaySeconds: DELAY });
  await app.ready();
});

afterEach(async () => {
  await app.close();
});

describe('GET /v1/channel/:service/ts/...', () => {
  it('ts/0 answers the newest published second, aggregated and by datacenter', async () => {
    source.edge.push(
      edgeRecord(T0, { requests: 3, hits: 2, miss: 1, resp_body_bytes: 300, miss_histogram_20: 1 }, { datacenter: 'FRA' }),
      edgeRecord(T0, { requests: 1, hits: 1, resp_body_bytes: 50 }, { datacenter: 'AMS', domain: 'api.example.com' }),
      edgeRecord(T0 - 1, { requests: 99 }),
      edgeRecord(T0, { requests: 7 }, { service: 'other' }),
    );
    const res = await get('/v1/channel/svc1/ts/0');
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('max-age=1');
    expect(res.body).toEqual({
      Timestamp: T0 + 1,
      AggregateDelay: DELAY,
      Data: [
        {
          recorded: T0,
          aggregated: { requests: 4, hits: 3, miss: 1, resp_body_bytes: 350, body_size: 350, bandwidth: 350, miss_histogram: { '20': 1 } },
          datacenter: {
            AMS: { requests: 1, hits: 1, resp_body_bytes: 50, body_size: 50, bandwidth: 50 },
            FRA: { requests: 3, hits: 2, miss: 1, resp_body_bytes: 300, body_size: 300, bandwidth: 300, miss_histogram: { '20': 1 } },
          },
        },
      ],
    });
  });

  it('an unpublished second is not shown until AggregateDelay has passed', async () => {
    source.edge.push(edgeRecord(T0 + 1, { requests: 5 }));
    expect((await get('/v1/channel/svc1/ts/0')).body.Data).toEqual([]);
    publishUpTo(T0 + 1);
    expect((await get('/v1/channel/svc1/ts/0')).body.Data.map((d) => d.aggregated.requests)).toEqual([5]);
  });

  it('no data: 200 with an empty Data, the Error message and a usable Timestamp', async () => {
    const res = await get('/v1/channel/svc1/ts/0');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ Timestamp: T0 + 1, AggregateDelay: DELAY, Data: [], Error: NO_DATA_MESSAGE });
  });

  it('polling with the returned Timestamp: no gap, repeats only within AggregateDelay, late events seen', async () => {
    const seen: number[] = [];
    const requestsOf = new Map<number, number>();
    let cursor = (await get('/v1/channel/svc1/ts/0')).body.Timestamp;
    expect(cursor).toBe(T0 + 1);
    for (let s = T0 + 1; s <= T0 + 10; s++) {
      source.edge.push(edgeRecord(s, { requests: s - T0 }));
      // Polls come at uneven times: sometimes two seconds are published at once, sometimes none.
      if (s % 3 === 0) continue;
      publishUpTo(s);
      const { body } = await get(`/v1/channel/svc1/ts/${cursor}`);
      for (const d of body.Data) {
        if (d.recorded < cursor) expect(d.recorded).toBeGreaterThanOrEqual(cursor - DELAY);
        else seen.push(d.recorded);
        requestsOf.set(d.recorded, d.aggregated.requests as number);
      }
      cursor = body.Timestamp;
    }
    // A late event for the second just before the cursor comes back as a repeat.
    source.edge.push(edgeRecord(cursor - 1, { requests: 100 }));
    const { body } = await get(`/v1/channel/svc1/ts/${cursor}`);
    expect(body.Data.map((d) => [d.recorded, d.aggregated.requests])).toEqual([[cursor - 1, cursor - 1 - T0 + 100]]);
    expect(body.Timestamp).toBe(cursor);
    expect(seen).toEqual(Array.from({ length: 10 }, (_, i) => T0 + 1 + i).filter((s) => s <= cursor - 1));
    expect(requestsOf.get(T0 + 4)).toBe(4);
  });

  it('ts/h answers the last 120 seconds and limit/n the newest n, ascending', async () => {
    for (let s = T0 - 200; s <= T0; s++) source.edge.push(edgeRecord(s, { requests: 1 }));
    const h = await get('/v1/channel/svc1/ts/h');
    expect(h.body.Data).toHaveLength(120);
    expect(h.body.Data[0]?.recorded).toBe(T0 - 119);
    expect(h.body.Data[119]?.recorded).toBe(T0);
    expect(h.body.Timestamp).toBe(T0 + 1);
    const limited = await get('/v1/channel/svc1/ts/h/limit/3');
    expect(limited.body.Data.map((d) => d.recorded)).toEqual([T0 - 2, T0 - 1, T0]);
  });

  it('ts/t/limit/n pages forward from t with no gap', async () => {
    for (let s = T0 - 20; s <= T0; s++) source.edge.push(edgeRecord(s, { requests: 1 }));
    const first = await get(`/v1/channel/svc1/ts/${T0 - 10}/limit/4`);
    expect(first.body.Data.map((d) => d.recorded)).toEqual([T0 - 11, T0 - 10, T0 - 9, T0 - 8, T0 - 7]);
    expect(first.body.Timestamp).toBe(T0 - 6);
    const second = await get(`/v1/channel/svc1/ts/${first.body.Timestamp}/limit/4`);
    expect(second.body.Data[0]?.recorded).toBe(T0 - 7);
    expect(second.body.Timestamp).toBe(T0 - 2);
  });

  it.each(['0', '121', '-1', '1.5', 'x', '99999'])('limit/%s is a 400 in the Fastly envelope', async (n) => {
    const res = await get(`/v1/channel/svc1/ts/h/limit/${n}`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ msg: 'Invalid limit', code: 'RTM_ERR_QUERY_BAD_LIMIT' });
    expect((res.body as unknown as { detail: string }).detail).toContain('1 to 120');
  });

  it.each(['1', '120'])('limit/%s is accepted', async (n) => {
    expect((await get(`/v1/channel/svc1/ts/h/limit/${n}`)).status).toBe(200);
  });

  it.each(['-5', 'abc', '1e9', '12345678901234567890'])('ts/%s is a 400', async (ts) => {
    const res = await get(`/v1/channel/svc1/ts/${ts}`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ msg: 'Invalid parameter', code: 'RTM_ERR_REQUEST_BAD_PARAM' });
  });
});

describe('untrusted path segments', () => {
  it('any ts / limit / service answers 200, 400 or 404 in JSON, never a 500 (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 30 }), fc.option(fc.string({ maxLength: 10 })), fc.string({ maxLength: 70 }), async (ts, n, service) => {
        const seg = (x: string) => encodeURIComponent(x);
        const url = `/v1/channel/${seg(service)}/ts/${seg(ts)}${n === null ? '' : `/limit/${seg(n)}`}`;
        const res = await app.inject({ method: 'GET', url, headers: ADMIN });
        expect([200, 400, 404]).toContain(res.statusCode);
        const body = res.json() as Record<string, unknown>;
        if (res.statusCode === 200) expect(body).toHaveProperty('Timestamp');
        else expect(body).toHaveProperty('msg');
      }),
      { numRuns: 200 },
    );
  });
});

describe('auth and errors', () => {
  it('401 without a key, with the Fastly envelope', async () => {
    const res = await get('/v1/channel/svc1/ts/0', {});
    expect(res.status).toBe(401);
    expect(res.body).toEqual({
      msg: 'Missing API token',
      detail: 'Provide a token in Fastly-Key or Authorization',
      code: 'RTM_ERR_AUTH_MISSING',
    });
  });

  it('401 with a wrong key', async () => {
    const res = await get('/v1/domains/svc1/ts/h', { 'fastly-key': 'nope' });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ msg: 'Invalid or revoked API token', code: 'RTM_ERR_AUTH_INVALID' });
  });

  it('Authorization: Bearer works too', async () => {
    expect((await get('/v1/channel/svc1/ts/0', { authorization: 'Bearer svc1-key' })).status).toBe(200);
  });

  it('403 for a service the token may not read, and for a token without read scope', async () => {
    const other = await get('/v1/origins/svc2/ts/0', { 'fastly-key': 'svc1-key' });
    expect(other.status).toBe(403);
    expect(other.body).toMatchObject({ msg: 'The token is not allowed to do this', detail: 'The token may not read service svc2' });
    expect((await get('/v1/channel/svc1/ts/0', { 'fastly-key': 'ingest-key' })).status).toBe(403);
  });

  it('404 JSON for an unknown path', async () => {
    const res = await get('/v1/channel/svc1/nope');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ msg: 'Not found', code: 'RTM_ERR_REQUEST_NOT_FOUND' });
  });
});

describe('GET /v1/domains and /v1/origins', () => {
  it('domains: aggregated by domain, datacenter by POP then domain, Domain Inspector names', async () => {
    source.edge.push(
      edgeRecord(T0, { requests: 2, compute_requests: 2, edge_hit_requests: 1, edge_miss_requests: 1 }, { datacenter: 'FRA' }),
      edgeRecord(T0, { requests: 1, status_406: 1 }, { datacenter: 'AMS' }),
      edgeRecord(T0, { requests: 4 }, { datacenter: 'AMS', domain: 'api.example.com' }),
    );
    const { body } = await get('/v1/domains/svc1/ts/0');
    expect(body.Data).toEqual([
      {
        recorded: T0,
        aggregated: {
          'api.example.com': { requests: 4 },
          'www.example.com': { requests: 3, compute_request: 2, edge_hit_requests: 1, edge_miss_requests: 1, edge_hit_ratio: 0.5 },
        },
        datacenter: {
          AMS: { 'api.example.com': { requests: 4 }, 'www.example.com': { requests: 1 } },
          FRA: { 'www.example.com': { requests: 2, compute_request: 2, edge_hit_requests: 1, edge_miss_requests: 1, edge_hit_ratio: 0.5 } },
        },
      },
    ]);
  });

  it('origins: aggregated by backend, datacenter by POP then backend', async () => {
    source.origin.push(
      originRecord(T0, { responses: 2, status_2xx: 2, status_200: 2, latency_10_to_50ms: 2 }, { datacenter: 'FRA' }),
      originRecord(T0, { responses: 1, status_5xx: 1, status_503: 1 }, { datacenter: 'AMS', backend: 'origin-b' }),
    );
    const { body } = await get('/v1/origins/svc1/ts/h/limit/1');
    expect(body.Data).toEqual([
      {
        recorded: T0,
        aggregated: {
          'origin-a': { responses: 2, status_2xx: 2, status_200: 2, latency_10_to_50ms: 2 },
          'origin-b': { responses: 1, status_5xx: 1, status_503: 1 },
        },
        datacenter: {
          AMS: { 'origin-b': { responses: 1, status_5xx: 1, status_503: 1 } },
          FRA: { 'origin-a': { responses: 2, status_2xx: 2, status_200: 2, latency_10_to_50ms: 2 } },
        },
      },
    ]);
  });

  it('a far-back ts reads a bounded range', async () => {
    await get('/v1/domains/svc1/ts/1');
    const [from, to] = source.reads.at(-1) ?? [0, 0];
    expect(to - from).toBeLessThanOrEqual(120);
    expect(from).toBe(T0 - 3599);
  });
});
