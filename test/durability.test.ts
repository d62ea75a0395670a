/**
 * Crash test: the real server as a child process is killed with SIGKILL while clients ingest,
 * restarted, killed again, and finally stopped cleanly; then every tier of the store must count
 * each acknowledged event exactly once. A request in flight at the kill may or may not be
 * counted (its fsync may have happened before the kill, its response not), so per service:
 * acknowledged <= stored <= acknowledged + in flight. Both ingest paths run: small bodies are
 * parsed on the main thread, every fourth is large enough (> 64 KiB) to be parsed and aggregated
 * on the parse worker, whose delta goes to the WAL as it is.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import { edgeFieldIndex, EDGE_FIELDS } from '../src/model/fields.ts';
import { decodeDelta } from '../src/model/delta-bytes.ts';
import { addRowInto } from '../src/model/delta.ts';
import { openDuckDb, queryRows } from '../src/store/duckdb/database.ts';
import { sparseFieldSum } from '../src/store/duckdb/schema.ts';
import { startChildServer, type ChildServer } from './support/child-server.ts';

const TOKEN = 'durability-test-admin-token-0123456789';
const SERVICES = ['svc_a', 'svc_b', 'svc_c'];
const KILLS = 3;
const CLIENTS = 6;

const startServer = (dataDir: string): Promise<ChildServer> => startChildServer({ dataDir, adminToken: TOKEN, env: { RTM_INGEST_WORKERS: '1' } });

interface Tally {
  sent: number;
  acked: number;
  /** Events of requests sent but not answered when the server died. */
  unanswered: number;
}

const tallies = new Map(SERVICES.map((s) => [s, { sent: 0, acked: 0, unanswered: 0 } as Tally]));

function body(service: string, events: number): string {
  const now = Date.now() / 1000;
  const lines: string[] = [];
  for (let i = 0; i < events; i++) {
    // Some events are a few seconds late, so late deltas for published seconds are exercised.
    const timestamp = now - (i % 4 === 0 ? Math.random() * 5 : 0);
    lines.push(JSON.stringify({ timestamp, service, datacenter: 'FRA', domain: 'www.example.com', status: 200, cache: 'hit', resp_body_bytes: 100 }));
  }
  return `${lines.join('\n')}\n`;
}

/** Ingests from several clients until the server stops answering. */
async function ingestUntilDown(url: string, stop: { down: boolean }): Promise<void> {
  const client = async (n: number): Promise<void> => {
    for (let round = 0; !stop.down; round++) {
      const service = SERVICES[(n + round) % SERVICES.length] as string;
      // Every fourth body goes to the parse worker (64 KiB and more: ~140 bytes an event).
      const events = round % 4 === 3 ? 500 + Math.floor(Math.random() * 200) : 1 + Math.floor(Math.random() * 20);
      const tally = tallies.get(service) as Tally;
      tally.sent += events;
      tally.unanswered += events;
      try {
        const res = await fetch(`${url}/ingest`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-ndjson' },
          body: body(service, events),
        });
        const text = await res.text();
        if (res.status === 200) {
          const accepted = (JSON.parse(text) as { accepted: number }).accepted;
          expect(accepted).toBe(events);
          tally.acked += events;
          tally.unanswered -= events;
        } else {
          // Refused before it was durable (e.g. shutting down): never counted.
          tally.sent -= events;
          tally.unanswered -= events;
        }
      } catch {
        // Connection reset by the kill: the events stay "unanswered" (counted or not).
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, (_, n) => client(n)));
}

/** Requests per service in a tier's table, read as the server left it (no store is opened). */
async function requestsPerService(c: DuckDBConnection, tier: string): Promise<Map<string, number>> {
  if (tier !== '1s') {
    const rows = await queryRows(c, `SELECT service, ${sparseFieldSum('edge', 'requests')} AS requests FROM edge_${tier} GROUP BY service`);
    return new Map(rows.map((r) => [String(r['service']), Number(r['requests'])]));
  }
  // The 1 s tier keeps a block (an encoded Delta) per second and service (docs/store.md).
  const out = new Map<string, number>();
  const requests = edgeFieldIndex.get('requests') ?? -1;
  for (const r of await queryRows(c, 'SELECT service, block FROM second_blocks')) {
    const delta = decodeDelta((r['block'] as { bytes: Uint8Array }).bytes);
    const values = new Float64Array(EDGE_FIELDS.length);
    for (let i = 0; i < delta.edge.rows; i++) addRowInto(delta.edge, i, values);
    out.set(String(r['service']), (out.get(String(r['service'])) ?? 0) + (values[requests] ?? 0));
  }
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('durability across SIGKILL', () => {
  let dataDir = '';
  afterAll(async () => {
    if (dataDir !== '') await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('counts every acknowledged event exactly once in every tier', { timeout: 180_000 }, async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'rtm-durability-'));
    for (let kill = 0; kill < KILLS; kill++) {
      const server = await startServer(dataDir);
      const stop = { down: false };
      const ingesting = ingestUntilDown(server.url, stop);
      // Long enough for store writes and WAL truncation to happen, then kill at a random moment.
      await sleep(1500 + Math.random() * 2000);
      await server.kill();
      stop.down = true;
      await ingesting;
    }
    // A clean run: replay, publish everything, then a graceful stop writes the published seconds.
    const last = await startServer(dataDir);
    await sleep(4000);
    expect(await last.stop()).toBe(0);

    const db = await openDuckDb(path.join(dataDir, 'rtmetrics.duckdb'));
    const c = await db.connect();
    try {
      const totals: number[] = [];
      for (const tier of ['1s', '1m', '1h', '1d']) {
        const stored = await requestsPerService(c, tier);
        totals.push([...stored.values()].reduce((a, b) => a + b, 0));
        for (const [service, t] of tallies) {
          const got = stored.get(service) ?? 0;
          expect(t.acked, `${service} acknowledged`).toBeGreaterThan(0);
          expect(got, `${service} ${tier} >= acknowledged`).toBeGreaterThanOrEqual(t.acked);
          expect(got, `${service} ${tier} <= acknowledged + unanswered`).toBeLessThanOrEqual(t.acked + t.unanswered);
          expect(got, `${service} ${tier} <= sent`).toBeLessThanOrEqual(t.sent);
        }
      }
      // Every tier holds the same total: none double-counted or short. The rollup tables are read
      // as the clean stop left them, so its final rollup flush is checked too.
      expect(totals[0]).toBeGreaterThan(0);
      expect(totals.slice(1)).toEqual([totals[0], totals[0], totals[0]]);
    } finally {
      c.closeSync();
      db.close();
    }
  });
});
