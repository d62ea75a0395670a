/**
 * Sums delta rows per (bucket, key) in chunks, for the rollup flush: rows are additive and come
 * from many store writes; a rollup table wants one row per key and bucket. A sum row stays
 * sparse (its non-zero fields' indexes, ascending, and their sums), the layout of the rollup
 * tables' field lists, and costs what its rows' non-zero fields cost, not the record width (an
 * edge row has ~265 fields of which ~15 are non-zero). Memory: the key index plus one chunk.
 */
import { TupleIndex } from './delta-builder.ts';
import { groupRows } from './group-rows.ts';
import { arityOf, deltaStrings, vecStart, widthOf, type Delta, type RecordKind } from './delta.ts';
import { addSparseTracked } from './sparse-vector.ts';

export interface KeySumChunk {
  /** Rows (distinct keys) in this chunk. */
  rows: number;
  /** Bucket start of each row. */
  bucket: Float64Array;
  /** rows * arity ids into `names`. */
  keys: Uint32Array;
  names: readonly string[];
  /** Row r's fields are ids[fieldStart[r], fieldStart[r + 1]) (ascending), their sums the same span of `sums`. */
  fieldStart: Uint32Array;
  ids: Uint32Array;
  sums: Float64Array;
}

const floorTo = (second: number, width: number): number => second - (((second % width) + width) % width);

/**
 * Yields the sums of `kind`'s rows of `delta` per (bucket of `bucketSeconds`, key), at most
 * `chunkRows` keys at a time (concatDeltas joins several deltas into one first). A chunk's arrays
 * are reused: consume it before asking for the next.
 */
export function* sumByKey(joined: Delta, kind: RecordKind, bucketSeconds: number, chunkRows = 2048): Generator<KeySumChunk> {
  if (joined[kind].rows === 0) return;
  const names = deltaStrings(joined);
  for (const chunk of sumRowsByKey(joined, kind, bucketSeconds, chunkRows)) yield { ...chunk, names };
}

/** sumByKey without the names: its callers that have the string table already do not decode it again. */
function* sumRowsByKey(joined: Delta, kind: RecordKind, bucketSeconds: number, chunkRows: number): Generator<Omit<KeySumChunk, 'names'>> {
  const part = joined[kind];
  if (part.rows === 0) return;
  const arity = arityOf(kind);
  const width = widthOf(kind);
  const index = new TupleIndex(arity);
  const slotOf = new Int32Array(part.rows);
  for (let i = 0; i < part.rows; i++) slotOf[i] = index.slotOf(floorTo(part.second[i] as number, bucketSeconds), part.keys, i * arity);
  const slots = index.size;
  const { start, rows: rowsBySlot } = groupRows(slotOf, slots);
  const stride = Math.min(chunkRows, slots);
  const { scratch, seen, touched } = denseScratch(width);
  const fieldStart = new Uint32Array(stride + 1);
  let ids = new Uint32Array(stride * 16);
  let sums = new Float64Array(stride * 16);
  for (let first = 0; first < slots; first += stride) {
    const n = Math.min(stride, slots - first);
    let at = 0;
    for (let r = 0; r < n; r++) {
      const s = first + r;
      let count = 0;
      for (let j = start[s] as number; j < (start[s + 1] as number); j++) {
        const i = rowsBySlot[j] as number;
        count = addSparseTracked(part.vec, vecStart(part, i), part.vecEnd[i] as number, width, scratch, seen, touched, count);
      }
      const fields = touched.subarray(0, count);
      // One row (the common case) touches its fields in order already.
      if ((start[s + 1] as number) - (start[s] as number) > 1) fields.sort();
      if (at + count > ids.length) {
        const grown = Math.max(ids.length * 2, at + count);
        const nextIds = new Uint32Array(grown);
        nextIds.set(ids.subarray(0, at));
        ids = nextIds;
        const nextSums = new Float64Array(grown);
        nextSums.set(sums.subarray(0, at));
        sums = nextSums;
      }
      fieldStart[r] = at;
      for (let k = 0; k < count; k++) {
        const f = fields[k] as number;
        ids[at] = f;
        sums[at++] = scratch[f] as number;
        scratch[f] = 0;
        seen[f] = 0;
      }
    }
    fieldStart[n] = at;
    yield { rows: n, bucket: index.seconds.subarray(first, first + n), keys: index.keys.subarray(first * arity, (first + n) * arity), fieldStart, ids, sums };
  }
}

interface DenseScratch {
  scratch: Float64Array;
  seen: Uint8Array;
  touched: Uint32Array;
}
const scratchByWidth = new Map<number, DenseScratch>();

/**
 * The dense sums of one row being folded, per vector width, kept for the thread's life (an edge
 * row is ~551,000 fields wide with its client cells: too wide to allocate per call). Safe to
 * share: a row is folded and its scratch zeroed again before any chunk is yielded.
 */
function denseScratch(width: number): DenseScratch {
  let s = scratchByWidth.get(width);
  if (s === undefined) scratchByWidth.set(width, (s = { scratch: new Float64Array(width), seen: new Uint8Array(width), touched: new Uint32Array(width) }));
  return s;
}

/** Every sum row of one (kind, bucket width), materialized: what a worker thread hands back. */
export interface KeySums {
  rows: number;
  bucket: Float64Array;
  /** rows * arity ids into the summed delta's string table. */
  keys: Uint32Array;
  /** Row r's fields are ids[fieldStart[r], fieldStart[r + 1]); rows + 1 entries. */
  fieldStart: Uint32Array;
  ids: Uint32Array;
  sums: Float64Array;
}

/** sumByKey of `kind` for each bucket width, each into arrays of its own (transferable). */
export function sumAllByKey(joined: Delta, kind: RecordKind, bucketSeconds: readonly number[]): KeySums[] {
  return bucketSeconds.map((width) => {
    // One chunk holding every key: its arrays are this call's alone.
    for (const c of sumRowsByKey(joined, kind, width, Number.MAX_SAFE_INTEGER)) {
      const total = c.fieldStart[c.rows] as number;
      return { rows: c.rows, bucket: c.bucket, keys: c.keys, fieldStart: c.fieldStart.subarray(0, c.rows + 1), ids: c.ids.subarray(0, total), sums: c.sums.subarray(0, total) };
    }
    return { rows: 0, bucket: new Float64Array(0), keys: new Uint32Array(0), fieldStart: new Uint32Array(1), ids: new Uint32Array(0), sums: new Float64Array(0) };
  });
}

/** The rows of `sums` as chunks of at most `chunkRows` (views, no copies); `names` is the summed delta's string table. */
export function* chunksOf(sums: KeySums, names: readonly string[], arity: number, chunkRows = 2048): Generator<KeySumChunk> {
  for (let first = 0; first < sums.rows; first += chunkRows) {
    const n = Math.min(chunkRows, sums.rows - first);
    yield {
      rows: n,
      bucket: sums.bucket.subarray(first, first + n),
      keys: sums.keys.subarray(first * arity, (first + n) * arity),
      names,
      fieldStart: sums.fieldStart.subarray(first, first + n + 1),
      ids: sums.ids,
      sums: sums.sums,
    };
  }
}
