import fs from 'node:fs/promises';
import { encodeWalPayload } from '../src/ingest/wal-payload.ts';
import { deltaFromRecordSet } from '../src/model/delta.ts';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listSegments, segmentPath } from '../src/ingest/wal/segment.ts';
import { openWal } from '../src/ingest/wal/wal.ts';
import { edgeRecord } from '../src/store/record-fixtures.ts';
import { ADMIN_TOKEN, HARNESS_T0, startHarness, type Harness } from './support/app-harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

/** The value of one sample line of a Prometheus exposition. */
function sample(text: string, line: string): number | undefined {
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

describe('GET /rtm/v1/metrics', () => {
  it('counts ingested lines by outcome and reports the window and the pipeline', async () => {
    const second = Math.floor(HARNESS_T0 / 1000) - 5;
    const good = (i: number) => JSON.stringify({ timestamp: second, service: 'm', datacenter: 'FRA', domain: `d${i}.example`, status: 200 });
    const body = `${[0, 1, 2].map(good).join('\n')}\n{"not":"an event"}\n`;
    expect(await h.ingest(ADMIN_TOKEN, body)).toMatchObject({ accepted: 3, rejected: 1 });

    const res = await h.inject({ url: '/rtm/v1/metrics', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(sample(res.body, 'rtm_ingest_lines_total{outcome="accepted"}')).toBe(3);
    expect(sample(res.body, 'rtm_ingest_lines_total{outcome="rejected"}')).toBe(1);
    expect(sample(res.body, 'rtm_window_edge_keys')).toBe(3);
    expect(sample(res.body, 'rtm_wal_applied_lsn')).toBeGreaterThanOrEqual(1);
    expect(res.body).toMatch(/rtm_http_request_duration_seconds_count\{dialect="native",status="2xx"\} \d+/);
  });

  it('reports each share of the memory budget and what it holds now', async () => {
    await h.waitForCatalog(['m']);
    const res = await h.inject({ url: '/rtm/v1/metrics', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const { totalBytes, shares } = h.services.config.memoryBudget;
    expect(sample(res.body, 'rtm_memory_budget_bytes{share="total"}')).toBe(totalBytes);
    for (const [share, bytes] of Object.entries(shares)) expect(sample(res.body, `rtm_memory_budget_bytes{share="${share}"}`)).toBe(bytes);
    // The window's use is its own gauge; the catalog's counts the 3 domains seen above at 2,560 bytes,
    // and the one datacenter the datacenter cap holds at 256 (no origin fetch: the backend cap holds none).
    expect(sample(res.body, 'rtm_memory_used_bytes{share="window"}')).toBe(sample(res.body, 'rtm_window_bytes'));
    expect(sample(res.body, 'rtm_memory_used_bytes{share="catalog"}')).toBe(3 * 2560 + 1 * 256);
    expect(sample(res.body, 'rtm_memory_used_bytes{share="duckdb"}')).toBeGreaterThan(0);
    expect(sample(res.body, 'rtm_memory_used_bytes{share="runtime"}')).toBeGreaterThan(0);
    expect(sample(res.body, 'rtm_process_resident_bytes')).toBeGreaterThan(0);
  });

  it('is for operators only: a tenant token is refused', async () => {
    const tenant = await h.token('tenant', ['m'], ['read', 'ingest', 'admin']);
    const res = await h.inject({ url: '/rtm/v1/metrics', headers: { authorization: `Bearer ${tenant.secret}` } });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('RTM_ERR_AUTH_FORBIDDEN');
    expect((await h.inject({ url: '/rtm/v1/metrics' })).statusCode).toBe(401);
  });
});

describe('WAL corruption in self-metrics', () => {
  it('shows the bytes and entries skipped on start', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'rtm-walcorrupt-'));
    const walDir = path.join(dataDir, 'wal');
    const wal = await openWal({ dir: walDir, logger: pino({ level: 'silent' }) });
    const second = Math.floor(HARNESS_T0 / 1000) - 60;
    for (const requests of [1, 2, 3]) await wal.append(encodeWalPayload(deltaFromRecordSet({ edge: [edgeRecord(second, 'w', { requests })], origin: [], dimension: [] })));
    await wal.close();
    const file = segmentPath(walDir, (await listSegments(walDir))[0] ?? 0);
    const data = await fs.readFile(file);
    const first = 28 + 16 + data.readUInt32LE(28);
    const secondBytes = 16 + data.readUInt32LE(first);
    data[first + 20] = (data[first + 20] ?? 0) ^ 0x01;
    await fs.writeFile(file, data);

    const harness = await startHarness({ config: { dataDir } });
    try {
      const res = await harness.inject({ url: '/rtm/v1/metrics', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(sample(res.body, 'rtm_wal_corrupt_regions_total')).toBe(1);
      expect(sample(res.body, 'rtm_wal_corrupt_entries_skipped_total')).toBe(1);
      expect(sample(res.body, 'rtm_wal_corrupt_bytes_skipped_total')).toBe(secondBytes);
    } finally {
      await harness.close();
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });
});
