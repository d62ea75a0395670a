import { describe, expect, it } from 'vitest';
import { describeMetricStoreConformance, CONFORMANCE_RETENTION } from '../store-conformance.ts';
import { edgeRecord } from '../record-fixtures.ts';
import { openDuckDb, queryRows } from './database.ts';
import { createDuckDbMetricStore } from './metric-store.ts';

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

  it('folds the rows of a key into one per bucket on compaction', async () => {
    const db = await openDuckDb(':memory:');
    const store = await createDuckDbMetricStore(db, { retention: CONFORMANCE_RETENTION });
    for (let i = 0; i < 70; i++) {
      await store.append({ lsn: i + 1, records: { edge: [edgeRecord(T0 + i, 's1', { requests: 1 })], origin: [], dimension: [] } });
    }
    const c = await db.connect();
    const count = async (table: string): Promise<number> => Number((await queryRows(c, `SELECT count(*) AS n FROM ${table}`))[0]?.['n']);
    expect(await count('edge_1h')).toBe(70);
    expect(store.compactionBacklog()['1h']).toBe(1);
    await store.compact();
    expect([await count('edge_1s'), await count('edge_1m'), await count('edge_1h'), await count('edge_1d')]).toEqual([70, 2, 1, 1]);
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
    const bad = edgeRecord(T0, 's1', { requests: 1 });
    // A NaN second cannot be bound: the write fails part-way, after the 1 s rows were appended.
    await expect(
      store.append({ lsn: 1, records: { edge: [bad], origin: [], dimension: [{ ...{ second: Number.NaN }, service: 's', domain: 'd', product: 'p', dimension: 'method', value: 'GET', count: 1, bytes: 1 }] } }),
    ).rejects.toThrow();
    expect(await store.readEdge({ tier: '1s', from: 0, to: 2 * T0, filter: {} })).toEqual([]);
    expect(await store.appliedLsn([T0])).toEqual(new Map());
    await store.close();
    db.close();
  });
});
