/**
 * Summing rows into deltas. `SlotVectors` is the accumulator of the hot paths: one dense slab of
 * slot x field sums plus a bitmap of the fields each slot touched, so emitting a slot's sparse
 * vector costs its non-zero fields, not the ~265 of the layout, and leaves the slot zeroed for
 * reuse (no per-build allocation or clearing of the slab). `TupleIndex` finds the slot of a
 * (second, key ids) tuple.
 */
import { RECORD_KEYS, PartWriter, StringTableWriter, deltaStrings, vecStart, type Delta, type DeltaPart } from './delta.ts';
import { sparsePairsMaxBytes, writeSparseEntry, writeSparsePairs, writeVarint } from './sparse-vector.ts';


/** Dense per-slot sums with touched-field bitmaps. Hot path. */
export class SlotVectors implements SlotSums {
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
    this.emitWith(slot, out, undefined, 0);
  }

  /**
   * emit(), with the fields `wide` holds for the same slot after the counters, each shifted by
   * `offset` (>= width): one vector of counters and distribution buckets. Zeroes both.
   */
  emitWith(slot: number, out: PartWriter, wide: WideSlotSums | undefined, offset: number): void {
    const { width, words, slab, bits } = this;
    const extra = wide === undefined ? 0 : wide.take(slot);
    out.reserve(8 + 18 * width + 18 * extra);
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
    const takenIds = wide?.takenIds;
    const takenSums = wide?.takenSums;
    for (let k = 0; k < extra; k++) if ((takenSums as Float64Array)[k] !== 0) nonZero++;
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
        if (v !== 0) {
          pos = writeSparseEntry(buf, pos, f - last - 1, v);
          last = f;
        }
      }
    }
    for (let k = 0; k < extra; k++) {
      const v = (takenSums as Float64Array)[k] as number;
      if (v === 0) continue;
      const f = offset + ((takenIds as Uint32Array)[k] as number);
      pos = writeSparseEntry(buf, pos, f - last - 1, v);
      last = f;
    }
    out.vecLength = pos;
  }
}

/** What the summing paths need of an accumulator: SlotVectors (dense) or WideSlotSums (sparse). */
export interface SlotSums {
  readonly width: number;
  ensure(slots: number): void;
  add(slot: number, field: number, value: number): void;
  /** Writes slot's sparse vector at the end of `out.vec` and zeroes the slot. */
  emit(slot: number, out: PartWriter): void;
}

/**
 * Per-slot sums for the wide, sparse vectors (the distribution buckets: ~10,000 fields of which a
 * key of one second touches a few): one open-addressing table of (slot, field) -> sum, and a
 * chain of each slot's entries, so memory follows the fields touched, never slots x width.
 * Emitting a slot sorts its fields (few) and marks its entries dead; the table is cleared (over
 * the entries used only) once every entry is dead, which the callers reach after each build.
 */
export class WideSlotSums implements SlotSums {
  private keys = new Float64Array(1024).fill(-1);
  private sums = new Float64Array(1024);
  /** Entry -> next entry of the same slot (-1 ends the chain). */
  private next = new Int32Array(1024);
  private mask = 1023;
  /** Positions in use, in insertion order (for clearing and rehashing). */
  private used = new Int32Array(512);
  private usedCount = 0;
  private live = 0;
  private heads = new Int32Array(256).fill(-1);
  private scratchFields = new Uint32Array(64);
  private scratchSums = new Float64Array(64);
  constructor(readonly width: number) {}

  ensure(slots: number): void {
    if (slots <= this.heads.length) return;
    let n = this.heads.length * 2;
    while (n < slots) n *= 2;
    const heads = new Int32Array(n).fill(-1);
    heads.set(this.heads);
    this.heads = heads;
  }

  add(slot: number, field: number, value: number): void {
    const key = slot * this.width + field;
    const mask = this.mask;
    let p = (Math.imul((key | 0) ^ ((key / 4294967296) | 0), 0x9e3779b1) >>> 16 ^ Math.imul(key | 0, 0x85ebca6b)) & mask;
    const keys = this.keys;
    for (;;) {
      const k = keys[p] as number;
      if (k === key) {
        this.sums[p] = (this.sums[p] as number) + value;
        return;
      }
      if (k === -1) break;
      p = (p + 1) & mask;
    }
    keys[p] = key;
    this.sums[p] = value;
    this.next[p] = this.heads[slot] as number;
    this.heads[slot] = p;
    if (this.usedCount === this.used.length) {
      const u = new Int32Array(this.used.length * 2);
      u.set(this.used);
      this.used = u;
    }
    this.used[this.usedCount++] = p;
    this.live++;
    if (this.usedCount * 2 > keys.length) this.rehash();
  }

