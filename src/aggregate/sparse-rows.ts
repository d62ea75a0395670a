/**
 * The rows of one record kind (edge or origin) in one second of the window, in typed arrays:
 * no JS object per key. A row is (service, outer, inner) as ids (outer = datacenter, inner =
 * domain or backend; products are summed away) and its counter vector in the sparse varint
 * encoding of src/model/sparse-vector.ts, copied as is from the delta that brought it.
 *
 * Two regions:
 * - the base: compacted, one row per distinct key, grouped by service (each service's rows and
 *   vector bytes are contiguous), in exact-size arrays; the service is implied by the group;
 * - the tail: rows appended since the last compaction (any order, duplicate keys allowed), each
 *   linked to the next row of its service, so reading one service touches only its rows.
 * `compact()` sums the tail into a new base (SlotVectors), at most doubling rows between
 * compactions, so appends cost O(1) amortized and a second settles into exact-size arrays.
 *
 * Services are numbered per second by the caller (`slot`, 0..); a slot's rows are read back with
 * collectRows() into a reusable cursor.
 */
import { PartWriter } from '../model/delta.ts';
import { SlotVectors, SplitSlotSums, type SlotSums } from '../model/delta-builder.ts';

/** Per service slot: base start, base count, tail head, tail last (-1: none). */
const STRIDE = 4;
const TAIL_ROWS = 32;
const TAIL_BYTES = 2048;
/** Bytes of the second's JS objects (this instance, its typed array headers), for the budget. */
const OBJECT_BYTES = 400;

const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);

/** Where the rows of one service slot are: filled by collectRows, reused across reads. */
export class RowCursor {
  count = 0;
  outer = new Int32Array(256);
  inner = new Int32Array(256);
  start = new Uint32Array(256);
  end = new Uint32Array(256);
  /** 1 when the row's bytes are in the tail, 0 in the base. */
  inTail = new Uint8Array(256);
  push(outer: number, inner: number, start: number, end: number, inTail: number): void {
    const n = this.count;
    if (n === this.outer.length) {
      const grow = <T extends Int32Array | Uint32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
        const b = make(n * 2);
        b.set(a);
        return b;
      };
      this.outer = grow(this.outer, (k) => new Int32Array(k));
      this.inner = grow(this.inner, (k) => new Int32Array(k));
      this.start = grow(this.start, (k) => new Uint32Array(k));
      this.end = grow(this.end, (k) => new Uint32Array(k));
      this.inTail = grow(this.inTail, (k) => new Uint8Array(k));
    }
    this.outer[n] = outer;
    this.inner[n] = inner;
    this.start[n] = start;
    this.end[n] = end;
    this.inTail[n] = inTail;
    this.count = n + 1;
  }
}

// Compaction scratch, shared by every instance (compactions never interleave).
const scratchOut = new PartWriter(2);
const scratchIndex = new Map<number, number>();
const scratchCursor = new RowCursor();
/** Per (counters, vector width): the compaction sums (counters dense, distribution buckets sparse). */
const sumsByWidth = new Map<string, SlotSums>();
/** outer * 2^26 + inner: a unique number for ids below 2^26 (checked on append). */
const PAIR = 2 ** 26;

export class SecondRows {
  private svc: Int32Array = new Int32Array(0);
  private slots = 0;
  private baseRows = 0;
  /** outer, inner per base row. */
  baseKeys: Uint32Array = new Uint32Array(0);
  baseEnd: Uint32Array = new Uint32Array(0);
  baseVec: Uint8Array = new Uint8Array(0);
  private tailRows = 0;
  /** slot, outer, inner per tail row. */
  private tailKeys: Int32Array = new Int32Array(0);
  private tailNext: Int32Array = new Int32Array(0);
  tailEnd: Uint32Array = new Uint32Array(0);
  tailVec: Uint8Array = new Uint8Array(0);
  private tailVecLength = 0;

  /**
   * `width`: the counters, which reads sum densely; `vectorWidth`: the whole vector (counters,
   * then distribution buckets, model/delta.ts), which compaction keeps.
   */
  constructor(
    readonly width: number,
    readonly vectorWidth = width,
  ) {}

  /** Rows held: distinct keys of the base plus every tail row (duplicates until compacted). */
  get rows(): number {
    return this.baseRows + this.tailRows;
  }

  /** Whether the tail has reached the size that calls for a compaction (it doubles the base at most). */
  get wantsCompaction(): boolean {
    return this.tailRows >= Math.max(1024, this.baseRows);
  }

  get hasTail(): boolean {
    return this.tailRows > 0;
  }

