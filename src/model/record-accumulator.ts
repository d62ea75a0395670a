/**
 * Sums record deltas per key, optionally re-bucketed to a coarser width. The store uses it to
 * pre-sum a write per rollup tier (one row per key and bucket); the ingest pipeline uses it to
 * hold the deltas not yet written to the store.
 */
import type { DimensionRecord, EdgeRecord, OriginRecord, RecordSet } from './record.ts';

export interface RecordAccumulator {
  /** Adds every record of `records`, its second floored to the accumulator's bucket width. */
  add(records: RecordSet): void;
  /** Number of distinct keys held. */
  readonly size: number;
  /** The distinct buckets held, ascending. */
  buckets(): number[];
  /** Removes and returns the records whose bucket satisfies `take`; all when absent. */
  drain(take?: (bucket: number) => boolean): RecordSet;
  /** The held records without removing them (vectors are copies). */
  snapshot(): RecordSet;
  /**
   * The held records themselves, without copying: read them at once and do not keep them, since
   * the next `add` changes their vectors in place.
   */
  view(): RecordSet;
}

// JSON of the key parts: unambiguous whatever characters untrusted names contain.
const keyOf = (parts: readonly (string | number)[]): string => JSON.stringify(parts);

/** @param bucketSeconds width records are floored to; default 1 (keep each second). */
export function createRecordAccumulator(bucketSeconds = 1): RecordAccumulator {
  if (!Number.isInteger(bucketSeconds) || bucketSeconds < 1) throw new RangeError(`bad bucket width ${bucketSeconds}`);
  const edge = new Map<string, EdgeRecord>();
  const origin = new Map<string, OriginRecord>();
  const dimension = new Map<string, DimensionRecord>();
  const bucketOf = (second: number): number => second - (((second % bucketSeconds) + bucketSeconds) % bucketSeconds);

  const addVector = <R extends { second: number; values: Float64Array }>(map: Map<string, R>, key: string, r: R, second: number): void => {
    const held = map.get(key);
    if (held === undefined) {
      map.set(key, { ...r, second, values: Float64Array.from(r.values) });
      return;
    }
    const v = held.values;
    const d = r.values;
    for (let i = 0; i < v.length; i++) v[i] = (v[i] as number) + (d[i] as number);
  };

  const takeFrom = <R extends { second: number }>(map: Map<string, R>, take: (b: number) => boolean, remove: boolean): R[] => {
    const out: R[] = [];
    for (const [key, r] of map) {
      if (!take(r.second)) continue;
      out.push(r);
      if (remove) map.delete(key);
    }
    return out;
  };

  const copy = (rs: RecordSet): RecordSet => ({
    edge: rs.edge.map((r) => ({ ...r, values: Float64Array.from(r.values) })),
    origin: rs.origin.map((r) => ({ ...r, values: Float64Array.from(r.values) })),
    dimension: rs.dimension.map((r) => ({ ...r })),
  });

  return {
    add(records) {
      for (const r of records.edge) {
        const b = bucketOf(r.second);
        addVector(edge, keyOf([b, r.service, r.datacenter, r.domain, r.product]), r, b);
      }
      for (const r of records.origin) {
        const b = bucketOf(r.second);
        addVector(origin, keyOf([b, r.service, r.datacenter, r.backend]), r, b);
      }
      for (const r of records.dimension) {
        const b = bucketOf(r.second);
        const key = keyOf([b, r.service, r.domain, r.product, r.dimension, r.value]);
        const held = dimension.get(key);
        if (held === undefined) dimension.set(key, { ...r, second: b });
        else {
          held.count += r.count;
          held.bytes += r.bytes;
        }
      }
    },
    get size() {
      return edge.size + origin.size + dimension.size;
    },
    buckets() {
      const set = new Set<number>();
      for (const m of [edge, origin, dimension] as Map<string, { second: number }>[]) for (const r of m.values()) set.add(r.second);
      return [...set].sort((a, b) => a - b);
    },
    drain(take = () => true) {
      return { edge: takeFrom(edge, take, true), origin: takeFrom(origin, take, true), dimension: takeFrom(dimension, take, true) };
    },
    view() {
      return { edge: [...edge.values()], origin: [...origin.values()], dimension: [...dimension.values()] };
    },
    snapshot() {
      const all = () => true;
      return copy({ edge: takeFrom(edge, all, false), origin: takeFrom(origin, all, false), dimension: takeFrom(dimension, all, false) });
    },
  };
}
