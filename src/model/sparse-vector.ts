/**
 * The sparse encoding of a record vector: only its non-zero fields, each as the gap since the
 * previous non-zero index plus the value. The WAL payload (docs/wal.md) and the DuckDB 1 s tier
 * (docs/store.md) both store vectors this way, since a record sets ~15 of ~265 fields.
 *
 *   varint K (non-zero fields), then K times: varint(gap*2) varint(value)   for a safe integer >= 0
 *                                          or varint(gap*2+1) f64(value)   otherwise
 *
 * Varints are unsigned LEB128 of integers below 2^53. Hot path (every WAL entry and every 1 s
 * row written or read): no allocation per field, plain arithmetic on a byte buffer.
 */

/** Upper bound of the encoded size of a vector of `length` fields. */
export const sparseVectorMaxBytes = (length: number): number => 8 + length * 16;

/** Writes a varint at `pos`; returns the position after it. Arithmetic, since bit operators stop at 2^31. */
export function writeVarint(buf: Uint8Array, pos: number, v: number): number {
  while (v >= 128) {
    buf[pos++] = (v % 128) | 128;
    v = Math.floor(v / 128);
  }
  buf[pos++] = v;
  return pos;
}

const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);

/**
 * One entry of a sparse vector: the gap since the last field written, then the value (a varint
 * for a non-negative safe integer, else 8 bytes of float64, told apart by the gap's low bit).
 * Returns the position after it.
 */
export function writeSparseEntry(buf: Uint8Array, pos: number, gap: number, v: number): number {
  if (Number.isSafeInteger(v) && v >= 0) return writeVarint(buf, writeVarint(buf, pos, gap * 2), v);
  pos = writeVarint(buf, pos, gap * 2 + 1);
  f64[0] = v;
  buf.set(f64Bytes, pos);
  return pos + 8;
}

/** Upper bound of the encoded size of `n` (index, value) pairs. */
export const sparsePairsMaxBytes = (n: number): number => 8 + n * 16;

/**
 * Encodes the vector whose non-zero fields are ids[0, n) (strictly ascending) with `values`
 * beside them (zeros are left out), as writeSparseVector would the dense vector: for the wide
 * distribution vectors, which are never dense. Returns the position after it.
 */
export function writeSparsePairs(buf: Uint8Array, pos: number, ids: ArrayLike<number>, values: ArrayLike<number>, n: number): number {
  let nonZero = 0;
  for (let k = 0; k < n; k++) if (values[k] !== 0) nonZero++;
  pos = writeVarint(buf, pos, nonZero);
  let last = -1;
  for (let k = 0; k < n; k++) {
    const v = values[k] as number;
    if (v === 0) continue;
    const i = ids[k] as number;
    if (i <= last) throw new RangeError(`field index ${i} is not above ${last}`);
    pos = writeSparseEntry(buf, pos, i - last - 1, v);
    last = i;
  }
  return pos;
}

/**
 * Encodes `values` into `buf` at `pos` (which must have sparseVectorMaxBytes(values.length)
 * bytes free); returns the position after it. -0 is written as 0 would be: nothing.
 */
export function writeSparseVector(buf: Uint8Array, pos: number, values: Float64Array): number {
  let nonZero = 0;
  for (let i = 0; i < values.length; i++) if (values[i] !== 0) nonZero++;
  pos = writeVarint(buf, pos, nonZero);
  let last = -1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (v === 0) continue;
    pos = writeSparseEntry(buf, pos, i - last - 1, v);
    last = i;
  }
  return pos;
}

/** A cursor over encoded bytes; every read checks the bounds and throws a RangeError past them. */
export class ByteReader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    pos = 0,
    private readonly what = 'payload',
  ) {
    this.pos = pos;
  }
  need(n: number): void {
    if (this.pos + n > this.buf.length) throw new RangeError(`${this.what} ends early`);
  }
  varint(): number {
    let v = 0;
    let scale = 1;
    for (;;) {
      this.need(1);
      const b = this.buf[this.pos++] as number;
      v += (b & 127) * scale;
      if (b < 128) return v;
      scale *= 128;
      if (scale > 2 ** 56) throw new RangeError(`${this.what} varint too long`);
    }
  }
  f64(): number {
    this.need(8);
    for (let i = 0; i < 8; i++) f64Bytes[i] = this.buf[this.pos + i] as number;
    this.pos += 8;
    return f64[0] as number;
  }
  get done(): boolean {
    return this.pos === this.buf.length;
  }
}

