/**
 * Writes records into one table through DuckDB's Appender fed with whole data chunks.
 * Hot path (every store write, ~270 columns per edge row): numbers are written straight into the
 * chunk's Float64Array vectors, one native call per column and chunk rather than per value.
 * The Appender joins the connection's open transaction, so a write stays atomic.
 */
import { BIGINT, DOUBLE, VARCHAR, DuckDBDataChunk, type DuckDBConnection, type DuckDBType, type DuckDBVector } from '@duckdb/node-api';
import type { DimensionRecord, EdgeRecord, OriginRecord } from '../../model/record.ts';
import { KEY_COLUMNS, VALUE_COLUMNS, type RecordKind } from './schema.ts';
import type { Tier } from '../store.ts';

// DuckDB's standard vector size: the most rows one data chunk holds.
const CHUNK_ROWS = 2048;

type Row = EdgeRecord | OriginRecord | DimensionRecord;

const keyGetters: Readonly<Record<RecordKind, readonly ((r: Row) => string)[]>> = {
  edge: [(r) => (r as EdgeRecord).service, (r) => (r as EdgeRecord).datacenter, (r) => (r as EdgeRecord).domain, (r) => (r as EdgeRecord).product],
  origin: [(r) => (r as OriginRecord).service, (r) => (r as OriginRecord).datacenter, (r) => (r as OriginRecord).backend],
  dimension: [
    (r) => (r as DimensionRecord).service,
    (r) => (r as DimensionRecord).domain,
    (r) => (r as DimensionRecord).product,
    (r) => (r as DimensionRecord).dimension,
    (r) => (r as DimensionRecord).value,
  ],
};

const valueOf = (kind: RecordKind, r: Row, i: number): number => {
  if (kind === 'dimension') return i === 0 ? (r as DimensionRecord).count : (r as DimensionRecord).bytes;
  return (r as EdgeRecord | OriginRecord).values[i] ?? 0;
};

const columnTypes = (kind: RecordKind): DuckDBType[] => [
  BIGINT,
  ...KEY_COLUMNS[kind].map(() => VARCHAR),
  ...VALUE_COLUMNS[kind].map(() => DOUBLE),
];

/** Appends `rows` to `<kind>_<tier>`; call inside a transaction for atomicity. */
export async function appendRows(connection: DuckDBConnection, kind: RecordKind, tier: Tier, rows: readonly Row[]): Promise<void> {
  if (rows.length === 0) return;
  const appender = await connection.createAppender(`${kind}_${tier}`);
  try {
    const types = columnTypes(kind);
    const keys = keyGetters[kind];
    const valueCount = VALUE_COLUMNS[kind].length;
    for (let start = 0; start < rows.length; start += CHUNK_ROWS) {
      const n = Math.min(CHUNK_ROWS, rows.length - start);
      const chunk = DuckDBDataChunk.create(types, n);
      const fill = (column: number, get: (r: Row) => bigint | string | number): void => {
        const vector: DuckDBVector = chunk.getColumnVector(column);
        for (let i = 0; i < n; i++) vector.setItem(i, get(rows[start + i] as Row));
        vector.flush();
      };
      fill(0, (r) => BigInt(r.second));
      keys.forEach((get, k) => fill(1 + k, get));
      for (let v = 0; v < valueCount; v++) fill(1 + keys.length + v, (r) => valueOf(kind, r, v));
      appender.appendDataChunk(chunk);
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}
