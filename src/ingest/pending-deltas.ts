/**
 * The store queue: durable deltas (applied to the window) not yet written to the store, each
 * with its WAL lsn. The store writer drains the published seconds as one delta, their rows
 * concatenated, not summed: rows are additive and the store sums on read, and at high
 * cardinality (2-3 events per key) summing by key costs far more than it saves. What stays is
 * kept as it came.
 */
import { filterDelta } from '../model/delta-builder.ts';
import { concatDeltas } from '../model/delta-concat.ts';
import { RECORD_KIND_NAMES, deltaRows, isEmptyDelta, type Delta } from '../model/delta.ts';

interface Entry {
  lsn: number;
  delta: Delta;
  minSecond: number;
  maxSecond: number;
}

export interface Drained {
  /** The drained rows (a key may have several). */
  delta: Delta;
  /** Highest lsn among the drained entries (the store write's lsn). */
  maxLsn: number;
  /** The entries drained, to put back when the write fails. */
  entries: readonly Entry[];
  /** Entries holding published rows were left for the next drain (the row bound was reached). */
  partial: boolean;
}

export interface PendingDeltas {
  add(lsn: number, delta: Delta): void;
  /**
   * Removes the rows of seconds <= `published`, taking entries in lsn order until they hold
   * `maxRows` rows (a store write's memory is bounded by it); undefined when there are none.
   */
  drain(published: number, maxRows?: number): Drained | undefined;
  /** Puts drained entries back (their store write failed). */
  restore(drained: Drained): void;
  /** Lowest lsn held, or undefined when empty. */
  lowestLsn(): number | undefined;
  /** Distinct seconds held. */
  seconds(): number;
  /** Rows held (a key may count more than once). */
  rows(): number;
}

function secondRange(delta: Delta): { min: number; max: number } {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const kind of RECORD_KIND_NAMES) {
    const s = delta[kind].second;
    for (let i = 0; i < s.length; i++) {
      const v = s[i] as number;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  return { min, max };
}

export function createPendingDeltas(): PendingDeltas {
  let entries: Entry[] = [];
  let rows = 0;
  const secondsHeld = (): Set<number> => {
    const out = new Set<number>();
    for (const e of entries) for (const kind of RECORD_KIND_NAMES) for (const s of e.delta[kind].second) out.add(s);
    return out;
  };
  return {
    add(lsn, delta) {
      if (isEmptyDelta(delta)) return;
      const { min, max } = secondRange(delta);
      entries.push({ lsn, delta, minSecond: min, maxSecond: max });
      rows += deltaRows(delta);
    },
    drain(published, maxRows = Number.POSITIVE_INFINITY) {
      const taken: Entry[] = [];
      const kept: Entry[] = [];
      const parts: Delta[] = [];
      let maxLsn = 0;
      let takenRows = 0;
      let partial = false;
      for (const e of entries) {
        if (e.minSecond > published) {
          kept.push(e);
          continue;
        }
        // Bound reached: this entry and every later one wait (lsn order keeps the invariant:
        // every delta of a written second with lsn <= the write's lsn is in the write).
        if (takenRows >= maxRows || partial) {
          partial = true;
          kept.push(e);
          continue;
        }
        if (e.maxSecond <= published) {
          taken.push(e);
          parts.push(e.delta);
          takenRows += deltaRows(e.delta);
        } else {
          // Straddles the bound: the published part goes, the rest stays under the same lsn.
          const part = filterDelta(e.delta, (s) => s <= published);
          const rest = filterDelta(e.delta, (s) => s > published);
          const r = secondRange(rest);
          kept.push({ lsn: e.lsn, delta: rest, minSecond: r.min, maxSecond: r.max });
          taken.push({ lsn: e.lsn, delta: part, minSecond: e.minSecond, maxSecond: published });
          parts.push(part);
          takenRows += deltaRows(part);
        }
        maxLsn = Math.max(maxLsn, e.lsn);
      }
      if (taken.length === 0) return undefined;
      entries = kept;
      rows = kept.reduce((n, e) => n + deltaRows(e.delta), 0);
      return { delta: concatDeltas(parts), maxLsn, entries: taken, partial };
    },
    restore(drained) {
      entries = [...drained.entries, ...entries].sort((a, b) => a.lsn - b.lsn);
      rows = entries.reduce((n, e) => n + deltaRows(e.delta), 0);
    },
    lowestLsn() {
      let low: number | undefined;
      for (const e of entries) if (low === undefined || e.lsn < low) low = e.lsn;
      return low;
    },
    seconds: () => secondsHeld().size,
    rows: () => rows,
  };
}
