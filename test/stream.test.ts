/**
 * GET /rtm/v1/stream over a real socket (SSE cannot be injected): one event per published second
 * in order, resume from Last-Event-ID from the window and from the store without gap or
 * duplicate, the error event beyond the resume limit, heartbeats, the per-token cap, isolation;
 * and the Fastly `ts/{t}` long-poll.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startHarness, type Harness } from './support/app-harness.ts';
import { openSse, type SseClient } from './support/sse-client.ts';

let h: Harness;
let base: string;
const auth = (token = ADMIN_TOKEN): Record<string, string> => ({ authorization: `Bearer ${token}` });
const open: SseClient[] = [];
const sse = async (path: string, headers: Record<string, string> = auth()): Promise<SseClient> => {
  const c = await openSse(`${base}${path}`, headers);
  open.push(c);
  return c;
};

const event = (service: string, second: number, dc = 'FRA'): string =>
  JSON.stringify({ timestamp: second + 0.5, service, datacenter: dc, domain: `www.${service}.example`, status: 200, cache: 'hit', resp_body_bytes: 1000 });

const now = (): number => Math.floor(h.clock.now() / 1000);
const published = (): number => h.services.window.latestPublished();
/** Moves the clock one second on (publishing one more second). */
const tick = async (): Promise<void> => {
  h.clock.advance(1000);
  await h.services.ingest.flush();
};
const ids = (c: SseClient): number[] => c.events.filter((e) => e.id !== undefined).map((e) => Number(e.id));
const dataOf = (c: SseClient, id: number) => JSON.parse(c.events.find((e) => Number(e.id) === id)?.data ?? 'null');

beforeAll(async () => {
  h = await startHarness({ config: { windowSeconds: 30, streamHeartbeatSeconds: 0.3, fastlyLongPollSeconds: 20 } });
  await h.app.listen({ port: 0, host: '127.0.0.1' });
  const address = h.app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  base = `http://127.0.0.1:${address.port}`;
}, 60_000);

afterAll(async () => {
  for (const c of open) c.close();
  await h?.close();
});

