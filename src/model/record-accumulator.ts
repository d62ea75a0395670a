/**
 * Sums records per key, optionally re-bucketed to a coarser width: the reference model the
 * store's conformance suite and the pipeline's tests check sums against (the runtime sums Deltas
 * instead: model/key-sums.ts, the window's slabs).
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

// Keys are built once per record (the pipeline adds every commit's records here): each name is
// prefixed with its length, so the key is unambiguous whatever characters untrusted names
// contain, without the escaping and the array of JSON.stringify.
const part = (name: string): string => `${name.length}:${name}`;
const edgeKey = (b: number, r: EdgeRecord): string => `${b}|${part(r.service)}${part(r.datacenter)}${part(r.domain)}${part(r.product)}`;
const originKey = (b: number, r: OriginRecord): string => `${b}|${part(r.service)}${part(r.datacenter)}${part(r.backend)}`;
const dimensionKey = (b: number, r: DimensionRecord): string =>
  `${b}|${part(r.service)}${part(r.domain)}${part(r.product)}${part(r.dimension)}${part(r.value)}`;

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
      map.set(key, { ...r, second, values: r.values.slice() });
      return;
    }
    // A record sets ~15 of ~265 fields: write only those.
    const v = held.values;
    const d = r.values;
    for (let i = 0; i < v.length; i++) {
      const x = d[i] as number;
      if (x !== 0) v[i] = (v[i] as number) + x;
    }
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
    edge: rs.edge.map((r) => ({ ...r, values: r.values.slice() })),
    origin: rs.origin.map((r) => ({ ...r, values: r.values.slice() })),
    dimension: rs.dimension.map((r) => ({ ...r })),
  });

  return {
    add(records) {
      for (const r of records.edge) {
        const b = bucketOf(r.second);
        addVector(edge, edgeKey(b, r), r, b);
      }
      for (const r of records.origin) {
        const b = bucketOf(r.second);
        addVector(origin, originKey(b, r), r, b);
      }
      for (const r of records.dimension) {
        const b = bucketOf(r.second);
        const key = dimensionKey(b, r);
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
