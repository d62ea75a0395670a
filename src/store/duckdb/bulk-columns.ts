/**
 * Bulk writes of DOUBLE columns into a DuckDB data chunk: one native copy per column instead of
 * one `setItem` per cell. A rollup row has ~265 DOUBLE columns of which ~15 are non-zero, so the
 * per-cell path cost a JS call per zero (93M calls for 350K rows). `@duckdb/node-api` keeps its
 * vectors' buffers private, so this goes to the C API binding it is built on - loaded through
 * node-api's own resolution, so it is the very copy node-api uses (a second copy of the native
 * module would not share its handles).
 */
import { createRequire } from 'node:module';
import type { DuckDBDataChunk } from '@duckdb/node-api';

interface Bindings {
  data_chunk_get_vector(chunk: unknown, column: number): unknown;
  copy_data_to_vector(vector: unknown, targetByteOffset: number, source: ArrayBuffer, sourceByteOffset: number, byteCount: number): void;
}

const requireFromNodeApi = createRequire(createRequire(import.meta.url).resolve('@duckdb/node-api'));
const bindings = requireFromNodeApi('@duckdb/node-bindings') as Bindings;

/**
 * Sets column `column` (DOUBLE, no NULLs) of a chunk created for `values.length` or more rows to
 * `values`. A new chunk's validity is all-valid, which is what a NOT NULL column needs.
 */
export function setDoubleColumn(chunk: DuckDBDataChunk, column: number, values: Float64Array): void {
  const vector = bindings.data_chunk_get_vector(chunk.chunk, column);
  bindings.copy_data_to_vector(vector, 0, values.buffer as ArrayBuffer, values.byteOffset, values.byteLength);
}

interface ListBindings {
  list_vector_reserve(vector: unknown, capacity: number): void;
  list_vector_set_size(vector: unknown, size: number): void;
  list_vector_get_child(vector: unknown): unknown;
}
const listBindings = bindings as unknown as ListBindings & Bindings;

/**
 * Sets column `column` (a LIST, no NULLs) of a chunk: row r's list is `child[offset[r] ..
 * offset[r] + length[r])`. `entries` holds DuckDB's list entries, row by row a little-endian
 * uint64 offset and uint64 length as four uint32 words; `child` the values back to back (a typed
 * array of the child type's width: Uint32Array for UINTEGER, Float64Array for DOUBLE).
 */
export function setListColumn(chunk: DuckDBDataChunk, column: number, entries: Uint32Array, child: Uint32Array | Float64Array): void {
  const vector = listBindings.data_chunk_get_vector(chunk.chunk, column);
  listBindings.list_vector_reserve(vector, child.length);
  listBindings.list_vector_set_size(vector, child.length);
  listBindings.copy_data_to_vector(vector, 0, entries.buffer as ArrayBuffer, entries.byteOffset, entries.byteLength);
  // After the reserve: it may have moved the child's buffer.
  if (child.length > 0) listBindings.copy_data_to_vector(listBindings.list_vector_get_child(vector), 0, child.buffer as ArrayBuffer, child.byteOffset, child.byteLength);
}
