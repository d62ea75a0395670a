/**
 * The store write path before the sparse 1 s tier and the rollup buffer, kept as the baseline of
 * bench/store-write.ts: every write appends one wide row (one DOUBLE column per field) per key
 * to the 1 s tier and to each rollup tier (1 m, 1 h, 1 d), plus published_lsn, in one
 * transaction. Tables are prefixed `wide_` so they never meet the store's own.
 */
import { BIGINT, DOUBLE, VARCHAR, DuckDBDataChunk, type DuckDBConnection, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';
import { createRecordAccumulator } from '../../src/model/record-accumulator.ts';
import type { DimensionRecord, EdgeRecord, OriginRecord, RecordSet } from '../../src/model/record.ts';
import { ident, KEY_COLUMNS, RECORD_KINDS, VALUE_COLUMNS, type RecordKind } from '../../src/store/duckdb/schema.ts';
import { TIER_SECONDS, TIERS, type StoreWrite } from '../../src/store/store.ts';
import { deltaSeconds, deltaToRecordSet } from '../../src/model/delta.ts';

type Row = EdgeRecord | OriginRecord | DimensionRecord;

const valuesOf = (kind: RecordKind, r: Row): ArrayLike<number> =>
  kind === 'dimension' ? [(r as DimensionRecord).count, (r as DimensionRecord).bytes] : (r as EdgeRecord | OriginRecord).values;

async function appendWide(c: DuckDBConnection, table: string, kind: RecordKind, rows: readonly Row[]): Promise<void> {
  if (rows.length === 0) return;
  const keys = KEY_COLUMNS[kind];
  const valueCount = VALUE_COLUMNS[kind].length;
  const types: DuckDBType[] = [BIGINT, ...keys.map(() => VARCHAR), ...VALUE_COLUMNS[kind].map(() => DOUBLE)];
  const appender = await c.createAppender(table);
  try {
    for (let start = 0; start < rows.length; start += 2048) {
      const n = Math.min(2048, rows.length - start);
      const chunk = DuckDBDataChunk.create(types, n);
      const fill = (column: number, get: (r: Row) => DuckDBValue): void => {
        const vector = chunk.getColumnVector(column);
        for (let i = 0; i < n; i++) vector.setItem(i, get(rows[start + i] as Row));
        vector.flush();
      };
      fill(0, (r) => BigInt(r.second));
      keys.forEach((k, i) => fill(1 + i, (r) => (r as unknown as Record<string, string>)[k] as string));
      for (let v = 0; v < valueCount; v++) fill(1 + keys.length + v, (r) => valuesOf(kind, r)[v] ?? 0);
      appender.appendDataChunk(chunk);
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}

export interface WideStoreBaseline {
  append(write: StoreWrite): Promise<void>;
}

export async function createWideStoreBaseline(c: DuckDBConnection): Promise<WideStoreBaseline> {
  for (const tier of TIERS) {
    for (const kind of RECORD_KINDS) {
      const cols = ['bucket BIGINT NOT NULL', ...KEY_COLUMNS[kind].map((k) => `${ident(k)} VARCHAR NOT NULL`), ...VALUE_COLUMNS[kind].map((v) => `${ident(v)} DOUBLE NOT NULL`)];
      await c.run(`CREATE TABLE IF NOT EXISTS wide_${kind}_${tier} (${cols.join(', ')})`);
    }
  }
  await c.run('CREATE TABLE IF NOT EXISTS wide_published_lsn (second BIGINT PRIMARY KEY, lsn BIGINT NOT NULL)');
  return {
    async append(write) {
      const perTier = TIERS.map((tier) => {
        const acc = createRecordAccumulator(TIER_SECONDS[tier]);
        acc.add(deltaToRecordSet(write.delta));
        return { tier, records: acc.drain() as RecordSet };
      });
      const seconds = [...deltaSeconds(write.delta)];
      await c.run('BEGIN TRANSACTION');
      for (const { tier, records } of perTier) for (const kind of RECORD_KINDS) await appendWide(c, `wide_${kind}_${tier}`, kind, records[kind]);
      await c.run(
        `INSERT INTO wide_published_lsn VALUES ${seconds.map(() => '(?, ?)').join(', ')} ON CONFLICT (second) DO UPDATE SET lsn = greatest(wide_published_lsn.lsn, excluded.lsn)`,
        seconds.flatMap((s) => [BigInt(s), BigInt(write.lsn)]),
      );
      await c.run('COMMIT');
    },
  };
}
