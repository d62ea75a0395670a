/**
 * The fast line reader: reads a flat JSON object straight from the body's bytes into a
 * RawEvent, without JSON.parse, without a JS object and without strings for values it can take
 * from the byte caches. Written for speed (the ingest hot path).
 *
 * It only ever answers "read, with exactly what JSON.parse would give" or "not sure": anything
 * unusual (non-ASCII bytes, an escape in a value the validator reads, a nested value, a
 * duplicated known key, any syntax error) returns false and the caller falls back to JSON.parse,
 * which then decides. ndjson-parser.property.test.ts checks both readers agree on random lines.
 */
import { mixHash } from './byte-cache.ts';
import { F, FIELD_COUNT, FIELD_NAMES, K_FALSE, K_NULL, K_NUMBER, K_STRING, K_TRUE, type RawEvent } from './raw-event.ts';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN = 0x7b;
const CLOSE = 0x7d;


/** Fields whose strings may hold escapes: decoded with JSON.parse alone (rawString reads raw.str when start is -1). */
const DECODED = new Uint8Array(FIELD_COUNT);
DECODED[F.path] = 1;
DECODED[F.client_ip] = 1;

/**
 * The line each field was last seen on (duplicate keys): a stamp per field instead of a bit
 * mask, so the field count is not bound to 32 (a 33rd field would have aliased field 0).
 */
const seenOnLine = new Float64Array(FIELD_COUNT);
let lineStamp = 0;

/** Open-addressed table from a key's hash to its field index + 1. */
const KEY_SLOTS = 1024;
const keyTable = new Int16Array(KEY_SLOTS);
const keyBytes = FIELD_NAMES.map((name) => Buffer.from(name, 'latin1'));

function hashOf(bytes: Uint8Array): number {
  let h = 0;
  for (const c of bytes) h = (Math.imul(h, 31) + c) | 0;
  return mixHash(h);
}

for (let f = 0; f < FIELD_COUNT; f++) {
  let slot = hashOf(keyBytes[f] as Uint8Array) & (KEY_SLOTS - 1);
  while (keyTable[slot] !== 0) slot = (slot + 1) & (KEY_SLOTS - 1);
  keyTable[slot] = f + 1;
}

function lookupKey(buf: Uint8Array, start: number, end: number, hash: number): number {
  let slot = hash & (KEY_SLOTS - 1);
  for (;;) {
    const entry = keyTable[slot] ?? 0;
    if (entry === 0) return -1;
    const key = keyBytes[entry - 1] as Uint8Array;
    if (key.length === end - start) {
      let i = 0;
      while (i < key.length && key[i] === buf[start + i]) i++;
      if (i === key.length) return entry - 1;
    }
    slot = (slot + 1) & (KEY_SLOTS - 1);
  }
}

/** States of RawEvent.keyOrder besides the fields: before the first key, after an unknown key. */
const FIRST_KEY = FIELD_COUNT;
const UNKNOWN_KEY = FIELD_COUNT + 1;

/** Whether `buf[i..]` is exactly `key` followed by the closing quote. */
function isKeyAt(buf: Uint8Array, i: number, end: number, key: Uint8Array): boolean {
  const n = key.length;
  if (i + n >= end || buf[i + n] !== QUOTE) return false;
  for (let j = 0; j < n; j++) if (buf[i + j] !== key[j]) return false;
  return true;
}

function skipWs(buf: Uint8Array, i: number, end: number): number {
  while (i < end) {
    const c = buf[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) break;
    i++;
  }
  return i;
}

function isHex(c: number | undefined): boolean {
  return c !== undefined && ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66));
}

/** The index after the escape at `i` (a backslash), or -1 when JSON would refuse it. */
function skipEscape(buf: Uint8Array, i: number, end: number): number {
  if (i + 2 > end) return -1;
  const c = buf[i + 1];
  if (c === 0x22 || c === 0x5c || c === 0x2f || c === 0x62 || c === 0x66 || c === 0x6e || c === 0x72 || c === 0x74) return i + 2;
  if (c === 0x75 && i + 6 <= end && isHex(buf[i + 2]) && isHex(buf[i + 3]) && isHex(buf[i + 4]) && isHex(buf[i + 5])) return i + 6;
  return -1;
}

/** Exact powers of ten (10^22 is the largest a double holds exactly). */
const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

