/**
 * Writes summed rows into a rollup table (schema.ts: field lists for edge and origin rows, a
 * DOUBLE column per field for dimension rows) through DuckDB's Appender fed with whole data
 * chunks, and any other table from rows of values (the 1 s blocks). Hot path (every rollup
 * flush): numbers go straight into the chunk's vectors, one native call per list or column and
 * chunk. The Appender joins the connection's open transaction, so a write stays atomic.
 */
import {
  BIGINT,
  DOUBLE,
  LIST,
  UINTEGER,
  VARCHAR,
  DuckDBDataChunk,
  type DuckDBAppender,
  type DuckDBConnection,
  type DuckDBType,
  type DuckDBValue,
  type DuckDBVector,
} from '@duckdb/node-api';
import type { KeySumChunk } from '../../model/key-sums.ts';
import { setDoubleColumn, setListColumn } from './bulk-columns.ts';
import { isSparseKind, KEY_COLUMNS, VALUE_COLUMNS, type RecordKind } from './schema.ts';

// DuckDB's standard vector size: the most rows one data chunk holds.
const CHUNK_ROWS = 2048;

/** One column of a table: its type and its value for a row. */
export interface Column<T> {
  type: DuckDBType;
  value: (r: T) => DuckDBValue;
}

/** Appends `rows` to `table`, whose columns `columns` fill in order; call inside a transaction for atomicity. */
export async function appendTable<T>(connection: DuckDBConnection, table: string, columns: readonly Column<T>[], rows: readonly T[]): Promise<void> {
  if (rows.length === 0) return;
  const appender = await connection.createAppender(table);
  try {
    const types = columns.map((c) => c.type);
    for (let start = 0; start < rows.length; start += CHUNK_ROWS) {
      const n = Math.min(CHUNK_ROWS, rows.length - start);
      const chunk = DuckDBDataChunk.create(types, n);
      columns.forEach((column, c) => {
        const vector: DuckDBVector = chunk.getColumnVector(c);
        for (let i = 0; i < n; i++) vector.setItem(i, column.value(rows[start + i] as T));
        vector.flush();
      });
      appender.appendDataChunk(chunk);
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}

/** DuckDB list entries of rows [first, first + n) of a sum chunk: per row offset and length (uint64 each) as four uint32 words. */
function listEntriesOf(sums: KeySumChunk, first: number, n: number): Uint32Array {
  const entries = new Uint32Array(n * 4);
  const base = sums.fieldStart[first] as number;
  for (let r = 0; r < n; r++) {
    const from = sums.fieldStart[first + r] as number;
    entries[r * 4] = from - base;
    entries[r * 4 + 2] = (sums.fieldStart[first + r + 1] as number) - from;
  }
  return entries;
}

/** Rows [first, first + n) of a sum chunk as dense columns: field f of row r at f * n + r. */
function denseColumnsOf(sums: KeySumChunk, width: number, first: number, n: number): Float64Array {
  const columns = new Float64Array(width * n);
  for (let r = 0; r < n; r++) {
    for (let j = sums.fieldStart[first + r] as number; j < (sums.fieldStart[first + r + 1] as number); j++) columns[(sums.ids[j] as number) * n + r] = sums.sums[j] as number;
  }
  return columns;
}

/**
 * Appends summed rows (model/key-sums.ts) to a rollup table: the bucket and key columns cell by
 * cell, the fields in one native copy each (a DOUBLE column per field for dimension rows, the
 * two lists of the sparse layout for edge and origin rows: schema.ts). Call inside a
 * transaction for atomicity.
 */
export async function appendKeySums(connection: DuckDBConnection, table: string, kind: RecordKind, chunks: Iterable<KeySumChunk>): Promise<void> {
  const arity = KEY_COLUMNS[kind].length;
  const width = VALUE_COLUMNS[kind].length;
  const sparse = isSparseKind(kind);
  const valueTypes = sparse ? [LIST(UINTEGER), LIST(DOUBLE)] : VALUE_COLUMNS[kind].map(() => DOUBLE);
  const types: DuckDBType[] = [BIGINT, ...KEY_COLUMNS[kind].map(() => VARCHAR), ...valueTypes];
  let appender: DuckDBAppender | undefined;
  try {
    for (const sums of chunks) {
      appender ??= await connection.createAppender(table);
      for (let first = 0; first < sums.rows; first += CHUNK_ROWS) {
        const n = Math.min(CHUNK_ROWS, sums.rows - first);
        const chunk = DuckDBDataChunk.create(types, n);
        const bucket = chunk.getColumnVector(0);
        for (let r = 0; r < n; r++) bucket.setItem(r, BigInt(sums.bucket[first + r] as number));
        bucket.flush();
        for (let k = 0; k < arity; k++) {
          const column = chunk.getColumnVector(1 + k);
          for (let r = 0; r < n; r++) column.setItem(r, sums.names[sums.keys[(first + r) * arity + k] as number] as string);
          column.flush();
        }
        if (sparse) {
          const entries = listEntriesOf(sums, first, n);
          const from = sums.fieldStart[first] as number;
          const to = sums.fieldStart[first + n] as number;
          setListColumn(chunk, 1 + arity, entries, sums.ids.subarray(from, to));
          setListColumn(chunk, 2 + arity, entries, sums.sums.subarray(from, to));
        } else {
          const columns = denseColumnsOf(sums, width, first, n);
          for (let f = 0; f < width; f++) setDoubleColumn(chunk, 1 + arity + f, columns.subarray(f * n, (f + 1) * n));
        }
        appender.appendDataChunk(chunk);
      }
      // A flush of a busy minute is hundreds of chunks, all synchronous: give the event loop a
      // turn between them, so ingest answers and real-time reads are not held for the whole flush.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    appender?.flushSync();
  } finally {
    appender?.closeSync();
  }
}
