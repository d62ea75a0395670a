import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CONFORMANCE_RETENTION } from '../store-conformance.ts';
import { edgeRecord } from '../record-fixtures.ts';
import { TIERS, type Tier } from '../store.ts';
import { openDuckDb, queryRows, type DuckDb } from './database.ts';
import { createDuckDbMetricStore, type DuckDbMetricStore } from './metric-store.ts';
import { sparseFieldSum } from './schema.ts';
import { deltaFromRecordSet } from '../../model/delta.ts';

// 2024-01-01T00:00:00Z
const T0 = 1_704_067_200;
const all = (tier: Tier) => ({ tier, from: 0, to: 2 * T0, filter: {} });

describe('DuckDB rollup buffer', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await fs.rm(d, { recursive: true, force: true });
  });
  const tempFile = async (): Promise<string> => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rtm-rollup-'));
    dirs.push(dir);
    return path.join(dir, 'rtmetrics.duckdb');
  };
  const open = async (file: string): Promise<{ db: DuckDb; store: DuckDbMetricStore }> => {
    const db = await openDuckDb(file);
    return { db, store: await createDuckDbMetricStore(db, { retention: CONFORMANCE_RETENTION }) };
  };
  /** Writes one request of service s1 in each of these seconds. */
  const writeSeconds = async (store: DuckDbMetricStore, from: number, count: number, lsn = from): Promise<void> => {
    for (let i = 0; i < count; i++) {
      await store.append({ lsn: lsn + i, delta: deltaFromRecordSet({ edge: [edgeRecord(from + i, 's1', { requests: 1 })], origin: [], dimension: [] }) });
    }
  };
  /** Requests per tier as the tables hold them (no buffer): what a crash leaves on disk. */
  const tableTotals = async (db: DuckDb): Promise<Record<string, number>> => {
    const c = await db.connect();
    try {
      const out: Record<string, number> = {};
      for (const tier of ['1m', '1h', '1d']) out[tier] = Number((await queryRows(c, `SELECT ${sparseFieldSum('edge', 'requests')} AS r FROM edge_${tier}`))[0]?.['r']);
      return out;
    } finally {
      c.closeSync();
    }
  };
  const storeTotals = async (store: DuckDbMetricStore): Promise<number[]> =>
    Promise.all(TIERS.map(async (t) => (await store.readEdge(all(t))).reduce((sum, r) => sum + (r.values[0] ?? 0), 0)));

  it('rebuilds the rollup tiers from the 1 s tier after a crash between the 1 s write and the rollup flush', async () => {
    const file = await tempFile();
    const first = await open(file);
    await writeSeconds(first.store, T0, 60);
    await first.store.flushRollups();
    // Minute T0 + 60 is in the 1 s tier and only buffered for the rollups when the process dies.
    await writeSeconds(first.store, T0 + 60, 10);
    // The buffer holds rows as written (one per second here), summed per minute at the flush.
    expect(first.store.rollupBacklog()).toBe(10);
    expect(await tableTotals(first.db)).toEqual({ '1m': 60, '1h': 60, '1d': 60 });
    first.db.close(); // a crash: no store.close(), so no final flush

    const second = await open(file);
    expect(await tableTotals(second.db)).toEqual({ '1m': 70, '1h': 70, '1d': 70 });
    expect((await second.store.readEdge(all('1m'))).map((r) => [r.second, r.values[0]])).toEqual([
      [T0, 60],
      [T0 + 60, 10],
    ]);
    await writeSeconds(second.store, T0 + 70, 5, 71);
    await second.store.close();
    second.db.close();

    // A clean stop flushed everything: nothing is rebuilt (or counted) twice.
    const third = await open(file);
    expect(await tableTotals(third.db)).toEqual({ '1m': 75, '1h': 75, '1d': 75 });
    expect(await storeTotals(third.store)).toEqual([75, 75, 75, 75]);
    await third.store.close();
    third.db.close();
  });

  it('keeps a failed flush buffered and readable, and rolls it up after a crash that follows', async () => {
    const file = await tempFile();
    const first = await open(file);
    await writeSeconds(first.store, T0, 30);
    const side = await first.db.connect();
    // The flush's transaction fails part-way (after the 1 m and 1 h rows of the edge kind): nothing of it commits.
    await side.run('ALTER TABLE edge_1d RENAME TO edge_1d_away');
    await expect(first.store.flushRollups()).rejects.toThrow();
    expect(first.store.rollupBacklog()).toBe(30);
    const sums = await Promise.all((['1s', '1m', '1h'] as const).map(async (t) => (await first.store.readEdge(all(t))).reduce((sum, r) => sum + (r.values[0] ?? 0), 0)));
    expect(sums).toEqual([30, 30, 30]);
    await side.run('ALTER TABLE edge_1d_away RENAME TO edge_1d');
    expect(await storeTotals(first.store)).toEqual([30, 30, 30, 30]);
    expect(await tableTotals(first.db)).toEqual({ '1m': 0, '1h': 0, '1d': 0 });
    side.closeSync();
    first.db.close(); // a crash

    const second = await open(file);
    expect(await tableTotals(second.db)).toEqual({ '1m': 30, '1h': 30, '1d': 30 });
    await second.store.close();
    second.db.close();
  });

  it('writes a failed flush with the next one', async () => {
    const { db, store } = await open(await tempFile());
    await writeSeconds(store, T0, 30);
    const side = await db.connect();
    await side.run('ALTER TABLE edge_1h RENAME TO edge_1h_away');
    await expect(store.flushRollups()).rejects.toThrow();
    await side.run('ALTER TABLE edge_1h_away RENAME TO edge_1h');
    side.closeSync();
    await writeSeconds(store, T0 + 30, 40);
    await store.flushRollups();
    expect(store.rollupBacklog()).toBe(0);
    expect(await tableTotals(db)).toEqual({ '1m': 70, '1h': 70, '1d': 70 });
    expect(await storeTotals(store)).toEqual([70, 70, 70, 70]);
    await store.close();
    db.close();
  });

  it('answers exact sums while flushes commit in the background', async () => {
    const db = await openDuckDb(':memory:');
    const store = await createDuckDbMetricStore(db, { retention: CONFORMANCE_RETENTION });
    for (let i = 0; i < 30; i++) {
      // Every 20 s: a new minute every third write, so flushes start (unawaited) during the reads.
      await store.append({ lsn: i + 1, delta: deltaFromRecordSet({ edge: [edgeRecord(T0 + 20 * i, 's1', { requests: 1 })], origin: [], dimension: [] }) });
      const sums = await Promise.all([
        storeTotals(store),
        store.sumEdge({ ...all('1h'), bucketSeconds: 86_400, fields: ['requests'] }).then((rows) => rows.reduce((s, r) => s + (r.values[0] ?? 0), 0)),
      ]);
      expect(sums).toEqual([[i + 1, i + 1, i + 1, i + 1], i + 1]);
    }
    await store.close();
    db.close();
  });

  it('refuses a database whose 1 s tier has an earlier layout (a table per kind)', async () => {
    const db = await openDuckDb(':memory:');
    const c = await db.connect();
    await c.run('CREATE TABLE edge_1s (bucket BIGINT, service VARCHAR, requests DOUBLE)');
    c.closeSync();
    await expect(createDuckDbMetricStore(db, { retention: CONFORMANCE_RETENTION })).rejects.toThrow(/layout of an earlier development version/);
    db.close();
  });
});
