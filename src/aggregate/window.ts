/**
 * The in-memory window (our "head block"): the recent seconds of every service, summed from the
 * deltas (src/model/delta.ts) the aggregator produces, answering the real-time APIs
 * (RealtimeSource). Older seconds live in the store only; src/api/fastly/realtime-reader.ts
 * merges the two.
 *
 * Time rules (events.md section 3), with now = clock.now() in ms:
 * - publishing: second s is published once AggregateDelay seconds have passed after its end,
 *   i.e. when now >= (s + 1 + aggregateDelaySeconds) * 1000; so
 *   latestPublished() = floor(now / 1000) - aggregateDelaySeconds - 1, or earlier while an
 *   ingest request that may carry events for the next seconds is still running (publishHold).
 *   Reads only return published seconds.
 * - eviction: seconds < floor(now / 1000) - windowSeconds are dropped (checked on every apply,
 *   read and stats; no timer). oldestSecond() is that bound (or `completeFrom` when later).
 * - late events: a delta for a second still in the window is added to it; older ones are ignored
 *   here (the store has them).
 *
 * Products are summed (the Fastly APIs do not split by product); dimension records are not kept
 * (no real-time API reads them).
 *
 * Layout (docs/decisions.md, "The window on deltas"): names are interned once into window-wide
 * ids; each second holds a service -> slot map, the slots' revisions, and per record kind one
 * SecondRows (sparse-rows.ts): rows of ids and the deltas' varint vectors copied into per-second
 * byte slabs, compacted (duplicate keys summed, exact-size arrays) when the tail doubles and once
 * when the second is published. A few typed arrays per second, no object per key: the GC has
 * almost nothing to trace, and a read of one service touches only that service's rows.
 *
 * Reads carry two hints (SecondHints): `fields`, every field some vector of the service's second
 * has set (interned: equal sets are the same array), so renderers skip the ~245 zeros of each
 * vector; and `revision`, the number of the last apply() that touched the service's second, which
 * versions() lists without reading vectors, so the Fastly layer can reuse what it rendered for
 * an unchanged second.
 */
import type { IdRange } from '../model/distributions.ts';
import type { Clock } from '../model/clock.ts';
import { DIST_RECORD, deltaFromRecordSet, deltaStrings, vecStart, widthOf, type Delta, type DeltaPart } from '../model/delta.ts';
import { EDGE_FIELDS, ORIGIN_FIELDS } from '../model/fields.ts';
import type { RecordSet } from '../model/record.ts';
import { clearChannelGroups, readChannelGroups, readNestedGroups, sumChannelGroups } from './grouped-rows.ts';
import type { BorrowedChannelSecond, ChannelSecond, DistributionCell, DomainSecond, HeldVersions, OriginSecond, RealtimeSource, SecondKind } from './realtime-source.ts';
import { RowCursor, SecondRows, visitVector } from './sparse-rows.ts';
import { borrowedPercentiles, channelPercentiles, domainPercentiles, originPercentiles } from './window-percentiles.ts';

export interface WindowOptions {
  clock: Clock;
  /** Seconds after a second's end before it is published (config aggregateDelaySeconds). */
  aggregateDelaySeconds: number;
  /** Seconds held in memory, counted back from the clock's current second (config windowSeconds). */
  windowSeconds: number;
  /**
   * First second this window holds completely. Default: none, the window is complete back to
   * its eviction bound (the caller replays, or starts empty on purpose). Pass the first second
   * after a restart when earlier seconds' events went to the store only: those seconds are then
   * read from the store, and apply() ignores their late deltas.
   */
  completeFrom?: number;
  /**
   * The newest second the requests still being ingested let publication reach
   * (src/ingest/publication-hold.ts); publication stops there even when the clock is past it.
   * Default: publication follows the clock alone.
   */
  publishHold?: () => number;
  /**
   * Memory budget in bytes (approximate, as stats() counts). Beyond it the oldest seconds are
   * dropped from memory before their time; readers then get them from the store. Default: none.
   */
  maxBytes?: number;
}

