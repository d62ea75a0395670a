/**
 * The slow, always-exact grouping key: a dense id per distinct tuple of column values. Used by
 * batch-keys.ts only for a batch whose ranges are too wide for mixed-radix numbers.
 */

type Column = Float64Array | Int32Array | Uint16Array | Uint8Array;

/** @param ids tuple -> id; pass the same map to give several batches one id space. */
export function compositeKeys(n: number, columns: readonly Column[], ids = new Map<string, number>()): Float64Array {
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const tuple = columns.map((col) => col[i] as number).join(',');
    let id = ids.get(tuple);
    if (id === undefined) {
      id = ids.size;
      ids.set(tuple, id);
    }
    keys[i] = id;
  }
  return keys;
}