  /** Appends a row: the vector is bytes [start, end) of `src`. */
  append(slot: number, outer: number, inner: number, src: Uint8Array, start: number, end: number): void {
    if (outer >= PAIR || inner >= PAIR) throw new RangeError('window name id out of range');
    if (slot >= this.slots) this.addSlots(slot + 1);
    const row = this.tailRows;
    const len = end - start;
    if (row === this.tailEnd.length) this.growTailRows();
    if (this.tailVecLength + len > this.tailVec.length) this.growTailVec(this.tailVecLength + len);
    const vec = this.tailVec;
    let pos = this.tailVecLength;
    for (let i = start; i < end; i++) vec[pos++] = src[i] as number;
    this.tailVecLength = pos;
    this.tailEnd[row] = pos;
    this.tailKeys[row * 3] = slot;
    this.tailKeys[row * 3 + 1] = outer;
    this.tailKeys[row * 3 + 2] = inner;
    this.tailNext[row] = -1;
    const at = slot * STRIDE;
    const last = this.svc[at + 3] as number;
    if (last < 0) this.svc[at + 2] = row;
    else this.tailNext[last] = row;
    this.svc[at + 3] = row;
    this.tailRows = row + 1;
  }

  /** Whether the slot has rows. */
  has(slot: number): boolean {
    if (slot >= this.slots) return false;
    const at = slot * STRIDE;
    return (this.svc[at + 1] as number) > 0 || (this.svc[at + 2] as number) >= 0;
  }

  /** The rows of `slot` into `c` (reset first): base rows, then tail rows in append order. */
  collect(slot: number, c: RowCursor): void {
    c.count = 0;
    if (slot >= this.slots) return;
    const at = slot * STRIDE;
    const first = this.svc[at] as number;
    const count = this.svc[at + 1] as number;
    for (let r = first; r < first + count; r++) {
      c.push(this.baseKeys[r * 2] as number, this.baseKeys[r * 2 + 1] as number, r === 0 ? 0 : (this.baseEnd[r - 1] as number), this.baseEnd[r] as number, 0);
    }
    for (let r = this.svc[at + 2] as number; r >= 0; r = this.tailNext[r] as number) {
      c.push(this.tailKeys[r * 3 + 1] as number, this.tailKeys[r * 3 + 2] as number, r === 0 ? 0 : (this.tailEnd[r - 1] as number), this.tailEnd[r] as number, 1);
    }
  }

  /** Sums the tail into the base: one row per distinct key, grouped by slot, exact-size arrays. */
  compact(): void {
    if (this.tailRows === 0) return;
    const { width, vectorWidth } = this;
    const which = `${width}/${vectorWidth}`;
    let sums = sumsByWidth.get(which);
    if (sums === undefined) sumsByWidth.set(which, (sums = vectorWidth > width ? new SplitSlotSums(width, vectorWidth) : new SlotVectors(width, 256)));
    const w = scratchOut;
    w.rows = 0;
    w.vecLength = 0;
    const svc = new Int32Array(this.slots * STRIDE);
    for (let slot = 0; slot < this.slots; slot++) {
      const at = slot * STRIDE;
      svc[at] = w.rows;
      svc[at + 2] = -1;
      svc[at + 3] = -1;
      if ((this.svc[at + 2] as number) < 0) {
        // No tail rows: the base group is copied as it is.
        const first = this.svc[at] as number;
        for (let r = first; r < first + (this.svc[at + 1] as number); r++) {
          const start = r === 0 ? 0 : (this.baseEnd[r - 1] as number);
          const end = this.baseEnd[r] as number;
          w.reserve(end - start);
          w.keys[w.rows * 2] = this.baseKeys[r * 2] as number;
          w.keys[w.rows * 2 + 1] = this.baseKeys[r * 2 + 1] as number;
          const vec = w.vec;
          let pos = w.vecLength;
          for (let i = start; i < end; i++) vec[pos++] = this.baseVec[i] as number;
          w.vecLength = pos;
          w.endRow(0);
        }
      } else {
        this.collect(slot, scratchCursor);
        const c = scratchCursor;
        scratchIndex.clear();
        const keys: number[] = [];
        for (let i = 0; i < c.count; i++) {
          const pair = (c.outer[i] as number) * PAIR + (c.inner[i] as number);
          let k = scratchIndex.get(pair);
          if (k === undefined) {
            k = keys.length;
            scratchIndex.set(pair, k);
            keys.push(pair);
            sums.ensure(keys.length);
          }
          addSparseInto(c.inTail[i] === 1 ? this.tailVec : this.baseVec, c.start[i] as number, c.end[i] as number, sums, k);
        }
        for (let k = 0; k < keys.length; k++) {
          w.reserve(0);
          const pair = keys[k] as number;
          w.keys[w.rows * 2] = Math.floor(pair / PAIR);
          w.keys[w.rows * 2 + 1] = pair % PAIR;
          sums.emit(k, w);
          w.endRow(0);
        }
      }
      svc[at + 1] = w.rows - (svc[at] as number);
    }
    this.svc = svc;
    this.baseRows = w.rows;
    this.baseKeys = w.keys.slice(0, w.rows * 2);
    this.baseEnd = w.vecEnd.slice(0, w.rows);
    this.baseVec = w.vec.slice(0, w.vecLength);
    this.tailRows = 0;
    this.tailVecLength = 0;
    this.tailKeys = new Int32Array(0);
    this.tailNext = new Int32Array(0);
    this.tailEnd = new Uint32Array(0);
    this.tailVec = new Uint8Array(0);
    if (w.vec.length > 1 << 24) releaseScratch();
  }

