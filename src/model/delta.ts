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
import { EDGE_DISTRIBUTIONS, ORIGIN_DISTRIBUTIONS, type DistributionSlice } from './distributions.ts';
import { EDGE_FIELDS, ORIGIN_FIELDS } from './fields.ts';
import type { DimensionRecord, DistCounts, EdgeDistRecord, EdgeRecord, OriginDistRecord, OriginRecord, RecordSet } from './record.ts';
import { ByteReader, readSparseVector, sparsePairsMaxBytes, sparseVectorMaxBytes, writeSparsePairs, writeSparseVector } from './sparse-vector.ts';

/** A name per bucket of the distributions, in vector order (`edge_time_b0`, ...). */
const bucketNames = (slices: readonly DistributionSlice[]): readonly string[] =>
  slices.flatMap((s) => Array.from(s.layout.bounds, (_, i) => `${s.name}_b${i}`));

/**
 * The record kinds, their key columns (strings) and their vector fields: the one key table.
 * `edgeDist` / `originDist` hold the bucket counters of distributions.ts per edge / origin key.
 */
export const RECORD_KEYS = {
  edge: { key: ['service', 'datacenter', 'domain', 'product'], fields: EDGE_FIELDS },
  origin: { key: ['service', 'datacenter', 'backend'], fields: ORIGIN_FIELDS },
  dimension: { key: ['service', 'domain', 'product', 'dimension', 'value'], fields: ['count', 'bytes'] as readonly string[] },
  edgeDist: { key: ['service', 'datacenter', 'domain', 'product'], fields: bucketNames(EDGE_DISTRIBUTIONS) },
  originDist: { key: ['service', 'datacenter', 'backend'], fields: bucketNames(ORIGIN_DISTRIBUTIONS) },
} as const;

export type RecordKind = keyof typeof RECORD_KEYS;
export const RECORD_KIND_NAMES: readonly RecordKind[] = ['edge', 'origin', 'dimension', 'edgeDist', 'originDist'];
/** The kinds holding distribution buckets (wide, sparse: never expanded to a dense vector). */
export type DistributionKind = 'edgeDist' | 'originDist';
export const DIST_KINDS: readonly DistributionKind[] = ['edgeDist', 'originDist'];
export const arityOf = (kind: RecordKind): number => RECORD_KEYS[kind].key.length;
export const widthOf = (kind: RecordKind): number => RECORD_KEYS[kind].fields.length;

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
  readonly edgeDist: DeltaPart;
  readonly originDist: DeltaPart;
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
  edgeDist: emptyPart(),
  originDist: emptyPart(),
});

export const deltaRows = (d: Delta): number => d.edge.rows + d.origin.rows + d.dimension.rows + d.edgeDist.rows + d.originDist.rows;
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

/** Adds row `i`'s vector into `into` (a dense vector of the kind's width, or longer at `offset`). */
export function addRowInto(part: DeltaPart, i: number, into: Float64Array, offset = 0): void {
  const r = new ByteReader(part.vec.subarray(vecStart(part, i), part.vecEnd[i]), 0, 'delta vector');
  readSparseVector(r, into.length - offset, (f, v) => {
    into[offset + f] = (into[offset + f] as number) + v;
  });
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
  const edge: EdgeRecord[] = [];
  for (let i = 0, p = d.edge; i < p.rows; i++) {
    const values = new Float64Array(EDGE_FIELDS.length);
    addRowInto(p, i, values);
    edge.push({ second: p.second[i] as number, service: name(p, i, 0, 4), datacenter: name(p, i, 1, 4), domain: name(p, i, 2, 4), product: name(p, i, 3, 4), values });
  }
  const origin: OriginRecord[] = [];
  for (let i = 0, p = d.origin; i < p.rows; i++) {
    const values = new Float64Array(ORIGIN_FIELDS.length);
    addRowInto(p, i, values);
    origin.push({ second: p.second[i] as number, service: name(p, i, 0, 3), datacenter: name(p, i, 1, 3), backend: name(p, i, 2, 3), values });
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
      dimension: name(p, i, 3, 5) as 'method' | 'status',
      value: name(p, i, 4, 5),
      count: pair[0] as number,
      bytes: pair[1] as number,
    });
  }
  const counts = (p: DeltaPart, i: number): DistCounts => {
    const ids: number[] = [];
    const values: number[] = [];
    visitRow(p, i, widthOf(p === d.edgeDist ? 'edgeDist' : 'originDist'), (f, v) => {
      ids.push(f);
      values.push(v);
    });
    return { ids: Uint16Array.from(ids), counts: Float64Array.from(values) };
  };
  const edgeDist: EdgeDistRecord[] = [];
  for (let i = 0, p = d.edgeDist; i < p.rows; i++) {
    edgeDist.push({ second: p.second[i] as number, service: name(p, i, 0, 4), datacenter: name(p, i, 1, 4), domain: name(p, i, 2, 4), product: name(p, i, 3, 4), ...counts(p, i) });
  }
  const originDist: OriginDistRecord[] = [];
  for (let i = 0, p = d.originDist; i < p.rows; i++) {
    originDist.push({ second: p.second[i] as number, service: name(p, i, 0, 3), datacenter: name(p, i, 1, 3), backend: name(p, i, 2, 3), ...counts(p, i) });
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
  const writeCounts = (w: PartWriter, second: number, keys: readonly string[], c: DistCounts): void => {
    w.reserve(sparsePairsMaxBytes(c.ids.length));
    for (let k = 0; k < keys.length; k++) w.keys[w.rows * w.arity + k] = strings.id(keys[k] as string);
    w.vecLength = writeSparsePairs(w.vec, w.vecLength, c.ids, c.counts, c.ids.length);
    w.endRow(second);
  };
  const edgeDist = new PartWriter(4);
  for (const r of rs.edgeDist ?? []) writeCounts(edgeDist, r.second, [r.service, r.datacenter, r.domain, r.product], r);
  const originDist = new PartWriter(3);
  for (const r of rs.originDist ?? []) writeCounts(originDist, r.second, [r.service, r.datacenter, r.backend], r);
  return { ...strings.finish(), edge: edge.finish(), origin: origin.finish(), dimension: dimension.finish(), edgeDist: edgeDist.finish(), originDist: originDist.finish() };
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
