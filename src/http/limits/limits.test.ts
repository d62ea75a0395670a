import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { installErrorHandling } from '../../app.ts';
import { loadConfig, type Limits } from '../../config/config.ts';
import { adminPrincipal, type TokenVerifier } from '../auth.ts';
import { concurrencyLimitPlugin } from './concurrency.ts';
import { rateLimitPlugin } from './rate-limit.ts';
import { createServiceQuota } from './service-quota.ts';

const limits = (over: Partial<Limits>): Limits => ({ ...loadConfig({}).limits, ...over });

/** One dummy route per dialect prefix, so each envelope is checked. */
const ROUTES = ['/v1/channel/x', '/metrics/x', '/api/x', '/rtm/v1/x', '/ingest'];

async function bareApp(register: (app: FastifyInstance) => PromiseLike<unknown>, handler: () => Promise<unknown> = async () => ({ ok: true })) {
  const app = Fastify();
  installErrorHandling(app);
  await register(app);
  for (const url of ROUTES) app.get(url, handler);
  await app.ready();
  return app;
}

const ENVELOPE: Record<string, (code: string) => object> = {
  '/v1/channel/x': (code) => ({ msg: expect.any(String), detail: expect.any(String), code }),
  '/metrics/x': (code) => ({ detail: expect.any(String), code }),
  '/api/x': (code) => ({ status: 429, message: expect.any(String), code }),
  '/rtm/v1/x': (code) => ({ error: { code, message: expect.any(String), detail: expect.any(String) } }),
  '/ingest': (code) => ({ error: { code, message: expect.any(String), detail: expect.any(String) } }),
};

describe('rateLimitPlugin', () => {
  let app: FastifyInstance;
  beforeEach(() => {
    // LocalStore windows run on Date.now(): frozen, the window never rolls over mid-test.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.UTC(2025, 0, 1) });
  });
  afterEach(async () => {
    vi.useRealTimers();
    await app.close();
  });

  it.each(ROUTES)('429 with Retry-After in the dialect envelope of %s', async (url) => {
    app = await bareApp((a) => a.register(rateLimitPlugin, { limits: limits({ requestsPerTokenPerSecond: 2 }) }));
    const headers = { authorization: 'Bearer tok-a' };
    expect((await app.inject({ url, headers })).statusCode).toBe(200);
    expect((await app.inject({ url, headers })).statusCode).toBe(200);
    const res = await app.inject({ url, headers });
    expect(res.statusCode).toBe(429);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.json()).toEqual(ENVELOPE[url]!('RTM_ERR_REQUEST_RATE_LIMITED'));
    expect(res.body).toContain('More than 2 requests per second');
  });

  it('counts each token apart, and by address when there is no token', async () => {
    app = await bareApp((a) => a.register(rateLimitPlugin, { limits: limits({ requestsPerTokenPerSecond: 1 }) }));
    const url = '/rtm/v1/x';
    expect((await app.inject({ url, headers: { 'fastly-key': 'one' } })).statusCode).toBe(200);
    expect((await app.inject({ url, headers: { 'fastly-key': 'one' } })).statusCode).toBe(429);
    // The same token in another dialect's header is the same caller.
    expect((await app.inject({ url, headers: { authorization: 'Token one' } })).statusCode).toBe(429);
    expect((await app.inject({ url, headers: { 'fastly-key': 'two' } })).statusCode).toBe(200);
    expect((await app.inject({ url })).statusCode).toBe(200);
    expect((await app.inject({ url })).statusCode).toBe(429);
    vi.setSystemTime(Date.UTC(2025, 0, 1, 0, 0, 1));
    expect((await app.inject({ url, headers: { 'fastly-key': 'one' } })).statusCode).toBe(200);
  });

  it('with a verifier, unverified tokens share their address allowance', async () => {
    const tokens: TokenVerifier = { verify: async (s) => (s === 'good' ? adminPrincipal() : undefined) };
    app = await bareApp((a) => a.register(rateLimitPlugin, { limits: limits({ requestsPerTokenPerSecond: 1 }), tokens }));
    const url = '/v1/channel/x';
    expect((await app.inject({ url, headers: { 'fastly-key': 'random-1' } })).statusCode).toBe(200);
    expect((await app.inject({ url, headers: { 'fastly-key': 'random-2' } })).statusCode).toBe(429);
    expect((await app.inject({ url, headers: { 'fastly-key': 'good' } })).statusCode).toBe(200);
  });

  it('is off when the limit is 0, and skips chosen paths', async () => {
    app = await bareApp((a) => a.register(rateLimitPlugin, { limits: limits({ requestsPerTokenPerSecond: 0 }) }));
    for (let i = 0; i < 5; i++) expect((await app.inject({ url: '/api/x' })).statusCode).toBe(200);
    await app.close();
    app = await bareApp((a) => a.register(rateLimitPlugin, { limits: limits({ requestsPerTokenPerSecond: 1 }), skip: (u) => u === '/ingest' }));
    for (let i = 0; i < 3; i++) expect((await app.inject({ url: '/ingest' })).statusCode).toBe(200);
  });
});

