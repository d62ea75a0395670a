import fc from 'fast-check';
import Fastify, { type FastifyInstance } from 'fastify';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installErrorHandling } from '../app.ts';
import { allErrorCodes, Errors, RtmError, toRtmError } from './errors.ts';

const DOC = new URL('../../docs/errors.md', import.meta.url);

/** Rows of docs/errors.md's tables: | `CODE` | status | message | ... */
function documentedCodes(): Map<string, { status: number; message: string }> {
  const rows = new Map<string, { status: number; message: string }>();
  for (const line of fs.readFileSync(DOC, 'utf8').split('\n')) {
    const m = /^\|\s*`(RTM_ERR_[A-Z0-9_]+)`\s*\|\s*(\d{3})\s*\|\s*([^|]*?)\s*\|/.exec(line);
    if (m) rows.set(m[1]!, { status: Number(m[2]), message: m[3]! });
  }
  return rows;
}

describe('docs/errors.md', () => {
  const documented = documentedCodes();
  it.each(allErrorCodes().map((c) => [c.code, c] as const))('documents %s with its status and message', (_code, def) => {
    expect(documented.get(def.code), `${def.code} is missing from docs/errors.md`).toEqual({ status: def.status, message: def.message });
  });

  it('lists no code that the registry does not have', () => {
    const known = new Set(allErrorCodes().map((c) => c.code));
    expect([...documented.keys()].filter((c) => !known.has(c))).toEqual([]);
  });
});

describe('dialect envelopes', () => {
  let app: FastifyInstance;
  const SQL_TEXT = 'Binder Error: Referenced column "secret_sha256" not found! LINE 1: SELECT secret_sha256 FROM api_tokens';
  beforeAll(async () => {
    app = Fastify({ logger: false });
    installErrorHandling(app);
    for (const prefix of ['/v1', '/metrics', '/api', '/rtm', '/ingest']) {
      app.get(`${prefix}/forbidden`, async () => {
        throw new RtmError(Errors.AUTH_FORBIDDEN, 'Service s1 is not readable with this token', { 'x-extra': 'yes' });
      });
      app.get(`${prefix}/crash`, async () => {
        // What a DuckDB failure looks like: driver text that must never reach a client.
        throw Object.assign(new Error(SQL_TEXT), { code: 'DUCKDB_ERROR' });
      });
      app.get(`${prefix}/crash500`, async () => {
        throw Object.assign(new Error(SQL_TEXT), { statusCode: 500 });
      });
    }
    await app.ready();
  });
  afterAll(() => app.close());

  const forbidden = { code: 'RTM_ERR_AUTH_FORBIDDEN', message: 'The token is not allowed to do this', detail: 'Service s1 is not readable with this token' };
  it.each([
    ['/v1/forbidden', { msg: forbidden.message, detail: forbidden.detail, code: forbidden.code }],
    ['/metrics/forbidden', { detail: forbidden.detail, code: forbidden.code }],
    ['/api/forbidden', { status: 403, message: forbidden.detail, code: forbidden.code }],
    ['/rtm/forbidden', { error: forbidden }],
    ['/ingest/forbidden', { error: forbidden }],
  ])('%s renders the registry error in its envelope', async (url, body) => {
    const res = await app.inject({ url });
    expect(res.statusCode).toBe(403);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['x-extra']).toBe('yes');
    expect(res.json()).toEqual(body);
  });

  const internal = { code: 'RTM_ERR_INTERNAL_ERROR', message: 'Internal server error' };
  it.each([
    ['/v1', { msg: internal.message, detail: internal.message, code: internal.code }],
    ['/metrics', { detail: internal.message, code: internal.code }],
    ['/api', { status: 500, message: internal.message, code: internal.code }],
    ['/rtm', { error: { ...internal, detail: internal.message } }],
    ['/ingest', { error: { ...internal, detail: internal.message } }],
  ])('%s answers a driver error as a generic 500 without its text', async (prefix, body) => {
    for (const path of ['crash', 'crash500']) {
      const res = await app.inject({ url: `${prefix}/${path}` });
      expect(res.statusCode).toBe(500);
      expect(res.json()).toEqual(body);
      expect(res.body).not.toMatch(/SELECT|api_tokens|Binder|DUCKDB/);
    }
  });

  it.each([
    ['/v1/nope', { msg: 'Not found', detail: 'No route for GET /v1/nope', code: 'RTM_ERR_REQUEST_NOT_FOUND' }],
    ['/metrics/nope?x=1', { detail: 'No route for GET /metrics/nope', code: 'RTM_ERR_REQUEST_NOT_FOUND' }],
    ['/api/nope', { status: 404, message: 'No route for GET /api/nope', code: 'RTM_ERR_REQUEST_NOT_FOUND' }],
    ['/nope', { error: { code: 'RTM_ERR_REQUEST_NOT_FOUND', message: 'Not found', detail: 'No route for GET /nope' } }],
  ])('unknown path %s is a 404 in its envelope', async (url, body) => {
    const res = await app.inject({ url });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual(body);
  });
});

describe('toRtmError', () => {
  it.each([
    [413, 'RTM_ERR_INGEST_BODY_TOO_LARGE'],
    [415, 'RTM_ERR_INGEST_CONTENT_TYPE'],
    [429, 'RTM_ERR_REQUEST_RATE_LIMITED'],
    [404, 'RTM_ERR_REQUEST_NOT_FOUND'],
    [401, 'RTM_ERR_AUTH_MISSING'],
    [403, 'RTM_ERR_AUTH_FORBIDDEN'],
    [400, 'RTM_ERR_REQUEST_BAD_PARAM'],
    [422, 'RTM_ERR_REQUEST_BAD_PARAM'],
    [500, 'RTM_ERR_INTERNAL_ERROR'],
    [503, 'RTM_ERR_INTERNAL_ERROR'],
  ])('a framework error with statusCode %i becomes %s', (statusCode, code) => {
    expect(toRtmError(Object.assign(new Error('m'), { statusCode })).code).toBe(code);
  });

  it('never carries the text of an unknown error into a 5xx', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.option(fc.integer({ min: 500, max: 599 })), (message, statusCode) => {
        const err = toRtmError(Object.assign(new Error(message), statusCode === null ? {} : { statusCode }));
        expect(err.status).toBe(500);
        expect(err.detail).toBe('Internal server error');
      }),
    );
  });

  it('maps non-errors thrown (strings, null) to the generic 500', () => {
    for (const thrown of ['SELECT 1', null, undefined, 42, { message: 'x' }]) expect(toRtmError(thrown).code).toBe('RTM_ERR_INTERNAL_ERROR');
  });
});
