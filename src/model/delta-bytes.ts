/**
 * A Delta as bytes (the WAL payload, docs/wal.md): a fixed header, then every typed array of the
 * delta as it is in memory, each starting on an 8-byte boundary. Encoding is a copy of the
 * arrays; decoding makes views on the bytes (no copy when they are 8-byte aligned) after checking
 * every length and offset, so a damaged payload is a RangeError, never a wrong number.
 *
 *   u32 magic "RTD1", u32 strings, u32 stringBytes, then per kind (edge, origin, dimension):
 *   u32 rows, u32 vecBytes; padding to 40 bytes; then stringEnd u32[strings], stringBytes,
 *   and per kind: second f64[rows], keys u32[rows*arity], vecEnd u32[rows], vec u8[vecBytes].
 *
 * Little-endian (typed arrays use the platform's order; every platform Node runs on here is LE,
 * checked at load).
 */
import { RECORD_KIND_NAMES, arityOf, type Delta, type DeltaPart, type RecordKind } from './delta.ts';

const MAGIC = 0x31445452; // "RTD1"
const HEADER = 40;

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('rtmetrics needs a little-endian platform');

const pad8 = (n: number): number => (n + 7) & ~7;

/** Encoded size of `d`. */
export function encodedDeltaBytes(d: Delta): number {
  let n = HEADER + pad8(d.stringEnd.byteLength) + pad8(d.stringBytes.byteLength);
  for (const kind of RECORD_KIND_NAMES) {
    const p = d[kind];
    n += pad8(p.second.byteLength) + pad8(p.keys.byteLength) + pad8(p.vecEnd.byteLength) + pad8(p.vec.byteLength);
  }
  return n;
}

/** The bytes of `d`, written into `out` at `offset` (8-aligned) when given. */
export function encodeDelta(d: Delta, out?: Uint8Array, offset = 0): Uint8Array {
  for (const kind of RECORD_KIND_NAMES) {
    const s = d[kind].second;
    for (let i = 0; i < s.length; i++) if (!Number.isSafeInteger(s[i])) throw new RangeError(`record second ${s[i]} is not an integer`);
  }
  const size = encodedDeltaBytes(d);
  const buf = out ?? new Uint8Array(size);
  const dv = new DataView(buf.buffer, buf.byteOffset + offset, size);
  dv.setUint32(0, MAGIC, true);
  dv.setUint32(4, d.stringEnd.length, true);
  dv.setUint32(8, d.stringBytes.length, true);
  RECORD_KIND_NAMES.forEach((kind, k) => {
    dv.setUint32(12 + k * 8, d[kind].rows, true);
    dv.setUint32(16 + k * 8, d[kind].vec.length, true);
  });
  for (let i = 36; i < HEADER; i++) buf[offset + i] = 0;
  let pos = offset + HEADER;
  const put = (a: ArrayBufferView): void => {
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    buf.set(bytes, pos);
    const end = pos + pad8(bytes.length);
    buf.fill(0, pos + bytes.length, end);
    pos = end;
  };
  put(d.stringEnd);
  put(d.stringBytes);
  for (const kind of RECORD_KIND_NAMES) {
    const p = d[kind];
    put(p.second);
    put(p.keys);
    put(p.vecEnd);
    put(p.vec);
  }
  return out === undefined ? buf : buf.subarray(offset, offset + size);
}

/** The sizes of a delta: how many strings and string bytes, and per kind (RECORD_KIND_NAMES order) rows and vector bytes. */
export interface DeltaShape {
  strings: number;
  stringBytes: number;
  rows: readonly number[];
  vecBytes: readonly number[];
}

/**
 * The bytes of a delta of `shape`, header written and arrays zeroed, and the Delta whose arrays
 * are views on them: filling the views writes the encoding in place, with no copy afterwards
 * (the store's blocks are built this way). The caller must fill every view.
 */