/**
 * Reads one sparse vector of `length` fields at the reader's position, calling `visit` for each
 * non-zero field in index order. Throws a RangeError on an index past `length`.
 */
export function readSparseVector(r: ByteReader, length: number, visit: (index: number, value: number) => void): void {
  let index = -1;
  for (let n = r.varint(); n > 0; n--) {
    const tag = r.varint();
    index += Math.floor(tag / 2) + 1;
    if (index >= length) throw new RangeError(`field index ${index} out of range`);
    visit(index, tag % 2 === 0 ? r.varint() : r.f64());
  }
}

/** Adds the vector encoded in `bytes` (nothing else) into `into`. */
export function addSparseVector(bytes: Uint8Array, into: Float64Array): void {
  const r = new ByteReader(bytes, 0, 'vector');
  readSparseVector(r, into.length, (i, v) => {
    into[i] = (into[i] as number) + v;
  });
  if (!r.done) throw new RangeError('vector has trailing bytes');
}

/**
 * Adds the vector encoded in buf[start, end) into the dense scratch `into` (indexes below
 * `length`) and appends each index it touches for the first time (`seen[i]` 0) to `touched` from
 * position `count`; returns the new count. How the rollup sums fold rows sparsely: the cost
 * follows the non-zero fields, not the width. Throws a RangeError on malformed bytes.
 */
export function addSparseTracked(buf: Uint8Array, start: number, end: number, length: number, into: Float64Array, seen: Uint8Array, touched: Uint32Array, count: number): number {
  // No closure for the varints: this runs for every row the rollups fold, and a closure per call
  // costs an allocation, plus a defineProperty under tsx's keepNames.
  let index = -1;
  let touchedCount = count;
  let n = varintAt(buf, start, end);
  let pos = varintEnd;
  for (; n > 0; n--) {
    const tag = varintAt(buf, pos, end);
    pos = varintEnd;
    index += Math.floor(tag / 2) + 1;
    if (index >= length) throw new RangeError(`field index ${index} out of range`);
    let v: number;
    if (tag % 2 === 0) {
      v = varintAt(buf, pos, end);
      pos = varintEnd;
    } else {
      if (pos + 8 > end) throw new RangeError('vector ends early');
      for (let i = 0; i < 8; i++) f64Bytes[i] = buf[pos + i] as number;
      pos += 8;
      v = f64[0] as number;
    }
    if (seen[index] === 0) {
      seen[index] = 1;
      touched[touchedCount++] = index;
    }
    into[index] = (into[index] as number) + v;
  }
  return touchedCount;
}

/**
 * Adds the fields below `counters` of the vector encoded in buf[start, end) into
 * `into[offset + field]` (the rest, e.g. distribution buckets after the counters, are skipped):
 * a row's counters summed without a closure or a reader per row. Throws a RangeError on
 * malformed bytes.
 */
export function addSparsePrefix(buf: Uint8Array, start: number, end: number, into: Float64Array, offset: number, counters: number): void {
  let index = -1;
  let n = varintAt(buf, start, end);
  let pos = varintEnd;
  for (; n > 0; n--) {
    const tag = varintAt(buf, pos, end);
    pos = varintEnd;
    index += Math.floor(tag / 2) + 1;
    let v: number;
    if (tag % 2 === 0) {
      v = varintAt(buf, pos, end);
      pos = varintEnd;
    } else {
      if (pos + 8 > end) throw new RangeError('vector ends early');
      for (let i = 0; i < 8; i++) f64Bytes[i] = buf[pos + i] as number;
      pos += 8;
      v = f64[0] as number;
    }
    if (index < counters) into[offset + index] = (into[offset + index] as number) + v;
  }
}

/** Where the varint varintAt read last ends (its second result: module state, since reads are synchronous). */
let varintEnd = 0;

/** The varint at buf[pos..end); sets varintEnd. Throws a RangeError on one cut short or too long. */
function varintAt(buf: Uint8Array, pos: number, end: number): number {
  let v = 0;
  for (let scale = 1; ; scale *= 128) {
    if (pos >= end) throw new RangeError('vector ends early');
    const b = buf[pos++] as number;
    v += (b & 127) * scale;
    if (b < 128) break;
    if (scale > 2 ** 49) throw new RangeError('vector varint too long');
  }
  varintEnd = pos;
  return v;
}
