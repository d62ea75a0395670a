/**
 * The binary payload of one WAL entry: a RecordSet delta, sparse (only non-zero vector fields),
 * with every string written once. Layout in docs/wal.md. Hot path (every ingest request): one
 * growable buffer, no object per field.
 */
import { EDGE_FIELDS, ORIGIN_FIELDS } from '../../model/fields.ts';
import type { DimensionRecord, EdgeRecord, OriginRecord, RecordSet } from '../../model/record.ts';
import { ByteReader, readSparseVector, sparseVectorMaxBytes, writeSparseVector, writeVarint } from '../../model/sparse-vector.ts';

const FORMAT_VERSION = 1;
const utf8 = new TextEncoder();
// ignoreBOM: a name may begin with U+FEFF (backend names allow it); it must round-trip unchanged.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

class Writer {
  buf = Buffer.allocUnsafe(4096);
  pos = 0;
  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  /** Unsigned LEB128 of an integer in [0, 2^53); arithmetic, since bit operators stop at 2^31. */
  varint(v: number): void {
    this.ensure(8);
    this.pos = writeVarint(this.buf, this.pos, v);
  }
  /** A record vector in the sparse encoding of src/model/sparse-vector.ts. */
  vector(values: Float64Array): void {
    this.ensure(sparseVectorMaxBytes(values.length));
    this.pos = writeSparseVector(this.buf, this.pos, values);
  }
  f64(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }
  bytes(b: Uint8Array): void {
    this.varint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  /** A number: a small non-negative integer as a varint (tag 0), anything else as f64 (tag 1). */
  value(tagShift: number, v: number): void {
    if (Number.isSafeInteger(v) && v >= 0) {
      this.varint(tagShift * 2);
      this.varint(v);
    } else {
      this.varint(tagShift * 2 + 1);
      this.f64(v);
    }
  }
}

class Reader extends ByteReader {
  constructor(buf: Uint8Array) {
    super(buf, 0, 'WAL payload');
  }
  bytes(): Uint8Array {
    const n = this.varint();
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  /** Reads a `value`, returning [tag, number]. */
  value(): [number, number] {
    const t = this.varint();
    return [Math.floor(t / 2), t % 2 === 0 ? this.varint() : this.f64()];
  }
}

/** Encodes a RecordSet; seconds are stored relative to the smallest one. */
export function encodeRecordSet(rs: RecordSet): Buffer {
  const strings = new Map<string, number>();
  const sid = (s: string): number => {
    let id = strings.get(s);
    if (id === undefined) strings.set(s, (id = strings.size));
    return id;
  };
  let base = Number.POSITIVE_INFINITY;
  for (const list of [rs.edge, rs.origin, rs.dimension]) for (const r of list) base = Math.min(base, r.second);
  if (!Number.isFinite(base)) base = 0;

  // Records first (into `body`), so the string table is complete when the header is written.
  const body = new Writer();
  const vector = (values: Float64Array): void => body.vector(values);
  const second = (s: number): void => {
    if (!Number.isSafeInteger(s)) throw new RangeError(`record second ${s} is not an integer`);
    body.varint(s - base);
  };
  body.varint(rs.edge.length);
  for (const r of rs.edge) {
    second(r.second);
    for (const s of [r.service, r.datacenter, r.domain, r.product]) body.varint(sid(s));
    vector(r.values);
  }
  body.varint(rs.origin.length);
  for (const r of rs.origin) {
    second(r.second);
    for (const s of [r.service, r.datacenter, r.backend]) body.varint(sid(s));
    vector(r.values);
  }
  body.varint(rs.dimension.length);
  for (const r of rs.dimension) {
    second(r.second);
    for (const s of [r.service, r.domain, r.product, r.value]) body.varint(sid(s));
    body.varint(r.dimension === 'status' ? 1 : 0);
    body.value(0, r.count);
    body.value(0, r.bytes);
  }

  const head = new Writer();
  head.varint(FORMAT_VERSION);
  head.f64(base);
  head.varint(strings.size);
  for (const s of strings.keys()) head.bytes(utf8.encode(s));
  return Buffer.concat([head.buf.subarray(0, head.pos), body.buf.subarray(0, body.pos)]);
}

/** Decodes a payload; throws a RangeError naming the problem on malformed input. */
export function decodeRecordSet(payload: Uint8Array): RecordSet {
  const r = new Reader(payload);
  const version = r.varint();
  if (version !== FORMAT_VERSION) throw new RangeError(`unknown WAL payload version ${version}`);
  const base = r.f64();
  const strings: string[] = [];
  for (let n = r.varint(); n > 0; n--) strings.push(utf8Decoder.decode(r.bytes()));
  const str = (): string => {
    const id = r.varint();
    const s = strings[id];
    if (s === undefined) throw new RangeError(`WAL string id ${id} out of range`);
    return s;
  };
  const vector = (length: number): Float64Array => {
    const values = new Float64Array(length);
    readSparseVector(r, length, (i, v) => (values[i] = v));
    return values;
  };
  const count = (): number => {
    const n = r.varint();
    if (n > payload.length) throw new RangeError('WAL record count exceeds payload');
    return n;
  };
  const edge: EdgeRecord[] = [];
  for (let n = count(); n > 0; n--) {
    const second = base + r.varint();
    edge.push({ second, service: str(), datacenter: str(), domain: str(), product: str(), values: vector(EDGE_FIELDS.length) });
  }
  const origin: OriginRecord[] = [];
  for (let n = count(); n > 0; n--) {
    const second = base + r.varint();
    origin.push({ second, service: str(), datacenter: str(), backend: str(), values: vector(ORIGIN_FIELDS.length) });
  }
  const dimension: DimensionRecord[] = [];
  for (let n = count(); n > 0; n--) {
    const second = base + r.varint();
    const service = str();
    const domain = str();
    const product = str();
    const value = str();
    const dim = r.varint() === 1 ? 'status' : 'method';
    dimension.push({ second, service, domain, product, dimension: dim, value, count: r.value()[1], bytes: r.value()[1] });
  }
  if (!r.done) throw new RangeError('WAL payload has trailing bytes');
  return { edge, origin, dimension };
}