export function allocateEncodedDelta(shape: DeltaShape): { bytes: Uint8Array; delta: Delta } {
  let size = HEADER + pad8(shape.strings * 4) + pad8(shape.stringBytes);
  RECORD_KIND_NAMES.forEach((kind, k) => {
    const rows = shape.rows[k] ?? 0;
    size += pad8(rows * 8) + pad8(rows * arityOf(kind) * 4) + pad8(rows * 4) + pad8(shape.vecBytes[k] ?? 0);
  });
  const bytes = new Uint8Array(size);
  const dv = new DataView(bytes.buffer);
  dv.setUint32(0, MAGIC, true);
  dv.setUint32(4, shape.strings, true);
  dv.setUint32(8, shape.stringBytes, true);
  let pos = HEADER;
  const view = <T>(count: number, width: number, make: (b: ArrayBuffer, o: number, l: number) => T): T => {
    const v = make(bytes.buffer, pos, count);
    pos += pad8(count * width);
    return v;
  };
  const stringEnd = view(shape.strings, 4, (b, o, l) => new Uint32Array(b, o, l));
  const stringBytes = view(shape.stringBytes, 1, (b, o, l) => new Uint8Array(b, o, l));
  const parts: Partial<Record<RecordKind, DeltaPart>> = {};
  RECORD_KIND_NAMES.forEach((kind, k) => {
    const rows = shape.rows[k] ?? 0;
    const vecBytes = shape.vecBytes[k] ?? 0;
    dv.setUint32(12 + k * 8, rows, true);
    dv.setUint32(16 + k * 8, vecBytes, true);
    const second = view(rows, 8, (b, o, l) => new Float64Array(b, o, l));
    const keys = view(rows * arityOf(kind), 4, (b, o, l) => new Uint32Array(b, o, l));
    const vecEnd = view(rows, 4, (b, o, l) => new Uint32Array(b, o, l));
    const vec = view(vecBytes, 1, (b, o, l) => new Uint8Array(b, o, l));
    parts[kind] = { rows, second, keys, vecEnd, vec };
  });
  return { bytes, delta: { stringBytes, stringEnd, edge: parts.edge as DeltaPart, origin: parts.origin as DeltaPart, dimension: parts.dimension as DeltaPart } };
}

/** Reads a delta encoded by encodeDelta; throws a RangeError when the bytes are not one. */
export function decodeDelta(input: Uint8Array): Delta {
  if (input.length < HEADER) throw new RangeError('delta payload ends early');
  // Views need 8-byte alignment of the underlying buffer offset.
  // (Uint8Array.from copies; Buffer#slice would not.)
  const bytes = input.byteOffset % 8 === 0 ? input : Uint8Array.from(input);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(0, true) !== MAGIC) throw new RangeError('not a delta payload (bad magic)');
  const strings = dv.getUint32(4, true);
  const stringBytesLength = dv.getUint32(8, true);
  let pos = HEADER;
  const take = <T>(count: number, size: number, make: (buffer: ArrayBufferLike, byteOffset: number, length: number) => T): T => {
    const byteLength = count * size;
    if (pos + byteLength > bytes.length) throw new RangeError('delta payload ends early');
    const view = make(bytes.buffer, bytes.byteOffset + pos, count);
    pos += pad8(byteLength);
    return view;
  };
  const u32 = (n: number): Uint32Array => take(n, 4, (b, o, l) => new Uint32Array(b, o, l));
  const u8 = (n: number): Uint8Array => take(n, 1, (b, o, l) => new Uint8Array(b, o, l));
  const f64 = (n: number): Float64Array => take(n, 8, (b, o, l) => new Float64Array(b, o, l));
  const stringEnd = u32(strings);
  const stringBytes = u8(stringBytesLength);
  checkEnds(stringEnd, stringBytesLength, 'string');
  const parts: Partial<Record<RecordKind, DeltaPart>> = {};
  RECORD_KIND_NAMES.forEach((kind, k) => {
    const rows = dv.getUint32(12 + k * 8, true);
    const vecBytes = dv.getUint32(16 + k * 8, true);
    const arity = arityOf(kind);
    const second = f64(rows);
    const keys = u32(rows * arity);
    const vecEnd = u32(rows);
    const vec = u8(vecBytes);
    checkEnds(vecEnd, vecBytes, 'vector');
    for (let i = 0; i < keys.length; i++) if ((keys[i] as number) >= strings) throw new RangeError('delta key id out of range');
    for (let i = 0; i < rows; i++) if (!Number.isSafeInteger(second[i])) throw new RangeError('delta second is not an integer');
    parts[kind] = { rows, second, keys, vecEnd, vec };
  });
  if (pos !== bytes.length) throw new RangeError('delta payload has trailing bytes');
  return { stringBytes, stringEnd, edge: parts.edge as DeltaPart, origin: parts.origin as DeltaPart, dimension: parts.dimension as DeltaPart };
}

function checkEnds(ends: Uint32Array, total: number, what: string): void {
  let last = 0;
  for (let i = 0; i < ends.length; i++) {
    const e = ends[i] as number;
    if (e < last) throw new RangeError(`delta ${what} offsets go backwards`);
    last = e;
  }
  if (last !== total && !(ends.length === 0 && total === 0)) throw new RangeError(`delta ${what} offsets do not match their bytes`);
}
