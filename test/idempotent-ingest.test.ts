/**
 * Idempotency-Key across a crash, on the real server as a child process: a request whose answer
 * the client never read (the server killed with SIGKILL as its response arrived, or right after
 * the request was written) is sent again with the same key to the restarted server, and the
 * totals read back through the query API count it once. The same key with another body is a
 * 422; the same key from another token is that token's own and counts.
 */
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startChildServer, type ChildServer } from './support/child-server.ts';

const ADMIN = 'idempotency-test-admin-token-0123456789';
/** A second already published when the test runs: its events are read back at once. */
const SECOND = Math.floor(Date.now() / 1000) - 30;
// Named in the query: the catalog may list a new service only after its first store write.
const SERVICES = ['svc_one', 'svc_two', 'svc_b'];

const body = (service: string, n: number): string =>
  Array.from({ length: n }, (_, i) => JSON.stringify({ timestamp: SECOND, service, datacenter: 'FRA', domain: `d${i}.example.com`, status: 200 })).join('\n') + '\n';

/**
 * Writes a POST /ingest on a raw socket and resolves once `until` happens (response bytes seen,
 * or just the request written), leaving the answer unread: a client that timed out.
 */
function sendUnanswered(url: string, key: string, payload: string, until: 'response-bytes' | 'written'): Promise<void> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    socket.once('error', reject);
    const request =
      `POST /ingest HTTP/1.1\r\nhost: ${hostname}\r\nauthorization: Bearer ${ADMIN}\r\ncontent-type: application/x-ndjson\r\n` +
      `idempotency-key: ${key}\r\ncontent-length: ${Buffer.byteLength(payload)}\r\n\r\n${payload}`;
    if (until === 'response-bytes') socket.once('data', () => resolve());
    socket.write(request, () => {
      if (until === 'written') resolve();
    });
    socket.once('close', () => resolve());
    // The test kills the server next; the socket then closes.
    socket.unref();
  });
}

async function post(url: string, token: string, key: string, payload: string): Promise<{ status: number; replayed: string | null; json: Record<string, unknown> }> {
  const res = await fetch(`${url}/ingest`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson', 'idempotency-key': key },
    body: payload,
  });
  return { status: res.status, replayed: res.headers.get('idempotent-replayed'), json: (await res.json()) as Record<string, unknown> };
}

/** Requests per service in SECOND, from POST /rtm/v1/query once SECOND is final. */
async function totals(url: string): Promise<Record<string, number>> {
  for (;;) {
    const res = await fetch(`${url}/rtm/v1/query`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ from: SECOND, to: SECOND + 1, granularity: 'all', metrics: ['requests'], groupBy: ['service'], filters: [{ field: 'service', op: 'in', value: SERVICES }] }),
    });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { final_through: number; rows: { service: string; requests: number }[] };
    if (answer.final_through >= SECOND) return Object.fromEntries(answer.rows.map((r) => [r.service, r.requests]));
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('Idempotency-Key across SIGKILL', () => {
  let dataDir = '';
  let server: ChildServer | undefined;
  afterAll(async () => {
    await server?.kill();
    if (dataDir !== '') await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('counts a request sent again after a crash once, refuses another body under its key, and keeps keys per token', { timeout: 120_000 }, async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'rtm-idem-kill-'));
    const start = (): Promise<ChildServer> => startChildServer({ dataDir, adminToken: ADMIN });

    // 1. The response is on its way when the server dies: the events are durable, the client does not know.
    server = await start();
    await sendUnanswered(server.url, 'batch-1', body('svc_one', 5), 'response-bytes');
    await server.kill();
    // 2. Killed right after the request was written: it may or may not have been taken.
    server = await start();
    await sendUnanswered(server.url, 'batch-2', body('svc_two', 3), 'written');
    await server.kill();

    server = await start();
    const again1 = await post(server.url, ADMIN, 'batch-1', body('svc_one', 5));
    expect(again1.status).toBe(200);
    expect(again1.replayed).toBe('true');
    expect(again1.json).toEqual({ accepted: 5, rejected: 0, errors: [] });
    const again2 = await post(server.url, ADMIN, 'batch-2', body('svc_two', 3));
    expect(again2.status).toBe(200);
    expect(again2.json).toMatchObject({ accepted: 3 });
    // Once more, now that batch-2 is surely in.
    expect((await post(server.url, ADMIN, 'batch-2', body('svc_two', 3))).replayed).toBe('true');

    const other = await post(server.url, ADMIN, 'batch-1', body('svc_one', 6));
    expect(other.status).toBe(422);
    expect(other.json).toMatchObject({ error: { code: 'RTM_ERR_INGEST_IDEMPOTENCY_MISMATCH' } });

    const created = await fetch(`${server.url}/admin/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'tenant-b', services: ['svc_b'], scopes: ['ingest', 'read'] }),
    });
    expect(created.status).toBe(201);
    const tenantB = ((await created.json()) as { token: string }).token;
    const fromB = await post(server.url, tenantB, 'batch-1', body('svc_b', 4));
    expect(fromB.status).toBe(200);
    expect(fromB.replayed).toBeNull();
    expect(fromB.json).toMatchObject({ accepted: 4 });

    expect(await totals(server.url)).toEqual({ svc_one: 5, svc_two: 3, svc_b: 4 });
    // And after a clean stop and start (the events read back from the store).
    expect(await server.stop()).toBe(0);
    server = await start();
    expect((await post(server.url, ADMIN, 'batch-1', body('svc_one', 5))).replayed).toBe('true');
    expect(await totals(server.url)).toEqual({ svc_one: 5, svc_two: 3, svc_b: 4 });
    expect(await server.stop()).toBe(0);
    server = undefined;
  });
});