export interface Window extends RealtimeSource {
  /** Adds a delta (rows of any seconds) to memory; rows of seconds older than the window are ignored (they live in the store). */
  apply(delta: Delta): void;
  /** apply() of the records as a delta: for callers still on RecordSet (the store refill, tests). */
  applyRecords(records: RecordSet): void;
  /** Oldest second held in memory: seconds >= this one are complete in memory; older ones are only in the store. */
  oldestSecond(): number;
  /** Always given by the window (optional in RealtimeSource). */
  versions(kind: SecondKind, service: string, from: number, to: number): HeldVersions;
  /** Always given by the window (optional in RealtimeSource). */
  distributions(kind: 'edgeDist' | 'originDist', service: string, from: number, to: number, ids?: IdRange): Promise<DistributionCell[]>;
  /** Always given by the window (optional in RealtimeSource). */
  visitChannel(service: string, from: number, to: number, visit: (s: BorrowedChannelSecond) => void): void;
  /**
   * Memory accounting: seconds held, key rows (a compacted second's distinct keys, plus rows of
   * its tail not yet summed) and bytes (typed arrays' capacity plus a share for their objects).
   */
  stats(): { seconds: number; edgeKeys: number; originKeys: number; bytes: number };
}

/** Bytes counted per held second besides its rows: the object, its Map and arrays' headers. */
const SECOND_BYTES = 300;
/** Bytes counted per service slot of a second: its Map entry. */
const SLOT_BYTES = 32;

/** One held second: its services' slots and revisions, and its rows per kind. */
class HeldSecond {
  readonly slots = new Map<number, number>();
  /** Slot -> number of the last apply() that changed the service's second (SecondHints.revision). */
  revision = new Float64Array(4);
  edge: SecondRows | undefined;
  origin: SecondRows | undefined;

  slotOf(service: number): number {
    let slot = this.slots.get(service);
    if (slot === undefined) {
      slot = this.slots.size;
      this.slots.set(service, slot);
      if (slot === this.revision.length) {
        const grown = new Float64Array(slot * 2);
        grown.set(this.revision);
        this.revision = grown;
      }
    }
    return slot;
  }

  bytes(): number {
    return (
      SECOND_BYTES +
      this.slots.size * SLOT_BYTES +
      this.revision.byteLength +
      (this.edge?.bytes() ?? 0) +
      (this.origin?.bytes() ?? 0)
    );
  }
}

const EDGE_WIDTH = EDGE_FIELDS.length;
const ORIGIN_WIDTH = ORIGIN_FIELDS.length;
/** Whole vectors: the counters, then the distribution buckets (model/delta.ts). */
const EDGE_VECTOR = widthOf('edge');
const ORIGIN_VECTOR = widthOf('origin');
/** Key columns of a delta row the window keeps: service, datacenter, and domain or backend (products are summed). */
const SERVICE = 0;
const OUTER = 1;
const INNER = 2;