/** The value of the last number scanned (module scratch: no allocation per number). */
let scannedNumber = 0;

/**
 * Scans a JSON number at `i`; returns the index after it (value in `scannedNumber`) or -1.
 * Up to 15 significant digits and a power of ten of at most 22, one IEEE multiplication or
 * division of two exact doubles is correctly rounded (Clinger's fast path), so it equals what
 * JSON.parse gives; other numbers go through Number(), which rounds the same way.
 */
function scanNumber(buf: Buffer, i: number, end: number): number {
  const start = i;
  const negative = buf[i] === 0x2d;
  if (negative) i++;
  if (i >= end) return -1;
  let c = buf[i];
  let mantissa = 0;
  let digits = 0;
  if (c === 0x30) {
    i++;
    c = buf[i];
    if (i < end && c !== undefined && c >= 0x30 && c <= 0x39) return -1; // leading zero
  } else if (c !== undefined && c >= 0x31 && c <= 0x39) {
    while (i < end && (c = buf[i]) !== undefined && c >= 0x30 && c <= 0x39) {
      mantissa = mantissa * 10 + (c - 0x30);
      digits++;
      i++;
    }
  } else {
    return -1;
  }
  let fractionDigits = 0;
  if (i < end && buf[i] === 0x2e) {
    i++;
    const from = i;
    while (i < end && (c = buf[i]) !== undefined && c >= 0x30 && c <= 0x39) {
      mantissa = mantissa * 10 + (c - 0x30);
      digits++;
      i++;
    }
    fractionDigits = i - from;
    if (fractionDigits === 0) return -1;
  }
  let exponent = 0;
  if (i < end && (buf[i] === 0x65 || buf[i] === 0x45)) {
    i++;
    let negativeExponent = false;
    if (i < end && (buf[i] === 0x2b || buf[i] === 0x2d)) {
      negativeExponent = buf[i] === 0x2d;
      i++;
    }
    const from = i;
    while (i < end && (c = buf[i]) !== undefined && c >= 0x30 && c <= 0x39) {
      exponent = exponent * 10 + (c - 0x30);
      i++;
    }
    if (i === from) return -1;
    if (i - from > 4) exponent = 100_000; // leave it to Number()
    if (negativeExponent) exponent = -exponent;
  }
  const e10 = exponent - fractionDigits;
  if (digits <= 15 && e10 >= -22 && e10 <= 22) {
    const v = e10 >= 0 ? mantissa * (POW10[e10] as number) : mantissa / (POW10[-e10] as number);
    scannedNumber = negative ? -v : v;
  } else {
    scannedNumber = Number(buf.toString('latin1', start, i));
  }
  return i;
}

/** What a byte is inside a JSON string: plain, the closing quote, a backslash, or refused here. */
const PLAIN = 0;
const CLOSING = 1;
const ESCAPE = 2;
const REFUSED = 3;
const CHAR_CLASS = new Uint8Array(256).map((_, c) =>
  c === QUOTE ? CLOSING : c === BACKSLASH ? ESCAPE : c < 0x20 || c >= 0x80 ? REFUSED : PLAIN,
);

/** The hash of the last plain string scanned (module scratch, like scannedNumber). */
let scannedHash = 0;

/**
 * Scans the content of a string the validator reads, from `i` (after the opening quote): plain
 * characters only. Returns the index of the closing quote (hash in `scannedHash`) or -1.
 */
function scanPlainString(buf: Uint8Array, i: number, end: number): number {
  let h = 0;
  for (;;) {
    if (i >= end) return -1;
    const c = buf[i] as number;
    const cls = CHAR_CLASS[c];
    if (cls === PLAIN) {
      h = (Math.imul(h, 31) + c) | 0;
      i++;
    } else if (cls === CLOSING) {
      scannedHash = mixHash(h);
      return i;
    } else {
      return -1;
    }
  }
}

/** Skips a string whose content is not read (escapes allowed); returns the index after it or -1. */
function skipString(buf: Uint8Array, i: number, end: number): number {
  for (;;) {
    if (i >= end) return -1;
    const cls = CHAR_CLASS[buf[i] as number];
    if (cls === PLAIN) i++;
    else if (cls === CLOSING) return i + 1;
    else if (cls === ESCAPE) {
      i = skipEscape(buf, i, end);
      if (i < 0) return -1;
    } else return -1;
  }
}

