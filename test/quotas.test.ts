/**
 * Per-token storage quotas through the real app: ODSL objects need the write scope and are
 * bounded in count and bytes; posted usage entities are bounded in count, bytes and rate. Each
 * refusal is a registry 4xx saying which limit, and stores nothing; the operator is not limited
 * and one tenant's quota does not touch another's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.ts';
import { ADMIN_TOKEN, HARNESS_T0, startHarness, type Harness } from './support/app-harness.ts';

let h: Harness;
let alice: string;
let bob: string;
let reader: string;
beforeAll(async () => {
  h = await startHarness({
    config: {
      limits: {
        ...loadConfig({}).limits,
        requestsPerTokenPerSecond: 0,
        objectsPerToken: 3,
        objectBytesPerToken: 400,
        usageEntitiesPerToken: 50,
        usageBytesPerToken: 100_000,
        usageEntitiesPerSecond: 2,
      },
    },
  });
  alice = (await h.token('alice', ['shop'], ['read', 'write', 'ingest'])).secret;
  bob = (await h.token('bob', ['shop'], ['read', 'write', 'ingest'])).secret;
  reader = (await h.token('reader', ['shop'], ['read', 'ingest'])).secret;
});
afterAll(async () => {
  await h.close();
});

const as = (secret: string) => ({ authorization: `Bearer ${secret}` });
const putObject = (secret: string, body: object) => h.inject({ method: 'POST', url: '/api/object/v1', headers: as(secret), payload: body });
const postEntities = (secret: string, n: number, extra: Record<string, unknown> = {}) =>
  h.inject({
    method: 'POST',
    url: '/api/metric/v1',
    headers: as(secret),
    payload: Array.from({ length: n }, (_, i) => ({ provider: 'Billing', metric: 'Calls', timestamp: HARNESS_T0 + i, value: 1, ...extra })),
  });
const storedCount = async (secret: string, provider = 'Billing'): Promise<number> =>
  Number((await h.inject({ url: `/api/metric/v1?provider=${provider}&_limit=0`, headers: as(secret) })).headers['x-total-count']);

describe('ODSL objects', () => {
  it('need the write scope: a read-only token may read but not store or delete', async () => {
    const res = await putObject(reader, { _id: 'r1', a: 1 });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual({ status: 403, code: 'RTM_ERR_AUTH_FORBIDDEN', message: 'storing or deleting objects needs the write scope' });
    expect((await h.inject({ method: 'DELETE', url: '/api/object/v1/r1', headers: as(reader) })).statusCode).toBe(403);
    expect((await h.inject({ url: '/api/object/v1', headers: as(reader) })).statusCode).toBe(200);
  });

  it('are bounded in count per token; replacing one and deleting free nothing wrongly', async () => {
    for (const id of ['o1', 'o2', 'o3']) expect((await putObject(alice, { _id: id, n: 1 })).statusCode).toBe(201);
    const fourth = await putObject(alice, { _id: 'o4', n: 1 });
    expect(fourth.statusCode).toBe(403);
    expect(fourth.json()).toEqual({
      status: 403,
      code: 'RTM_ERR_QUOTA_OBJECTS',
      message: 'this token already stores 3 objects, the most it may (RTM_MAX_OBJECTS_PER_TOKEN); delete some first',
    });
    expect((await h.inject({ url: '/api/object/v1/o4', headers: as(alice) })).statusCode).toBe(404);
    // Replacing an existing object is not a new one.
    expect((await putObject(alice, { _id: 'o3', n: 2 })).statusCode).toBe(200);
    // Another tenant and the operator are not affected.
    expect((await putObject(bob, { _id: 'o1', n: 1 })).statusCode).toBe(201);
    expect((await putObject(ADMIN_TOKEN, { _id: 'x1' })).statusCode).toBe(201);
    // Deleting makes room.
    expect((await h.inject({ method: 'DELETE', url: '/api/object/v1/o1', headers: as(alice) })).statusCode).toBe(204);
    expect((await putObject(alice, { _id: 'o4', n: 1 })).statusCode).toBe(201);
  });

  it('are bounded in bytes per token', async () => {
    const big = { _id: 'o2', text: 'x'.repeat(390) };
    const res = await putObject(alice, big);
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'RTM_ERR_QUOTA_OBJECTS', message: expect.stringMatching(/bytes of objects .* past 400 \(RTM_MAX_OBJECT_BYTES_PER_TOKEN\)/) });
    // Replacing a small object by a bigger one counts the difference only.
    expect((await putObject(alice, { _id: 'o4', text: 'y'.repeat(200) })).statusCode).toBe(200);
  });
});

describe('usage entities', () => {
  it('are rate limited per token: a burst of 10 s worth, then 429 with Retry-After until the bucket refills', async () => {
    const first = await postEntities(alice, 20);
    expect(first.json()).toEqual({ accepted: 20, rejected: 0, errors: [] });
    const more = await postEntities(alice, 4);
    expect(more.statusCode).toBe(429);
    expect(more.headers['retry-after']).toBe('2');
    expect(more.json()).toEqual({
      status: 429,
      code: 'RTM_ERR_QUOTA_USAGE_RATE',
      message: 'more than 2 usage entities per second for this token (RTM_USAGE_ENTITIES_PER_SECOND); these 4 fit in 2 s, nothing was stored',
    });
    expect(await storedCount(alice)).toBe(20);
    // Bob has his own bucket.
    expect((await postEntities(bob, 5)).statusCode).toBe(200);
    h.clock.advance(2000);
    expect((await postEntities(alice, 4)).statusCode).toBe(200);
    expect(await storedCount(alice)).toBe(24);
  });

  it('are bounded in count per token; the whole request is refused, and own metering does not count', async () => {
    h.clock.advance(60_000);
    expect((await postEntities(alice, 20)).statusCode).toBe(200);
    // 44 stored: 7 more would pass the quota of 50.
    h.clock.advance(60_000);
    const over = await postEntities(alice, 7);
    expect(over.statusCode).toBe(403);
    expect(over.json()).toEqual({
      status: 403,
      code: 'RTM_ERR_QUOTA_USAGE_ENTITIES',
      message: 'this token stores 44 usage entities and this request has 7: at most 50 (RTM_MAX_USAGE_ENTITIES_PER_TOKEN); nothing was stored',
    });
    expect(await storedCount(alice)).toBe(44);
    // Alice's requests made RTMRequest entities of hers; they are not in her quota.
    await h.services.usageRecorder.flush();
    expect(await storedCount(alice, 'RTMRequest')).toBeGreaterThan(5);
    expect((await postEntities(alice, 6)).statusCode).toBe(200);
    // The operator is not limited.
    expect((await postEntities(ADMIN_TOKEN, 60)).statusCode).toBe(200);
  });

  it('are bounded in bytes per token', async () => {
    h.clock.advance(60_000);
    const res = await postEntities(bob, 25, { detail: 'd'.repeat(4000) });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({
      code: 'RTM_ERR_QUOTA_USAGE_ENTITIES',
      message: expect.stringMatching(/^this token stores \d+ bytes of usage entities and this request has \d+: at most 100000 \(RTM_MAX_USAGE_BYTES_PER_TOKEN\)/),
    });
  });
});
