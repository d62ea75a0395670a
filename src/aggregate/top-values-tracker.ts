/**
 * The per-minute top values of each service (model/top-values.ts): acknowledged bodies' counts
 * (top-value-counts.ts) go into one Space-Saving summary per (minute, service, dimension); once a
 * minute is over (its end plus `graceSeconds`, for late events) its summaries become one part of
 * dimension rows, a Delta the caller ingests like any other (WAL, store, every tier). Events of
 * that minute arriving later start a new part of it, written on the next call. Memory: at most
 * `capacity` values per summary, for the minutes still open.
 */
import { deltaFromRecordSet, type Delta } from '../model/delta.ts';
import type { DimensionRecord } from '../model/record.ts';
import { SpaceSaving } from '../model/space-saving.ts';
import { TOP_VALUE_DIMENSIONS, TOP_VALUES_BOUND, TOP_VALUES_CAPACITY, TOP_VALUES_LISTED, type TopValueDimension } from '../model/top-values.ts';
import { ENTRY_WIDTH, type TopValueCounts } from './top-value-counts.ts';

export interface TopValuesTrackerOptions {
  /** Values each summary follows. Default TOP_VALUES_CAPACITY. */
  capacity?: number;
  /** Values a part lists. Default TOP_VALUES_LISTED. */
  listed?: number;
  /** Seconds after a minute's end before its part is written (late events still join it). */
  graceSeconds: number;
}

export interface TopValuesTracker {
  /** Adds an acknowledged body's counts. */
  add(counts: TopValueCounts): void;
  /** The parts of every minute over by `nowSecond`, as one delta (undefined: none); they are forgotten. */
  takeDue(nowSecond: number): Delta | undefined;
  /** Every part, over or not (on shutdown). */
  takeAll(): Delta | undefined;
  /** Values followed, over all summaries. */
  size(): number;
}

/** A (minute, service)'s summaries, one per dimension, and its events (with or without values). */
interface ServiceMinute {
  summaries: SpaceSaving[];
  events: number[];
}
type Summaries = Map<string, ServiceMinute>;

export function createTopValuesTracker(opts: TopValuesTrackerOptions): TopValuesTracker {
  const capacity = opts.capacity ?? TOP_VALUES_CAPACITY;
  const listed = opts.listed ?? TOP_VALUES_LISTED;
  const minutes = new Map<number, Summaries>();
  /** Values the open summaries follow, kept as they change: size() is asked by every ingest request (the memory budget's store queue share). */
  let held = 0;

  const serviceMinuteOf = (minute: number, service: string): ServiceMinute => {
    let services = minutes.get(minute);
    if (services === undefined) minutes.set(minute, (services = new Map()));
    let sm = services.get(service);
    if (sm === undefined) services.set(service, (sm = { summaries: TOP_VALUE_DIMENSIONS.map(() => new SpaceSaving(capacity)), events: TOP_VALUE_DIMENSIONS.map(() => 0) }));
    return sm;
  };

  /** One dimension's part: its listed values, then the bound row (every event of the service-minute, with or without a value). */
  const partOf = (minute: number, service: string, dimension: TopValueDimension, s: SpaceSaving, events: number, out: DimensionRecord[]): void => {
    if (events === 0 && s.total === 0) return;
    const entries = s.entries();
    const key = { second: minute, service, domain: '', product: '', dimension };
    for (const e of entries.slice(0, listed)) out.push({ ...key, value: e.value, count: e.count, bytes: e.error });
    // What an unlisted value may hide: its count, were it followed but past `listed`, or what an unfollowed one may have had.
    out.push({ ...key, value: TOP_VALUES_BOUND, count: events, bytes: Math.max(s.min, entries[listed]?.count ?? 0) });
  };

  const take = (due: (minute: number) => boolean): Delta | undefined => {
    const rows: DimensionRecord[] = [];
    for (const [minute, services] of minutes) {
      if (!due(minute)) continue;
      for (const [service, sm] of services) {
        sm.summaries.forEach((s, d) => partOf(minute, service, TOP_VALUE_DIMENSIONS[d] as TopValueDimension, s, sm.events[d] as number, rows));
        for (const s of sm.summaries) held -= s.size;
      }
      minutes.delete(minute);
    }
    return rows.length === 0 ? undefined : deltaFromRecordSet({ edge: [], origin: [], dimension: rows });
  };

  return {
    add(counts) {
      // Hot (every acknowledged body, on the main thread): entries come grouped by service and
      // minute (countTopValues), so the summaries are looked up once per group.
      const { strings, entries } = counts;
      let lastService = -1;
      let lastMinute = Number.NaN;
      let sm: ServiceMinute | undefined;
      for (let at = 0; at < entries.length; at += ENTRY_WIDTH) {
        const service = entries[at] as number;
        const minute = entries[at + 1] as number;
        if (sm === undefined || service !== lastService || minute !== lastMinute) {
          sm = serviceMinuteOf(minute, strings[service] as string);
          lastService = service;
          lastMinute = minute;
        }
        const d = entries[at + 2] as number;
        const value = strings[entries[at + 3] as number] as string;
        const n = entries[at + 4] as number;
        if (value === TOP_VALUES_BOUND) sm.events[d] = (sm.events[d] as number) + n;
        else {
          const summary = sm.summaries[d] as SpaceSaving;
          const before = summary.size;
          summary.add(value, n);
          held += summary.size - before;
        }
      }
    },
    takeDue(nowSecond) {
      return take((minute) => minute + 60 + opts.graceSeconds <= nowSecond);
    },
    takeAll() {
      return take(() => true);
    },
    size: () => held,
  };
}
