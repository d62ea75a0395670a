/**
 * Stalled uploads against the real app on a real socket (127.0.0.1, port 0): a few hundred
 * sockets that send headers and then a body one byte at a time, with no token and with a
 * tenant's own token. Unauthenticated ones get their 401 before any body byte is read and the
 * connection closed; authenticated ones are cut off with 408 once below the minimum rate, which
 * gives the token its concurrency slots back; legitimate requests are served throughout.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.ts';
import { ADMIN_TOKEN, HARNESS_T0, startHarness, type Harness } from './support/app-harness.ts';

const SLOW_SOCKETS = 250;

let h: Harness;
let port: number;
beforeAll(async () => {
  h = await startHarness({
    config: {
      limits: {
        ...loadConfig({}).limits,
        requestsPerTokenPerSecond: 0,
        concurrentStreamsPerToken: 64,
        minBodyBytesPerSecond: 240,
        bodyRateGraceSeconds: 1,
      },
    },
  });
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  port = (h.app.server.address() as net.AddressInfo).port;
});
afterAll(async () => {
  await h.close();
});

interface SlowResult {
  /** What the server sent before closing. */
  response: string;
  /** Body bytes this client managed to send. */
  sent: number;
}

/** Headers of a POST with a large declared body, then one body byte every `everyMs` until the server closes. */
function slowUpload(path: string, headers: Record<string, string>, everyMs = 300): Promise<SlowResult> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let response = '';
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    const head = Object.entries({ host: 'localhost', 'content-length': '100000', ...headers })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    socket.on('connect', () => {
      socket.write(`POST ${path} HTTP/1.1\r\n${head}\r\n`);
      timer = setInterval(() => {
        if (!socket.writable) return;
        socket.write('{');
        sent++;
      }, everyMs);
    });
    socket.on('data', (d: Buffer) => (response += d.toString()));
    // The server hanging up mid-upload may reset the connection: expected.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ response, sent });
    });
    // A socket the server never closes would fail the test, not hang it.
    setTimeout(() => socket.destroy(), 20_000).unref();
  });
}

const statusOf = (response: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1]);
const bodyOf = (response: string): unknown => JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4));

async function legitIngest(token: string, domain: string): Promise<{ status: number; body: unknown }> {
  const second = Math.floor(HARNESS_T0 / 1000) - 10;
  const res = await fetch(`http://127.0.0.1:${port}/ingest`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
    body: `${JSON.stringify({ timestamp: second, service: 'shop', datacenter: 'FRA', domain, status: 200 })}\n`,
  });
  return { status: res.status, body: await res.json() };
}

describe('slow uploads', () => {
  it('without a token: 401 before the body is read, connection closed; legitimate requests served meanwhile', async () => {
    const slow = Array.from({ length: SLOW_SOCKETS }, (_, i) =>
      slowUpload(i % 2 ? '/ingest' : '/api/metric/v1', { 'content-type': 'application/x-ndjson' }),
    );
    const legit = await Promise.all(Array.from({ length: 20 }, (_, i) => legitIngest(ADMIN_TOKEN, `d${i}.example`)));
    expect(legit.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(legit.every((r) => (r.body as { accepted: number }).accepted === 1)).toBe(true);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);

    const results = await Promise.all(slow);
    for (const [i, r] of results.entries()) {
      expect(statusOf(r.response)).toBe(401);
      expect(r.response.toLowerCase()).toContain('connection: close');
      const code = i % 2 ? (bodyOf(r.response) as { error: { code: string } }).error.code : (bodyOf(r.response) as { code: string }).code;
      expect(code).toBe('RTM_ERR_AUTH_MISSING');
    }
  });

  it("with the tenant's own token: cut off with 408 below the minimum rate, then the token is not locked out", async () => {
    const tenant = await h.token('slowpoke', ['shop'], ['ingest', 'read']);
    const slow = Array.from({ length: SLOW_SOCKETS }, () =>
      slowUpload('/ingest', { authorization: `Bearer ${tenant.secret}`, 'content-type': 'application/x-ndjson' }),
    );
    // Another tenant is served while the slow uploads hold their sockets.
    const other = await h.token('other', ['shop'], ['ingest']);
    expect((await legitIngest(other.secret, 'other.example')).status).toBe(200);

    const results = await Promise.all(slow);
    const statuses = results.map((r) => statusOf(r.response));
    // 64 took a concurrency slot and were cut off for their rate; the rest were refused a slot.
    expect(statuses.filter((s) => s === 408)).toHaveLength(64);
    expect(statuses.filter((s) => s === 429)).toHaveLength(SLOW_SOCKETS - 64);
    const cut = results.find((r) => statusOf(r.response) === 408);
    expect(bodyOf(cut?.response ?? '')).toEqual({
      error: {
        code: 'RTM_ERR_REQUEST_TIMEOUT',
        message: 'The request was not received in time',
        detail: 'the request body arrived slower than 240 bytes per second (RTM_MIN_BODY_RATE)',
      },
    });
    // Every slot is back: the same token ingests again.
    const after = await legitIngest(tenant.secret, 'after.example');
    expect(after).toEqual({ status: 200, body: { accepted: 1, rejected: 0, errors: [] } });

    const metrics = await h.inject({ url: '/rtm/v1/metrics', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(metrics.body).toContain('rtm_http_slow_requests_aborted_total{reason="rate"} 64');
  });

  it('any refusal sent before the body is read closes the connection (here a 415 to a valid token)', async () => {
    const r = await slowUpload('/ingest', { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'text/csv' });
    expect(statusOf(r.response)).toBe(415);
    expect(r.response.toLowerCase()).toContain('connection: close');
    expect((bodyOf(r.response) as { error: { code: string } }).error.code).toBe('RTM_ERR_INGEST_CONTENT_TYPE');
  });

  it('an upload that keeps a good pace is not cut off', async () => {
    const second = Math.floor(HARNESS_T0 / 1000) - 10;
    const line = `${JSON.stringify({ timestamp: second, service: 'shop', datacenter: 'FRA', domain: 'paced.example', status: 200 })}\n`;
    const body = line.repeat(40);
    const response = await new Promise<string>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      let out = '';
      socket.on('connect', () => {
        socket.write(
          `POST /ingest HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer ${ADMIN_TOKEN}\r\ncontent-type: application/x-ndjson\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n`,
        );
        // About 1 KB/s in 10 pieces: above 240 bytes/s.
        const pieces = Array.from({ length: 10 }, (_, i) => body.slice((i * body.length) / 10, ((i + 1) * body.length) / 10));
        const timer = setInterval(() => {
          const piece = pieces.shift();
          if (piece === undefined) return clearInterval(timer);
          socket.write(piece);
        }, 150);
      });
      socket.on('data', (d: Buffer) => (out += d.toString()));
      socket.on('close', () => resolve(out));
    });
    expect(statusOf(response)).toBe(200);
    expect(bodyOf(response)).toEqual({ accepted: 40, rejected: 0, errors: [] });
  });
});
