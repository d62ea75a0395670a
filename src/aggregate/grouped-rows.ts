/**
 * The read side of the window: one service's rows of one second (sparse-rows.ts), summed into the
 * dense vectors the real-time APIs show: in total and per outer (channel), or per inner and per
 * (outer, inner) leaf (Domain and Origin Inspector). Rows are summed on read: duplicate keys of
 * an uncompacted tail add up here like any others.
 *
 * Every vector of one read is carved out of one Float64Array (one allocation per second read,
 * not one per vector); each is a fresh copy the caller may keep. Sums over groups add only the
 * second's fields (`fields`), the ~20 that are set, not the ~265 of the layout.
 */
import { RowCursor, type SecondRows, addVectorInto } from './sparse-rows.ts';

const cursor = new RowCursor();
const bits = new Uint32Array(16);

/**
 * Interned field lists: equal sets give the same Uint16Array, so the renderers' plans keyed by
 * the array's identity (render.ts) are built once per distinct set.
 */
const fieldLists = new Map<string, Uint16Array>();
const MAX_FIELD_LISTS = 4096;

/** The fields set in `bits` (first `words` words), ascending, interned; clears `bits`. */
function fieldsOf(words: number): Uint16Array {
  let key = '';
  for (let w = 0; w < words; w++) key += `${bits[w] as number},`;
  let list = fieldLists.get(key);
  if (list === undefined) {
    const out: number[] = [];
    for (let w = 0; w < words; w++) {
      let b = bits[w] as number;
      while (b !== 0) {
        const low = b & -b;
        out.push((w << 5) + 31 - Math.clz32(low));
        b ^= low;
      }
    }
    list = Uint16Array.from(out.sort((a, b) => a - b));
    if (fieldLists.size >= MAX_FIELD_LISTS) fieldLists.clear();
    fieldLists.set(key, list);
  }
  bits.fill(0, 0, words);
  return list;
}

function addOver(fields: Uint16Array, buffer: Float64Array, into: number, from: number): void {
  for (let k = 0; k < fields.length; k++) {
    const f = fields[k] as number;
    buffer[into + f] = (buffer[into + f] as number) + (buffer[from + f] as number);
  }
}

export interface ChannelGroups {
  fields: Uint16Array;
  total: Float64Array;
  byOuter: Map<string, Float64Array>;
}

/** The slot's rows summed in total and per outer (in order of first appearance). */
export function readChannelGroups(rows: SecondRows, slot: number, names: readonly string[]): ChannelGroups {
  const { width } = rows;
  rows.collect(slot, cursor);
  const c = cursor;
  const outerSlot = new Map<number, number>();
  const outers: number[] = [];
  for (let i = 0; i < c.count; i++) {
    const o = c.outer[i] as number;
    if (!outerSlot.has(o)) {
      outerSlot.set(o, outers.length);
      outers.push(o);
    }
  }
  const buffer = new Float64Array(width * (1 + outers.length));
  for (let i = 0; i < c.count; i++) {
    const at = (1 + (outerSlot.get(c.outer[i] as number) as number)) * width;
    addVectorInto(c.inTail[i] === 1 ? rows.tailVec : rows.baseVec, c.start[i] as number, c.end[i] as number, buffer, at, bits, rows.width);
  }
  const fields = fieldsOf((width + 31) >>> 5);
  const byOuter = new Map<string, Float64Array>();
  for (let k = 0; k < outers.length; k++) {
    const at = (1 + k) * width;
    addOver(fields, buffer, 0, at);
    byOuter.set(names[outers[k] as number] as string, buffer.subarray(at, at + width));
  }
  return { fields, total: buffer.subarray(0, width), byOuter };
}

export interface NestedGroups {
  fields: Uint16Array;
  /** Per inner over every outer, in order of first appearance. */
  byInner: Map<string, Float64Array>;
  /** outer -> inner -> leaf, outers in order of first appearance, their leaves likewise. */
  byOuter: Map<string, Map<string, Float64Array>>;
}

