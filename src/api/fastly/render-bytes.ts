/**
 * A channel `Data` entry written straight from a second the window lends
 * (RealtimeSource.visitChannel) into UTF-8 bytes: exactly channelEntryJson's text (render-json.ts)
 * of the same second copied out, without the copy, the record objects, JSON.stringify or the
 * string to encode. A cold `ts/h` at 60 POPs is ~7,300 records: built as objects they were most
 * of its time and of the garbage its GC pauses came from (docs/benchmarks.md).
 *
 * The text follows what JSON.stringify does with renderChannel's records and objectOf's maps:
 * keys in insertion order (array-index keys first, ascending, as JavaScript objects order
 * them), numbers as Number#toString, non-finite ones as null. render-bytes.test.ts checks the
 * bytes against channelEntryJson on random seconds.
 */
import type { BorrowedChannelSecond } from '../../aggregate/realtime-source.ts';
import { deriveAt } from '../../model/derived-fields.ts';
import { EDGE_PERCENTILE_NAMES } from '../../model/distributions.ts';
import { edgeIndex } from '../../model/fields.ts';
import { channelColumns } from './render.ts';

const REQUESTS = edgeIndex('requests');
const RESP_HEADER = edgeIndex('resp_header_bytes');
const RESP_BODY = edgeIndex('resp_body_bytes');
const TWO_31 = 2 ** 31;
const TWO_53 = 2 ** 53;
const MAX_INDEX = 2 ** 32 - 2;
/** The longest number text: Number#toString of a double is at most 24 characters ("null" is 4). */
const MAX_NUMBER_BYTES = 24;

const utf8 = (text: string): Uint8Array => Buffer.from(text, 'utf8');
/** `"name":` as JSON bytes. */
const keyBytes = (name: string): Uint8Array => utf8(`${JSON.stringify(name)}:`);

const C = (s: string): number => s.charCodeAt(0);
const OPEN = C('{');
const CLOSE = C('}');
const COMMA = C(',');

// Unchecked writers: each puts its bytes at buf[at...] and returns the position after them; the
// caller made room first (JsonBytes.ensure). Not TypedArray#set: the pieces are ~20 bytes.

/**
 * A constant piece of text (a key with its quotes and colon) as little-endian 32-bit words: a
 * record's ~18 keys are most of its bytes, and four at a time through a DataView is ~2.5x a byte
 * loop here. The last word is zero-padded; the bytes it writes past `length` are overwritten by
 * what follows (or lie beyond the content), so writers keep KEY_SLACK bytes of room.
 */
export interface Key {
  words: Int32Array;
  length: number;
}
const KEY_SLACK = 3;

function keyOf(bytes: Uint8Array): Key {
  const words = new Int32Array(Math.ceil(bytes.length / 4));
  const padded = new Uint8Array(words.length * 4);
  padded.set(bytes);
  const view = new DataView(padded.buffer);
  for (let i = 0; i < words.length; i++) words[i] = view.getInt32(i * 4, true);
  return { words, length: bytes.length };
}

function putKey(view: DataView, at: number, key: Key): number {
  const { words } = key;
  for (let i = 0; i < words.length; i++) view.setInt32(at + i * 4, words[i] as number, true);
  return at + key.length;
}

/** A number as JSON.stringify writes it, in at most MAX_NUMBER_BYTES. */
function putNumber(buf: Uint8Array, at: number, v: number): number {
  if (v >= 0 && v < TWO_31 && (v | 0) === v) {
    // Counts and byte sums, digit by digit; -0 writes "0" as JSON does.
    let end = at + 1;
    for (let p = 10; p <= v; p *= 10) end++;
    let n = v | 0;
    for (let i = end - 1; i >= at; i--) {
      const q = (n / 10) | 0;
      buf[i] = 48 + (n - q * 10);
      n = q;
    }
    return end;
  }
  if (v >= TWO_31 && v < TWO_53 && Math.floor(v) === v) {
    let end = at + 1;
    for (let p = 10; p <= v; p *= 10) end++;
    let n = v;
    for (let i = end - 1; i >= at; i--) {
      const q = Math.floor(n / 10);
      buf[i] = 48 + (n - q * 10);
      n = q;
    }
    return end;
  }
  const text = Number.isFinite(v) ? String(v) : 'null';
  for (let i = 0; i < text.length; i++) buf[at++] = text.charCodeAt(i);
  return at;
}

