import Fastify, { type FastifyInstance } from 'fastify';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { SCOPES, type Principal, type TokenVerifier } from '../http/auth.ts';
import { loadConfig, type Limits } from '../config/config.ts';
import { installErrorHandling } from '../app.ts';
import { createFakeClock, type Clock } from '../model/clock.ts';
import { summed } from '../../test/support/naive-reference.ts';
import { aggregateBatch } from '../aggregate/aggregate-batch.ts';
import { createServiceQuota } from '../http/limits/service-quota.ts';
import { createKeyCaps } from './key-cap.ts';
import { deltaToRecordSet, type Delta } from '../model/delta.ts';
import { createDictionaries } from '../model/dictionary.ts';
import type { EventBatch } from '../model/event.ts';
import type { RecordSet } from '../model/record.ts';
import { eventRows, type EventRow } from './event-rows.ts';
import { ingestRoutes } from './ingest-route.ts';
import { createParsePool, type ParsePool } from './parse-pool.ts';
import type { IngestSink } from './sink.ts';

const ADMIN = 'admin-secret';
const LIMITED = 'a-only-secret';
const READER = 'read-only-secret';

const principals: Record<string, Principal> = {
  [ADMIN]: { tokenId: 't-admin', name: 'admin', services: 'all', scopes: new Set(SCOPES) },
  [LIMITED]: { tokenId: 't-a', name: 'writer-a', services: new Set(['a']), scopes: new Set(['ingest']) },
  [READER]: { tokenId: 't-r', name: 'reader', services: 'all', scopes: new Set(['read']) },
};
const tokens: TokenVerifier = { verify: async (secret) => principals[secret] };

interface FakeSink extends IngestSink {
  /** The events of each batch ingested. */
  rows: EventRow[][];
  /** The records of each batch or delta ingested. */
  records: RecordSet[];
  fail: boolean;
}

function fakeSink(): FakeSink {
  const dictionaries = createDictionaries();
  const sink: FakeSink = {
    dictionaries,
    rows: [],
    records: [],
    fail: false,
    async ingest(batch: EventBatch) {
      if (sink.fail) throw new Error('disk on fire at /var/lib/rtm/wal-000042');
      sink.rows.push(eventRows(batch, dictionaries));
      sink.records.push(aggregateBatch(batch, dictionaries));
    },
    async ingestDelta(delta: Delta) {
      if (sink.fail) throw new Error('disk on fire at /var/lib/rtm/wal-000042');
      sink.records.push(deltaToRecordSet(delta));
    },
  };
  return sink;
}

const event = (fields: Record<string, unknown> = {}): string =>
  JSON.stringify({ timestamp: 1_732_096_800, service: 'a', datacenter: 'FRA', domain: 'www.example.com', status: 200, ...fields });

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function setup(limits: Partial<Limits> = {}, clock?: Clock): Promise<{ app: FastifyInstance; sink: FakeSink }> {
  const sink = fakeSink();
  const instance = Fastify();
  installErrorHandling(instance);
  await instance.register(ingestRoutes, { sink, tokens, limits: { ...loadConfig({}).limits, ...limits }, ...(clock ? { clock } : {}) });
  app = instance;
  return { app: instance, sink };
}

function post(instance: FastifyInstance, body: string | Buffer, headers: Record<string, string> = {}) {
  return instance.inject({
    method: 'POST',
    url: '/ingest',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/x-ndjson', ...headers },
    payload: body,
  });
}

