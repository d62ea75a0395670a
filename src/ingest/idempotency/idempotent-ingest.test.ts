/**
 * `POST /ingest` with an Idempotency-Key, through app.inject with a fake sink and a fake clock:
 * a retry is answered again and not counted again, another body under the key is a 422, keys
 * are per token, a key being committed is waited for, and a key is forgotten after its window.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { SCOPES, type Principal, type TokenVerifier } from '../../http/auth.ts';
import { installErrorHandling } from '../../app.ts';
import { loadConfig } from '../../config/config.ts';
import { createFakeClock, type FakeClock } from '../../model/clock.ts';
import { createDictionaries } from '../../model/dictionary.ts';
import type { EventBatch } from '../../model/event.ts';
import { ingestRoutes } from '../ingest-route.ts';
import type { IngestSink } from '../sink.ts';
import type { IdempotencyRecord } from '../wal-payload.ts';
import { createIdempotencyKeys, type IdempotencyKeys } from './idempotency-keys.ts';

const A = 'token-a-secret';
const B = 'token-b-secret';
const principals: Record<string, Principal> = {
  [A]: { tokenId: 't-a', name: 'a', services: 'all', scopes: new Set(SCOPES) },
  [B]: { tokenId: 't-b', name: 'b', services: 'all', scopes: new Set(SCOPES) },
};
const tokens: TokenVerifier = { verify: async (secret) => principals[secret] };
const T0 = 1_732_096_800;

interface CountingSink extends IngestSink {
  /** Events handed over, and the keys that came with them. */
  events: number;
  keys: (IdempotencyRecord | undefined)[];
  /** While set, ingest waits for it (a slow WAL write). */
  gate: Promise<void> | undefined;
  fail: boolean;
}

function countingSink(): CountingSink {
  const sink: CountingSink = {
    dictionaries: createDictionaries(),
    events: 0,
    keys: [],
    gate: undefined,
    fail: false,
    async ingest(batch: EventBatch, key?: IdempotencyRecord) {
      if (sink.gate) await sink.gate;
      if (sink.fail) throw new Error('disk full');
      sink.events += batch.length;
      sink.keys.push(key);
    },
    ingestDelta: () => Promise.reject(new Error('no parse pool here')),
  };
  return sink;
}

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function setup(windowSeconds = 3600): Promise<{ app: FastifyInstance; sink: CountingSink; clock: FakeClock; keys: IdempotencyKeys }> {
  const sink = countingSink();
  const clock = createFakeClock(T0 * 1000);
  const keys = createIdempotencyKeys({ clock, windowSeconds, maxKeys: 1000 });
  const instance = Fastify();
  installErrorHandling(instance);
  await instance.register(ingestRoutes, { sink, tokens, limits: loadConfig({}).limits, clock, idempotency: keys });
  app = instance;
  return { app: instance, sink, clock, keys };
}

const body = (n: number, service = 'shop'): string =>
  Array.from({ length: n }, (_, i) => JSON.stringify({ timestamp: T0 - 10, service, datacenter: 'FRA', domain: `d${i}.example.com`, status: 200 })).join('\n');

const post = (instance: FastifyInstance, payload: string, key: string | undefined, token = A) =>
  instance.inject({
    method: 'POST',
    url: '/ingest',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson', ...(key === undefined ? {} : { 'idempotency-key': key }) },
    payload,
  });