/** The slot's rows summed per inner and per (outer, inner) leaf. */
export function readNestedGroups(rows: SecondRows, slot: number, names: readonly string[]): NestedGroups {
  const { width } = rows;
  rows.collect(slot, cursor);
  const c = cursor;
  const innerSlot = new Map<number, number>();
  const inners: number[] = [];
  const leafSlot = new Map<number, number>();
  const leafOuter: number[] = [];
  const leafInner: number[] = [];
  const rowLeaf = new Int32Array(c.count);
  for (let i = 0; i < c.count; i++) {
    const o = c.outer[i] as number;
    const n = c.inner[i] as number;
    if (!innerSlot.has(n)) {
      innerSlot.set(n, inners.length);
      inners.push(n);
    }
    const pair = o * 2 ** 26 + n;
    let leaf = leafSlot.get(pair);
    if (leaf === undefined) {
      leaf = leafOuter.length;
      leafSlot.set(pair, leaf);
      leafOuter.push(o);
      leafInner.push(n);
    }
    rowLeaf[i] = leaf;
  }
  const leaves = leafOuter.length;
  const buffer = new Float64Array(width * (inners.length + leaves));
  const leafAt = (leaf: number): number => (inners.length + leaf) * width;
  for (let i = 0; i < c.count; i++) {
    addVectorInto(c.inTail[i] === 1 ? rows.tailVec : rows.baseVec, c.start[i] as number, c.end[i] as number, buffer, leafAt(rowLeaf[i] as number), bits, rows.width);
  }
  const fields = fieldsOf((width + 31) >>> 5);
  const byInner = new Map<string, Float64Array>();
  inners.forEach((n, k) => byInner.set(names[n] as string, buffer.subarray(k * width, (k + 1) * width)));
  const byOuter = new Map<string, Map<string, Float64Array>>();
  for (let leaf = 0; leaf < leaves; leaf++) {
    const at = leafAt(leaf);
    const inner = leafInner[leaf] as number;
    addOver(fields, buffer, (innerSlot.get(inner) as number) * width, at);
    const outerName = names[leafOuter[leaf] as number] as string;
    let m = byOuter.get(outerName);
    if (m === undefined) byOuter.set(outerName, (m = new Map()));
    m.set(names[inner] as string, buffer.subarray(at, at + width));
  }
  return { fields, byInner, byOuter };
}

/**
 * One service's second summed like readChannelGroups, but into a scratch array shared by every
 * call: `values` holds the total at [0, width) and outer k at [(1 + k) * width, (2 + k) * width).
 * Borrowed: valid until clearChannelGroups(), which must come before the next sum; nothing is
 * allocated per vector, so a reader renders it at once (src/api/fastly/render-bytes.ts).
 */
export interface BorrowedChannelGroups {
  fields: Uint16Array;
  values: Float64Array;
  width: number;
  /** Outer (datacenter) names in group order: first appearance. */
  outers: readonly string[];
}

/** The scratch of sumChannelGroups: all zeros between a clear and the next sum. */
let scratch = new Float64Array(0);
let rowGroup = new Int32Array(256);
const outerGroup = new Map<number, number>();
let lent: BorrowedChannelGroups | undefined;

/** The slot's rows summed in total and per outer into the shared scratch; clearChannelGroups() it before the next. */
export function sumChannelGroups(rows: SecondRows, slot: number, names: readonly string[]): BorrowedChannelGroups {
  if (lent !== undefined) throw new Error('sumChannelGroups: the previous groups were not cleared');
  const { width } = rows;
  rows.collect(slot, cursor);
  const c = cursor;
  outerGroup.clear();
  const outers: string[] = [];
  if (rowGroup.length < c.count) rowGroup = new Int32Array(c.count * 2);
  for (let i = 0; i < c.count; i++) {
    const o = c.outer[i] as number;
    let g = outerGroup.get(o);
    if (g === undefined) {
      g = outers.length;
      outerGroup.set(o, g);
      outers.push(names[o] as string);
    }
    rowGroup[i] = g;
  }
  const length = width * (1 + outers.length);
  if (scratch.length < length) scratch = new Float64Array(Math.max(length, scratch.length * 2));
  const buffer = scratch;
  for (let i = 0; i < c.count; i++) {
    addVectorInto(c.inTail[i] === 1 ? rows.tailVec : rows.baseVec, c.start[i] as number, c.end[i] as number, buffer, (1 + (rowGroup[i] as number)) * width, bits, rows.width);
  }
  const fields = fieldsOf((width + 31) >>> 5);
  for (let k = 0; k < outers.length; k++) addOver(fields, buffer, 0, (1 + k) * width);
  lent = { fields, values: buffer, width, outers };
  return lent;
}

/** Zeroes what sumChannelGroups set (its fields only), so the scratch is ready for the next sum. */
export function clearChannelGroups(): void {
  if (lent === undefined) return;
  const { fields, values, width, outers } = lent;
  for (let k = 0; k <= outers.length; k++) {
    const at = k * width;
    for (let j = 0; j < fields.length; j++) values[at + (fields[j] as number)] = 0;
  }
  lent = undefined;
}