describe('concurrencyLimitPlugin', () => {
  let app: FastifyInstance;
  afterEach(async () => {
    await app.close();
  });

  it.each(ROUTES)('429 RTM_ERR_REQUEST_TOO_MANY_STREAMS beyond the limit on %s, and the slot comes back', async (url) => {
    const gates: (() => void)[] = [];
    const handler = () => new Promise<unknown>((resolve) => gates.push(() => resolve({ ok: true })));
    app = await bareApp((a) => a.register(concurrencyLimitPlugin, { limits: limits({ concurrentStreamsPerToken: 2 }) }), handler);
    const headers = { authorization: 'Bearer tok' };
    const first = app.inject({ url, headers });
    const second = app.inject({ url, headers });
    await vi.waitFor(() => expect(gates).toHaveLength(2));
    const third = await app.inject({ url, headers });
    expect(third.statusCode).toBe(429);
    expect(third.headers['retry-after']).toBe('1');
    expect(third.json()).toEqual(ENVELOPE[url]!('RTM_ERR_REQUEST_TOO_MANY_STREAMS'));
    // Another token is not affected.
    const other = app.inject({ url, headers: { 'fastly-key': 'another' } });
    await vi.waitFor(() => expect(gates).toHaveLength(3));
    for (const open of gates.splice(0)) open();
    expect((await first).statusCode).toBe(200);
    expect((await second).statusCode).toBe(200);
    expect((await other).statusCode).toBe(200);
    // Released: the token can open two again.
    const again = [app.inject({ url, headers }), app.inject({ url, headers })];
    await vi.waitFor(() => expect(gates).toHaveLength(2));
    for (const open of gates.splice(0)) open();
    expect((await Promise.all(again)).map((r) => r.statusCode)).toEqual([200, 200]);
  });

  it('gives the slot back when the handler fails', async () => {
    let fail = true;
    const handler = async () => {
      if (fail) throw new Error('boom: SELECT * FROM secret_table');
      return { ok: true };
    };
    app = await bareApp((a) => a.register(concurrencyLimitPlugin, { limits: limits({ concurrentStreamsPerToken: 1 }) }), handler);
    const res = await app.inject({ url: '/rtm/v1/x' });
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('secret_table');
    fail = false;
    expect((await app.inject({ url: '/rtm/v1/x' })).statusCode).toBe(200);
  });
});

describe('createServiceQuota', () => {
  it('admits up to servicesPerToken distinct services per token, repeats always', () => {
    const quota = createServiceQuota({ servicesPerToken: 2 });
    expect(quota.admit('t1', 'a')).toBe(true);
    expect(quota.admit('t1', 'b')).toBe(true);
    expect(quota.admit('t1', 'c')).toBe(false);
    expect(quota.admit('t1', 'a')).toBe(true);
    expect(quota.admit('t2', 'c')).toBe(true);
    expect(quota.count('t1')).toBe(2);
    quota.forget('t1');
    expect(quota.count('t1')).toBe(0);
    expect(quota.admit('t1', 'c')).toBe(true);
  });

  it.each([0, Number.POSITIVE_INFINITY])('is off when the limit is %s', (servicesPerToken) => {
    const quota = createServiceQuota({ servicesPerToken });
    for (let i = 0; i < 100; i++) expect(quota.admit('t', `s${i}`)).toBe(true);
  });
});
