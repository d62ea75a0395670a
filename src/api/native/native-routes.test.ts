import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChannelSecond, RealtimeSource } from '../../aggregate/realtime-source.ts';
import { installErrorHandling } from '../../app.ts';
import { dashboardRoutes } from '../../dashboard/dashboard-routes.ts';
import { EDGE_FIELDS, edgeFieldIndex } from '../../model/fields.ts';
import { SCOPES, type Principal, type TokenVerifier } from '../../http/auth.ts';
import { nativeRoutes } from './native-routes.ts';

const T = 1_767_225_600;
const principals: Record<string, Principal> = {
  admin: { tokenId: 't-admin', name: 'admin', services: 'all', scopes: new Set(SCOPES) },
  shopOnly: { tokenId: 't-shop', name: 'shop reader', services: new Set(['shop']), scopes: new Set(['read']) },
};
const tokens: TokenVerifier = { verify: async (secret) => principals[secret] };

function vector(set: Record<string, number>): Float64Array {
  const v = new Float64Array(EDGE_FIELDS.length);
  for (const [name, value] of Object.entries(set)) v[edgeFieldIndex.get(name) as number] = value;
  return v;
}

/** Second T holds shop traffic in FRA and LHR; the published bound is T. */
const source: RealtimeSource = {
  latestPublished: () => T,
  async channel(service, from, to): Promise<ChannelSecond[]> {
    if (service !== 'shop' || T < from || T >= to) return [];
    const fra = vector({ requests: 3, resp_header_bytes: 100, resp_body_bytes: 900, edge_hit_requests: 2, edge_miss_requests: 1, status_5xx: 1 });
    const lhr = vector({ requests: 1, resp_body_bytes: 50, bereq_header_bytes: 10 });
    const total = fra.map((x, i) => x + (lhr[i] ?? 0));
    return [{ second: T, aggregated: total, byDatacenter: new Map([['FRA', fra], ['LHR', lhr]]) }];
  },
  domains: async () => [],
  origins: async () => [],
};

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function setup(): Promise<FastifyInstance> {
  app = Fastify();
  installErrorHandling(app);
  await app.register(dashboardRoutes);
  await app.register(nativeRoutes, { source, tokens, listServices: async () => ['shop', 'media', 'blog'] });
  return app;
}

const get = (a: FastifyInstance, url: string, token = 'admin') => a.inject({ url, headers: { authorization: `Bearer ${token}` } });

describe('native API', () => {
  it('lists the services the token may read, sorted', async () => {
    const a = await setup();
    expect((await get(a, '/rtm/v1/services')).json()).toEqual({ services: ['blog', 'media', 'shop'] });
    expect((await get(a, '/rtm/v1/services', 'shopOnly')).json()).toEqual({ services: ['shop'] });
  });

  it('answers live seconds with stored and derived fields, in total and by POP', async () => {
    const a = await setup();
    const res = await get(a, '/rtm/v1/services/shop/live?seconds=5');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ service: 'shop', from: T - 4, to: T + 1 });
    expect(body.data).toHaveLength(1);
    const [second] = body.data;
    expect(second.recorded).toBe(T);
    expect(second.aggregated).toMatchObject({ requests: 4, bandwidth: 100 + 900 + 50 + 10, edge_hit_ratio: 2 / 3, status_5xx: 1 });
    expect(second.datacenter.FRA).toMatchObject({ requests: 3, bandwidth: 1000, edge_hit_ratio: 2 / 3 });
    // No hit or miss at LHR: the ratio has nothing to divide by and reads as 0.
    expect(second.datacenter.LHR).toMatchObject({ requests: 1, bandwidth: 60, edge_hit_ratio: 0 });
  });

  it('returns only the fields asked for, and refuses an unknown one with the reason', async () => {
    const a = await setup();
    const body = (await get(a, '/rtm/v1/services/shop/live?fields=requests,origin_offload')).json();
    expect(body.data[0].aggregated).toEqual({ requests: 4, origin_offload: 0 });
    const bad = await get(a, '/rtm/v1/services/shop/live?fields=requests,nonsense');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatchObject({ code: 'RTM_ERR_REQUEST_BAD_PARAM' });
    expect(bad.json().error.detail).toMatch(/nonsense/);
  });

  it('answers a service the token may not read exactly like one that does not exist', async () => {
    const a = await setup();
    const forbidden = await get(a, '/rtm/v1/services/media/live', 'shopOnly');
    const missing = await get(a, '/rtm/v1/services/nowhere/live', 'shopOnly');
    expect(forbidden.statusCode).toBe(404);
    expect(missing.statusCode).toBe(404);
    expect(forbidden.json().error.code).toBe(missing.json().error.code);
    expect((await a.inject({ url: '/rtm/v1/services' })).statusCode).toBe(401);
  });

  it('serves the dashboard page, its modules and its chart library without a token', async () => {
    const a = await setup();
    const page = await a.inject({ url: '/dashboard' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toContain('/dashboard/vendor/uPlot.iife.min.js');
    expect(page.body).toContain('/dashboard/app.js');
    const lib = await a.inject({ url: '/dashboard/vendor/uPlot.iife.min.js' });
    expect(lib.statusCode).toBe(200);
    expect(lib.body).toContain('uPlot');
    const app = await a.inject({ url: '/dashboard/app.js' });
    expect(app.headers['content-type']).toMatch(/javascript/);
    expect(app.body).toContain('/rtm/v1/stream');
    // Only the two uPlot files, not the rest of node_modules/uplot.
    expect((await a.inject({ url: '/dashboard/vendor/package.json' })).statusCode).toBe(404);
    expect((await a.inject({ url: '/' })).headers.location).toBe('/dashboard');
  });
});
