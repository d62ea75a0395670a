/**
 * The path and client_ip counts of one parsed body per (service, minute, value), and its events
 * per (service, minute) as the value TOP_VALUES_BOUND (those with or without a path or address:
 * what a part's bound row counts, so that readers can tell events never counted): what the
 * top-values tracker (top-values-tracker.ts) adds to its per-minute summaries once the body is
 * acknowledged. Exact for the body; plain arrays and one Float64Array, so a parse worker hands
 * them to the main thread by structured clone, names and all.
 */
import type { Interner } from '../model/dictionary.ts';
import type { EventBatch, TopValueNames } from '../model/event.ts';
import { TupleIndex } from '../model/delta-builder.ts';
import { TOP_VALUE_DIMENSIONS, TOP_VALUES_BOUND, type TopValueDimension } from '../model/top-values.ts';

/** The key value of a (service, minute)'s event count. */
const EVENTS = 0xffffffff;

export interface TopValueCounts {
  /** Services and values, each once. */
  strings: string[];
  /** ENTRY_WIDTH numbers per entry: service (index into strings), minute start, dimension (index into TOP_VALUE_DIMENSIONS), value (index into strings), count. */
  entries: Float64Array;
}

export const ENTRY_WIDTH = 5;

export const emptyTopValueCounts = (): TopValueCounts => ({ strings: [], entries: new Float64Array(0) });

/** One entry of `counts`, names resolved. */
export interface TopValueEntry {
  service: string;
  minute: number;
  dimension: TopValueDimension;
  value: string;
  count: number;
}

export function* topValueEntries(counts: TopValueCounts): Generator<TopValueEntry> {
  const { strings, entries } = counts;
  for (let at = 0; at < entries.length; at += ENTRY_WIDTH) {
    yield {
      service: strings[entries[at] as number] as string,
      minute: entries[at + 1] as number,
      dimension: TOP_VALUE_DIMENSIONS[entries[at + 2] as number] as TopValueDimension,
      value: strings[entries[at + 3] as number] as string,
      count: entries[at + 4] as number,
    };
  }
}

/** The counts of `batch`'s events (services named by `services`, values by `names`). Per event two hash lookups. */
export function countTopValues(batch: EventBatch, names: TopValueNames, services: Interner): TopValueCounts {
  const index = new TupleIndex(3);
  const key = new Uint32Array(3);
  let counts = new Float64Array(256);
  const columns = [batch.path, batch.clientIp];
  for (let i = 0; i < batch.length; i++) {
    const second = batch.second[i] as number;
    const minute = second - (((second % 60) + 60) % 60);
    key[0] = batch.service[i] as number;
    for (let d = -1; d < columns.length; d++) {
      // d = -1: the event itself (one count, written out for every dimension); then its values.
      const value = d < 0 ? EVENTS : ((columns[d] as Int32Array)[i] as number);
      if (value < 0) continue;
      key[1] = d < 0 ? 0 : d;
      key[2] = value;
      const slot = index.slotOf(minute, key, 0);
      if (slot >= counts.length) {
        const grown = new Float64Array(counts.length * 2);
        grown.set(counts);
        counts = grown;
      }
      counts[slot] = (counts[slot] as number) + 1;
    }
  }
  const strings: string[] = [];
  const serviceAt = new Map<number, number>();
  const valueAt = [new Map<number, number>(), new Map<number, number>()];
  const boundAt = new Map<number, number>();
  const interners = [names.path, names.clientIp];
  // Names come from an Interner, not a callback: a closure made per entry costs an allocation
  // (and a defineProperty under tsx's keepNames) for each of a body's thousands of entries.
  const boundName: Pick<Interner, 'name'> = { name: () => TOP_VALUES_BOUND };
  const stringOf = (memo: Map<number, number>, id: number, names: Pick<Interner, 'name'>): number => {
    let at = memo.get(id);
    if (at === undefined) {
      at = strings.length;
      strings.push(names.name(id));
      memo.set(id, at);
    }
    return at;
  };
  // Grouped by (service, minute), so the tracker looks each group's summaries up once.
  const order = Array.from({ length: index.size }, (_, slot) => slot).sort(
    (a, b) => (index.keys[a * 3] as number) - (index.keys[b * 3] as number) || (index.seconds[a] as number) - (index.seconds[b] as number),
  );
  const out: number[] = [];
  for (const slot of order) {
    const service = stringOf(serviceAt, index.keys[slot * 3] as number, services);
    const minute = index.seconds[slot] as number;
    const id = index.keys[slot * 3 + 2] as number;
    const count = counts[slot] as number;
    if (id === EVENTS) {
      const bound = stringOf(boundAt, 0, boundName);
      for (let d = 0; d < columns.length; d++) out.push(service, minute, d, bound, count);
    } else {
      const d = index.keys[slot * 3 + 1] as number;
      out.push(service, minute, d, stringOf(valueAt[d] as Map<number, number>, id, interners[d] as Interner), count);
    }
  }
  return { strings, entries: Float64Array.from(out) };
}

/** `counts` without the entries of `refused` services. */
export function dropTopValueServices(counts: TopValueCounts, refused: ReadonlySet<string>): TopValueCounts {
  if (refused.size === 0 || counts.entries.length === 0) return counts;
  const keep: number[] = [];
  for (let at = 0; at < counts.entries.length; at += ENTRY_WIDTH) {
    if (!refused.has(counts.strings[counts.entries[at] as number] as string)) for (let k = 0; k < ENTRY_WIDTH; k++) keep.push(counts.entries[at + k] as number);
  }
  return { strings: counts.strings, entries: Float64Array.from(keep) };
}
