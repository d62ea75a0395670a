/**
 * Reused typed arrays for the aggregation hot path. aggregateBatch works through a batch in
 * chunks of at most CHUNK events, so its per-event scratch columns (keys, axis codes, values)
 * have a fixed upper size: allocating them once instead of per batch spares the zeroing and the
 * garbage collection of megabytes per batch. Safe because aggregation is synchronous: no two
 * calls interleave.
 */

/** Events per chunk: scratch stays a few MB and in cache. */
export const CHUNK = 16_384;

const f64 = new Map<string, Float64Array>();
const i32 = new Map<string, Int32Array>();

/** A Float64Array of at least `length` (<= CHUNK * width) owned by `name`; contents undefined. */
export function scratchF64(name: string, length: number): Float64Array {
  let a = f64.get(name);
  if (a === undefined || a.length < length) f64.set(name, (a = new Float64Array(length)));
  return a;
}

/** An Int32Array of at least `length` owned by `name`; contents undefined. */
export function scratchI32(name: string, length: number): Int32Array {
  let a = i32.get(name);
  if (a === undefined || a.length < length) i32.set(name, (a = new Int32Array(length)));
  return a;
}
