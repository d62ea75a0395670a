import Fastify, { type FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installErrorHandling } from '../../app.ts';
import { testConfig } from '../../config/config.ts';
import { createFakeClock } from '../../model/clock.ts';
import { openDuckDb, type DuckDb } from '../../store/duckdb/database.ts';
import { createDuckDbTokenStore } from '../../store/duckdb/token-store.ts';
import type { TokenStore } from '../../store/token-store.ts';
import { createTokenVerifier } from '../tokens.ts';
import { adminRoutes } from './token-routes.ts';

const ADMIN = 'admin-secret-for-tests';
let app: FastifyInstance;
let db: DuckDb;
let store: TokenStore;
let revoked: string[];

beforeEach(async () => {
  db = await openDuckDb(':memory:');
  store = await createDuckDbTokenStore({ db, clock: createFakeClock(Date.UTC(2025, 5, 1)) });
  const verifier = await createTokenVerifier({
    config: testConfig('/nonexistent', { adminToken: ADMIN }),
    logger: pino({ level: 'silent' }),
    store,
  });
  revoked = [];
  app = Fastify();
  installErrorHandling(app);
  await app.register(adminRoutes, { verifier, store, onRevoke: (id) => revoked.push(id) });
});
afterEach(async () => {
  await app.close();
  await store.close?.();
  db.close();
});

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

async function create(body: unknown, token = ADMIN) {
  return app.inject({ method: 'POST', url: '/admin/tokens', headers: bearer(token), payload: body as object });
}

