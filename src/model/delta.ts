/**
 * THE write unit: a `Delta` is what one aggregation step produced, in typed arrays only, so it
 * crosses threads by transfer, is written to the WAL by copying its arrays (encodeDelta), and is
 * held by the window and queued for the store without being re-shaped. `RecordSet` (record.ts)
 * stays the read-side shape; deltaToRecordSet / deltaFromRecordSet convert at the edges.
 *
 * Layout: a string table (UTF-8 bytes + end offsets) and one `DeltaPart` per record kind of
 * RECORD_KEYS. A part is a table of rows: the second, the key as ids into the string table
 * (`arity` per row), and the row's counter vector in the sparse encoding of sparse-vector.ts
 * (only non-zero fields, varints), the vectors back to back. Rows are additive deltas: a key may
 * appear in several rows (of one delta or of several) and readers sum them; rows come in no
 * particular order.
 */
import { EDGE_DISTRIBUTIONS, EDGE_DIST_WIDTH, ORIGIN_DISTRIBUTIONS, ORIGIN_DIST_WIDTH, type DistributionSlice } from './distributions.ts';
import { EDGE_FIELDS, ORIGIN_FIELDS } from './fields.ts';
import type { DimensionName, DimensionRecord, DistCounts, EdgeDistRecord, EdgeRecord, OriginDistRecord, OriginRecord, RecordSet } from './record.ts';
import { addSparsePrefix, ByteReader, readSparseVector, sparsePairsMaxBytes, sparseVectorMaxBytes, writeSparsePairs, writeSparseVector } from './sparse-vector.ts';

/**
 * The record kinds, their key columns (strings) and their counter fields: the one key table.
 * An edge or origin row's vector holds its counters (`fields`) and then, from index
 * `fields.length` on, its distribution buckets (distributions.ts: edge time, origin time and
 * object size per edge key, then its unique-client cells; origin time per origin key), so a
 * key-second stays one row. `distributionWidth` is that part's width: ~10,000 buckets (plus
 * 540,672 client cells per edge row), sparse: nothing ever expands them into a dense vector.
 */
export const RECORD_KEYS = {
  edge: { key: ['service', 'datacenter', 'domain', 'product'], fields: EDGE_FIELDS, distributions: EDGE_DISTRIBUTIONS, distributionWidth: EDGE_DIST_WIDTH },
  origin: { key: ['service', 'datacenter', 'backend'], fields: ORIGIN_FIELDS, distributions: ORIGIN_DISTRIBUTIONS, distributionWidth: ORIGIN_DIST_WIDTH },
  dimension: { key: ['service', 'domain', 'product', 'dimension', 'value'], fields: ['count', 'bytes'] as readonly string[], distributions: [] as readonly DistributionSlice[], distributionWidth: 0 },
} as const;

export type RecordKind = keyof typeof RECORD_KEYS;
export const RECORD_KIND_NAMES: readonly RecordKind[] = ['edge', 'origin', 'dimension'];
export const arityOf = (kind: RecordKind): number => RECORD_KEYS[kind].key.length;
/** The counters of a kind's vector (the dense part every reader of records shows). */
export const countersOf = (kind: RecordKind): number => RECORD_KEYS[kind].fields.length;
/** The whole vector: counters, then distribution buckets. */
export const widthOf = (kind: RecordKind): number => countersOf(kind) + RECORD_KEYS[kind].distributionWidth;

/**
 * The distribution vectors: `edgeDist` (the buckets of edge rows) and `originDist` (of origin
 * rows). A bucket id is its index among the distribution fields (vector index - countersOf).
 */
export type DistributionKind = 'edgeDist' | 'originDist';
export const DIST_RECORD: Readonly<Record<DistributionKind, 'edge' | 'origin'>> = { edgeDist: 'edge', originDist: 'origin' };

export interface DeltaPart {
  readonly rows: number;
  /** Unix second of each row. */
  readonly second: Float64Array;
  /** rows * arity ids into the delta's string table, row-major. */
  readonly keys: Uint32Array;
  /** End offset in `vec` of each row's vector; row i spans [i ? vecEnd[i-1] : 0, vecEnd[i]). */
  readonly vecEnd: Uint32Array;
  /** The rows' sparse vectors, back to back. */
  readonly vec: Uint8Array;
}

