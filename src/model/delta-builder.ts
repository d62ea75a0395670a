/**
 * Summing rows into deltas. `SlotVectors` is the accumulator of the hot paths: one dense slab of
 * slot x field sums plus a bitmap of the fields each slot touched, so emitting a slot's sparse
 * vector costs its non-zero fields, not the ~265 of the layout, and leaves the slot zeroed for
 * reuse (no per-build allocation or clearing of the slab). `TupleIndex` finds the slot of a
 * (second, key ids) tuple.
 */
import { RECORD_KEYS, PartWriter, StringTableWriter, deltaStrings, vecStart, type Delta, type DeltaPart } from './delta.ts';
import { writeVarint } from './sparse-vector.ts';

const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);

/** Dense per-slot sums with touched-field bitmaps. Hot path. */
export class SlotVectors {
  readonly words: number;
  slab: Float64Array;
  bits: Uint32Array;
  private capacity: number;
  constructor(readonly width: number, initialSlots = 256) {
    this.words = (width + 31) >>> 5;
    this.capacity = initialSlots;
    this.slab = new Float64Array(initialSlots * width);
    this.bits = new Uint32Array(initialSlots * this.words);
  }
  /** Makes slots [0, slots) addressable (new ones zero). */
  ensure(slots: number): void {
    if (slots <= this.capacity) return;
    let cap = this.capacity * 2;
    while (cap < slots) cap *= 2;
    const slab = new Float64Array(cap * this.width);
    slab.set(this.slab);
    const bits = new Uint32Array(cap * this.words);
    bits.set(this.bits);
    this.slab = slab;
    this.bits = bits;
    this.capacity = cap;
  }
  add(slot: number, field: number, value: number): void {
    const at = slot * this.width + field;
    this.slab[at] = (this.slab[at] as number) + value;
    const w = slot * this.words + (field >>> 5);
    this.bits[w] = (this.bits[w] as number) | (1 << (field & 31));
  }
  /**
   * Writes slot's sparse vector (sparse-vector.ts encoding) at the end of `out.vec` and zeroes
   * the slot. Fields whose sum is 0 (or -0) are left out, as writeSparseVector does.
   */
  emit(slot: number, out: PartWriter): void {
    const { width, words, slab, bits } = this;
    out.reserve(8 + 18 * width);
    const base = slot * width;
    const wbase = slot * words;
    let nonZero = 0;
    for (let w = 0; w < words; w++) {
      let b = bits[wbase + w] as number;
      while (b !== 0) {
        const low = b & -b;
        if (slab[base + (w << 5) + (31 - Math.clz32(low))] !== 0) nonZero++;
        b ^= low;
      }
    }
    const buf = out.vec;
    let pos = writeVarint(buf, out.vecLength, nonZero);
    let last = -1;
    for (let w = 0; w < words; w++) {
      let b = bits[wbase + w] as number;
      bits[wbase + w] = 0;
      while (b !== 0) {
        const low = b & -b;
        b ^= low;
        const f = (w << 5) + (31 - Math.clz32(low));
        const v = slab[base + f] as number;
        slab[base + f] = 0;
        if (v === 0) continue;
        const gap = f - last - 1;
        last = f;
        if (Number.isSafeInteger(v) && v >= 0) {
          pos = writeVarint(buf, pos, gap * 2);
          pos = writeVarint(buf, pos, v);
        } else {
          pos = writeVarint(buf, pos, gap * 2 + 1);
          f64[0] = v;
          buf.set(f64Bytes, pos);
          pos += 8;
        }
      }
    }
    out.vecLength = pos;
  }
}