describe('POST /ingest with Idempotency-Key', () => {
  it('answers a retry with the same key and body again without counting it again', async () => {
    const { app, sink } = await setup();
    const payload = `${body(3)}\nnot json`;
    const first = await post(app, payload, 'batch-1');
    expect(first.statusCode).toBe(200);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const retry = await post(app, payload, 'batch-1');
    expect(retry.statusCode).toBe(200);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    // The same answer, rejected lines included.
    expect(retry.json()).toEqual(first.json());
    expect(first.json()).toMatchObject({ accepted: 3, rejected: 1, errors: [{ line: 4 }] });
    expect(sink.events).toBe(3);
    // The key went to the sink with the events, so it is durable with them.
    expect(sink.keys).toHaveLength(1);
    expect(sink.keys[0]).toMatchObject({ accepted: 3, rejected: 1, at: T0 * 1000 });
  });

  it('accepts the quoted form of draft-ietf-httpapi-idempotency-key-header as the same key', async () => {
    const { app, sink } = await setup();
    await post(app, body(2), 'k-7');
    const retry = await post(app, body(2), '"k-7"');
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(sink.events).toBe(2);
  });

  it('refuses the same key with a different body with 422 and counts nothing of it', async () => {
    const { app, sink } = await setup();
    await post(app, body(2), 'batch-1');
    const other = await post(app, body(5), 'batch-1');
    expect(other.statusCode).toBe(422);
    expect(other.json()).toEqual({
      error: {
        code: 'RTM_ERR_INGEST_IDEMPOTENCY_MISMATCH',
        message: 'Idempotency-Key reused with a different body',
        detail: expect.stringMatching(/different body/) as unknown,
      },
    });
    expect(sink.events).toBe(2);
  });

  it('keeps keys per token: the same key from two tokens counts both', async () => {
    const { app, sink } = await setup();
    expect((await post(app, body(2), 'shared-key', A)).json()).toMatchObject({ accepted: 2 });
    const b = await post(app, body(2), 'shared-key', B);
    expect(b.headers['idempotent-replayed']).toBeUndefined();
    expect(sink.events).toBe(4);
  });

  it('counts requests without a key every time', async () => {
    const { app, sink } = await setup();
    await post(app, body(2), undefined);
    await post(app, body(2), undefined);
    expect(sink.events).toBe(4);
  });

  it('forgets a key once its window has passed', async () => {
    const { app, sink, clock } = await setup(60);
    await post(app, body(2), 'k');
    clock.advance(59_999);
    expect((await post(app, body(2), 'k')).headers['idempotent-replayed']).toBe('true');
    clock.advance(1);
    const late = await post(app, body(2), 'k');
    expect(late.headers['idempotent-replayed']).toBeUndefined();
    expect(sink.events).toBe(4);
  });

  it('makes a retry that arrives while the first is being committed wait for it and answer the same', async () => {
    const { app, sink } = await setup();
    let open!: () => void;
    sink.gate = new Promise((resolve) => (open = resolve));
    const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));
    // inject() starts a request when it is awaited: Promise.resolve starts it now.
    const first = Promise.resolve(post(app, body(4), 'k'));
    await pause();
    const second = Promise.resolve(post(app, body(4), 'k'));
    expect((await post(app, body(1), 'k')).statusCode).toBe(422);
    await pause();
    expect(sink.events).toBe(0);
    open();
    const [a, b] = await Promise.all([first, second]);
    expect(a.json()).toEqual({ accepted: 4, rejected: 0, errors: [] });
    expect(b.json()).toEqual(a.json());
    expect(b.headers['idempotent-replayed']).toBe('true');
    expect(sink.events).toBe(4);
  });

  it('lets a retry take over when the first attempt failed', async () => {
    const { app, sink } = await setup();
    sink.fail = true;
    expect((await post(app, body(3), 'k')).statusCode).toBe(503);
    sink.fail = false;
    const retry = await post(app, body(3), 'k');
    expect(retry.statusCode).toBe(200);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect(sink.events).toBe(3);
  });

  it('answers 400 to an empty, too long or non-ASCII key, before reading the body', async () => {
    const { app, sink } = await setup();
    for (const key of ['', '""', 'x'.repeat(256), 'clé']) {
      const res = await post(app, body(1), key);
      expect(res.statusCode, JSON.stringify(key)).toBe(400);
      expect(res.json<{ error: { code: string } }>().error.code).toBe('RTM_ERR_INGEST_BAD_IDEMPOTENCY_KEY');
    }
    expect((await post(app, body(1), 'x'.repeat(255))).statusCode).toBe(200);
    expect(sink.events).toBe(1);
  });
});
