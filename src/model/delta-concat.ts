/**
 * Re-shaping deltas without summing: `concatDeltas` puts the rows of several deltas in one (one
 * string table), `splitBySecondAndService` cuts a delta into one block per (second, service).
 * Rows are additive (delta.ts), so neither needs to look inside a vector: both copy key ids
 * through a remap and vector bytes as they are. This is what lets the store writer cost a
 * copy per row instead of a hash-and-sum per key (the merger in delta-builder.ts).
 */
import { RECORD_KIND_NAMES, arityOf, deltaStrings, vecStart, PartWriter, StringTableWriter, type Delta, type DeltaPart, type RecordKind } from './delta.ts';

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

/** The rows of every delta, in order, in one delta. A lone delta is returned as it is. */
export function concatDeltas(deltas: readonly Delta[]): Delta {
  if (deltas.length === 1) return deltas[0] as Delta;
  const strings = new StringTableWriter();
  const writers = RECORD_KIND_NAMES.map((kind) => new PartWriter(arityOf(kind)));
  for (const d of deltas) {
    const names = deltaStrings(d);
    const ids = new Uint32Array(names.length);
    for (let i = 0; i < names.length; i++) ids[i] = strings.id(names[i] as string);
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

export interface ServiceBlock {
  second: number;
  service: string;
  /** The rows of this (second, service) only, with a string table of their names only. */
  delta: Delta;
}

/**
 * One block per distinct (second, service) of `delta` (every record kind's key starts with the
 * service), ordered by second then service id. Rows keep their order within a block.
 * Hot path (every store write): two passes over the rows (block ids and sizes, then copies into
 * exact-length arrays), no per-row allocation.
 */
export function splitBySecondAndService(delta: Delta): ServiceBlock[] {
  const names = deltaStrings(delta);
  const n = Math.max(1, names.length);
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
    const start = new Int32Array(blocks + 1);
    const vecBytes = new Float64Array(blocks);
    for (let i = 0; i < rb.length; i++) {
      const b = rb[i] as number;
      start[b + 1] = (start[b + 1] as number) + 1;
      vecBytes[b] = (vecBytes[b] as number) + (part.vecEnd[i] as number) - vecStart(part, i);
    }
    for (let b = 0; b < blocks; b++) start[b + 1] = (start[b + 1] as number) + (start[b] as number);
    const fill = start.slice(0, blocks);
    const rows = new Int32Array(rb.length);
    for (let i = 0; i < rb.length; i++) {
      const b = rb[i] as number;
      rows[fill[b] as number] = i;
      fill[b] = (fill[b] as number) + 1;
    }
    return { kind, arity: arityOf(kind), part, start, rows, vecBytes };
  });
  // Local ids: global id -> local id + 1 (0: not in this block yet), reset after each block.
  const local = new Uint32Array(n);
  const used = new Uint32Array(n);
  const out: ServiceBlock[] = [];
  for (const b of order) {
    let usedCount = 0;
    const parts = {} as Record<RecordKind, DeltaPart>;
    for (const { kind, arity, part, start, rows, vecBytes } of layout) {
      const from = start[b] as number;
      const count = (start[b + 1] as number) - from;
      const second = new Float64Array(count);
      const keys = new Uint32Array(count * arity);
      const vecEnd = new Uint32Array(count);
      const vec = new Uint8Array(vecBytes[b] as number);
      let at = 0;
      for (let r = 0; r < count; r++) {
        const i = rows[from + r] as number;
        second[r] = part.second[i] as number;
        for (let k = 0; k < arity; k++) {
          const id = part.keys[i * arity + k] as number;
          let l = local[id] as number;
          if (l === 0) {
            used[usedCount++] = id;
            l = local[id] = usedCount;
          }
          keys[r * arity + k] = l - 1;
        }
        // A vector is a few dozen bytes: a loop beats a subarray view + set per row.
        const src = part.vec;
        for (let x = vecStart(part, i), end = part.vecEnd[i] as number; x < end; x++) vec[at++] = src[x] as number;
        vecEnd[r] = at;
      }
      parts[kind] = { rows: count, second, keys, vecEnd, vec };
    }
    // The block's string table: the used names' bytes, copied (not re-encoded).
    let bytes = 0;
    for (let u = 0; u < usedCount; u++) {
      const id = used[u] as number;
      bytes += (delta.stringEnd[id] as number) - (id === 0 ? 0 : (delta.stringEnd[id - 1] as number));
    }
    const stringBytes = new Uint8Array(bytes);
    const stringEnd = new Uint32Array(usedCount);
    let at = 0;
    for (let u = 0; u < usedCount; u++) {
      const id = used[u] as number;
      const from = id === 0 ? 0 : (delta.stringEnd[id - 1] as number);
      const to = delta.stringEnd[id] as number;
      stringBytes.set(delta.stringBytes.subarray(from, to), at);
      at += to - from;
      stringEnd[u] = at;
      local[id] = 0;
    }
    out.push({ second: blockSecond[b] as number, service: names[blockService[b] as number] as string, delta: { stringBytes, stringEnd, ...parts } });
  }
  return out;
}
