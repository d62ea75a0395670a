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
  w.vec.set(part.vec.subarray(start, end), w.vecLength);
  w.vecLength += end - start;
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
 */
export function splitBySecondAndService(delta: Delta): ServiceBlock[] {
  const names = deltaStrings(delta);
  const n = names.length;
  // (second, service id) -> block index. second * n + id is exact while it stays below 2^53.
  const blockOf = new Map<number, number>();
  const blocks: { second: number; service: number }[] = [];
  const rowBlocks = RECORD_KIND_NAMES.map((kind) => {
    const part = delta[kind];
    const arity = arityOf(kind);
    const out = new Int32Array(part.rows);
    for (let i = 0; i < part.rows; i++) {
      const second = part.second[i] as number;
      const service = part.keys[i * arity] as number;
      const key = second * n + service;
      if (!Number.isSafeInteger(key)) throw new RangeError(`second ${second} is out of range`);
      let b = blockOf.get(key);
      if (b === undefined) {
        b = blocks.length;
        blockOf.set(key, b);
        blocks.push({ second, service });
      }
      out[i] = b;
    }
    return out;
  });
  // Rows of each block, per kind, as a counting sort (offsets into one row list per kind).
  const order = blocks.map((_, b) => b).sort((a, b) => {
    const x = blocks[a] as { second: number; service: number };
    const y = blocks[b] as { second: number; service: number };
    return x.second - y.second || x.service - y.service;
  });
  const rowsOf = RECORD_KIND_NAMES.map((kind, k) => {
    const rb = rowBlocks[k] as Int32Array;
    const start = new Int32Array(blocks.length + 1);
    for (let i = 0; i < rb.length; i++) start[(rb[i] as number) + 1] = (start[(rb[i] as number) + 1] as number) + 1;
    for (let b = 0; b < blocks.length; b++) start[b + 1] = (start[b + 1] as number) + (start[b] as number);
    const fill = start.slice(0, blocks.length);
    const rows = new Int32Array(rb.length);
    for (let i = 0; i < rb.length; i++) {
      const b = rb[i] as number;
      rows[fill[b] as number] = i;
      fill[b] = (fill[b] as number) + 1;
    }
    return { kind, start, rows };
  });
  // Local ids: global id -> local id + 1 (0: not in this block yet), reset after each block.
  const local = new Uint32Array(n);
  const out: ServiceBlock[] = [];
  for (const b of order) {
    const { second, service } = blocks[b] as { second: number; service: number };
    const used: number[] = [];
    const map = (id: number): number => {
      let l = local[id] as number;
      if (l === 0) {
        used.push(id);
        l = local[id] = used.length;
      }
      return l - 1;
    };
    const parts = {} as Record<RecordKind, DeltaPart>;
    for (const { kind, start, rows } of rowsOf) {
      const part = delta[kind];
      const w = new PartWriter(arityOf(kind));
      for (let r = start[b] as number; r < (start[b + 1] as number); r++) copyRow(part, rows[r] as number, w.arity, map, w);
      parts[kind] = w.finish();
    }
    // The block's string table: the used names' bytes, copied (not re-encoded).
    let bytes = 0;
    for (const id of used) bytes += (delta.stringEnd[id] as number) - (id === 0 ? 0 : (delta.stringEnd[id - 1] as number));
    const stringBytes = new Uint8Array(bytes);
    const stringEnd = new Uint32Array(used.length);
    let at = 0;
    used.forEach((id, l) => {
      const from = id === 0 ? 0 : (delta.stringEnd[id - 1] as number);
      const to = delta.stringEnd[id] as number;
      stringBytes.set(delta.stringBytes.subarray(from, to), at);
      at += to - from;
      stringEnd[l] = at;
      local[id] = 0;
    });
    out.push({ second, service: names[service] as string, delta: { stringBytes, stringEnd, ...parts } });
  }
  return out;
}
