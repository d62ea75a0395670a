/**
 * Every 5xx of the error registry, thrown by a component behind the real app (buildApp over
 * createServices), answers with its status, its dialect's envelope, Retry-After on a 503 and no
 * internal text; and the log keeps the cause. Also: the write routes answer a failing store
 * with a 503 the client retries, not a 500.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { allErrorCodes, Errors, RtmError, type ErrorCode } from '../src/http/errors.ts';
import type { Services } from '../src/services.ts';
import { ADMIN_TOKEN, startHarness, type Harness } from './support/app-harness.ts';

let fault: unknown;
const logLines: Record<string, unknown>[] = [];

/** `target` with every method throwing `fault` while one is set. */
function failing<T extends object>(target: T): T {
  return new Proxy(target, {
    get(t, key) {
      const value: unknown = Reflect.get(t, key);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]): unknown => {
        if (fault !== undefined) throw fault;
        return (value as (...a: unknown[]) => unknown).apply(t, args);
      };
    },
  });
}

const wrap = (s: Services): void => {
  s.store = failing(s.store);
  s.window = failing(s.window);
  s.catalog = failing(s.catalog);
  s.usage = failing(s.usage);
  s.objects = failing(s.objects);
  s.ingest = failing(s.ingest);
};

let h: Harness;
beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) logLines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  h = await startHarness({ logger: pino({ level: 'error' }, sink), beforeBuild: wrap });
});
afterAll(async () => {
  fault = undefined;
  await h.close();
});
beforeEach(() => {
  fault = undefined;
  logLines.length = 0;
});

const bearer = { authorization: `Bearer ${ADMIN_TOKEN}` };
const DISK_FULL = 'IO Error: Could not write file "/data/rtmetrics.duckdb.wal": No space left on device';

/** What each dialect's envelope must hold for `def` with `detail`, written out (not via renderError). */
const envelopes = {
  fastly: (def: ErrorCode, detail: string) => ({ msg: def.message, detail, code: def.code }),
  azion: (def: ErrorCode, detail: string) => ({ detail, code: def.code }),
  odsl: (def: ErrorCode, detail: string) => ({ status: def.status, message: detail, code: def.code }),
  native: (def: ErrorCode, detail: string) => ({ error: { code: def.code, message: def.message, detail } }),
};

const READS = [
  ['fastly', { url: '/v1/channel/shop/ts/h', headers: { 'fastly-key': ADMIN_TOKEN } }],
  ['azion', { url: '/metrics/products/1441740010/configurations', headers: { authorization: `Token ${ADMIN_TOKEN}` } }],
  ['odsl', { url: '/api/metric/v1', headers: bearer }],
  ['native', { url: '/rtm/v1/services', headers: bearer }],
] as const;

const serverErrors = allErrorCodes().filter((def) => def.status >= 500);

describe('each 5xx registry error through the real app', () => {
  it('covers the 503s and the 500', () => {
    expect(serverErrors.map((d) => d.code)).toEqual(expect.arrayContaining(['RTM_ERR_INGEST_UNAVAILABLE', 'RTM_ERR_INTERNAL_ERROR']));
  });

  for (const def of serverErrors) {
    it.each(READS)(`${def.code} on a %s read`, async (dialect, request) => {
      fault = new RtmError(def, 'the store cannot be read right now');
      const res = await h.inject({ method: 'GET', ...request });
      expect(res.statusCode).toBe(def.status);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.json()).toEqual(envelopes[dialect](def, 'the store cannot be read right now'));
      if (def.status === 503) expect(res.headers['retry-after']).toMatch(/^[1-9]\d*$/);
      else expect(res.headers['retry-after']).toBeUndefined();
      // The failure is logged with its code (the serializer must not choke on the error).
      expect(logLines.some((l) => l['msg'] === 'request failed' && l['code'] === def.code)).toBe(true);
    });
  }

  it.each(READS)('a driver error on a %s read is a 500 without its text, and the log has it', async (dialect, request) => {
    fault = new Error(DISK_FULL);
    const res = await h.inject({ method: 'GET', ...request });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual(envelopes[dialect](Errors.INTERNAL, Errors.INTERNAL.message));
    expect(res.body).not.toMatch(/No space|duckdb/);
    expect(JSON.stringify(logLines)).toContain('No space left on device');
  });
});

describe('writes on a failing store answer 503 with Retry-After', () => {
  it('POST /ingest: RTM_ERR_INGEST_UNAVAILABLE, nothing accepted', async () => {
    fault = new Error(DISK_FULL);
    const res = await h.inject({
      method: 'POST',
      url: '/ingest',
      headers: { ...bearer, 'content-type': 'application/x-ndjson' },
      payload: '{"timestamp": 1767226200, "service": "shop", "datacenter": "FRA", "domain": "a.example", "status": 200}\n',
    });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.json()).toEqual(
      envelopes.native(Errors.INGEST_UNAVAILABLE, 'the events could not be stored; nothing of this request was accepted, retry later'),
    );
  });

  it('POST /api/metric/v1: RTM_ERR_STORE_UNAVAILABLE in the odsl envelope', async () => {
    fault = new Error(DISK_FULL);
    const res = await h.inject({
      method: 'POST',
      url: '/api/metric/v1',
      headers: bearer,
      payload: { provider: 'Billing', metric: 'Calls', timestamp: '2026-01-01T00:00:00Z', value: 3 },
    });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.json()).toEqual(envelopes.odsl(Errors.STORE_UNAVAILABLE, 'the entities could not be stored; nothing of this request was accepted, retry later'));
    expect(res.body).not.toMatch(/No space/);
  });

  it('POST /api/object/v1: RTM_ERR_STORE_UNAVAILABLE in the odsl envelope', async () => {
    fault = new Error(DISK_FULL);
    const res = await h.inject({ method: 'POST', url: '/api/object/v1', headers: bearer, payload: { _id: 'o1', a: 1 } });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.json()).toEqual(envelopes.odsl(Errors.STORE_UNAVAILABLE, 'the object could not be stored, retry later'));
  });

  it('the same writes succeed once the store recovers', async () => {
    const res = await h.inject({ method: 'POST', url: '/api/object/v1', headers: bearer, payload: { _id: 'o1', a: 1 } });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ _id: 'o1', a: 1 });
  });
});
