import { describe, expect, it, vi } from 'vitest';
import { describeMetricStoreConformance, CONFORMANCE_RETENTION } from '../store-conformance.ts';
import { edgeRecord } from '../record-fixtures.ts';
import { TIERS } from '../store.ts';
import { openDuckDb, queryRows } from './database.ts';
import { createDuckDbMetricStore } from './metric-store.ts';
import { KEY_COLUMNS, sparseFieldSum, VALUE_COLUMNS } from './schema.ts';
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
    const sum = await queryRows(c, `SELECT ${sparseFieldSum('edge', 'requests')} AS r FROM edge_1d`);
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
  it('moves rollup tables of the layout with a column per field to the sparse one, every sum kept', async () => {
    const db = await openDuckDb(':memory:');
    const c = await db.connect();
    // The earlier layout: bucket, keys, a DOUBLE column per field.
    const dense = (kind: 'edge' | 'origin', tier: string): string =>
      `CREATE TABLE ${kind}_${tier} (bucket BIGINT NOT NULL, ${KEY_COLUMNS[kind].map((k) => `"${k}" VARCHAR NOT NULL`).join(', ')}, ` +
      `${VALUE_COLUMNS[kind].map((v) => `"${v}" DOUBLE NOT NULL`).join(', ')})`;
    for (const tier of ['1m', '1h', '1d']) for (const kind of ['edge', 'origin'] as const) await c.run(dense(kind, tier));
    const r = edgeRecord(T0, 's1', { requests: 3, hits: 2, resp_body_bytes: 9_007_199_254_740_000 });
    const values = Array.from(r.values).join(', ');
    for (const tier of ['1m', '1h', '1d']) {
      await c.run(`INSERT INTO edge_${tier} VALUES (${T0}, 's1', 'FRA', 'a.example', 'edge_application', ${values})`);
      await c.run(`INSERT INTO edge_${tier} VALUES (${T0}, 's1', 'FRA', 'a.example', 'edge_application', ${values})`);
    }
    c.closeSync();
    const store = await createDuckDbMetricStore(db, { retention: CONFORMANCE_RETENTION });
    const twice = Array.from(r.values, (v) => 2 * v);
    for (const tier of ['1m', '1h', '1d'] as const) {
      const got = await store.readEdge({ tier, from: 0, to: 2 * T0, filter: {} });
      expect(got.map((x) => [x.second, x.service, x.datacenter, x.domain, x.product]), tier).toEqual([[T0, 's1', 'FRA', 'a.example', 'edge_application']]);
      expect(Array.from(got[0]?.values ?? []), tier).toEqual(twice);
    }
    const sums = await store.sumEdge({ tier: '1d', from: 0, to: 2 * T0, filter: {}, bucketSeconds: 86_400, fields: ['requests', 'resp_body_bytes', 'miss'] });
    expect(sums).toEqual([{ bucket: T0, group: [], values: [6, 18_014_398_509_480_000, 0] }]);
    await store.close();
    db.close();
  });

  it('widens field ids stored as USMALLINT[] to UINTEGER[] on open, every row kept, so unique-client cells past 65,535 fit', async () => {
    const db = await openDuckDb(':memory:');
    const c = await db.connect();
    const narrow = (kind: 'edge' | 'origin', tier: string): string =>
      `CREATE TABLE ${kind}_${tier} (bucket BIGINT NOT NULL, ${KEY_COLUMNS[kind].map((k) => `"${k}" VARCHAR NOT NULL`).join(', ')}, field_ids USMALLINT[] NOT NULL, field_values DOUBLE[] NOT NULL)`;
    for (const tier of ['1m', '1h', '1d']) for (const kind of ['edge', 'origin'] as const) await c.run(narrow(kind, tier));
    const requests = VALUE_COLUMNS.edge.indexOf('requests');
    for (const tier of ['1m', '1h', '1d']) await c.run(`INSERT INTO edge_${tier} VALUES (${T0}, 's1', 'FRA', 'a.example', 'edge_application', [${requests}], [7])`);
    c.closeSync();
    const store = await createDuckDbMetricStore(db, { retention: CONFORMANCE_RETENTION });
    const probe = await db.connect();
    expect(await queryRows(probe, "SELECT DISTINCT data_type FROM duckdb_columns() WHERE column_name = 'field_ids'")).toEqual([{ data_type: 'UINTEGER[]' }]);
    probe.closeSync();
    const cell = 400_000;
    const edgeDist = [{ second: T0 + 1, service: 's1', datacenter: 'FRA', domain: 'a.example', product: 'edge_application', ids: Uint32Array.of(3, cell), counts: Float64Array.of(1, 2) }];
    await store.append({ lsn: 1, delta: deltaFromRecordSet({ edge: [], origin: [], dimension: [], edgeDist }) });
    for (const tier of ['1m', '1h', '1d'] as const) {
      const sums = await store.sumEdge({ tier, from: 0, to: 2 * T0, filter: {}, bucketSeconds: 86_400, fields: ['requests'] });
      expect(sums, tier).toEqual([{ bucket: T0, group: [], values: [7] }]);
    }
    const dist = await store.sumDistribution({ kind: 'edgeDist', tier: '1m', from: 0, to: 2 * T0, filter: {}, bucketSeconds: 60, groupBy: [] });
    expect(dist.map((r) => [r.bucket, [...r.ids], [...r.counts]])).toEqual([[T0, [3, cell], [1, 2]]]);
    await store.close();
    db.close();
  });
});
