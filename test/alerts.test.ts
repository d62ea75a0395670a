/**
 * Alert rules end to end: a rule kept in DuckDB, evaluated on published seconds, firing and
 * resolved notifications POSTed to a local webhook receiver (which fails once, so the retry is
 * exercised), the outcome in the self-metrics, and a token seeing only its own rules.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startHarness, type Harness } from './support/app-harness.ts';

let h: Harness;
let receiver: http.Server;
let hookUrl: string;
const received: { status: string; value: number | null; second: number; alert: { name: string } }[] = [];
let failNext = 1;

const auth = (token = ADMIN_TOKEN) => ({ authorization: `Bearer ${token}` });
const event = (service: string, second: number): string => JSON.stringify({ timestamp: second + 0.5, service, datacenter: 'FRA', domain: 'www.a.example', status: 503, cache: 'miss' });
const now = (): number => Math.floor(h.clock.now() / 1000);

async function until(pred: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400 && !pred(); i++) await new Promise((r) => setTimeout(r, 25));
  if (!pred()) throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (failNext > 0) {
        failNext--;
        res.writeHead(503).end();
        return;
      }
      received.push(JSON.parse(body));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const addr = receiver.address();
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  hookUrl = `http://127.0.0.1:${addr.port}/hook`;
  // The receiver is on 127.0.0.1: private targets allowed, as an operator would for a local one.
  h = await startHarness({ config: { alertWebhook: { attempts: 4, baseDelayMs: 20, timeoutMs: 2000, allowPrivate: true } } });
}, 60_000);

afterAll(async () => {
  await h?.close();
  await new Promise((r) => receiver.close(r));
});

describe('alerts', () => {
  it('fires when the metric crosses the threshold and resolves when it falls back, with retries', async () => {
    const rule = { name: 'alpha 5xx', metric: 'status_5xx', filters: [{ field: 'service', op: 'eq', value: 'alpha' }], windowSeconds: 10, comparison: '>', threshold: 5, webhook: hookUrl };
    const created = await h.inject({ method: 'POST', url: '/rtm/v1/alerts', headers: auth(), payload: rule });
    expect(created.statusCode).toBe(201);
    const id = created.json().id as string;
    expect(id).toMatch(/^al_/);
    expect(created.json()).toMatchObject({ ...rule, state: 'ok' });
    // Kept in the store.
    expect((await h.services.alerts.list()).map((r) => r.id)).toEqual([id]);

    const s = now();
    await h.ingest(ADMIN_TOKEN, Array.from({ length: 8 }, () => event('alpha', s)).join('\n'));
    await h.ingest(ADMIN_TOKEN, Array.from({ length: 20 }, () => event('beta', s)).join('\n'));
    await h.publishThrough(s);
    await until(() => received.length >= 1, 'the firing notification');
    expect(received[0]).toMatchObject({ status: 'firing', value: 8, alert: { name: 'alpha 5xx' } });
    const listed = (await h.inject({ url: '/rtm/v1/alerts', headers: auth() })).json().alerts;
    expect(listed).toEqual([expect.objectContaining({ id, state: 'firing', value: 8 })]);

    // Ten seconds on, the window no longer holds the burst.
    h.clock.advance(12_000);
    await h.services.ingest.flush();
    await until(() => received.length >= 2, 'the resolved notification');
    expect(received[1]).toMatchObject({ status: 'resolved', value: 0 });
    expect(received).toHaveLength(2);

    // The receiver has the body before the notifier has the response: wait for the count.
    let metrics = '';
    for (let i = 0; i < 400; i++) {
      metrics = (await h.inject({ url: '/rtm/v1/metrics', headers: auth() })).body;
      if (/rtm_alert_notifications_total\{outcome="delivered"\} 2/.test(metrics)) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(metrics).toMatch(/rtm_alert_notifications_total\{outcome="delivered"\} 2/);
    expect(metrics).toMatch(/rtm_alert_webhook_retries_total 1/);
    expect(metrics).toMatch(/rtm_alerts_firing 0/);
  });

  it('fires on a percentile: the p99 edge time of a service over its window', async () => {
    const rule = { name: 'gamma p99', metric: 'edge_time_p99', filters: [{ field: 'service', op: 'eq', value: 'gamma' }], windowSeconds: 10, comparison: '>', threshold: 500, webhook: hookUrl };
    const created = await h.inject({ method: 'POST', url: '/rtm/v1/alerts', headers: auth(), payload: rule });
    expect(created.statusCode, created.body).toBe(201);
    const before = received.length;
    const s = now();
    // 99 fast requests and one of 900 ms: nearest-rank p99 is the 99th, 10 ms (no alert); then 10 slow ones make it 900.
    const timed = (ms: number): string => JSON.stringify({ timestamp: s + 0.5, service: 'gamma', datacenter: 'FRA', domain: 'g.example', status: 200, time_ms: ms });
    await h.ingest(ADMIN_TOKEN, [...Array.from({ length: 99 }, () => timed(10)), timed(900)].join('\n'));
    await h.publishThrough(s);
    await new Promise((r) => setTimeout(r, 200));
    expect(received.length, 'no alert at a p99 of 10 ms').toBe(before);
    h.clock.advance(1000);
    const s2 = now();
    await h.ingest(ADMIN_TOKEN, Array.from({ length: 10 }, () => JSON.stringify({ timestamp: s2 + 0.5, service: 'gamma', datacenter: 'FRA', domain: 'g.example', status: 200, time_ms: 900 })).join('\n'));
    await h.publishThrough(s2);
    await until(() => received.some((r) => r.alert.name === 'gamma p99' && r.status === 'firing'), 'the p99 firing notification');
    const fired = received.find((r) => r.alert.name === 'gamma p99') as { value: number | null };
    // 900 ms is a bound of its bucket (integers below 1,024 are exact).
    expect(fired.value).toBe(900);
    await h.inject({ method: 'DELETE', url: `/rtm/v1/alerts/${created.json().id as string}`, headers: auth() });
  });

  it('checks rules like queries, and a token sees and deletes only its own', async () => {
    const bad = await h.inject({ method: 'POST', url: '/rtm/v1/alerts', headers: auth(), payload: { name: 'x', metric: 'nonsense', windowSeconds: 60, comparison: '>', threshold: 1, webhook: hookUrl } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.detail).toMatch(/metrics\/0: unknown metric "nonsense"/);
    const badHook = await h.inject({ method: 'POST', url: '/rtm/v1/alerts', headers: auth(), payload: { name: 'x', metric: 'requests', windowSeconds: 60, comparison: '>', threshold: 1, webhook: 'file:///etc/passwd' } });
    expect(badHook.json().error.detail).toMatch(/webhook/);

    const alpha = await h.token('alpha-ops', ['alpha'], ['read']);
    const other = await h.token('beta-ops', ['beta'], ['read']);
    const mine = await h.inject({ method: 'POST', url: '/rtm/v1/alerts', headers: auth(alpha.secret), payload: { name: 'mine', metric: 'edge_hit_ratio', windowSeconds: 60, comparison: '<', threshold: 0.5, webhook: hookUrl } });
    expect(mine.statusCode).toBe(201);
    const onBeta = await h.inject({ method: 'POST', url: '/rtm/v1/alerts', headers: auth(alpha.secret), payload: { name: 'spy', metric: 'requests', filters: [{ field: 'service', op: 'eq', value: 'beta' }], windowSeconds: 60, comparison: '>', threshold: 1, webhook: hookUrl } });
    expect(onBeta.statusCode).toBe(404);
    expect((await h.inject({ url: '/rtm/v1/alerts', headers: auth(alpha.secret) })).json().alerts.map((a: { name: string }) => a.name)).toEqual(['mine']);
    expect((await h.inject({ url: '/rtm/v1/alerts', headers: auth(other.secret) })).json().alerts).toEqual([]);
    const id = mine.json().id as string;
    expect((await h.inject({ method: 'DELETE', url: `/rtm/v1/alerts/${id}`, headers: auth(other.secret) })).statusCode).toBe(404);
    expect((await h.inject({ method: 'DELETE', url: `/rtm/v1/alerts/${id}`, headers: auth(alpha.secret) })).statusCode).toBe(204);
    expect((await h.inject({ method: 'DELETE', url: `/rtm/v1/alerts/${id}`, headers: auth(alpha.secret) })).statusCode).toBe(404);
  });
});