describe('GET /rtm/v1/stream', () => {
  it('sends every published second once, in order, with the services that had traffic', async () => {
    const c = await sse('/rtm/v1/stream?service=alpha&service=beta&fields=requests,bandwidth');
    expect(c.status).toBe(200);
    expect(c.headers['content-type']).toMatch(/^text\/event-stream/);
    const first = published();
    await c.until((x) => ids(x).includes(first), 'the newest second');
    const s = now();
    await h.ingest(ADMIN_TOKEN, [event('alpha', s), event('alpha', s, 'LHR'), event('beta', s + 1), event('gamma', s + 1)].join('\n'));
    for (let i = 0; i < 5; i++) await tick();
    await c.until((x) => ids(x).includes(s + 1), `second ${s + 1}`);
    const got = ids(c);
    expect(got).toEqual(Array.from({ length: got.length }, (_, i) => first + i));
    expect(dataOf(c, s)).toEqual({
      recorded: s,
      services: { alpha: { aggregated: { requests: 2, bandwidth: 2000 }, datacenter: { FRA: { requests: 1, bandwidth: 1000 }, LHR: { requests: 1, bandwidth: 1000 } } } },
    });
    // gamma was not asked for; a second without traffic is an event with no services.
    expect(Object.keys(dataOf(c, s + 1).services)).toEqual(['beta']);
    expect(dataOf(c, s - 1)).toEqual({ recorded: s - 1, services: {} });
  });

  it('resumes after Last-Event-ID with no gap and no duplicate, from the window and from the store', async () => {
    const s = now();
    await h.ingest(ADMIN_TOKEN, Array.from({ length: 6 }, (_, i) => event('alpha', s + i)).join('\n'));
    for (let i = 0; i < 8; i++) await tick();
    const recent = await sse('/rtm/v1/stream?service=alpha&fields=requests', { ...auth(), 'last-event-id': String(s + 1) });
    await recent.until((x) => ids(x).includes(published()), 'catch-up');
    expect(ids(recent)[0]).toBe(s + 2);
    expect(ids(recent)).toEqual(Array.from({ length: published() - s - 1 }, (_, i) => s + 2 + i));
    expect(dataOf(recent, s + 5).services.alpha.aggregated).toEqual({ requests: 1 });
    recent.close();

    // 40 s later the window (30 s) no longer holds these seconds: they come from the store.
    for (let i = 0; i < 40; i++) h.clock.advance(1000);
    await h.services.ingest.flush();
    expect(h.services.window.oldestSecond()).toBeGreaterThan(s + 5);
    const old = await sse(`/rtm/v1/stream?service=alpha&fields=requests&lastEventId=${s + 2}`);
    await old.until((x) => ids(x).includes(published()), 'catch-up from the store');
    expect(ids(old)).toEqual(Array.from({ length: published() - s - 2 }, (_, i) => s + 3 + i));
    expect([s + 3, s + 4, s + 5].map((t) => dataOf(old, t).services.alpha.aggregated.requests)).toEqual([1, 1, 1]);
  });

  it('answers a resume beyond the 1 s range limit with an error event and ends', async () => {
    const c = await sse('/rtm/v1/stream?service=alpha', { ...auth(), 'last-event-id': String(published() - 4000) });
    await c.ended;
    expect(c.events).toHaveLength(1);
    expect(c.events[0]?.event).toBe('error');
    expect(JSON.parse(c.events[0]?.data ?? '{}').error).toMatchObject({ code: 'RTM_ERR_STREAM_RESUME_TOO_OLD' });
  });

  it('keeps idle streams alive with heartbeat comments', async () => {
    const c = await sse('/rtm/v1/stream?service=idle');
    await c.until((x) => x.comments.includes('heartbeat'), 'a heartbeat');
  });

  it('caps the streams of one token and hides services the token may not read', async () => {
    const reader = await h.token('stream-reader', ['alpha'], ['read']);
    const mine = await Promise.all(Array.from({ length: 8 }, () => sse('/rtm/v1/stream?service=alpha', auth(reader.secret))));
    expect(mine.map((c) => c.status)).toEqual(Array(8).fill(200));
    const ninth = await sse('/rtm/v1/stream?service=alpha', auth(reader.secret));
    await ninth.ended;
    expect(ninth.status).toBe(429);
    expect(JSON.parse(ninth.body).error.code).toBe('RTM_ERR_REQUEST_TOO_MANY_STREAMS');
    mine[0]?.close();
    await new Promise((r) => setTimeout(r, 100));
    const again = await sse('/rtm/v1/stream?service=alpha', auth(reader.secret));
    expect(again.status).toBe(200);
    for (const c of [...mine, again]) c.close();

    const other = await h.token('beta-reader', ['beta'], ['read']);
    const beta = await h.inject({ url: '/rtm/v1/stream?service=alpha', headers: auth(other.secret) });
    const ghost = await h.inject({ url: '/rtm/v1/stream?service=ghost', headers: auth(other.secret) });
    expect(beta.statusCode).toBe(404);
    expect(beta.body.replace('alpha', 'X')).toBe(ghost.body.replace('ghost', 'X'));
  });
});

describe('Fastly ts/{t} long-poll', () => {
  it('waits for the next published second instead of answering no data', async () => {
    const t = published() + 1;
    let answered = false;
    const pending = h.inject({ url: `/v1/channel/alpha/ts/${t}`, headers: { 'fastly-key': ADMIN_TOKEN } }).then((r) => {
      answered = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(answered).toBe(false);
    await h.ingest(ADMIN_TOKEN, event('alpha', t));
    for (let i = 0; i < 3; i++) await tick();
    const res = await pending;
    const body = res.json() as { Timestamp: number; Data: { recorded: number; aggregated: { requests: number } }[] };
    expect(body.Data.find((d) => d.recorded === t)?.aggregated.requests).toBe(1);
    expect(body.Timestamp).toBeGreaterThan(t);
  });
});