/** Open-addressing index of (second, key ids) tuples -> slot (the merger, the rollup sums). */
export class TupleIndex {
  private table: Int32Array;
  private mask: number;
  seconds = new Float64Array(256);
  keys: Uint32Array;
  size = 0;
  constructor(readonly arity: number) {
    this.table = new Int32Array(1024).fill(-1);
    this.mask = 1023;
    this.keys = new Uint32Array(256 * arity);
  }
  private hash(second: number, keys: Uint32Array, at: number): number {
    let h = Math.imul((second | 0) ^ Math.floor(second / 4294967296), 0x9e3779b1);
    for (let k = 0; k < this.arity; k++) h = Math.imul(h ^ (keys[at + k] as number), 0x85ebca6b) ^ (h >>> 13);
    return (h ^ (h >>> 16)) & this.mask;
  }
  slotOf(second: number, keys: Uint32Array, at: number): number {
    const { arity } = this;
    let p = this.hash(second, keys, at);
    for (;;) {
      const slot = this.table[p] as number;
      if (slot < 0) break;
      if (this.seconds[slot] === second) {
        let k = 0;
        while (k < arity && this.keys[slot * arity + k] === keys[at + k]) k++;
        if (k === arity) return slot;
      }
      p = (p + 1) & this.mask;
    }
    const slot = this.size++;
    if (slot === this.seconds.length) {
      const s = new Float64Array(slot * 2);
      s.set(this.seconds);
      this.seconds = s;
      const k = new Uint32Array(slot * 2 * arity);
      k.set(this.keys);
      this.keys = k;
    }
    this.seconds[slot] = second;
    for (let k = 0; k < arity; k++) this.keys[slot * arity + k] = keys[at + k] as number;
    this.table[p] = slot;
    if (this.size * 2 > this.table.length) this.rehash();
    return slot;
  }
  private rehash(): void {
    this.table = new Int32Array(this.table.length * 2).fill(-1);
    this.mask = this.table.length - 1;
    for (let slot = 0; slot < this.size; slot++) {
      let p = this.hash(this.seconds[slot] as number, this.keys, slot * this.arity);
      while ((this.table[p] as number) >= 0) p = (p + 1) & this.mask;
      this.table[p] = slot;
    }
  }
}

/** The rows of `delta` whose second passes `keep`, in a new delta (the string table is shared as is). */
export function filterDelta(delta: Delta, keep: (second: number) => boolean): Delta {
  const pick = (part: DeltaPart, arity: number): DeltaPart => {
    let all = true;
    for (let i = 0; i < part.rows && all; i++) all = keep(part.second[i] as number);
    if (all) return part;
    const w = new PartWriter(arity);
    for (let i = 0; i < part.rows; i++) {
      const second = part.second[i] as number;
      if (!keep(second)) continue;
      const start = vecStart(part, i);
      const end = part.vecEnd[i] as number;
      w.reserve(end - start);
      w.keys.set(part.keys.subarray(i * arity, (i + 1) * arity), w.rows * arity);
      w.vec.set(part.vec.subarray(start, end), w.vecLength);
      w.vecLength += end - start;
      w.endRow(second);
    }
    return w.finish();
  };
  return {
    stringBytes: delta.stringBytes,
    stringEnd: delta.stringEnd,
    edge: pick(delta.edge, RECORD_KEYS.edge.key.length),
    origin: pick(delta.origin, RECORD_KEYS.origin.key.length),
    dimension: pick(delta.dimension, RECORD_KEYS.dimension.key.length),
    edgeDist: pick(delta.edgeDist, RECORD_KEYS.edgeDist.key.length),
    originDist: pick(delta.originDist, RECORD_KEYS.originDist.key.length),
  };
}

/**
 * `delta` without the rows of `services` (every kind's first key column is the service), in a new
 * delta whose string table holds only the names of the rows kept: nothing of a refused service
 * reaches the WAL. `delta` itself when none of its rows is dropped.
 */
export function dropServices(delta: Delta, services: ReadonlySet<string>): Delta {
  if (services.size === 0) return delta;
  const names = deltaStrings(delta);
  const drop = new Set<number>();
  names.forEach((name, id) => {
    if (services.has(name)) drop.add(id);
  });
  if (drop.size === 0) return delta;
  const strings = new StringTableWriter();
  const remap = new Int32Array(names.length).fill(-1);
  const pick = (part: DeltaPart, arity: number): DeltaPart => {
    const w = new PartWriter(arity);
    for (let i = 0; i < part.rows; i++) {
      if (drop.has(part.keys[i * arity] as number)) continue;
      const start = vecStart(part, i);
      const end = part.vecEnd[i] as number;
      w.reserve(end - start);
      for (let k = 0; k < arity; k++) {
        const id = part.keys[i * arity + k] as number;
        let to = remap[id] as number;
        if (to < 0) remap[id] = to = strings.id(names[id] as string);
        w.keys[w.rows * arity + k] = to;
      }
      w.vec.set(part.vec.subarray(start, end), w.vecLength);
      w.vecLength += end - start;
      w.endRow(part.second[i] as number);
    }
    return w.finish();
  };
  const edge = pick(delta.edge, RECORD_KEYS.edge.key.length);
  const origin = pick(delta.origin, RECORD_KEYS.origin.key.length);
  const dimension = pick(delta.dimension, RECORD_KEYS.dimension.key.length);
  const edgeDist = pick(delta.edgeDist, RECORD_KEYS.edgeDist.key.length);
  const originDist = pick(delta.originDist, RECORD_KEYS.originDist.key.length);
  return { ...strings.finish(), edge, origin, dimension, edgeDist, originDist };
}