describe('POST /ingest', () => {
  it('rejects events further ahead of the server clock than the allowed skew, keeping the rest', async () => {
    const now = 1_732_096_800;
    const { app, sink } = await setup({ maxFutureSeconds: 300 }, createFakeClock(now * 1000));
    const body = [event({ timestamp: now + 300 }), event({ timestamp: now + 301 }), event({ timestamp: now - 86_400 })].join('\n');
    const res = await post(app, body);
    expect(res.json()).toMatchObject({ accepted: 2, rejected: 1, errors: [{ line: 2 }] });
    expect(res.json().errors[0].reason).toMatch(/^timestamp: .*ahead of the server's clock/);
    expect(sink.rows[0]?.map((r) => r.second)).toEqual([now + 300, now - 86_400]);
  });

  it('accepts NDJSON, hands the batch to the sink and counts the lines', async () => {
    const { app, sink } = await setup();
    const res = await post(app, `${event()}\n${event({ status: 404, datacenter: 'AMS' })}\n`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ accepted: 2, rejected: 0, errors: [] });
    expect(sink.rows).toHaveLength(1);
    expect(sink.rows[0]?.map((r) => [r.second, r.service, r.datacenter, r.status])).toEqual([
      [1_732_096_800, 'a', 'FRA', 200],
      [1_732_096_800, 'a', 'AMS', 404],
    ]);
  });

  it('keeps the good lines of a mixed body and reports the bad ones by line', async () => {
    const { app, sink } = await setup();
    const body = [event(), '{oops', event({ status: 600 }), '', event({ service: 'b' })].join('\n');
    const res = await post(app, body);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      accepted: 2,
      rejected: 2,
      errors: [
        { line: 2, reason: expect.stringMatching(/^not valid JSON: /) as unknown },
        { line: 3, reason: 'status: must be an integer 100..599, got 600' },
      ],
    });
    expect(sink.rows[0]?.map((r) => r.service)).toEqual(['a', 'b']);
  });

  it('answers 200 with accepted 0 for a body of only bad lines, without calling the sink', async () => {
    const { app, sink } = await setup();
    const res = await post(app, 'x\ny\n');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ accepted: 0, rejected: 2 });
    expect(sink.rows).toEqual([]);
  });

  it('lists at most 100 errors but counts them all', async () => {
    const { app } = await setup();
    const res = await post(app, Array.from({ length: 250 }, () => 'bad').join('\n'));
    const json = res.json<{ rejected: number; errors: { line: number }[] }>();
    expect(json.rejected).toBe(250);
    expect(json.errors).toHaveLength(100);
    expect(json.errors[99]?.line).toBe(100);
  });

  it('rejects per line the services a token may not write, and keeps the others', async () => {
    const { app, sink } = await setup();
    const body = [event({ service: 'a' }), event({ service: 'b' }), event({ service: 'a', status: 201 })].join('\n');
    const res = await post(app, body, { authorization: `Token ${LIMITED}` });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      accepted: 2,
      rejected: 1,
      errors: [{ line: 2, reason: 'service "b": this token may not ingest events for this service' }],
    });
    expect(sink.rows[0]?.map((r) => r.status)).toEqual([200, 201]);
    expect(sink.dictionaries.service.size).toBe(1);
  });

  it('takes the token from any dialect header', async () => {
    const { app } = await setup();
    for (const headers of [{ 'fastly-key': LIMITED }, { authorization: `Bearer ${LIMITED}` }, { authorization: `Token ${LIMITED}` }]) {
      const res = await post(app, event(), { authorization: '', ...headers });
      expect(res.json()).toMatchObject({ accepted: 1 });
    }
  });

  it('answers 401 without a token or with a wrong one, in the native envelope', async () => {
    const { app, sink } = await setup();
    const missing = await post(app, event(), { authorization: '' });
    expect(missing.statusCode).toBe(401);
    expect(missing.json()).toMatchObject({ error: { code: 'RTM_ERR_AUTH_MISSING' } });
    const wrong = await post(app, event(), { authorization: 'Bearer nope' });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ error: { code: 'RTM_ERR_AUTH_INVALID' } });
    expect(sink.rows).toEqual([]);
  });

  it('answers 403 to a token without the ingest scope', async () => {
    const { app } = await setup();
    const res = await post(app, event(), { authorization: `Bearer ${READER}` });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual({ error: { code: 'RTM_ERR_AUTH_FORBIDDEN', message: 'The token is not allowed to do this', detail: 'this token may not ingest events' } });
  });

  it('decodes a gzip body (Content-Encoding gzip and x-gzip)', async () => {
    const { app, sink } = await setup();
    const body = gzipSync(Buffer.from(`${event()}\n${event({ status: 304 })}\n`));
    for (const encoding of ['gzip', 'x-gzip', 'GZIP']) {
      const res = await post(app, body, { 'content-encoding': encoding });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ accepted: 2, rejected: 0, errors: [] });
    }
    expect(sink.rows.at(-1)?.map((r) => r.status)).toEqual([200, 304]);
  });

  it('answers 400 to a truncated or corrupt gzip body', async () => {
    const { app, sink } = await setup();
    const gz = gzipSync(Buffer.from(event().repeat(50)));
    const truncated = await post(app, gz.subarray(0, gz.length - 20), { 'content-encoding': 'gzip' });
    expect(truncated.statusCode).toBe(400);
    expect(truncated.json()).toEqual({
      error: { code: 'RTM_ERR_INGEST_BAD_ENCODING', message: 'Request body could not be decoded', detail: 'the gzip body is truncated (unexpected end of the compressed data)' },
    });
    const corrupt = await post(app, Buffer.from('this is not gzip'), { 'content-encoding': 'gzip' });
    expect(corrupt.statusCode).toBe(400);
    expect(corrupt.json()).toMatchObject({ error: { code: 'RTM_ERR_INGEST_BAD_ENCODING', detail: 'the body is not valid gzip: incorrect header check' } });
    expect(sink.rows).toEqual([]);
  });

  it('answers 400 to an unsupported Content-Encoding', async () => {
    const { app } = await setup();
    const res = await post(app, event(), { 'content-encoding': 'br' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: { code: 'RTM_ERR_INGEST_BAD_ENCODING', detail: expect.stringContaining('Content-Encoding "br" is not accepted') as unknown } });
  });

  it('answers 415 with the accepted types to any other content type, or none', async () => {
    const { app, sink } = await setup();
    const res = await post(app, event(), { 'content-type': 'application/xml' });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toEqual({
      error: {
        code: 'RTM_ERR_INGEST_CONTENT_TYPE',
        message: 'Unsupported content type',
        detail:
          'Content-Type "application/xml" is not accepted; send one of: application/x-ndjson, application/ndjson, application/jsonl, application/x-jsonlines, text/plain, application/json',
      },
    });
    const form = await post(app, event(), { 'content-type': 'application/x-www-form-urlencoded' });
    expect(form.statusCode).toBe(415);
    const none = await app.inject({ method: 'POST', url: '/ingest', headers: { authorization: `Bearer ${ADMIN}` }, payload: Buffer.from(event()) });
    expect(none.statusCode).toBe(415);
    expect(none.json()).toMatchObject({ error: { detail: expect.stringMatching(/^Content-Type is missing; send one of: application\/x-ndjson/) as unknown } });
    const latin1 = await post(app, event(), { 'content-type': 'application/x-ndjson; charset=iso-8859-1' });
    expect(latin1.statusCode).toBe(415);
    expect(latin1.json()).toMatchObject({ error: { detail: 'charset "iso-8859-1" is not accepted; events must be UTF-8' } });
    expect(sink.rows).toEqual([]);
  });

  it.each(['application/x-ndjson; charset=utf-8', 'application/ndjson', 'application/jsonl', 'application/x-jsonlines', 'text/plain', 'Application/X-NDJSON'])(
    'reads %s as NDJSON',
    async (contentType) => {
      const { app } = await setup();
      const res = await post(app, `${event()}\n${event()}`, { 'content-type': contentType });
      expect(res.json()).toEqual({ accepted: 2, rejected: 0, errors: [] });
    },
  );

  it('reads application/json as one (pretty-printed) object or as NDJSON', async () => {
    const { app, sink } = await setup();
    const pretty = JSON.stringify(JSON.parse(event({ status: 418 })), null, 2);
    const one = await post(app, pretty, { 'content-type': 'application/json' });
    expect(one.json()).toEqual({ accepted: 1, rejected: 0, errors: [] });
    expect(sink.rows[0]?.[0]?.status).toBe(418);
    const lines = await post(app, `${event()}\n${event()}\n`, { 'content-type': 'application/json' });
    expect(lines.json()).toEqual({ accepted: 2, rejected: 0, errors: [] });
  });

  it('answers 413 with the limit to a body larger than maxBodyBytes, raw or decompressed', async () => {
    const { app, sink } = await setup({ maxBodyBytes: 1000 });
    const big = `${event()}\n`.repeat(20);
    const raw = await post(app, big);
    expect(raw.statusCode).toBe(413);
    expect(raw.json()).toEqual({
      error: { code: 'RTM_ERR_INGEST_BODY_TOO_LARGE', message: 'Request body too large', detail: 'the body is larger than the limit of 1000 bytes; send fewer events per request' },
    });
    const zipped = gzipSync(Buffer.from(big));
    expect(zipped.length).toBeLessThan(1000);
    const bomb = await post(app, zipped, { 'content-encoding': 'gzip' });
    expect(bomb.statusCode).toBe(413);
    expect(bomb.json()).toMatchObject({ error: { code: 'RTM_ERR_INGEST_BODY_TOO_LARGE', detail: expect.stringContaining('decompressed body is larger than the limit of 1000 bytes') as unknown } });
    expect(sink.rows).toEqual([]);
  });

  it('answers 413 and accepts nothing when a body has more than maxEventsPerRequest events', async () => {
    const { app, sink } = await setup({ maxEventsPerRequest: 2 });
    const ok = await post(app, `${event()}\n\n${event()}\n`);
    expect(ok.json()).toMatchObject({ accepted: 2 });
    const over = await post(app, `${event()}\n${event()}\n${event()}\n`);
    expect(over.statusCode).toBe(413);
    expect(over.json()).toMatchObject({ error: { code: 'RTM_ERR_INGEST_TOO_MANY_EVENTS', detail: expect.stringContaining('more than 2 events') as unknown } });
    expect(sink.rows).toHaveLength(1);
  });

  it('answers 503 without the internal text when the sink fails', async () => {
    const { app, sink } = await setup();
    sink.fail = true;
    const res = await post(app, event());
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({
      error: {
        code: 'RTM_ERR_INGEST_UNAVAILABLE',
        message: 'Ingest is temporarily unavailable',
        detail: 'the events could not be stored; nothing of this request was accepted, retry later',
      },
    });
    expect(res.body).not.toContain('disk on fire');
    expect(res.body).not.toContain('wal-000042');
  });

  it('answers an empty body with nothing accepted', async () => {
    const { app, sink } = await setup();
    const res = await post(app, '');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ accepted: 0, rejected: 0, errors: [] });
    expect(sink.rows).toEqual([]);
  });
});

