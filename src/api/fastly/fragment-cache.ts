/**
 * Rendered `Data` entries (render-json.ts, as UTF-8 bytes: off the V8 heap, and sent without
 * encoding; plus their deflated form for gzip answers, gzip-join.ts) of recent seconds, per API,
 * service and second, each
 * with the revision of the window's second it was rendered from (SecondHints.revision). A
 * published second changes only when late events reach it, and each change gives it a new
 * revision, so a fragment whose revision still matches is exactly what rendering again would
 * give: a `/ts/h` answer is then ~120 cached strings joined plus the one or two new seconds.
 *
 * Memory is bounded two ways: fragments of seconds below a moving bound (the oldest second the
 * routes still cache: the window's oldest and the start of `ts/h`) are dropped, and the total of
 * fragment bytes (JSON and deflated) plus ENTRY_OVERHEAD_BYTES each is held under maxBytes by dropping whole
 * (API, service) sets, least recently read first. Only seconds read from memory are cached (the
 * store's have no revision: a late event may change them without the routes knowing).
 */

import type { DeflatedPiece } from './gzip-join.ts';

export type ApiKind = 'channel' | 'domains' | 'origins';

/** A cached entry: its JSON (UTF-8), and its deflated form once an answer was sent gzipped. */
export interface Fragment {
  revision: number;
  json: Buffer;
  deflated?: DeflatedPiece;
}

/** Bytes counted per fragment besides its text: Map slot, entry object, Buffer object. */
export const ENTRY_OVERHEAD_BYTES = 160;

/** The fragments of one API and service. */
export interface ServiceFragments {
  /** The fragment of `second` if it was rendered from this revision. */
  get(second: number, revision: number): Fragment | undefined;
  /** Keeps (or replaces) the fragment of `second`. */
  put(second: number, fragment: Fragment): void;
}

export interface FragmentCache {
  /** The fragments of (kind, service), marked as the most recently read. */
  service(kind: ApiKind, service: string): ServiceFragments;
  /** Drops every fragment of a second < `second` and refuses them from now on; cheap when the bound has not moved. */
  dropBelow(second: number): void;
  stats(): { sets: number; fragments: number; bytes: number };
}

interface FragmentSet {
  key: string;
  seconds: Map<number, Fragment>;
  /** No second below this one is held. */
  low: number;
  bytes: number;
}

const sizeOf = (f: Fragment): number => f.json.byteLength + (f.deflated?.deflated.byteLength ?? 0) + ENTRY_OVERHEAD_BYTES;

export function createFragmentCache(opts: { maxBytes: number }): FragmentCache {
  // Insertion order is recency: a set read is moved to the end.
  const sets = new Map<string, FragmentSet>();
  let bytes = 0;
  let bound = Number.NEGATIVE_INFINITY;

  function drop(set: FragmentSet, second: number): void {
    const f = set.seconds.get(second);
    if (f === undefined) return;
    set.seconds.delete(second);
    set.bytes -= sizeOf(f);
    bytes -= sizeOf(f);
  }

  /** Evicts the least recently read sets, then the fragments of `keep` put first, until under budget. */
  function shrink(keep: FragmentSet): void {
    for (const set of sets.values()) {
      if (bytes <= opts.maxBytes) return;
      if (set === keep) continue;
      sets.delete(set.key);
      bytes -= set.bytes;
    }
    for (const second of keep.seconds.keys()) {
      if (bytes <= opts.maxBytes) return;
      drop(keep, second);
    }
  }

  return {
    service(kind, service) {
      const key = `${kind}/${service}`;
      let held = sets.get(key);
      if (held !== undefined) {
        sets.delete(key);
        sets.set(key, held);
      }
      return {
        get(second, revision) {
          const f = held?.seconds.get(second);
          return f !== undefined && f.revision === revision ? f : undefined;
        },
        put(second, fragment) {
          const size = sizeOf(fragment);
          if (second < bound || size > opts.maxBytes) return;
          // Created on the first put; again if evicted since this handle was taken.
          if (held === undefined || sets.get(key) !== held) {
            held = sets.get(key) ?? { key, seconds: new Map(), low: Number.POSITIVE_INFINITY, bytes: 0 };
            sets.set(key, held);
          }
          drop(held, second);
          held.seconds.set(second, fragment);
          held.low = Math.min(held.low, second);
          held.bytes += size;
          bytes += size;
          if (bytes > opts.maxBytes) shrink(held);
        },
      };
    },

    dropBelow(second) {
      if (second <= bound) return;
      bound = second;
      for (const set of sets.values()) {
        if (set.seconds.size === 0) sets.delete(set.key);
        if (set.low >= second) continue;
        // Walk the expired seconds when few (the usual one per second), else the held ones.
        if (second - set.low <= set.seconds.size) {
          for (let s = set.low; s < second; s++) drop(set, s);
        } else {
          for (const s of [...set.seconds.keys()]) if (s < second) drop(set, s);
        }
        set.low = second;
        if (set.seconds.size === 0) sets.delete(set.key);
      }
    },

    stats() {
      let fragments = 0;
      for (const set of sets.values()) fragments += set.seconds.size;
      return { sets: sets.size, fragments, bytes };
    },
  };
}