/** A growable byte buffer written as JSON text. */
export class JsonBytes {
  buf = new Uint8Array(1 << 16);
  /** Over `buf`, for putKey. */
  view = new DataView(this.buf.buffer);
  length = 0;

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.length + n, this.buf.length * 2));
    grown.set(this.buf.subarray(0, this.length));
    this.buf = grown;
    this.view = new DataView(grown.buffer);
  }

  key(key: Key): void {
    this.ensure(key.length + KEY_SLACK);
    this.length = putKey(this.view, this.length, key);
  }

  /** A number as JSON.stringify writes it. */
  number(v: number): void {
    this.ensure(MAX_NUMBER_BYTES);
    this.length = putNumber(this.buf, this.length, v);
  }

  /** A copy of bytes [from, length) as a Buffer of its own (the scratch is reused). */
  copy(from: number): Buffer {
    const out = Buffer.allocUnsafe(this.length - from);
    out.set(this.buf.subarray(from, this.length));
    return out;
  }

  /** Drops the content; lets an outsized buffer go. */
  reset(): void {
    this.length = 0;
    if (this.buf.length > 1 << 24) {
      this.buf = new Uint8Array(1 << 16);
      this.view = new DataView(this.buf.buffer);
    }
  }
}

/**
 * renderChannel's columns for one `fields` hint, keys as bytes: `"requests":` first (always
 * written), then `,"name":` for the others; histogram keys without the comma.
 */
interface BytePlan {
  keys: Key[];
  index: Int32Array;
  histogramKeys: Key[];
  histogramIndex: Int32Array;
  /** An upper bound of one record's bytes. */
  maxBytes: number;
}
const plans = new WeakMap<Uint16Array, BytePlan>();

const HEADER_SIZE = keyOf(utf8(',"header_size":'));
const BODY_SIZE = keyOf(utf8(',"body_size":'));
const BANDWIDTH = keyOf(utf8(',"bandwidth":'));
const EDGE_HIT_RATIO = keyOf(utf8(',"edge_hit_ratio":'));
const ORIGIN_OFFLOAD = keyOf(utf8(',"origin_offload":'));
const MISS_HISTOGRAM = keyOf(utf8(',"miss_histogram":{'));
const EXTRA_BYTES = [HEADER_SIZE, BODY_SIZE, BANDWIDTH, EDGE_HIT_RATIO, ORIGIN_OFFLOAD].reduce((n, k) => n + k.length + MAX_NUMBER_BYTES, MISS_HISTOGRAM.length + 3);
const PERCENTILE_KEYS = EDGE_PERCENTILE_NAMES.map((name) => keyOf(utf8(`,${JSON.stringify(name)}:`)));
const PERCENTILE_BYTES = PERCENTILE_KEYS.reduce((n, k) => n + k.length + MAX_NUMBER_BYTES, 0);
const RECORDED = keyOf(utf8('{"recorded":'));
const AGGREGATED = keyOf(utf8(',"aggregated":'));
const DATACENTER = keyOf(utf8(',"datacenter":{'));
const COMMA_BYTES = keyOf(utf8(','));
const END_ENTRY = keyOf(utf8('}}'));

function bytePlan(fields: Uint16Array): BytePlan {
  let p = plans.get(fields);
  if (p === undefined) {
    const { channel, histogram } = channelColumns(fields);
    // renderChannel writes `requests` first whatever its value; the others when not 0.
    if (channel[0]?.[1] !== REQUESTS) throw new Error('the channel columns must start with requests');
    const keys = channel.map(([name], k) => keyOf(utf8(`${k === 0 ? '' : ','}${JSON.stringify(name)}:`)));
    const histogramKeys = histogram.map(([edge]) => keyOf(keyBytes(edge)));
    const bound = (list: Key[]): number => list.reduce((n, k) => n + k.length + 1 + MAX_NUMBER_BYTES, 0);
    p = {
      keys,
      index: Int32Array.from(channel, ([, i]) => i),
      histogramKeys,
      histogramIndex: Int32Array.from(histogram, ([, i]) => i),
      maxBytes: 2 + bound(keys) + bound(histogramKeys) + EXTRA_BYTES + KEY_SLACK,
    };
    plans.set(fields, p);
  }
  return p;
}

