import Fastify, { type FastifyInstance } from 'fastify';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installErrorHandling } from '../../app.ts';
import { createFakeClock } from '../../model/clock.ts';
import type { UsageEntity } from '../../model/usage.ts';
import { openDuckDb, type DuckDb } from '../../store/duckdb/database.ts';
import { createDuckDbUsageStore } from '../../store/duckdb/usage-store.ts';
import type { NewUsageEntity, UsageStore } from '../../store/usage-store.ts';
import type { Principal, TokenVerifier } from '../../http/auth.ts';
import { authenticateRequest, installRequestPrincipal } from '../../http/request-principal.ts';
import { odslMetricRoutes } from './metric-routes.ts';
import { actionOfMethod, createUsageRecorder, selfMeteringHook, serviceOfPath, type UsageRecorder } from './self-metering.ts';

const T0 = Date.UTC(2024, 11, 1, 12);
const alice: Principal = { tokenId: 'tok-alice', name: 'alice-dashboard', services: 'all', scopes: new Set(['read', 'ingest']) };
const verifier: TokenVerifier = { verify: async (s) => (s === 'alice' ? alice : undefined) };

let db: DuckDb;
let usage: UsageStore;
let recorder: UsageRecorder;
let app: FastifyInstance;
const clock = createFakeClock(T0);

beforeAll(async () => {
  db = await openDuckDb(':memory:');
  usage = await createDuckDbUsageStore(db, { retentionSeconds: 86_400 });
  recorder = createUsageRecorder({ store: usage, clock, environment: 'test', flushMs: 3_600_000 });
  // Request ids from a header so the test knows each request's invocationId.
  app = Fastify({ requestIdHeader: 'x-test-id' });
  installErrorHandling(app);
  installRequestPrincipal(app);
  app.addHook('onResponse', selfMeteringHook(recorder, { skip: (req) => req.url === '/health' }));
  app.post('/ingest', async (req) => {
    await authenticateRequest(req, verifier);
    return { accepted: 1 };
  });
  app.get('/v1/stream', async () => Readable.from(['a', 'b']));
  app.get('/health', async () => 'ok');
  await app.register(odslMetricRoutes, {
    usage,
    tokens: verifier,
    clock,
    build: { name: 'rtmetrics', version: '0', commit: 'x', startTime: 'now' },
  });
});

afterAll(async () => {
  await app.close();
  await recorder.close();
  await usage.close();
  db.close();
});

const all = async (): Promise<UsageEntity[]> => {
  await recorder.flush();
  return (await usage.list({ limit: 1000, skip: 0, sort: [{ field: 'invocationId', dir: 1 }, { field: 'metric', dir: 1 }] })).items;
};