export function createWindow(opts: WindowOptions): Window {
  const { clock, aggregateDelaySeconds, windowSeconds } = opts;
  const completeFrom = opts.completeFrom ?? Number.NEGATIVE_INFINITY;
  const maxBytes = opts.maxBytes ?? Number.POSITIVE_INFINITY;
  const seconds = new Map<number, HeldSecond>();
  /** Window-wide name ids (services, datacenters, domains, backends). */
  const names: string[] = [];
  const nameIds = new Map<string, number>();
  /** A delta's string id -> window id, -1 until needed; reused across applies. */
  let mapped = new Int32Array(256);
  let evictedBelow = Number.NEGATIVE_INFINITY;
  /** Seconds below this one were dropped to keep within maxBytes. */
  let budgetFloor = Number.NEGATIVE_INFINITY;
  let lastBudgetCheckMs = Number.NEGATIVE_INFINITY;
  /** Seconds up to this one were compacted when they were published. */
  let settledThrough = Number.NEGATIVE_INFINITY;
  /** Counts apply() calls: a second changed by apply number n gets revision n, larger than any before. */
  let applies = 0;

  const currentSecond = (): number => Math.floor(clock.now() / 1000);
  const oldestSecond = (): number => Math.max(currentSecond() - windowSeconds, completeFrom, budgetFloor);
  const publishHold = opts.publishHold;
  const latestPublished = (): number => {
    const byClock = currentSecond() - aggregateDelaySeconds - 1;
    return publishHold === undefined ? byClock : Math.min(byClock, publishHold());
  };

  /** Drops seconds that fell out of the window; cheap when the bound has not moved. */
  function evict(): number {
    const oldest = oldestSecond();
    if (oldest > evictedBelow) {
      for (const s of seconds.keys()) if (s < oldest) seconds.delete(s);
      evictedBelow = oldest;
    }
    return oldest;
  }

  /** Compacts the seconds published since the last call: they get few changes from now on, and many reads. */
  function settle(oldest: number): void {
    const published = latestPublished();
    if (published <= settledThrough) return;
    const from = Math.max(settledThrough + 1, oldest);
    if (published - from < seconds.size) {
      for (let s = from; s <= published; s++) compactSecond(seconds.get(s));
    } else {
      for (const [s, held] of seconds) if (s >= from && s <= published) compactSecond(held);
    }
    settledThrough = published;
  }

  const compactSecond = (held: HeldSecond | undefined): void => {
    held?.edge?.compact();
    held?.origin?.compact();

  };

  /**
   * Drops the oldest seconds while the window is over its byte budget. Runs at most once a
   * second, not on every apply.
   */
  function enforceBudget(): void {
    const now = clock.now();
    if (maxBytes === Number.POSITIVE_INFINITY || now - lastBudgetCheckMs < 1000) return;
    lastBudgetCheckMs = now;
    const held = [...seconds.keys()].sort((a, b) => a - b);
    let total = 0;
    const sizes = held.map((second) => {
      const bytes = (seconds.get(second) as HeldSecond).bytes();
      total += bytes;
      return bytes;
    });
    for (let i = 0; i < held.length - 1 && total > maxBytes; i++) {
      const second = held[i] as number;
      seconds.delete(second);
      total -= sizes[i] as number;
      budgetFloor = second + 1;
    }
  }

  function nameId(name: string): number {
    let id = nameIds.get(name);
    if (id === undefined) {
      id = names.length;
      names.push(name);
      nameIds.set(name, id);
    }
    return id;
  }

  /** Adds one kind's rows of `delta`; returns the rows it appended to (for the compaction check). */
  function applyPart(part: DeltaPart, arity: number, kind: 'edge' | 'origin', width: number, oldest: number, strings: readonly string[], touched: Set<SecondRows>): void {
    let lastSecond = Number.NaN;
    let held: HeldSecond | undefined;
    let rows: SecondRows | undefined;
    let lastService = -1;
    let slot = -1;
    const id = (k: number): number => {
      let v = mapped[k] as number;
      if (v < 0) mapped[k] = v = nameId(strings[k] as string);
      return v;
    };
    for (let i = 0; i < part.rows; i++) {
      const second = part.second[i] as number;
      if (second < oldest) continue;
      if (second !== lastSecond) {
        lastSecond = second;
        held = seconds.get(second);
        if (held === undefined) seconds.set(second, (held = new HeldSecond()));
        rows = held[kind] ??= new SecondRows(width, kind === 'edge' ? EDGE_VECTOR : ORIGIN_VECTOR);
        touched.add(rows);
        lastService = -1;
      }
      const h = held as HeldSecond;
      const at = i * arity;
      const service = id(part.keys[at + SERVICE] as number);
      if (service !== lastService) {
        lastService = service;
        slot = h.slotOf(service);
        h.revision[slot] = applies;
      }
      (rows as SecondRows).append(slot, id(part.keys[at + OUTER] as number), id(part.keys[at + INNER] as number), part.vec, vecStart(part, i), part.vecEnd[i] as number);
    }
  }

  /** The held seconds of `service` in [from, to), published only, ascending, with its slot. */
  function heldSeconds(service: string, from: number, to: number): { second: number; held: HeldSecond; slot: number }[] {
    const out: { second: number; held: HeldSecond; slot: number }[] = [];
    const id = nameIds.get(service);
    if (id === undefined) return out;
    const first = Math.max(from, evict());
    const last = Math.min(to - 1, latestPublished());
    for (let s = Math.ceil(first); s <= last; s++) {
      const held = seconds.get(s);
      const slot = held?.slots.get(id);
      if (held !== undefined && slot !== undefined) out.push({ second: s, held, slot });
    }
    return out;
  }

  const window: Window = {
    latestPublished,
    oldestSecond: () => evict(),

    apply(delta) {
      const oldest = evict();
      settle(oldest);
      applies += 1;
      const strings = deltaStrings(delta);
      if (mapped.length < strings.length) mapped = new Int32Array(strings.length * 2);
      mapped.fill(-1, 0, strings.length);
      const touched = new Set<SecondRows>();
      applyPart(delta.edge, 4, 'edge', EDGE_WIDTH, oldest, strings, touched);
      applyPart(delta.origin, 3, 'origin', ORIGIN_WIDTH, oldest, strings, touched);
      for (const rows of touched) if (rows.wantsCompaction) rows.compact();
      enforceBudget();
    },

    applyRecords(records) {
      window.apply(deltaFromRecordSet(records));
    },

    async channel(service, from, to) {
      return heldSeconds(service, from, to).flatMap(({ second, held, slot }): ChannelSecond[] => {
        const rows = held.edge;
        if (rows === undefined || !rows.has(slot)) return [];
        const g = readChannelGroups(rows, slot, names);
        const dist = held.edge;
        const out: ChannelSecond = { second, fields: g.fields, revision: held.revision[slot] as number, aggregated: g.total, byDatacenter: g.byOuter };
        if (dist?.has(slot) === true) out.percentiles = channelPercentiles(dist, slot, names);
        return [out];
      });
    },

    visitChannel(service, from, to, visit) {
      for (const { second, held, slot } of heldSeconds(service, from, to)) {
        const rows = held.edge;
        if (rows === undefined || !rows.has(slot)) continue;
        const dist = held.edge;
        // Before the groups: those are lent from a scratch the percentile read does not touch.
        const pct = dist?.has(slot) === true ? channelPercentiles(dist, slot, names) : undefined;
        const g = sumChannelGroups(rows, slot, names);
        try {
          const lent: BorrowedChannelSecond = { second, fields: g.fields, revision: held.revision[slot] as number, values: g.values, width: g.width, datacenters: g.outers };
          if (pct !== undefined) lent.percentiles = borrowedPercentiles(pct, g.outers);
          visit(lent);
        } finally {
          clearChannelGroups();
        }
      }
    },

    async domains(service, from, to) {
      return heldSeconds(service, from, to).flatMap(({ second, held, slot }): DomainSecond[] => {
        const rows = held.edge;
        if (rows === undefined || !rows.has(slot)) return [];
        const g = readNestedGroups(rows, slot, names);
        const dist = held.edge;
        const out: DomainSecond = { second, fields: g.fields, revision: held.revision[slot] as number, byDomain: g.byInner, byDatacenter: g.byOuter };
        if (dist?.has(slot) === true) out.percentiles = domainPercentiles(dist, slot, names);
        return [out];
      });
    },

    async origins(service, from, to) {
      return heldSeconds(service, from, to).flatMap(({ second, held, slot }): OriginSecond[] => {
        const rows = held.origin;
        if (rows === undefined || !rows.has(slot)) return [];
        const g = readNestedGroups(rows, slot, names);
        return [{ second, fields: g.fields, revision: held.revision[slot] as number, byBackend: g.byInner, byDatacenter: g.byOuter, percentiles: originPercentiles(rows, slot, names) }];
      });
    },

    async distributions(kind, service, from, to, wanted) {
      const out: DistributionCell[] = [];
      const cursor = new RowCursor();
      for (const { second, held, slot } of heldSeconds(service, from, to)) {
        const rows = held[DIST_RECORD[kind]];
        if (rows === undefined || !rows.has(slot)) continue;
        const counters = rows.width;
        const lo = counters + (wanted?.from ?? 0);
        const hi = wanted === undefined ? Number.POSITIVE_INFINITY : counters + wanted.to;
        cursor.count = 0;
        rows.collect(slot, cursor);
        for (let r = 0; r < cursor.count; r++) {
          const ids: number[] = [];
          const counts: number[] = [];
          visitVector(cursor.inTail[r] === 1 ? rows.tailVec : rows.baseVec, cursor.start[r] as number, cursor.end[r] as number, (f, v) => {
            if (f < lo || f >= hi) return;
            ids.push(f - counters);
            counts.push(v);
          });
          if (ids.length === 0) continue;
          out.push({ second, datacenter: names[cursor.outer[r] as number] as string, inner: names[cursor.inner[r] as number] as string, ids: Uint32Array.from(ids), counts: Float64Array.from(counts) });
        }
      }
      return out;
    },

    versions(kind, service, from, to) {
      const heldFrom = evict();
      const out: { second: number; revision: number }[] = [];
      for (const { second, held, slot } of heldSeconds(service, from, to)) {
        if ((kind === 'edge' ? held.edge : held.origin)?.has(slot) === true) out.push({ second, revision: held.revision[slot] as number });
      }
      return { heldFrom, seconds: out };
    },

    stats() {
      evict();
      let edgeKeys = 0;
      let originKeys = 0;
      let bytes = 0;
      for (const held of seconds.values()) {
        bytes += held.bytes();
        edgeKeys += held.edge?.rows ?? 0;
        originKeys += held.origin?.rows ?? 0;
      }
      return { seconds: seconds.size, edgeKeys, originKeys, bytes };
    },
  };
  return window;
}