  /** Bytes held: every typed array's capacity plus the objects around them. */
  bytes(): number {
    return (
      OBJECT_BYTES +
      this.svc.byteLength +
      this.baseKeys.byteLength +
      this.baseEnd.byteLength +
      this.baseVec.byteLength +
      this.tailKeys.byteLength +
      this.tailNext.byteLength +
      this.tailEnd.byteLength +
      this.tailVec.byteLength
    );
  }

  private addSlots(min: number): void {
    if (min * STRIDE > this.svc.length) {
      const next = new Int32Array(Math.max(min, this.slots * 2, 4) * STRIDE);
      next.set(this.svc.subarray(0, this.slots * STRIDE));
      this.svc = next;
    }
    for (let s = this.slots; s < min; s++) {
      const at = s * STRIDE;
      this.svc[at] = 0;
      this.svc[at + 1] = 0;
      this.svc[at + 2] = -1;
      this.svc[at + 3] = -1;
    }
    this.slots = min;
  }

  private growTailRows(): void {
    const n = Math.max(TAIL_ROWS, this.tailEnd.length * 2);
    const keys = new Int32Array(n * 3);
    keys.set(this.tailKeys);
    this.tailKeys = keys;
    const next = new Int32Array(n);
    next.set(this.tailNext);
    this.tailNext = next;
    const end = new Uint32Array(n);
    end.set(this.tailEnd);
    this.tailEnd = end;
  }

  private growTailVec(min: number): void {
    const vec = new Uint8Array(Math.max(TAIL_BYTES, min, this.tailVec.length * 2));
    vec.set(this.tailVec.subarray(0, this.tailVecLength));
    this.tailVec = vec;
  }
}

/** Lets a very large compaction's scratch go (the next one allocates a small one again). */
function releaseScratch(): void {
  scratchOut.rows = 0;
  scratchOut.vecLength = 0;
  scratchOut.second = new Float64Array(64);
  scratchOut.keys = new Uint32Array(128);
  scratchOut.vecEnd = new Uint32Array(64);
  scratchOut.vec = new Uint8Array(1024);
}

// ---------------------------------------------------------------------------------------------
// Decoding the sparse encoding (sparse-vector.ts) without a reader object: hot on every read.

let pos = 0;

function varint(buf: Uint8Array): number {
  let b = buf[pos++] as number;
  if (b < 128) return b;
  let v = b & 127;
  let scale = 128;
  for (;;) {
    b = buf[pos++] as number;
    v += (b & 127) * scale;
    if (b < 128) return v;
    scale *= 128;
  }
}

function float(buf: Uint8Array): number {
  for (let i = 0; i < 8; i++) f64Bytes[i] = buf[pos + i] as number;
  pos += 8;
  return f64[0] as number;
}

/**
 * Adds the counters (fields below `counters`) of the vector in buf[start, end) into
 * out[offset, offset + counters), and sets each of them in `bits` (a bitmap of fields); the
 * distribution buckets after them are not read.
 */
export function addVectorInto(buf: Uint8Array, start: number, end: number, out: Float64Array, offset: number, bits: Uint32Array, counters: number): void {
  if (start === end) return;
  pos = start;
  let field = -1;
  for (let n = varint(buf); n > 0; n--) {
    const tag = varint(buf);
    field += (tag >>> 1) + 1;
    if (field >= counters) return;
    const v = (tag & 1) === 0 ? varint(buf) : float(buf);
    out[offset + field] = (out[offset + field] as number) + v;
    bits[field >>> 5] = (bits[field >>> 5] as number) | (1 << (field & 31));
  }
}

function addSparseInto(buf: Uint8Array, start: number, end: number, sums: SlotSums, slot: number): void {
  if (start === end) return;
  pos = start;
  let field = -1;
  for (let n = varint(buf); n > 0; n--) {
    const tag = varint(buf);
    field += (tag >>> 1) + 1;
    sums.add(slot, field, (tag & 1) === 0 ? varint(buf) : float(buf));
  }
}

/** Calls `visit(field, value)` for each field of the vector in buf[start, end), ascending. */
export function visitVector(buf: Uint8Array, start: number, end: number, visit: (field: number, value: number) => void): void {
  if (start === end) return;
  pos = start;
  let field = -1;
  for (let n = varint(buf); n > 0; n--) {
    const tag = varint(buf);
    field += (tag >>> 1) + 1;
    // Read the value before calling out: visit may decode another vector (pos is shared).
    const v = (tag & 1) === 0 ? varint(buf) : float(buf);
    const at = pos;
    visit(field, v);
    pos = at;
  }
}
