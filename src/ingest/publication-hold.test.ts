import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { SCOPES, type Principal, type TokenVerifier } from '../http/auth.ts';
import { installErrorHandling } from '../app.ts';
import { createWindow } from '../aggregate/window.ts';
import { loadConfig } from '../config/config.ts';
import { createFakeClock } from '../model/clock.ts';
import { createDictionaries } from '../model/dictionary.ts';
import { deltaFromRecordSet } from '../model/delta.ts';
import { edgeRecord } from '../store/record-fixtures.ts';
import { ingestRoutes } from './ingest-route.ts';
import { eventsAtOrBefore } from './late-events.ts';
import { createPublicationHold } from './publication-hold.ts';

const T0 = 1_732_096_800;

describe('publication hold', () => {
  it('stops publication at the oldest running request: its arrival second - AggregateDelay - 1', () => {
    const clock = createFakeClock(T0 * 1000 + 300);
    const hold = createPublicationHold({ clock, aggregateDelaySeconds: 1, maxHoldSeconds: 10 });
    expect(hold.bound()).toBe(Number.POSITIVE_INFINITY);
    const endFirst = hold.begin();
    clock.advance(2000);
    const endSecond = hold.begin();
    expect(hold.bound()).toBe(T0 - 2);
    endFirst();
    expect(hold.bound()).toBe(T0 + 2 - 2);
    endSecond();
    endSecond(); // idempotent
    expect(hold.bound()).toBe(Number.POSITIVE_INFINITY);
    expect(hold.stats()).toEqual({ holding: 0, expired: 0 });
  });

  it('lets go of a request after maxHoldSeconds, so one stuck client cannot stall publication', () => {
    const clock = createFakeClock(T0 * 1000);
    const hold = createPublicationHold({ clock, aggregateDelaySeconds: 1, maxHoldSeconds: 10 });
    const endStuck = hold.begin();
    clock.advance(5000);
    hold.begin();
    clock.advance(4999);
    expect(hold.bound()).toBe(T0 - 2);
    clock.advance(1);
    expect(hold.bound()).toBe(T0 + 5 - 2);
    expect(hold.stats()).toEqual({ holding: 1, expired: 1 });
    endStuck();
    expect(hold.stats().holding).toBe(1);
  });

  it('holds nothing when maxHoldSeconds is 0', () => {
    const hold = createPublicationHold({ clock: createFakeClock(T0 * 1000), aggregateDelaySeconds: 1, maxHoldSeconds: 0 });
    hold.begin();
    expect(hold.bound()).toBe(Number.POSITIVE_INFINITY);
  });

  it('is what the window publishes up to while requests run', () => {
    const clock = createFakeClock(T0 * 1000);
    const hold = createPublicationHold({ clock, aggregateDelaySeconds: 1, maxHoldSeconds: 10 });
    const window = createWindow({ clock, aggregateDelaySeconds: 1, windowSeconds: 600, publishHold: hold.bound });
    const end = hold.begin();
    clock.advance(3000);
    expect(window.latestPublished()).toBe(T0 - 2);
    end();
    expect(window.latestPublished()).toBe(T0 + 3 - 2);
  });
});

describe('late events', () => {
  it('counts the requests of the rows for published seconds only', () => {
    const delta = deltaFromRecordSet({
      edge: [edgeRecord(T0 - 1, 'a', { requests: 3 }), edgeRecord(T0, 'a', { requests: 4 }), edgeRecord(T0 + 1, 'b', { requests: 5 })],
      origin: [],
      dimension: [],
    });
    expect(eventsAtOrBefore(delta, T0)).toBe(7);
    expect(eventsAtOrBefore(delta, T0 - 2)).toBe(0);
  });
});

describe('POST /ingest and the publication hold', () => {
  const principal: Principal = { tokenId: 't', name: 't', services: 'all', scopes: new Set(SCOPES) };
  const tokens: TokenVerifier = { verify: async (secret) => (secret === 'good' ? principal : undefined) };

  it('holds from authentication to the answer, whatever the answer, and never for a refused token', async () => {
    let running = 0;
    let begun = 0;
    const publicationHold = {
      begin: () => {
        running++;
        begun++;
        let ended = false;
        return () => {
          if (!ended) running--;
          ended = true;
        };
      },
    };
    let sawHold = -1;
    const sink = {
      dictionaries: createDictionaries(),
      ingest: async () => {
        sawHold = running;
      },
      ingestDelta: async () => undefined,
    };
    const app = Fastify();
    installErrorHandling(app);
    await app.register(ingestRoutes, { sink, tokens, limits: { ...loadConfig({}).limits, maxBodyBytes: 1000 }, publicationHold });
    const post = (token: string, payload: string, encoding?: string) =>
      app.inject({
        method: 'POST',
        url: '/ingest',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson', ...(encoding ? { 'content-encoding': encoding } : {}) },
        payload,
      });
    const line = JSON.stringify({ timestamp: T0, service: 'a', datacenter: 'FRA', domain: 'a.example', status: 200 });
    expect((await post('good', line)).statusCode).toBe(200);
    expect(sawHold).toBe(1);
    expect((await post('good', 'x'.repeat(2000))).statusCode).toBe(413);
    expect((await post('good', 'not gzip', 'gzip')).statusCode).toBe(400);
    expect(begun).toBe(3);
    expect((await post('bad', line)).statusCode).toBe(401);
    expect(begun).toBe(3);
    expect(running).toBe(0);
    await app.close();
  });
});