/** renderChannel(values[offset, offset + width), fields, pct[pctAt...]) as JSON. */
function writeRecord(w: JsonBytes, p: BytePlan, v: Float64Array, offset: number, pct: Float64Array | undefined, pctAt: number): void {
  w.ensure(p.maxBytes + PERCENTILE_BYTES);
  const { buf, view } = w;
  let at = w.length;
  buf[at++] = OPEN;
  const { keys, index } = p;
  at = putKey(view, at, keys[0] as Key);
  at = putNumber(buf, at, v[offset + REQUESTS] as number);
  let header: number | undefined;
  let body: number | undefined;
  for (let k = 1; k < index.length; k++) {
    const i = index[k] as number;
    const value = v[offset + i] as number;
    if (value === 0) continue;
    at = putNumber(buf, putKey(view, at, keys[k] as Key), value);
    if (i === RESP_HEADER) header = value;
    else if (i === RESP_BODY) body = value;
  }
  if (header !== undefined) at = putNumber(buf, putKey(view, at, HEADER_SIZE), header);
  if (body !== undefined) at = putNumber(buf, putKey(view, at, BODY_SIZE), body);
  const d = deriveAt(v, offset);
  if (d.bandwidth !== 0) at = putNumber(buf, putKey(view, at, BANDWIDTH), d.bandwidth);
  if (d.edgeHitRatio !== undefined) at = putNumber(buf, putKey(view, at, EDGE_HIT_RATIO), d.edgeHitRatio);
  if (d.originOffload !== undefined) at = putNumber(buf, putKey(view, at, ORIGIN_OFFLOAD), d.originOffload);
  const { histogramKeys, histogramIndex } = p;
  let histogram = false;
  for (let k = 0; k < histogramIndex.length; k++) {
    const count = v[offset + (histogramIndex[k] as number)] as number;
    if (count === 0) continue;
    if (histogram) buf[at++] = COMMA;
    else at = putKey(view, at, MISS_HISTOGRAM);
    histogram = true;
    at = putNumber(buf, putKey(view, at, histogramKeys[k] as Key), count);
  }
  if (histogram) buf[at++] = CLOSE;
  if (pct !== undefined) {
    for (let k = 0; k < PERCENTILE_KEYS.length; k++) {
      const value = pct[pctAt + k] as number;
      if (!Number.isNaN(value)) at = putNumber(buf, putKey(view, at, PERCENTILE_KEYS[k] as Key), value);
    }
  }
  buf[at++] = CLOSE;
  w.length = at;
}

/** Datacenter names' keys as bytes; POPs are few, the bound only guards against a flood of names. */
const nameKeys = new Map<string, Key>();
const MAX_NAME_KEYS = 10_000;

function nameKey(name: string): Key {
  let key = nameKeys.get(name);
  if (key === undefined) {
    if (nameKeys.size >= MAX_NAME_KEYS) nameKeys.clear();
    nameKeys.set(name, (key = keyOf(keyBytes(name))));
  }
  return key;
}

const isArrayIndex = (key: string): boolean => /^(?:0|[1-9]\d{0,9})$/.test(key) && Number(key) <= MAX_INDEX;

/**
 * The order JSON.stringify writes the keys of objectOf(groups): sorted (objectOf), then as a
 * JavaScript object orders its keys: array indexes first, ascending.
 */
export function objectKeyOrder(names: readonly string[]): number[] {
  sorting = names;
  const order = names.map(indexOf).sort(byName);
  sorting = NONE;
  if (!names.some(isArrayIndex)) return order;
  const indexes = order.filter((k) => isArrayIndex(names[k] as string)).sort((a, b) => Number(names[a]) - Number(names[b]));
  return [...indexes, ...order.filter((k) => !isArrayIndex(names[k] as string))];
}

// The sort's comparator at module level (no closure per call), over the names being sorted.
const NONE: readonly string[] = [];
let sorting = NONE;
const indexOf = (_: string, k: number): number => k;
function byName(a: number, b: number): number {
  const x = sorting[a] as string;
  const y = sorting[b] as string;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** channelEntryJson of the second `s` lends, appended to `w`. */
export function writeChannelEntry(w: JsonBytes, s: BorrowedChannelSecond): void {
  const p = bytePlan(s.fields);
  const { values, width, datacenters } = s;
  w.key(RECORDED);
  w.number(s.second);
  w.key(AGGREGATED);
  const pct = s.percentiles;
  writeRecord(w, p, values, 0, pct, 0);
  w.key(DATACENTER);
  const order = objectKeyOrder(datacenters);
  for (let n = 0; n < order.length; n++) {
    const k = order[n] as number;
    if (n > 0) w.key(COMMA_BYTES);
    w.key(nameKey(datacenters[k] as string));
    writeRecord(w, p, values, (1 + k) * width, pct, (1 + k) * PERCENTILE_KEYS.length);
  }
  w.key(END_ENTRY);
}