describe('admin token routes', () => {
  it('creates a token, shows the secret once, and the secret works', async () => {
    const res = await create({ name: 'ci', services: ['svc1'], scopes: ['ingest'] });
    expect(res.statusCode).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json<{ id: string; token: string; name: string; services: string[]; scopes: string[]; created: string }>();
    expect(body).toEqual({ id: expect.stringMatching(/^tk_/), name: 'ci', services: ['svc1'], scopes: ['ingest'], created: '2025-06-01T00:00:00.000Z', token: expect.stringMatching(/^rtm_/) });
    expect((await store.verify(body.token))?.tokenId).toBe(body.id);

    const list = await app.inject({ method: 'GET', url: '/admin/tokens', headers: { 'fastly-key': ADMIN } });
    expect(list.statusCode).toBe(200);
    expect(list.json()).toEqual({ tokens: [{ id: body.id, name: 'ci', services: ['svc1'], scopes: ['ingest'], created: '2025-06-01T00:00:00.000Z' }] });
    expect(list.body).not.toContain(body.token);
  });

  it('revokes: 204, then the token fails and a second delete is 404', async () => {
    const { id, token } = (await create({ name: 'x', services: 'all', scopes: ['read'] })).json<{ id: string; token: string }>();
    const del = await app.inject({ method: 'DELETE', url: `/admin/tokens/${id}`, headers: { authorization: `Token ${ADMIN}` } });
    expect(del.statusCode).toBe(204);
    expect(del.body).toBe('');
    expect(revoked).toEqual([id]);
    expect(await store.verify(token)).toBeUndefined();
    const again = await app.inject({ method: 'DELETE', url: `/admin/tokens/${id}`, headers: bearer(ADMIN) });
    expect(again.statusCode).toBe(404);
    expect(again.json()).toEqual({ error: { code: 'RTM_ERR_REQUEST_NOT_FOUND', message: 'Not found', detail: `No token with id ${id}` } });
  });

  it('401 without a token or with a wrong one, in the native envelope', async () => {
    const none = await app.inject({ method: 'GET', url: '/admin/tokens' });
    expect(none.statusCode).toBe(401);
    expect(none.json<{ error: { code: string } }>().error.code).toBe('RTM_ERR_AUTH_MISSING');
    const wrong = await app.inject({ method: 'POST', url: '/admin/tokens', headers: bearer('nope'), payload: { bad: 1 } });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json<{ error: { code: string } }>().error.code).toBe('RTM_ERR_AUTH_INVALID');
  });

  it('403 for a token without the admin scope, whatever the route', async () => {
    const { token } = (await create({ name: 'rw', services: 'all', scopes: ['read', 'ingest'] })).json<{ token: string }>();
    for (const [method, url] of [['GET', '/admin/tokens'], ['POST', '/admin/tokens'], ['DELETE', '/admin/tokens/tk_x']] as const) {
      const res = await app.inject({ method, url, headers: bearer(token), ...(method === 'POST' ? { payload: { name: 'y', services: 'all', scopes: ['admin'] } } : {}) });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toEqual({ error: { code: 'RTM_ERR_AUTH_FORBIDDEN', message: 'The token is not allowed to do this', detail: 'The admin scope is required' } });
    }
    expect((await store.list()).map((t) => t.name)).toEqual(['rw']);
  });

  it.each([
    [{ name: 'x', services: 'all' }],
    [{ name: '', services: 'all', scopes: ['read'] }],
    [{ name: 'x', services: 'every', scopes: ['read'] }],
    [{ name: 'x', services: ['bad id'], scopes: ['read'] }],
    [{ name: 'x', services: 'all', scopes: ['root'] }],
    [{ name: 'x', services: 'all', scopes: ['read'], extra: true }],
    [{ name: ' ', services: 'all', scopes: ['read'] }],
  ])('400 RTM_ERR_REQUEST_BAD_PARAM for %j', async (body) => {
    const res = await create(body);
    expect(res.statusCode).toBe(400);
    expect(res.json<{ error: { code: string; detail: string } }>().error.code).toBe('RTM_ERR_REQUEST_BAD_PARAM');
    expect(await store.list()).toEqual([]);
  });

  it('says which field is wrong, and never coerces a typo into a service', async () => {
    const res = await create({ name: 'x', services: 'every', scopes: ['read'] });
    expect(res.json<{ error: { detail: string } }>().error.detail).toBe(
      'body /services: Expected union value ("all" or a non-empty list of service ids matching [A-Za-z0-9_-]{1,64})',
    );
    const extra = await create({ name: 'x', services: 'all', scopes: ['read'], admin: true });
    expect(extra.json<{ error: { detail: string } }>().error.detail).toBe('body /admin: Unexpected property');
  });

  it('400 for a body that is not JSON', async () => {
    const res = await app.inject({ method: 'POST', url: '/admin/tokens', headers: { ...bearer(ADMIN), 'content-type': 'application/json' }, payload: '{"name":' });
    expect(res.statusCode).toBe(400);
    expect(res.json<{ error: { code: string } }>().error.code).toBe('RTM_ERR_REQUEST_BAD_PARAM');
  });

  it('an admin token limited to some services cannot widen itself and sees only its tokens', async () => {
    const scoped = (await create({ name: 'tenant-admin', services: ['a', 'b'], scopes: ['admin'] })).json<{ id: string; token: string }>();
    const other = (await create({ name: 'other', services: ['c'], scopes: ['read'] })).json<{ id: string }>();

    const wider = await create({ name: 'w', services: 'all', scopes: ['read'] }, scoped.token);
    expect(wider.statusCode).toBe(403);
    const outside = await create({ name: 'w', services: ['a', 'c'], scopes: ['read'] }, scoped.token);
    expect(outside.statusCode).toBe(403);
    const inside = await create({ name: 'ok', services: ['a'], scopes: ['read'] }, scoped.token);
    expect(inside.statusCode).toBe(201);

    const list = await app.inject({ method: 'GET', url: '/admin/tokens', headers: bearer(scoped.token) });
    expect(list.json<{ tokens: { name: string }[] }>().tokens.map((t) => t.name).sort()).toEqual(['ok', 'tenant-admin']);
    // Another tenant's token answers exactly like a token that does not exist.
    const hidden = await app.inject({ method: 'DELETE', url: `/admin/tokens/${other.id}`, headers: bearer(scoped.token) });
    const missing = await app.inject({ method: 'DELETE', url: '/admin/tokens/tk_000000000000', headers: bearer(scoped.token) });
    expect(hidden.statusCode).toBe(404);
    expect(missing.statusCode).toBe(404);
    expect(Object.keys(hidden.json<{ error: object }>().error)).toEqual(Object.keys(missing.json<{ error: object }>().error));
    expect((await store.list()).map((t) => t.name)).toContain('other');
  });
});