function isLiteral(buf: Uint8Array, i: number, end: number, b1: number, b2: number, b3: number, b4: number): boolean {
  return i + 4 <= end && buf[i] === b1 && buf[i + 1] === b2 && buf[i + 2] === b3 && buf[i + 3] === b4;
}

/**
 * Reads the line `buf[start..end)` into `raw`. Returns false when it is not sure, and then
 * `raw` holds garbage: the caller must read the line with JSON.parse.
 */
export function scanLine(buf: Buffer, start: number, end: number, raw: RawEvent): boolean {
  raw.src = buf;
  raw.kind.fill(0);
  let i = skipWs(buf, start, end);
  if (i >= end || buf[i] !== OPEN) return false;
  i = skipWs(buf, i + 1, end);
  const keyOrder = raw.keyOrder;
  let previous: number = FIRST_KEY;
  const stamp = ++lineStamp;
  if (i < end && buf[i] === CLOSE) {
    i++;
  } else {
    for (;;) {
      if (i >= end || buf[i] !== QUOTE) return false;
      i++;
      // Producers write keys in the same order line after line: try the key that followed the
      // previous one last time, which costs one comparison instead of a scan, a hash and a lookup.
      let f = keyOrder[previous] as number;
      const guess = f >= 0 ? (keyBytes[f] as Uint8Array) : undefined;
      if (guess !== undefined && isKeyAt(buf, i, end, guess)) {
        i += guess.length;
      } else {
        const keyStart = i;
        i = scanPlainString(buf, keyStart, end);
        if (i < 0) return false;
        f = lookupKey(buf, keyStart, i, scannedHash);
        keyOrder[previous] = f;
      }
      previous = f >= 0 ? f : UNKNOWN_KEY;
      i = skipWs(buf, i + 1, end);
      if (i >= end || buf[i] !== COLON) return false;
      i = skipWs(buf, i + 1, end);
      if (i >= end) return false;
      if (f >= 0) {
        if (seenOnLine[f] === stamp) return false; // JSON.parse keeps the last duplicate: let it decide
        seenOnLine[f] = stamp;
      }
      const c = buf[i] as number;
      if (c === QUOTE) {
        if (f < 0) {
          i = skipString(buf, i + 1, end);
          if (i < 0) return false;
        } else {
          const valueStart = i + 1;
          i = scanPlainString(buf, valueStart, end);
          if (i >= 0) {
            raw.kind[f] = K_STRING;
            raw.start[f] = valueStart;
            raw.end[f] = i;
            raw.hash[f] = scannedHash;
            i++;
          } else {
            // An escape in a path or an address (`\/` from many JSON encoders): decoded here, not a fallback of the line.
            if (DECODED[f] !== 1) return false;
            i = skipString(buf, valueStart, end);
            if (i < 0) return false;
            raw.kind[f] = K_STRING;
            raw.str[f] = JSON.parse(buf.toString('latin1', valueStart - 1, i)) as string;
            raw.start[f] = -1;
          }
        }
      } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
        i = scanNumber(buf, i, end);
        if (i < 0) return false;
        if (f >= 0) {
          raw.kind[f] = K_NUMBER;
          raw.num[f] = scannedNumber;
        }
      } else if (c === 0x74 && isLiteral(buf, i, end, 0x74, 0x72, 0x75, 0x65)) {
        if (f >= 0) raw.kind[f] = K_TRUE;
        i += 4;
      } else if (c === 0x66 && isLiteral(buf, i + 1, end, 0x61, 0x6c, 0x73, 0x65)) {
        if (f >= 0) raw.kind[f] = K_FALSE;
        i += 5;
      } else if (c === 0x6e && isLiteral(buf, i, end, 0x6e, 0x75, 0x6c, 0x6c)) {
        if (f >= 0) raw.kind[f] = K_NULL;
        i += 4;
      } else {
        return false; // nested object or array, or not JSON
      }
      i = skipWs(buf, i, end);
      if (i >= end) return false;
      const next = buf[i];
      if (next === COMMA) {
        i = skipWs(buf, i + 1, end);
        continue;
      }
      if (next !== CLOSE) return false;
      i++;
      break;
    }
  }
  return skipWs(buf, i, end) === end;
}
