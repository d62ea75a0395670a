/**
 * Writes records into one table through DuckDB's Appender fed with whole data chunks, in either
 * layout (schema.ts): the 1 s tier (a write_id, and for edge / origin one sparse BLOB `vec`) or
 * a rollup tier (one DOUBLE column per field).
 * Hot path (every store write): numbers go straight into the chunk's typed vectors, one native
 * call per column and chunk; sparse vectors are encoded into a shared arena, not one buffer each.
 * The Appender joins the connection's open transaction, so a write stays atomic.
 */
import {
  BIGINT,
  BLOB,
  DOUBLE,
  VARCHAR,
  DuckDBBlobValue,
  DuckDBDataChunk,
  type DuckDBConnection,
  type DuckDBType,
  type DuckDBValue,
  type DuckDBVector,
} from '@duckdb/node-api';
import type { DimensionRecord, EdgeRecord, OriginRecord } from '../../model/record.ts';
import { sparseVectorMaxBytes, writeSparseVector } from '../../model/sparse-vector.ts';
import type { Tier } from '../store.ts';
import { isSparse, VALUE_COLUMNS, type RecordKind } from './schema.ts';

// DuckDB's standard vector size: the most rows one data chunk holds.
const CHUNK_ROWS = 2048;
const ARENA_BYTES = 256 * 1024;

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

/** Sparse encodings of many vectors, carved from large shared buffers. */
function createArena(): (values: Float64Array) => Uint8Array {
  let buf = Buffer.allocUnsafe(ARENA_BYTES);
  let used = 0;
  return (values) => {
    const max = sparseVectorMaxBytes(values.length);
    if (used + max > buf.length) {
      buf = Buffer.allocUnsafe(Math.max(ARENA_BYTES, max));
      used = 0;
    }
    const start = used;
    used = writeSparseVector(buf, used, values);
    return buf.subarray(start, used);
  };
}

/** One column of the table: its type and how to fill it for rows [start, start + n). */
interface Column {
  type: DuckDBType;
  value: (r: Row) => DuckDBValue;
}

function columnsOf(kind: RecordKind, tier: Tier, writeId: number): Column[] {
  const columns: Column[] = [{ type: BIGINT, value: (r) => BigInt(r.second) }];
  for (const get of keyGetters[kind]) columns.push({ type: VARCHAR, value: get });
  if (tier === '1s') {
    const id = BigInt(writeId);
    columns.push({ type: BIGINT, value: () => id });
  }
  if (isSparse(kind, tier)) {
    const encode = createArena();
    columns.push({ type: BLOB, value: (r) => new DuckDBBlobValue(encode((r as EdgeRecord | OriginRecord).values)) });
  } else {
    VALUE_COLUMNS[kind].forEach((_, v) => columns.push({ type: DOUBLE, value: (r) => valueOf(kind, r, v) }));
  }
  return columns;
}

/**
 * Appends `rows` to `<kind>_<tier>`; call inside a transaction for atomicity. `writeId` is
 * stored with 1 s rows (ignored for rollup tiers).
 */
export async function appendRows(connection: DuckDBConnection, kind: RecordKind, tier: Tier, rows: readonly Row[], writeId = 0): Promise<void> {
  if (rows.length === 0) return;
  const appender = await connection.createAppender(`${kind}_${tier}`);
  try {
    const columns = columnsOf(kind, tier, writeId);
    const types = columns.map((c) => c.type);
    for (let start = 0; start < rows.length; start += CHUNK_ROWS) {
      const n = Math.min(CHUNK_ROWS, rows.length - start);
      const chunk = DuckDBDataChunk.create(types, n);
      columns.forEach((column, c) => {
        const vector: DuckDBVector = chunk.getColumnVector(c);
        for (let i = 0; i < n; i++) vector.setItem(i, column.value(rows[start + i] as Row));
        vector.flush();
      });
      appender.appendDataChunk(chunk);
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}