export interface Delta {
  /** UTF-8 bytes of every string, back to back. */
  readonly stringBytes: Uint8Array;
  /** End offset in stringBytes of each string; string i spans [i ? stringEnd[i-1] : 0, stringEnd[i]). */
  readonly stringEnd: Uint32Array;
  readonly edge: DeltaPart;
  readonly origin: DeltaPart;
  readonly dimension: DeltaPart;
}

const emptyPart = (): DeltaPart => ({
  rows: 0,
  second: new Float64Array(0),
  keys: new Uint32Array(0),
  vecEnd: new Uint32Array(0),
  vec: new Uint8Array(0),
});

export const emptyDelta = (): Delta => ({
  stringBytes: new Uint8Array(0),
  stringEnd: new Uint32Array(0),
  edge: emptyPart(),
  origin: emptyPart(),
  dimension: emptyPart(),
});

export const deltaRows = (d: Delta): number => d.edge.rows + d.origin.rows + d.dimension.rows;
export const isEmptyDelta = (d: Delta): boolean => deltaRows(d) === 0;

// ignoreBOM: a name may begin with U+FEFF (backend names allow it); it must round-trip unchanged.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

const decodedStrings = new WeakMap<Uint32Array, readonly string[]>();

/** String `id` of a delta, decoded (one name, without decoding the whole table). */
export function deltaString(d: Delta, id: number): string {
  const start = id === 0 ? 0 : (d.stringEnd[id - 1] as number);
  try {
    return utf8Decoder.decode(d.stringBytes.subarray(start, d.stringEnd[id]));
  } catch {
    throw new RangeError('delta string is not UTF-8');
  }
}

/** The delta's strings, decoded once per delta (cached). */
export function deltaStrings(d: Delta): readonly string[] {
  let names = decodedStrings.get(d.stringEnd);
  if (names === undefined) {
    const out: string[] = new Array<string>(d.stringEnd.length);
    for (let i = 0; i < d.stringEnd.length; i++) out[i] = deltaString(d, i);
    names = out;
    decodedStrings.set(d.stringEnd, names);
  }
  return names;
}

/** The byte range of row `i`'s vector. */
export const vecStart = (part: DeltaPart, i: number): number => (i === 0 ? 0 : (part.vecEnd[i - 1] as number));

/**
 * Adds row `i`'s counters into `into` (a dense vector of the kind's counters, or longer at
 * `offset`; `counters` says how many): the distribution buckets after them are skipped.
 */
export function addRowInto(part: DeltaPart, i: number, into: Float64Array, offset = 0, counters = into.length - offset): void {
  addSparsePrefix(part.vec, vecStart(part, i), part.vecEnd[i] as number, into, offset, counters);
}

/** Calls `visit(field, value)` for each non-zero field of row `i`, in field order. */
export function visitRow(part: DeltaPart, i: number, width: number, visit: (field: number, value: number) => void): void {
  const r = new ByteReader(part.vec.subarray(vecStart(part, i), part.vecEnd[i]), 0, 'delta vector');
  readSparseVector(r, width, visit);
}

