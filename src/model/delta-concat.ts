/**
 * Re-shaping deltas without summing: `concatDeltas` puts the rows of several deltas in one (one
 * string table), `splitToBlockBytes` cuts a delta into one encoded block per (second, service).
 * Rows are additive (delta.ts), so neither needs to look inside a vector: both copy key ids
 * through a remap and vector bytes as they are. This is what lets the store writer cost a
 * copy per row instead of a hash-and-sum per key (the merger in delta-builder.ts).
 */
import { allocateEncodedDelta } from './delta-bytes.ts';
import { groupRows } from './group-rows.ts';
import { RECORD_KIND_NAMES, arityOf, deltaString, vecStart, PartWriter, type Delta, type DeltaPart } from './delta.ts';

/** Copies row `i` of `part` into `w`, its key ids mapped through `map`. */
function copyRow(part: DeltaPart, i: number, arity: number, map: (id: number) => number, w: PartWriter): void {
  const start = vecStart(part, i);
  const end = part.vecEnd[i] as number;
  w.reserve(end - start);
  const at = w.rows * arity;
  for (let k = 0; k < arity; k++) w.keys[at + k] = map(part.keys[i * arity + k] as number);
  const src = part.vec;
  const dst = w.vec;
  let pos = w.vecLength;
  for (let x = start; x < end; x++) dst[pos++] = src[x] as number;
  w.vecLength = pos;
  w.endRow(part.second[i] as number);
}

/** FNV-1a of buf[from, to). */
function hashBytes(buf: Uint8Array, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let x = from; x < to; x++) h = Math.imul(h ^ (buf[x] as number), 0x01000193);
  return h;
}

/**
 * A string table built from other tables' UTF-8 bytes: interned by hashing and comparing bytes,
 * so joining deltas decodes no string (a delta from a parse worker carries ~2,000 names).
 */
class ByteStringTable {
  private bytes = new Uint8Array(1 << 16);
  private length = 0;
  private ends = new Uint32Array(1024);
  private size = 0;
  private slots = new Int32Array(2048).fill(-1);
  /** The id of the string src[from, to), added when new. */
  id(src: Uint8Array, from: number, to: number): number {
    const h = hashBytes(src, from, to);
    const mask = this.slots.length - 1;
    const len = to - from;
    for (let p = (h >>> 0) & mask; ; p = (p + 1) & mask) {
      const id = this.slots[p] as number;
      if (id < 0) {
        this.slots[p] = this.add(src, from, to);
        if (this.size * 2 > this.slots.length) this.rehash();
        return this.size - 1;
      }
      const start = id === 0 ? 0 : (this.ends[id - 1] as number);
      if ((this.ends[id] as number) - start !== len) continue;
      let same = true;
      for (let k = 0; k < len && same; k++) same = this.bytes[start + k] === src[from + k];
      if (same) return id;
    }
  }
  private add(src: Uint8Array, from: number, to: number): number {
    const len = to - from;
    if (this.length + len > this.bytes.length) {
      const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + len));
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
    }
    for (let x = from; x < to; x++) this.bytes[this.length++] = src[x] as number;
    if (this.size === this.ends.length) {
      const grown = new Uint32Array(this.size * 2);
      grown.set(this.ends);
      this.ends = grown;
    }
    this.ends[this.size] = this.length;
    return this.size++;
  }
  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2).fill(-1);
    const mask = slots.length - 1;
    for (let id = 0; id < this.size; id++) {
      const h = hashBytes(this.bytes, id === 0 ? 0 : (this.ends[id - 1] as number), this.ends[id] as number);
      let p = (h >>> 0) & mask;
      while ((slots[p] as number) >= 0) p = (p + 1) & mask;
      slots[p] = id;
    }
    this.slots = slots;
  }
  finish(): { stringBytes: Uint8Array; stringEnd: Uint32Array } {
    return { stringBytes: this.bytes.slice(0, this.length), stringEnd: this.ends.slice(0, this.size) };
  }
}

/** The rows of every delta, in order, in one delta. A lone delta is returned as it is. */
export function concatDeltas(deltas: readonly Delta[]): Delta {
  if (deltas.length === 1) return deltas[0] as Delta;
  const strings = new ByteStringTable();
  const writers = RECORD_KIND_NAMES.map((kind) => new PartWriter(arityOf(kind)));
  for (const d of deltas) {
    const count = d.stringEnd.length;
    const ids = new Uint32Array(count);
    for (let i = 0; i < count; i++) ids[i] = strings.id(d.stringBytes, i === 0 ? 0 : (d.stringEnd[i - 1] as number), d.stringEnd[i] as number);
    const map = (id: number): number => ids[id] as number;
    RECORD_KIND_NAMES.forEach((kind, k) => {
      const part = d[kind];
      const w = writers[k] as PartWriter;
      for (let i = 0; i < part.rows; i++) copyRow(part, i, w.arity, map, w);
    });
  }
  const [edge, origin, dimension] = writers.map((w) => w.finish()) as [DeltaPart, DeltaPart, DeltaPart];
  return { ...strings.finish(), edge, origin, dimension };
}

export interface ServiceBlockBytes {
  second: number;
  service: string;
  /** The block encoded (delta-bytes.ts): what the store writes. */
  bytes: Uint8Array;
}

