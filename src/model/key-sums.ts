/**
 * Sums delta rows per (bucket, key) in chunks, for the rollup flush: rows are additive and come
 * from many store writes; a rollup table wants one row per key and bucket. The sums are laid out
 * column-major (field f of row r at f * chunkRows + r), the layout of a DuckDB data chunk, so
 * each field is handed over as one array. Memory: the key index plus one slab of chunkRows x
 * width, however many keys there are (a dense vector per key was ~2 KB each).
 */
import { TupleIndex } from './delta-builder.ts';
import { groupRows } from './group-rows.ts';
import { arityOf, deltaStrings, vecStart, widthOf, type Delta, type RecordKind } from './delta.ts';
import { addSparseStrided } from './sparse-vector.ts';

export interface KeySumChunk {
  /** Rows (distinct keys) in this chunk. */
  rows: number;
  /** Bucket start of each row. */
  bucket: Float64Array;
  /** rows * arity ids into `names`. */
  keys: Uint32Array;
  names: readonly string[];
  /** Column-major sums: field f of row r at f * stride + r. */
  columns: Float64Array;
  stride: number;
}

const floorTo = (second: number, width: number): number => second - (((second % width) + width) % width);

/**
 * Yields the sums of `kind`'s rows of `delta` per (bucket of `bucketSeconds`, key), at most
 * `chunkRows` keys at a time (concatDeltas joins several deltas into one first). A chunk's arrays
 * are reused: consume it before asking for the next.
 */
export function* sumByKey(joined: Delta, kind: RecordKind, bucketSeconds: number, chunkRows = 2048): Generator<KeySumChunk> {
  const part = joined[kind];
  if (part.rows === 0) return;
  const names = deltaStrings(joined);
  const arity = arityOf(kind);
  const width = widthOf(kind);
  const index = new TupleIndex(arity);
  const slotOf = new Int32Array(part.rows);
  for (let i = 0; i < part.rows; i++) slotOf[i] = index.slotOf(floorTo(part.second[i] as number, bucketSeconds), part.keys, i * arity);
  const slots = index.size;
  const { start, rows: rowsBySlot } = groupRows(slotOf, slots);
  const stride = Math.min(chunkRows, slots);
  const columns = new Float64Array(stride * width);
  for (let first = 0; first < slots; first += stride) {
    const n = Math.min(stride, slots - first);
    columns.fill(0);
    for (let r = 0; r < n; r++) {
      const s = first + r;
      for (let j = start[s] as number; j < (start[s + 1] as number); j++) {
        const i = rowsBySlot[j] as number;
        addSparseStrided(part.vec, vecStart(part, i), part.vecEnd[i] as number, width, columns, r, stride);
      }
    }
    yield { rows: n, bucket: index.seconds.subarray(first, first + n), keys: index.keys.subarray(first * arity, (first + n) * arity), names, columns, stride };
  }
}