describe('self-metering', () => {
  it('maps paths to services and methods to actions', () => {
    expect(
      ['/ingest', '/ingest?x=1', '/v1/channel/s/ts/h', '/metrics/graphql', '/api/metric/v1', '/api/object/v1/AAA', '/api/metrics', '/ingestion', '/'].map(serviceOfPath),
    ).toEqual(['ingest', 'ingest', 'fastly', 'azion', 'metric', 'object', 'native', 'native', 'native']);
    expect(['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE'].map(actionOfMethod)).toEqual([
      'read', 'read', 'read', 'write', 'write', 'write', 'delete',
    ]);
  });

  it('records a read request as ReadRequests, ReadRequestDuration and ReadRequestResponseSize', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/metric/v1?provider=none', headers: { authorization: 'Bearer alice', 'x-test-id': 'r1' } });
    expect(res.statusCode).toBe(200);
    const entities = (await all()).filter((e) => e.invocationId === 'r1');
    expect(entities.map((e) => [e.metric, e.value])).toEqual([
      ['ReadRequestDuration', entities[0]?.duration],
      ['ReadRequestResponseSize', Buffer.byteLength(res.body)],
      ['ReadRequests', 1],
    ]);
    const common = {
      provider: 'RTMRequest', timestamp: T0, type: 'api', action: 'read', service: 'metric', method: 'get', httpstatus: 200,
      user: 'tok-alice', application: 'alice-dashboard', environment: 'test', invocationId: 'r1', owner: 'tok-alice',
      detail: '/api/metric/v1', responseSize: Buffer.byteLength(res.body),
    };
    for (const e of entities) {
      expect(e).toMatchObject(common);
      expect(e.duration).toBeGreaterThanOrEqual(0);
    }
  });

  it('records writes, deletes, anonymous and failed requests, and skips what it is told to', async () => {
    clock.advance(1000);
    await app.inject({ method: 'POST', url: '/ingest', headers: { authorization: 'Bearer alice', 'x-test-id': 'w1' }, payload: {} });
    await app.inject({ method: 'DELETE', url: '/api/object/v1/AAA', headers: { 'x-test-id': 'd1' } });
    await app.inject({ method: 'GET', url: '/api/metric/v1', headers: { authorization: 'Bearer nobody', 'x-test-id': 'b1' } });
    await app.inject({ method: 'GET', url: '/v1/stream', headers: { 'x-test-id': 's1' } });
    await app.inject({ method: 'GET', url: '/health' });
    const entities = await all();
    const of = (id: string) => entities.filter((e) => e.invocationId === id).map((e) => ({ ...e, _id: undefined, duration: undefined }));
    expect(of('w1')).toEqual([
      expect.objectContaining({ metric: 'WriteRequests', value: 1, action: 'write', service: 'ingest', method: 'post', httpstatus: 200, user: 'tok-alice', owner: 'tok-alice', timestamp: T0 + 1000 }),
    ]);
    expect(of('d1')).toEqual([
      expect.objectContaining({ metric: 'DeleteRequests', value: 1, action: 'delete', service: 'object', httpstatus: 404, user: 'anonymous', application: 'anonymous', owner: 'anonymous' }),
    ]);
    expect(of('b1').map((e) => [e.metric, e.httpstatus, e.user])).toEqual([
      ['ReadRequestDuration', 401, 'anonymous'],
      ['ReadRequestResponseSize', 401, 'anonymous'],
      ['ReadRequests', 401, 'anonymous'],
    ]);
    // A streamed reply has no content-length: no size entity and no responseSize.
    expect(of('s1').map((e) => [e.metric, e.service, e.responseSize])).toEqual([
      ['ReadRequestDuration', 'fastly', undefined],
      ['ReadRequests', 'fastly', undefined],
    ]);
    expect(entities.some((e) => e.detail === '/health')).toBe(false);
  });

  it('shows a token its own request metrics through the API', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/metric/v1?metric=WriteRequests', headers: { authorization: 'Bearer alice' } });
    expect(res.json()).toEqual([expect.objectContaining({ provider: 'RTMRequest', metric: 'WriteRequests', service: 'ingest', timestamp: '2024-12-01T12:00:01.000Z' })]);
  });
});

describe('usage recorder', () => {
  const fakeStore = () => {
    const batches: NewUsageEntity[][] = [];
    const store = { insert: async (e: readonly NewUsageEntity[]) => void batches.push([...e]) } as unknown as UsageStore;
    return { batches, store };
  };
  const e = (metric: string): NewUsageEntity => ({ provider: 'P', metric, timestamp: 0, value: 1, owner: 'o' });

  it('inserts buffered entities in one batch per flush, in order', async () => {
    const { batches, store } = fakeStore();
    const r = createUsageRecorder({ store, clock, environment: 'x', flushMs: 3_600_000 });
    r.record(e('a'));
    r.record(e('b'));
    await r.flush();
    await r.flush();
    r.record(e('c'));
    await r.close();
    expect(batches.map((b) => b.map((x) => x.metric))).toEqual([['a', 'b'], ['c']]);
    r.record(e('late'));
    expect(r.dropped()).toBe(1);
  });

  it('drops beyond maxBuffer and survives a failing store', async () => {
    const errors: unknown[] = [];
    const store = { insert: async () => Promise.reject(new Error('disk full')) } as unknown as UsageStore;
    const r = createUsageRecorder({ store, clock, environment: 'x', flushMs: 3_600_000, maxBuffer: 2, onError: (err) => errors.push(err) });
    for (const m of ['a', 'b', 'c']) r.record(e(m));
    expect(r.dropped()).toBe(1);
    await r.flush();
    expect(errors).toHaveLength(1);
    r.record(e('d'));
    await r.close();
    expect(errors).toHaveLength(2);
  });
});