/** The distinct seconds of a delta (every kind). */
export function deltaSeconds(d: Delta): Set<number> {
  const out = new Set<number>();
  for (const kind of RECORD_KIND_NAMES) {
    const s = d[kind].second;
    let last = Number.NaN;
    for (let i = 0; i < s.length; i++) {
      const v = s[i] as number;
      if (v !== last) out.add((last = v));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Building: a growable part writer, shared by the aggregator, the merger and the converters.

/** Appends rows to one part; `finish` returns exact-length arrays. */
export class PartWriter {
  rows = 0;
  second = new Float64Array(64);
  keys: Uint32Array;
  vecEnd = new Uint32Array(64);
  vec = new Uint8Array(1024);
  vecLength = 0;
  constructor(readonly arity: number) {
    this.keys = new Uint32Array(64 * arity);
  }
  /** Room for one more row and `vecBytes` more vector bytes. */
  reserve(vecBytes: number): void {
    if (this.rows === this.second.length) {
      const n = this.rows * 2;
      this.second = grow(this.second, n, (len) => new Float64Array(len));
      this.vecEnd = grow(this.vecEnd, n, (len) => new Uint32Array(len));
      this.keys = grow(this.keys, n * this.arity, (len) => new Uint32Array(len));
    }
    if (this.vecLength + vecBytes > this.vec.length) {
      this.vec = grow(this.vec, Math.max(this.vec.length * 2, this.vecLength + vecBytes), (len) => new Uint8Array(len));
    }
  }
  /** Ends the row started by reserve (keys and vector bytes written by the caller). */
  endRow(second: number): void {
    this.second[this.rows] = second;
    this.vecEnd[this.rows] = this.vecLength;
    this.rows++;
  }
  finish(): DeltaPart {
    return {
      rows: this.rows,
      second: this.second.slice(0, this.rows),
      keys: this.keys.slice(0, this.rows * this.arity),
      vecEnd: this.vecEnd.slice(0, this.rows),
      vec: this.vec.slice(0, this.vecLength),
    };
  }
}

function grow<T extends Float64Array | Uint32Array | Uint8Array>(a: T, min: number, make: (n: number) => T): T {
  if (a.length >= min) return a;
  const next = make(Math.max(min, a.length * 2));
  next.set(a);
  return next;
}

/** Interns strings into a delta's string table. */
export class StringTableWriter {
  private readonly ids = new Map<string, number>();
  private bytes = new Uint8Array(4096);
  private length = 0;
  private ends = new Uint32Array(256);
  get size(): number {
    return this.ids.size;
  }
  id(name: string): number {
    let id = this.ids.get(name);
    if (id !== undefined) return id;
    id = this.ids.size;
    this.ids.set(name, id);
    const max = name.length * 3;
    if (this.length + max > this.bytes.length) this.bytes = grow(this.bytes, Math.max(this.bytes.length * 2, this.length + max), (n) => new Uint8Array(n));
    this.length += utf8Encoder.encodeInto(name, this.bytes.subarray(this.length)).written;
    if (id === this.ends.length) this.ends = grow(this.ends, id * 2, (n) => new Uint32Array(n));
    this.ends[id] = this.length;
    return id;
  }
  finish(): { stringBytes: Uint8Array; stringEnd: Uint32Array } {
    return { stringBytes: this.bytes.slice(0, this.length), stringEnd: this.ends.slice(0, this.ids.size) };
  }
}

// ---------------------------------------------------------------------------------------------
// Converters to and from the read-side shape (tests, and boundaries not yet on deltas).

export function deltaToRecordSet(d: Delta): RecordSet {
  const names = deltaStrings(d);
  const name = (part: DeltaPart, i: number, k: number, arity: number): string => names[part.keys[i * arity + k] as number] as string;
  /**
   * Row i's counters into `values` and its buckets as (ids - counters, counts); `counted`: the row
   * has a counter field or no field at all (an all-zero record), not only buckets.
   */
  const split = (p: DeltaPart, i: number, kind: RecordKind, values: Float64Array): { counted: boolean; dist: DistCounts | undefined } => {
    const counters = countersOf(kind);
    const ids: number[] = [];
    const counts: number[] = [];
    let fields = 0;
    visitRow(p, i, widthOf(kind), (f, v) => {
      if (f < counters) {
        values[f] = (values[f] as number) + v;
        fields++;
      } else {
        ids.push(f - counters);
        counts.push(v);
      }
    });
    return { counted: fields > 0 || ids.length === 0, dist: ids.length === 0 ? undefined : { ids: Uint32Array.from(ids), counts: Float64Array.from(counts) } };
  };
  const edge: EdgeRecord[] = [];
  const edgeDist: EdgeDistRecord[] = [];
  for (let i = 0, p = d.edge; i < p.rows; i++) {
    const values = new Float64Array(EDGE_FIELDS.length);
    const { counted, dist } = split(p, i, 'edge', values);
    const key = { second: p.second[i] as number, service: name(p, i, 0, 4), datacenter: name(p, i, 1, 4), domain: name(p, i, 2, 4), product: name(p, i, 3, 4) };
    if (counted) edge.push({ ...key, values });
    if (dist !== undefined) edgeDist.push({ ...key, ...dist });
  }
  const origin: OriginRecord[] = [];
  const originDist: OriginDistRecord[] = [];
  for (let i = 0, p = d.origin; i < p.rows; i++) {
    const values = new Float64Array(ORIGIN_FIELDS.length);
    const { counted, dist } = split(p, i, 'origin', values);
    const key = { second: p.second[i] as number, service: name(p, i, 0, 3), datacenter: name(p, i, 1, 3), backend: name(p, i, 2, 3) };
    if (counted) origin.push({ ...key, values });
    if (dist !== undefined) originDist.push({ ...key, ...dist });
  }
  const dimension: DimensionRecord[] = [];
  const pair = new Float64Array(2);
  for (let i = 0, p = d.dimension; i < p.rows; i++) {
    pair.fill(0);
    addRowInto(p, i, pair);
    dimension.push({
      second: p.second[i] as number,
      service: name(p, i, 0, 5),
      domain: name(p, i, 1, 5),
      product: name(p, i, 2, 5),
      dimension: name(p, i, 3, 5) as DimensionName,
      value: name(p, i, 4, 5),
      count: pair[0] as number,
      bytes: pair[1] as number,
    });
  }
  return { edge, origin, dimension, edgeDist, originDist };
}

export function deltaFromRecordSet(rs: RecordSet): Delta {
  const strings = new StringTableWriter();
  const write = (w: PartWriter, second: number, keys: readonly string[], values: Float64Array): void => {
    w.reserve(sparseVectorMaxBytes(values.length));
    for (let k = 0; k < keys.length; k++) w.keys[w.rows * w.arity + k] = strings.id(keys[k] as string);
    w.vecLength = writeSparseVector(w.vec, w.vecLength, values);
    w.endRow(second);
  };
  const edge = new PartWriter(4);
  for (const r of rs.edge) write(edge, r.second, [r.service, r.datacenter, r.domain, r.product], r.values);
  const origin = new PartWriter(3);
  for (const r of rs.origin) write(origin, r.second, [r.service, r.datacenter, r.backend], r.values);
  const dimension = new PartWriter(5);
  const pair = new Float64Array(2);
  for (const r of rs.dimension) {
    pair[0] = r.count;
    pair[1] = r.bytes;
    write(dimension, r.second, [r.service, r.domain, r.product, r.dimension, r.value], pair);
  }
  // Distribution records: rows of their own in the edge / origin part (rows are additive), buckets after the counters.
  const writeCounts = (w: PartWriter, second: number, keys: readonly string[], c: DistCounts, counters: number): void => {
    w.reserve(sparsePairsMaxBytes(c.ids.length));
    for (let k = 0; k < keys.length; k++) w.keys[w.rows * w.arity + k] = strings.id(keys[k] as string);
    w.vecLength = writeSparsePairs(w.vec, w.vecLength, Array.from(c.ids, (id) => id + counters), c.counts, c.ids.length);
    w.endRow(second);
  };
  for (const r of rs.edgeDist ?? []) writeCounts(edge, r.second, [r.service, r.datacenter, r.domain, r.product], r, EDGE_FIELDS.length);
  for (const r of rs.originDist ?? []) writeCounts(origin, r.second, [r.service, r.datacenter, r.backend], r, ORIGIN_FIELDS.length);
  return { ...strings.finish(), edge: edge.finish(), origin: origin.finish(), dimension: dimension.finish() };
}

/** The buffers behind a delta's arrays: its transfer list, to move it to another thread instead of copying it. */
export function deltaBuffers(d: Delta): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>([d.stringBytes.buffer as ArrayBuffer, d.stringEnd.buffer as ArrayBuffer]);
  for (const kind of RECORD_KIND_NAMES) {
    const p = d[kind];
    for (const a of [p.second, p.keys, p.vecEnd, p.vec]) out.add(a.buffer as ArrayBuffer);
  }
  return [...out];
}
