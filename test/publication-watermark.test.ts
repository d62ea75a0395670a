/**
 * Issue 9 item 3 on the real server (child process, real clock, AggregateDelay 1): a second is
 * published only once no ingest request that may carry its events is still running, so a Fastly
 * `ts/{t}` cursor sees every acknowledged event: a slow upload that finishes after AggregateDelay,
 * and several clients ingesting while a poller sums every second. With a maximum hold shorter
 * than the upload, publication goes on without it: the cursor misses those events, the store
 * still counts them, and rtm_ingest_late_after_publish_total says how many.
 */
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startChildServer, type ChildServer } from './support/child-server.ts';

const TOKEN = 'publication-test-admin-token-0123456789';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const eventsAt = (second: number, service: string, n: number): string =>
  Array.from({ length: n }, (_, i) => JSON.stringify({ timestamp: second, service, datacenter: 'FRA', domain: `d${i % 3}.example.com`, status: 200 })).join('\n') + '\n';

/**
 * Follows the `ts/{t}` cursor of a service as a Fastly client does, keeping each second's latest
 * requests (a repeated second replaces, docs/api-fastly.md), until `done()` and the cursor is past `until()`.
 */
async function followCursor(url: string, service: string, done: () => boolean, until: () => number): Promise<Map<number, number>> {
  const seen = new Map<number, number>();
  let t = 0;
  for (;;) {
    const res = await fetch(`${url}/v1/channel/${service}/ts/${t}`, { headers: { 'Fastly-Key': TOKEN } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { Timestamp: number; Data: { recorded: number; aggregated: { requests?: number } }[] };
    for (const d of body.Data) seen.set(d.recorded, d.aggregated.requests ?? 0);
    t = body.Timestamp;
    if (done() && t > until()) return seen;
  }
}

const sum = (m: Map<number, number>): number => [...m.values()].reduce((a, b) => a + b, 0);

/** Sends the headers and half the body, waits `pauseMs`, sends the rest; resolves with the status line. */
function slowUpload(url: string, payload: string, pauseMs: number): Promise<string> {
  const { hostname, port } = new URL(url);
  const bytes = Buffer.from(payload);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    let answer = '';
    socket.on('data', (d: Buffer) => {
      answer += d.toString();
      if (answer.includes('\r\n\r\n')) {
        socket.destroy();
        resolve(answer.slice(0, answer.indexOf('\r\n')));
      }
    });
    socket.once('error', reject);
    socket.write(
      `POST /ingest HTTP/1.1\r\nhost: ${hostname}\r\nauthorization: Bearer ${TOKEN}\r\ncontent-type: application/x-ndjson\r\ncontent-length: ${bytes.length}\r\n\r\n`,
    );
    socket.write(bytes.subarray(0, bytes.length >> 1));
    setTimeout(() => socket.write(bytes.subarray(bytes.length >> 1)), pauseMs);
  });
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/rtm/v1/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1] ?? Number.NaN);
}

describe('publication waits for the requests in flight', () => {
  const dirs: string[] = [];
  const servers: ChildServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.kill();
    for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
  });
  const start = async (env: Record<string, string> = {}): Promise<ChildServer> => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'rtm-publish-'));
    dirs.push(dataDir);
    // The load clients send small bodies back to back, one token: the per-token rate limit (a
    // 429 past 1,000 requests a second) is not what this test is about.
    const server = await startChildServer({ dataDir, adminToken: TOKEN, env: { RTM_RATE_LIMIT_PER_SECOND: '0', ...env } });
    servers.push(server);
    return server;
  };

  it('a ts/{t} cursor sees a slow upload that finishes after AggregateDelay, and every event of several clients', { timeout: 90_000 }, async () => {
    const server = await start();

    // A slow upload: its second would be published by the clock while it is still arriving.
    const second = Math.floor(Date.now() / 1000);
    let uploaded = false;
    const polling = followCursor(server.url, 'slow', () => uploaded, () => second + 2);
    const status = await slowUpload(server.url, eventsAt(second, 'slow', 40), 3000);
    uploaded = true;
    expect(status).toBe('HTTP/1.1 200 OK');
    const slow = await polling;
    expect(sum(slow)).toBe(40);
    expect(slow.get(second)).toBe(40);
    expect(await metric(server.url, 'rtm_ingest_late_after_publish_total')).toBe(0);

    // Several clients for a few seconds, each stamping its events with the second it sends them in.
    let acked = 0;
    let last = 0;
    let stop = false;
    const client = async (n: number): Promise<void> => {
      for (let round = 0; !stop; round++) {
        const now = Math.floor(Date.now() / 1000);
        const count = 5 + ((n * 7 + round) % 30);
        const res = await fetch(`${server.url}/ingest`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-ndjson' },
          body: eventsAt(now, 'load', count),
        });
        expect(res.status).toBe(200);
        expect(((await res.json()) as { accepted: number }).accepted).toBe(count);
        acked += count;
        last = Math.max(last, now);
      }
    };
    const loadPoller = followCursor(server.url, 'load', () => stop, () => last + 2);
    const clients = Promise.all(Array.from({ length: 4 }, (_, n) => client(n)));
    await sleep(5000);
    stop = true;
    await clients;
    const seen = await loadPoller;
    expect(acked).toBeGreaterThan(100);
    expect(sum(seen)).toBe(acked);
  });

  it('with a maximum hold shorter than the upload, publishes without it and counts its events as late', { timeout: 60_000 }, async () => {
    const server = await start({ RTM_MAX_PUBLISH_HOLD_SECONDS: '1' });
    const second = Math.floor(Date.now() / 1000);
    let uploaded = false;
    const polling = followCursor(server.url, 'stuck', () => uploaded, () => second + 2);
    expect(await slowUpload(server.url, eventsAt(second, 'stuck', 25), 4000)).toBe('HTTP/1.1 200 OK');
    uploaded = true;
    expect(sum(await polling)).toBe(0);
    expect(await metric(server.url, 'rtm_ingest_late_after_publish_total')).toBe(25);
    // Late for the cursor, not lost: a read of the second itself has them.
    const res = await fetch(`${server.url}/v1/channel/stuck/ts/${second}`, { headers: { 'Fastly-Key': TOKEN } });
    const body = (await res.json()) as { Data: { recorded: number; aggregated: { requests?: number } }[] };
    expect(body.Data.find((d) => d.recorded === second)?.aggregated.requests).toBe(25);
  });
});
