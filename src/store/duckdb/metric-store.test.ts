import { describe, expect, it, vi } from 'vitest';
import { describeMetricStoreConformance, CONFORMANCE_RETENTION } from '../store-conformance.ts';
import { edgeRecord } from '../record-fixtures.ts';
import { TIERS } from '../store.ts';
import { openDuckDb, queryRows } from './database.ts';
import { createDuckDbMetricStore } from './metric-store.ts';
import { deltaFromRecordSet } from '../../model/delta.ts';

describeMetricStoreConformance('duckdb', async ({ retention }) => {
  const db = await openDuckDb(':memory:');
  const store = await createDuckDbMetricStore(db, { retention });
  return {
    store,
    async close() {
      await store.close();
      db.close();
    },
  };
});

describe('DuckDB metric store internals', () => {
  const T0 = 1_704_067_200;

  it('writes one rollup row per key and minute, and compaction folds the hour and day rows', async () => {
    const db = await openDuckDb(':memory:');
    const store = await createDuckDbMetricStore(db, { retention: CONFORMANCE_RETENTION });
    for (let i = 0; i < 70; i++) {
      await store.append({ lsn: i + 1, delta: deltaFromRecordSet({ edge: [edgeRecord(T0 + i, 's1', { requests: 1 })], origin: [], dimension: [] }) });
    }
    const c = await db.connect();
    const count = async (table: string): Promise<number> => Number((await queryRows(c, `SELECT count(*) AS n FROM ${table}`))[0]?.['n']);
    // The write of T0 + 60 flushed minute T0; T0 + 60..69 are still buffered.
    await vi.waitFor(async () => expect(await count('edge_1m')).toBe(1));
    expect(store.rollupBacklog()).toBe(10); // rows as written, one per second

    expect((await store.readEdge({ tier: '1h', from: 0, to: 2 * T0, filter: {} }))[0]?.values[0]).toBe(70);
    await store.flushRollups();
    expect([await count('second_blocks'), await count('edge_1m'), await count('edge_1h'), await count('edge_1d')]).toEqual([70, 2, 2, 2]);
    expect(store.compactionBacklog()).toEqual({ '1s': 0, '1m': 0, '1h': 1, '1d': 1 });
    await store.compact();
    expect([await count('second_blocks'), await count('edge_1m'), await count('edge_1h'), await count('edge_1d')]).toEqual([70, 2, 1, 1]);
    expect(store.compactionBacklog()).toEqual({ '1s': 0, '1m': 0, '1h': 0, '1d': 0 });
    const sum = await queryRows(c, 'SELECT sum(requests) AS r FROM edge_1d');
    expect(sum[0]?.['r']).toBe(70);
    c.closeSync();
    await store.close();
    db.close();
  });

  it('leaves a failed write invisible (one transaction per write)', async () => {
    const db = await openDuckDb(':memory:');
    const store = await createDuckDbMetricStore(db, { retention: CONFORMANCE_RETENTION });
    const good = edgeRecord(T0, 's1', { requests: 1 });
    // An lsn that is not a number fails the write part-way: after its blocks were appended.
    await expect(store.append({ lsn: Number.NaN, delta: deltaFromRecordSet({ edge: [good], origin: [], dimension: [] }) })).rejects.toThrow();
    await expect(store.append({ lsn: 1, delta: deltaFromRecordSet({ edge: [{ ...good, second: Number.NaN }], origin: [], dimension: [] }) })).rejects.toThrow(/not an integer/);
    for (const tier of TIERS) expect(await store.readEdge({ tier, from: 0, to: 2 * T0, filter: {} }), tier).toEqual([]);
    expect(await store.appliedLsn([T0])).toEqual(new Map());
    // The store goes on: the next write is stored whole.
    await store.append({ lsn: 2, delta: deltaFromRecordSet({ edge: [good], origin: [], dimension: [] }) });
    await store.flushRollups();
    for (const tier of TIERS) expect((await store.readEdge({ tier, from: 0, to: 2 * T0, filter: {} })).map((r) => r.values[0]), tier).toEqual([1]);
    await store.close();
    db.close();
  });
});