/**
 * One block per distinct (second, service) of `delta` (every record kind's key starts with the
 * service), ordered by second then service id, each already encoded. Rows keep their order
 * within a block. Hot path (every store write): block ids and sizes in one pass over the rows,
 * then each block written straight into its bytes (allocateEncodedDelta): one allocation per
 * block, no Delta built and then encoded.
 */
export function splitToBlockBytes(delta: Delta): ServiceBlockBytes[] {
  // Only the blocks' service names are decoded; the rest is copied as bytes.
  const n = Math.max(1, delta.stringEnd.length);
  // Block of (second, service): seconds are few, so (second index * n + service) stays a small
  // integer key in the common case.
  const secondIndex = new Map<number, number>();
  const blockOf = new Map<number, number>();
  const blockSecond: number[] = [];
  const blockService: number[] = [];
  const rowBlocks = RECORD_KIND_NAMES.map((kind) => {
    const part = delta[kind];
    const arity = arityOf(kind);
    const out = new Int32Array(part.rows);
    let lastSecond = Number.NaN;
    let lastService = -1;
    let lastBlock = -1;
    for (let i = 0; i < part.rows; i++) {
      const second = part.second[i] as number;
      const service = part.keys[i * arity] as number;
      if (second !== lastSecond || service !== lastService) {
        let si = secondIndex.get(second);
        if (si === undefined) secondIndex.set(second, (si = secondIndex.size));
        const key = si * n + service;
        let b = blockOf.get(key);
        if (b === undefined) {
          b = blockSecond.length;
          blockOf.set(key, b);
          blockSecond.push(second);
          blockService.push(service);
        }
        lastSecond = second;
        lastService = service;
        lastBlock = b;
      }
      out[i] = lastBlock;
    }
    return out;
  });
  const blocks = blockSecond.length;
  const order = Array.from({ length: blocks }, (_, b) => b).sort(
    (a, b) => (blockSecond[a] as number) - (blockSecond[b] as number) || (blockService[a] as number) - (blockService[b] as number),
  );
  // Per kind: each block's rows (a counting sort) and vector bytes.
  const layout = RECORD_KIND_NAMES.map((kind, k) => {
    const part = delta[kind];
    const rb = rowBlocks[k] as Int32Array;
    const vecBytes = new Float64Array(blocks);
    for (let i = 0; i < rb.length; i++) {
      const b = rb[i] as number;
      vecBytes[b] = (vecBytes[b] as number) + (part.vecEnd[i] as number) - vecStart(part, i);
    }
    const { start, rows } = groupRows(rb, blocks);
    return { kind, arity: arityOf(kind), part, start, rows, vecBytes };
  });
  // Local ids: global id -> local id + 1 (0: not in this block yet), reset after each block.
  const local = new Uint32Array(n);
  const used = new Uint32Array(n);
  const localKeys = layout.map(({ arity, rows }) => new Uint32Array(rows.length * arity));
  const out: ServiceBlockBytes[] = [];
  const stringStart = (id: number): number => (id === 0 ? 0 : (delta.stringEnd[id - 1] as number));
  for (const b of order) {
    // Pass 1: the block's names, as local ids (so its string table's size is known).
    let usedCount = 0;
    let stringBytes = 0;
    layout.forEach(({ arity, part, start, rows }, k) => {
      const lk = localKeys[k] as Uint32Array;
      for (let r = start[b] as number; r < (start[b + 1] as number); r++) {
        const i = rows[r] as number;
        for (let a = 0; a < arity; a++) {
          const id = part.keys[i * arity + a] as number;
          let l = local[id] as number;
          if (l === 0) {
            used[usedCount++] = id;
            l = local[id] = usedCount;
            stringBytes += (delta.stringEnd[id] as number) - stringStart(id);
          }
          lk[r * arity + a] = l - 1;
        }
      }
    });
    const { bytes, delta: view } = allocateEncodedDelta({
      strings: usedCount,
      stringBytes,
      rows: layout.map(({ start }) => (start[b + 1] as number) - (start[b] as number)),
      vecBytes: layout.map(({ vecBytes }) => vecBytes[b] as number),
    });
    // Pass 2: the bytes. Strings copied (not re-encoded), then per kind the rows.
    let at = 0;
    for (let u = 0; u < usedCount; u++) {
      const id = used[u] as number;
      for (let x = stringStart(id), end = delta.stringEnd[id] as number; x < end; x++) view.stringBytes[at++] = delta.stringBytes[x] as number;
      view.stringEnd[u] = at;
      local[id] = 0;
    }
    layout.forEach(({ kind, arity, part, start, rows }, k) => {
      const into = view[kind];
      const from = start[b] as number;
      const count = (start[b + 1] as number) - from;
      into.keys.set((localKeys[k] as Uint32Array).subarray(from * arity, (from + count) * arity));
      let pos = 0;
      const src = part.vec;
      const dst = into.vec;
      for (let r = 0; r < count; r++) {
        const i = rows[from + r] as number;
        const second = part.second[i] as number;
        if (!Number.isSafeInteger(second)) throw new RangeError(`record second ${second} is not an integer`);
        into.second[r] = second;
        // A vector is a few dozen bytes: a loop beats a subarray view + set per row.
        for (let x = vecStart(part, i), end = part.vecEnd[i] as number; x < end; x++) dst[pos++] = src[x] as number;
        into.vecEnd[r] = pos;
      }
    });
    out.push({ second: blockSecond[b] as number, service: deltaString(delta, blockService[b] as number), bytes });
  }
  return out;
}
