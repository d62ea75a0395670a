/**
 * A small direct-mapped cache from a byte string to a number (an interned id, an enum code, a
 * second). The fast line reader looks values up by their bytes, so a service, a POP or a
 * timestamp seen before in the body costs neither a string nor a validation again. Written for
 * speed: no allocation on a hit; a miss on insert overwrites the slot.
 */

export interface ByteCache {
  /** The value stored for bytes `buf[start..end)` with hash `hash`, or -1. */
  get(buf: Uint8Array, start: number, end: number, hash: number): number;
  /** Stores a copy of the bytes with `value` (>= 0). */
  set(buf: Uint8Array, start: number, end: number, hash: number, value: number): void;
}

// A class, not closures: one get/set function for every cache keeps the hot call sites
// monomorphic (per-cache closures made V8 give up inlining them after the first body).
class DirectMappedByteCache implements ByteCache {
  private readonly mask: number;
  private readonly keys: (Uint8Array | undefined)[];
  private readonly values: Float64Array;

  constructor(slots: number) {
    this.mask = slots - 1;
    this.keys = new Array<Uint8Array | undefined>(slots).fill(undefined);
    this.values = new Float64Array(slots);
  }

  get(buf: Uint8Array, start: number, end: number, hash: number): number {
    const slot = hash & this.mask;
    const key = this.keys[slot];
    const n = end - start;
    if (key === undefined || key.length !== n) return -1;
    for (let i = 0; i < n; i++) if (key[i] !== buf[start + i]) return -1;
    return this.values[slot] as number;
  }

  set(buf: Uint8Array, start: number, end: number, hash: number, value: number): void {
    const slot = hash & this.mask;
    // Uint8Array.prototype.slice copies (Buffer#slice would keep a view on the whole body).
    this.keys[slot] = Uint8Array.prototype.slice.call(buf, start, end);
    this.values[slot] = value;
  }
}

/** `slots` must be a power of two. Default 256. */
export function createByteCache(slots = 256): ByteCache {
  return new DirectMappedByteCache(slots);
}

/** The hash the reader computes while it scans a string: h = h * 31 + byte, then mixed. */
export function mixHash(h: number): number {
  return (h ^ (h >>> 15) ^ (h >>> 7)) | 0;
}
