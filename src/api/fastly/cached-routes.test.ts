/**
 * The routes with the fragment cache over the real window and reader: every answer must be the
 * bytes the uncached routes give at the same moment, through late events, time going on,
 * eviction to the store, and all three APIs; and a warm `ts/h` must read only what changed.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RealtimeSource } from '../../aggregate/realtime-source.ts';
import { createWindow } from '../../aggregate/window.ts';
import { installErrorHandling } from '../../app.ts';
import { createFakeClock } from '../../model/clock.ts';
import type { EdgeRecord, OriginRecord } from '../../model/record.ts';
import type { RecordQuery } from '../../store/store.ts';
import { createFragmentCache, type FragmentCache } from './fragment-cache.ts';
import { createRealtimeReader } from './realtime-reader.ts';
import { acceptsGzip, answerBody, fastlyRoutes } from './routes.ts';
import { createFakeTokens, edgeRecord, originRecord } from './test-helpers.ts';

const T0 = 1_767_225_600;
const DELAY = 1;
const headers = { 'fastly-key': 'admin-key' };

async function appOver(source: RealtimeSource, fragmentCache: FragmentCache | false): Promise<FastifyInstance> {
  const app = Fastify();
  installErrorHandling(app);
  await app.register(fastlyRoutes, { source, tokens: createFakeTokens(), aggregateDelaySeconds: DELAY, fragmentCache });
  return app;
}

/** A window of `windowSeconds`, a store that keeps every record (as the pipeline would), two apps over them. */
async function setup(windowSeconds = 30) {
  const clock = createFakeClock(T0 * 1000 + 500);
  const window = createWindow({ clock, aggregateDelaySeconds: DELAY, windowSeconds });
  const stored = { edge: [] as EdgeRecord[], origin: [] as OriginRecord[] };
  const inRange = <R extends { second: number; service: string }>(rows: R[], q: RecordQuery) =>
    rows.filter((r) => r.second >= q.from && r.second < q.to && (q.filter.services ?? []).includes(r.service));
  const store = {
    readEdge: async (q: RecordQuery) => inRange(stored.edge, q),
    readOrigin: async (q: RecordQuery) => inRange(stored.origin, q),
  };
  const reader = createRealtimeReader(window, store);
  const windowReads: [number, number][] = [];
  const counted: RealtimeSource = {
    ...reader,
    channel: (service, from, to) => (windowReads.push([from, to]), reader.channel(service, from, to)),
    // The channel's cached path reads memory through visitChannel (render-bytes.ts).
    visitChannel: (service, from, to, visit) => (windowReads.push([from, to]), reader.visitChannel?.(service, from, to, visit)),
  };
  const cache = createFragmentCache({ maxBytes: 2 ** 24 });
  const cached = await appOver(counted, cache);
  const plain = await appOver(reader, false);
  const apply = (edge: EdgeRecord[], origin: OriginRecord[] = []) => {
    stored.edge.push(...edge);
    stored.origin.push(...origin);
    window.applyRecords({ edge, origin, dimension: [] });
  };
  /** GETs `url` from both apps (the cached one gzipped if asked); they must answer the same text. */
  const both = async (url: string, gzip = false): Promise<string> => {
    const encoding = gzip ? { 'accept-encoding': 'br;q=1, gzip;q=0.8' } : {};
    const [a, b] = await Promise.all([cached.inject({ url, headers: { ...headers, ...encoding } }), plain.inject({ url, headers })]);
    expect(a.statusCode).toBe(200);
    expect(a.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(a.headers['content-encoding']).toBe(gzip ? 'gzip' : undefined);
    expect(a.headers.vary).toBe('accept-encoding');
    const text = gzip ? zlib.gunzipSync(a.rawPayload).toString() : a.body;
    expect(text).toBe(b.body);
    return text;
  };
  return { clock, window, cache, apply, both, windowReads, close: () => Promise.all([cached.close(), plain.close()]) };
}

describe('Fastly routes with the fragment cache', () => {
  it('serves a late event to a second already served', async () => {
    const { clock, apply, both, close } = await setup();
    apply([edgeRecord(T0 - 5, { requests: 2 }), edgeRecord(T0 - 4, { requests: 3 })]);
    const first = JSON.parse(await both('/v1/channel/svc1/ts/h')) as { Data: { recorded: number; aggregated: { requests: number } }[] };
    expect(first.Data.map((d) => [d.recorded, d.aggregated.requests])).toEqual([[T0 - 5, 2], [T0 - 4, 3]]);
    apply([edgeRecord(T0 - 5, { requests: 10 }, { datacenter: 'LHR' })]);
    clock.advance(1000);
    const second = JSON.parse(await both('/v1/channel/svc1/ts/h')) as typeof first;
    expect(second.Data.map((d) => [d.recorded, d.aggregated.requests])).toEqual([[T0 - 5, 12], [T0 - 4, 3]]);
    await close();
  });

  it('sends gzip from the cached pieces, alternating with identity answers', async () => {
    const { clock, apply, both, cache, close } = await setup(200);
    for (let s = T0 - 30; s <= T0; s++) apply([edgeRecord(s, { requests: s - T0 + 40 }, { datacenter: 'FRA' }), edgeRecord(s, { requests: 1 }, { datacenter: 'LHR' })]);
    await both('/v1/channel/svc1/ts/h');
    const identityBytes = cache.stats().bytes;
    const text = await both('/v1/channel/svc1/ts/h', true);
    expect(cache.stats().bytes).toBeGreaterThan(identityBytes); // the deflated forms are kept too
    expect((JSON.parse(text) as { Data: unknown[] }).Data).toHaveLength(29);
    clock.advance(1000);
    apply([edgeRecord(T0 - 20, { requests: 5 })]);
    await both('/v1/channel/svc1/ts/h', true);
    await both('/v1/channel/svc1/ts/h');
    await both('/v1/domains/svc1/ts/h', true);
    await close();
  });

  it('a warm ts/h reads only the seconds that changed', async () => {
    const { clock, apply, both, windowReads, cache, close } = await setup(200);
    for (let s = T0 - 20; s <= T0; s++) apply([edgeRecord(s, { requests: 1 })]);
    await both('/v1/channel/svc1/ts/h');
    expect(cache.stats().fragments).toBe(19); // T0-20 .. T0-2 are published
    windowReads.length = 0;
    await both('/v1/channel/svc1/ts/h');
    expect(windowReads).toEqual([]);
    clock.advance(1000);
    apply([edgeRecord(T0 - 10, { requests: 1 })]); // late
    await both('/v1/channel/svc1/ts/h');
    expect(windowReads).toEqual([
      [T0 - 10, T0 - 9],
      [T0 - 1, T0],
    ]);
    await close();
  });

  it('answers like the uncached routes through random traffic, late events and eviction', async () => {
    const services = ['svc1', 'svc1', 'svc1', 'svc2'];
    const step = fc.oneof(
      fc.record({
        kind: fc.constant('apply' as const),
        // Mostly the last few seconds (late events to seconds already served), sometimes older.
        back: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 4 }) }, { weight: 1, arbitrary: fc.nat(40) }),
        service: fc.constantFrom(...services),
        dc: fc.constantFrom('FRA', 'LHR', 'SYD'),
        name: fc.constantFrom('a.com', 'b.com'),
        n: fc.integer({ min: 1, max: 9 }),
      }),
      fc.record({ kind: fc.constant('tick' as const), seconds: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 12 })) }),
      fc.record({
        kind: fc.constant('get' as const),
        api: fc.constantFrom('channel', 'domains', 'origins'),
        service: fc.constantFrom(...services),
        ts: fc.oneof(fc.constant('h'), fc.constant('0'), fc.nat(45).map((back) => `-${back}`)),
        limit: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
        gzip: fc.boolean(),
      }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 40 }), async (steps) => {
        const { clock, window, apply, both, close } = await setup(20);
        try {
          for (const s of steps) {
            const now = Math.floor(clock.now() / 1000);
            if (s.kind === 'apply') {
              const keys = { service: s.service, datacenter: s.dc };
              apply([edgeRecord(now - s.back, { requests: s.n, hits: 1 }, { ...keys, domain: s.name })], [originRecord(now - s.back, { responses: s.n }, { ...keys, backend: s.name })]);
            } else if (s.kind === 'tick') {
              clock.advance(s.seconds * 1000);
            } else {
              const ts = s.ts.startsWith('-') ? String(window.latestPublished() + Number(s.ts)) : s.ts;
              await both(`/v1/${s.api}/${s.service}/ts/${ts}${s.limit === undefined ? '' : `/limit/${s.limit}`}`, s.gzip);
            }
          }
        } finally {
          await close();
        }
      }),
      { numRuns: 100 },
    );
  });

  it('takes gzip from Accept-Encoding only when offered with q > 0', () => {
    const cases: [string | string[] | undefined, boolean][] = [
      [undefined, false],
      ['', false],
      ['gzip', true],
      ['GZip;q=0.5', true],
      ['deflate, gzip', true],
      ['x-gzip', true],
      ['gzip;q=0', false],
      ['gzip; q=0.000', false],
      ['br', false],
      ['*', false],
      [['br', 'gzip'], true],
    ];
    for (const [header, expected] of cases) expect([header, acceptsGzip(header)]).toEqual([header, expected]);
  });

  it('an answer without entries is the same text gzipped or not', () => {
    const plain = answerBody(5, 1, []).toString();
    expect(JSON.parse(plain)).toEqual({ Timestamp: 5, AggregateDelay: 1, Data: [], Error: 'No data available, please retry' });
    expect(zlib.gunzipSync(answerBody(5, 1, [], true)).toString()).toBe(plain);
  });
});