describe('POST /ingest with parse workers', () => {
  type Caps = Partial<Pick<Limits, 'domainsPerService' | 'datacentersPerService' | 'backendsPerService'>>;
  /** An app whose bodies all go to a parse worker (`pool`), or all parse in-thread; every key cap off unless given. */
  async function appWith(pool: ParsePool | undefined, caps: Caps = {}): Promise<{ app: FastifyInstance; sink: FakeSink }> {
    const sink = fakeSink();
    const instance = Fastify();
    installErrorHandling(instance);
    const limits = { ...loadConfig({}).limits, servicesPerToken: 2, domainsPerService: 0, datacentersPerService: 0, backendsPerService: 0, ...caps };
    await instance.register(ingestRoutes, { sink, tokens, limits, serviceQuota: createServiceQuota(limits), keyCaps: createKeyCaps(limits), parsePool: pool });
    return { app: instance, sink };
  }

  it('answers and counts exactly as in-thread parsing: bad lines, refused services, a token at its service quota', async () => {
    const pool = createParsePool({ workers: 1, minBodyBytes: 0 });
    const here = await appWith(undefined);
    const there = await appWith(pool);
    try {
      const bodies: [string, string][] = [
        [ADMIN, [event({ service: 'a' }), event({ service: 'b', time_ms: 1.5 }), '{nope', event({ service: 'a', datacenter: 'LHR', cache: 'hit', time_ms: 0.3 })].join('\n')],
        // The admin token's third and fourth services are over its quota of 2; 'a' is still fine.
        [ADMIN, [event({ service: 'c' }), event({ service: 'a', status: 503 }), event({ service: 'd' }), event({ service: 'c', datacenter: 'bad dc' })].join('\n')],
        // The limited token may write only 'a': 'b' is refused, a bad line of 'b' gets its own reason.
        [LIMITED, [event({ service: 'b' }), event({ service: 'a', resp_body_bytes: 7 }), event({ service: 'b', status: 99 }), '', event({ service: 'b' })].join('\n')],
        [ADMIN, Array.from({ length: 150 }, (_, i) => (i % 3 === 0 ? 'bad' : event({ service: i % 2 ? 'd' : 'a', timestamp: 1_732_096_800 + (i % 7) }))).join('\n')],
      ];
      const answers: unknown[][] = [[], []];
      for (const [token, body] of bodies) {
        for (const [k, { app }] of [here, there].entries()) {
          const res = await app.inject({ method: 'POST', url: '/ingest', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' }, payload: body });
          expect(res.statusCode).toBe(200);
          answers[k]?.push(res.json());
        }
      }
      expect(answers[1]).toEqual(answers[0]);
      expect(answers[0]?.slice(0, 3)).toEqual([
        { accepted: 3, rejected: 1, errors: [{ line: 3, reason: expect.stringMatching(/^not valid JSON/) as unknown }] },
        {
          accepted: 1,
          rejected: 3,
          errors: [
            { line: 1, reason: 'service "c": this token already writes 2 distinct services (RTM_MAX_SERVICES_PER_TOKEN)' },
            { line: 3, reason: 'service "d": this token already writes 2 distinct services (RTM_MAX_SERVICES_PER_TOKEN)' },
            { line: 4, reason: expect.stringMatching(/^datacenter: /) as unknown },
          ],
        },
        {
          accepted: 1,
          rejected: 3,
          errors: [
            { line: 1, reason: 'service "b": this token may not ingest events for this service' },
            { line: 3, reason: expect.stringMatching(/^status: /) as unknown },
            { line: 5, reason: 'service "b": this token may not ingest events for this service' },
          ],
        },
      ]);
      // The totals the sinks got: the same numbers, by key, whether batches or worker deltas.
      const totals = [here, there].map(({ sink }) => summed(sink.records));
      for (const kind of ['edge', 'origin', 'dimension'] as const) {
        const [a, b] = totals.map((t) => new Map([...t[kind]].sort()));
        expect(b).toEqual(a);
      }
      expect([...(totals[0]?.edge.keys() ?? [])].map((k) => (JSON.parse(k) as unknown[])[1]).sort()).toEqual(['a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'b']);
      expect(there.sink.rows).toEqual([]); // every body went to the worker
    } finally {
      await Promise.all([here.app.close(), there.app.close(), pool.close()]);
    }
  });

  it('counts the lines of a domain past RTM_MAX_DOMAINS_PER_SERVICE under __other__ exactly as in-thread parsing, the cap held across bodies', async () => {
    const pool = createParsePool({ workers: 1, minBodyBytes: 0 });
    const here = await appWith(undefined, { domainsPerService: 2 });
    const there = await appWith(pool, { domainsPerService: 2 });
    try {
      const bodies = [
        [event({ domain: 'one.example' }), event({ domain: 'TWO.example' }), event({ domain: 'three.example' }), event({ domain: 'one.example', service: 'b' })],
        // 'two.example' is known (case-folded); 'three' and 'four' are past the cap of 'a'.
        [event({ domain: 'four.example', backend: 'b1', origin_status: 200 }), event({ domain: 'two.example' }), '{bad', event({ domain: 'three.example' })],
      ];
      const answers: unknown[][] = [[], []];
      for (const lines of bodies) {
        for (const [k, { app }] of [here, there].entries()) {
          const res = await app.inject({ method: 'POST', url: '/ingest', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/x-ndjson' }, payload: lines.join('\n') });
          answers[k]?.push(res.json());
        }
      }
      expect(answers[1]).toEqual(answers[0]);
      const past = (d: string): string =>
        `domain "${d}" of service "a": the service already has 2 distinct domains, the most one service may have (RTM_MAX_DOMAINS_PER_SERVICE); counted under the domain "__other__"`;
      expect(answers[0]).toEqual([
        { accepted: 4, rejected: 0, errors: [], folded: 1, warnings: [{ line: 3, reason: past('three.example') }] },
        {
          accepted: 3,
          rejected: 1,
          errors: [{ line: 3, reason: expect.stringMatching(/^not valid JSON/) as unknown }],
          folded: 2,
          warnings: [
            { line: 1, reason: past('four.example') },
            { line: 4, reason: past('three.example') },
          ],
        },
      ]);
      const totals = [here, there].map(({ sink }) => summed(sink.records));
      for (const kind of ['edge', 'origin', 'dimension'] as const) {
        const [a, b] = totals.map((t) => new Map([...t[kind]].sort()));
        expect(b).toEqual(a);
      }
      // Every accepted line is in a total: three of 'a' under __other__, the folded line's origin fetch too.
      const requestsOf = (domain: string): number =>
        [...(totals[0]?.edge ?? [])].filter(([k]) => (JSON.parse(k) as string[])[1] === 'a' && (JSON.parse(k) as string[])[3] === domain).reduce((n, [, v]) => n + (v['requests'] ?? 0), 0);
      expect(requestsOf('__other__')).toBe(3);
      expect(requestsOf('one.example') + requestsOf('two.example') + requestsOf('__other__')).toBe(6);
      expect(totals[0]?.origin.size).toBe(1);
    } finally {
      await Promise.all([here.app.close(), there.app.close(), pool.close()]);
    }
  });

  /** Each body posted to an in-thread app and to a worker app with the same caps: both answers, both sinks' totals. */
  async function postBoth(caps: Caps, bodies: string[][]): Promise<{ answers: unknown[][]; totals: ReturnType<typeof summed>[] }> {
    const pool = createParsePool({ workers: 1, minBodyBytes: 0 });
    const here = await appWith(undefined, caps);
    const there = await appWith(pool, caps);
    try {
      const answers: unknown[][] = [[], []];
      for (const lines of bodies) {
        for (const [k, { app }] of [here, there].entries()) {
          const res = await app.inject({ method: 'POST', url: '/ingest', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/x-ndjson' }, payload: lines.join('\n') });
          expect(res.statusCode).toBe(200);
          answers[k]?.push(res.json());
        }
      }
      return { answers, totals: [here, there].map(({ sink }) => summed(sink.records)) };
    } finally {
      await Promise.all([here.app.close(), there.app.close(), pool.close()]);
    }
  }
  /** The sum of `field` over the rows of `kind` of service `service` whose key column `at` is `value` (any value when undefined). */
  const sumOf = (totals: ReturnType<typeof summed> | undefined, kind: 'edge' | 'origin', field: string, service: string, at: number, value?: string): number =>
    [...(totals?.[kind] ?? [])]
      .filter(([k]) => {
        const key = JSON.parse(k) as unknown[];
        return key[1] === service && (value === undefined || key[at] === value);
      })
      .reduce((n, [, v]) => n + (v[field] ?? 0), 0);
  const expectSameOnBothPaths = (answers: unknown[][], totals: ReturnType<typeof summed>[]): void => {
    expect(answers[1]).toEqual(answers[0]);
    for (const kind of ['edge', 'origin', 'dimension'] as const) {
      const [a, b] = totals.map((t) => new Map([...t[kind]].sort()));
      expect(b).toEqual(a);
    }
  };

  it('counts the lines of a datacenter past RTM_MAX_DATACENTERS_PER_SERVICE under __other__ exactly as in-thread parsing, the cap held across bodies', async () => {
    const bodies = [
      // 'a' has room for FRA and LHR: CDG (line 3, an origin fetch) is folded; 'b' has room of its own.
      [event({ datacenter: 'FRA' }), event({ datacenter: 'LHR' }), event({ datacenter: 'CDG', backend: 'b1', origin_status: 200 }), event({ datacenter: 'CDG', service: 'b' }), event({ datacenter: 'FRA' })],
      // GRU and CDG are past the cap of 'a'; LHR is known; the bad line is rejected, not folded.
      [event({ datacenter: 'GRU' }), '{bad', event({ datacenter: 'LHR' }), event({ datacenter: 'CDG' }), event({ datacenter: 'GRU', status: 503 })],
    ];
    const { answers, totals } = await postBoth({ datacentersPerService: 2 }, bodies);
    expectSameOnBothPaths(answers, totals);
    const past = (dc: string): string =>
      `datacenter "${dc}" of service "a": the service already has 2 distinct datacenters, the most one service may have (RTM_MAX_DATACENTERS_PER_SERVICE); counted under the datacenter "__other__"`;
    expect(answers[0]).toEqual([
      { accepted: 5, rejected: 0, errors: [], folded: 1, warnings: [{ line: 3, reason: past('CDG') }] },
      {
        accepted: 4,
        rejected: 1,
        errors: [{ line: 2, reason: expect.stringMatching(/^not valid JSON/) as unknown }],
        folded: 3,
        warnings: [
          { line: 1, reason: past('GRU') },
          { line: 4, reason: past('CDG') },
          { line: 5, reason: past('GRU') },
        ],
      },
    ]);
    // 8 events of 'a' sent and accepted: all in a total, __other__ holds exactly the 4 past the cap.
    const requests = (dc?: string): number => sumOf(totals[0], 'edge', 'requests', 'a', 2, dc);
    expect([requests(), requests('FRA'), requests('LHR'), requests('__other__'), requests('CDG'), requests('GRU')]).toEqual([8, 2, 2, 4, 0, 0]);
    expect(sumOf(totals[0], 'edge', 'requests', 'b', 2, 'CDG')).toBe(1);
    // The folded line's origin fetch moved with it, and the other keys of its lines are untouched.
    expect([...(totals[0]?.origin.keys() ?? [])].map((k) => (JSON.parse(k) as unknown[]).slice(1))).toEqual([['a', '__other__', 'b1']]);
    expect(sumOf(totals[0], 'edge', 'status_5xx', 'a', 2, '__other__')).toBe(1);
    expect(new Set([...(totals[0]?.edge.keys() ?? [])].map((k) => (JSON.parse(k) as unknown[])[3]))).toEqual(new Set(['www.example.com']));
  });

  it('counts the origin fetches of a backend past RTM_MAX_BACKENDS_PER_SERVICE under __other__ exactly as in-thread parsing; a line that fetched nothing takes no room', async () => {
    const fetch = (backend: string | undefined, fields: Record<string, unknown> = {}): string => event({ ...(backend === undefined ? {} : { backend }), origin_status: 200, resp_body_bytes: 10, ...fields });
    const bodies = [
      // Room for one backend: b1. b2 (line 2) is folded; line 3 names b2 but fetched nothing: not
      // an origin key, not folded; line 4 fetched from the default backend, one more: folded.
      [fetch('b1'), fetch('b2'), event({ backend: 'b2' }), fetch(undefined), fetch('b2', { service: 'b' })],
      [fetch('b1', { origin_status: 504 }), fetch('b3'), '{bad', fetch('b2')],
    ];
    const { answers, totals } = await postBoth({ backendsPerService: 1 }, bodies);
    expectSameOnBothPaths(answers, totals);
    const past = (b: string): string =>
      `backend "${b}" of service "a": the service already has 1 distinct backends, the most one service may have (RTM_MAX_BACKENDS_PER_SERVICE); counted under the backend "__other__"`;
    expect(answers[0]).toEqual([
      {
        accepted: 5,
        rejected: 0,
        errors: [],
        folded: 2,
        warnings: [
          { line: 2, reason: past('b2') },
          { line: 4, reason: past('default') },
        ],
      },
      {
        accepted: 3,
        rejected: 1,
        errors: [{ line: 3, reason: expect.stringMatching(/^not valid JSON/) as unknown }],
        folded: 2,
        warnings: [
          { line: 2, reason: past('b3') },
          { line: 4, reason: past('b2') },
        ],
      },
    ]);
    // 6 fetches of 'a' sent: all in an origin total, __other__ holds exactly the 4 past the cap.
    const responses = (backend?: string): number => sumOf(totals[0], 'origin', 'responses', 'a', 3, backend);
    expect([responses(), responses('b1'), responses('__other__'), responses('b2'), responses('b3'), responses('default')]).toEqual([6, 2, 4, 0, 0, 0]);
    expect(sumOf(totals[0], 'origin', 'status_5xx', 'a', 3, 'b1')).toBe(1);
    expect(sumOf(totals[0], 'origin', 'responses', 'b', 3, 'b2')).toBe(1);
    // Edge totals do not have backends: all 7 requests of 'a' are there, bytes exact.
    expect([sumOf(totals[0], 'edge', 'requests', 'a', 2), sumOf(totals[0], 'edge', 'resp_body_bytes', 'a', 2)]).toEqual([7, 60]);
  });

  it('folds a line past two caps once, with a warning for each key, on both paths', async () => {
    const bodies = [[event({ domain: 'one.example', datacenter: 'FRA' }), event({ domain: 'two.example', datacenter: 'LHR' }), event({ domain: 'one.example', datacenter: 'LHR' }), event({ domain: 'two.example', datacenter: 'FRA' })]];
    const { answers, totals } = await postBoth({ domainsPerService: 1, datacentersPerService: 1 }, bodies);
    expectSameOnBothPaths(answers, totals);
    expect(answers[0]).toEqual([
      {
        accepted: 4,
        rejected: 0,
        errors: [],
        folded: 3,
        warnings: [
          { line: 2, reason: expect.stringMatching(/^domain "two.example" .*RTM_MAX_DOMAINS_PER_SERVICE/) as unknown },
          { line: 2, reason: expect.stringMatching(/^datacenter "LHR" .*RTM_MAX_DATACENTERS_PER_SERVICE/) as unknown },
          { line: 3, reason: expect.stringMatching(/^datacenter "LHR" /) as unknown },
          { line: 4, reason: expect.stringMatching(/^domain "two.example" /) as unknown },
        ],
      },
    ]);
    const edge = new Map([...(totals[0]?.edge ?? [])].map(([k, v]) => [(JSON.parse(k) as string[]).slice(2, 4).join(' '), v['requests']]));
    expect(edge).toEqual(new Map([['FRA one.example', 1], ['__other__ __other__', 1], ['__other__ one.example', 1], ['FRA __other__', 1]]));
  });
});