  emit(slot: number, out: PartWriter): void {
    const n = this.take(slot);
    out.reserve(sparsePairsMaxBytes(n));
    out.vecLength = writeSparsePairs(out.vec, out.vecLength, this.takenIds, this.takenSums, n);
  }

  /** Fields of the last take(), ascending, and their sums beside them. */
  get takenIds(): Uint32Array {
    return this.scratchFields;
  }
  get takenSums(): Float64Array {
    return this.scratchSums;
  }

  /** Moves slot's fields (ascending) and sums into takenIds / takenSums and empties the slot; returns how many. */
  take(slot: number): number {
    let n = 0;
    for (let p = this.heads[slot] as number; p >= 0; p = this.next[p] as number) n++;
    if (n === 0) return 0;
    if (n > this.scratchFields.length) {
      this.scratchFields = new Uint32Array(n * 2);
      this.scratchSums = new Float64Array(n * 2);
    }
    const fields = this.scratchFields;
    const base = slot * this.width;
    let i = 0;
    for (let p = this.heads[slot] as number; p >= 0; p = this.next[p] as number) fields[i++] = (this.keys[p] as number) - base;
    const sorted = fields.subarray(0, n).sort();
    // Sums in field order: look each one up again (n is small; the table is hot).
    for (let k = 0; k < n; k++) this.scratchSums[k] = this.takeKey(base + (sorted[k] as number));
    this.heads[slot] = -1;
    this.live -= n;
    if (this.live === 0) this.clear();
    return n;
  }

  /** The sum at `key`, its entry marked dead (-2: probes go past it; only clear() frees it). */
  private takeKey(key: number): number {
    const mask = this.mask;
    let p = (Math.imul((key | 0) ^ ((key / 4294967296) | 0), 0x9e3779b1) >>> 16 ^ Math.imul(key | 0, 0x85ebca6b)) & mask;
    while (this.keys[p] !== key) p = (p + 1) & mask;
    this.keys[p] = -2;
    const v = this.sums[p] as number;
    this.sums[p] = 0;
    return v;
  }

  private clear(): void {
    for (let i = 0; i < this.usedCount; i++) this.keys[this.used[i] as number] = -1;
    this.usedCount = 0;
  }

  private rehash(): void {
    const oldKeys = this.keys;
    const oldSums = this.sums;
    const oldNext = this.next;
    const oldUsed = this.used.subarray(0, this.usedCount);
    const size = oldKeys.length * 2;
    this.keys = new Float64Array(size).fill(-1);
    this.sums = new Float64Array(size);
    this.next = new Int32Array(size);
    this.mask = size - 1;
    const moved = new Int32Array(oldKeys.length).fill(-1);
    const used = new Int32Array(Math.max(this.used.length, oldUsed.length * 2));
    let count = 0;
    for (let i = 0; i < oldUsed.length; i++) {
      const from = oldUsed[i] as number;
      const key = oldKeys[from] as number;
      if (key < 0) continue;
      let p = (Math.imul((key | 0) ^ ((key / 4294967296) | 0), 0x9e3779b1) >>> 16 ^ Math.imul(key | 0, 0x85ebca6b)) & this.mask;
      while (this.keys[p] !== -1) p = (p + 1) & this.mask;
      this.keys[p] = key;
      this.sums[p] = oldSums[from] as number;
      moved[from] = p;
      used[count++] = p;
    }
    for (let i = 0; i < oldUsed.length; i++) {
      const from = oldUsed[i] as number;
      const to = moved[from] as number;
      if (to < 0) continue;
      const nx = oldNext[from] as number;
      this.next[to] = nx < 0 ? -1 : (moved[nx] as number);
    }
    for (let s = 0; s < this.heads.length; s++) {
      const h = this.heads[s] as number;
      if (h >= 0) this.heads[s] = moved[h] as number;
    }
    this.used = used;
    this.usedCount = count;
  }
}

/**
 * Sums of a record vector of `counters` counters followed by distribution buckets (up to
 * `width` fields in all): the counters in a dense SlotVectors, the buckets in a WideSlotSums,
 * emitted as one vector. What the window's compaction sums edge and origin rows with.
 */
export class SplitSlotSums implements SlotSums {
  private readonly dense: SlotVectors;
  private readonly wide: WideSlotSums;
  constructor(
    readonly counters: number,
    readonly width: number,
  ) {
    this.dense = new SlotVectors(counters, 256);
    this.wide = new WideSlotSums(Math.max(1, width - counters));
  }
  ensure(slots: number): void {
    this.dense.ensure(slots);
    this.wide.ensure(slots);
  }
  add(slot: number, field: number, value: number): void {
    if (field < this.counters) this.dense.add(slot, field, value);
    else this.wide.add(slot, field - this.counters, value);
  }
  emit(slot: number, out: PartWriter): void {
    this.dense.emitWith(slot, out, this.wide, this.counters);
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
  return { ...strings.finish(), edge, origin, dimension };
}
