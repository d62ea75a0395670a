/**
 * The in-memory window (our "head block"): the recent seconds of every service, summed from the
 * deltas that aggregateBatch produces, answering the real-time APIs (RealtimeSource). Older
 * seconds live in the store only; src/api/fastly/realtime-reader.ts merges the two.
 *
 * Time rules (events.md section 3), with now = clock.now() in ms:
 * - publishing: second s is published once AggregateDelay seconds have passed after its end,
 *   i.e. when now >= (s + 1 + aggregateDelaySeconds) * 1000; so
 *   latestPublished() = floor(now / 1000) - aggregateDelaySeconds - 1. Reads only return
 *   published seconds.
 * - eviction: seconds < floor(now / 1000) - windowSeconds are dropped (checked on every apply,
 *   read and stats; no timer). oldestSecond() is that bound (or `completeFrom` when later).
 * - late events: a delta for a second still in the window is added to it; older ones are ignored
 *   here (the store has them).
 *
 * Products are summed (the Fastly APIs do not split by product); dimension records are not kept
 * (no real-time API reads them).
 *
 * Reads carry two hints (SecondHints): `fields`, the block's columns (every field some vector of
 * the second has set), so renderers skip the ~245 zeros of each vector; and `revision`, the
 * number of the last apply() that touched the service's second, which versions() lists without
 * reading vectors, so the Fastly layer can reuse what it rendered for an unchanged second.
 */
import type { Clock } from '../model/clock.ts';
import { EDGE_FIELDS, ORIGIN_FIELDS } from '../model/fields.ts';
import type { RecordSet } from '../model/record.ts';
import { createGroupedRows, type GroupedRows } from './grouped-rows.ts';
import type { ChannelSecond, DomainSecond, HeldVersions, OriginSecond, RealtimeSource, SecondKind } from './realtime-source.ts';

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
   * Memory budget in bytes (approximate, as stats() counts). Beyond it the oldest seconds are
   * dropped from memory before their time; readers then get them from the store. Default: none.
   */
  maxBytes?: number;
}

export interface Window extends RealtimeSource {
  /** Adds delta records (any seconds) to memory; seconds older than the window are ignored (they live in the store). */
  apply(records: RecordSet): void;
  /** Oldest second held in memory: seconds >= this one are complete in memory; older ones are only in the store. */
  oldestSecond(): number;
  /** Always given by the window (optional in RealtimeSource). */
  versions(kind: SecondKind, service: string, from: number, to: number): HeldVersions;
  /** Memory accounting for the bench: live keys and approximate bytes. */
  stats(): { seconds: number; edgeKeys: number; originKeys: number; bytes: number };
}

/**
 * One service's second: edge leaves (datacenter x domain), origin leaves (datacenter x backend),
 * and its revision: the number of the last apply() that changed it (SecondHints.revision).
 */
interface ServiceSecond {
  edge: GroupedRows | undefined;
  origin: GroupedRows | undefined;
  revision: number;
}

const EDGE_WIDTH = EDGE_FIELDS.length;
const ORIGIN_WIDTH = ORIGIN_FIELDS.length;

export function createWindow(opts: WindowOptions): Window {
  const { clock, aggregateDelaySeconds, windowSeconds } = opts;
  const completeFrom = opts.completeFrom ?? Number.NEGATIVE_INFINITY;
  const maxBytes = opts.maxBytes ?? Number.POSITIVE_INFINITY;
  const seconds = new Map<number, Map<string, ServiceSecond>>();
  let evictedBelow = Number.NEGATIVE_INFINITY;
  /** Seconds below this one were dropped to keep within maxBytes. */
  let budgetFloor = Number.NEGATIVE_INFINITY;
  let lastBudgetCheckMs = Number.NEGATIVE_INFINITY;
  /** Counts apply() calls: a second changed by apply number n gets revision n, larger than any before. */
  let applies = 0;

  const currentSecond = (): number => Math.floor(clock.now() / 1000);
  const oldestSecond = (): number => Math.max(currentSecond() - windowSeconds, completeFrom, budgetFloor);
  const latestPublished = (): number => currentSecond() - aggregateDelaySeconds - 1;

  /** Drops seconds that fell out of the window; cheap when the bound has not moved. */
  function evict(): number {
    const oldest = oldestSecond();
    if (oldest > evictedBelow) {
      for (const s of seconds.keys()) if (s < oldest) seconds.delete(s);
      evictedBelow = oldest;
    }
    return oldest;
  }

  const secondBytes = (services: Map<string, ServiceSecond>): number => {
    let bytes = 64 + services.size * 64;
    for (const held of services.values()) bytes += (held.edge?.bytes() ?? 0) + (held.origin?.bytes() ?? 0);
    return bytes;
  };

  /**
   * Drops the oldest seconds while the window is over its byte budget. Counting walks every held
   * service-second, so it runs at most once a second, not on every apply.
   */
  function enforceBudget(): void {
    const now = clock.now();
    if (maxBytes === Number.POSITIVE_INFINITY || now - lastBudgetCheckMs < 1000) return;
    lastBudgetCheckMs = now;
    const held = [...seconds.keys()].sort((a, b) => a - b);
    let total = 0;
    const sizes = held.map((second) => {
      const bytes = secondBytes(seconds.get(second) as Map<string, ServiceSecond>);
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

  function serviceSecond(second: number, service: string): ServiceSecond {
    let services = seconds.get(second);
    if (services === undefined) seconds.set(second, (services = new Map()));
    let held = services.get(service);
    if (held === undefined) services.set(service, (held = { edge: undefined, origin: undefined, revision: 0 }));
    held.revision = applies;
    return held;
  }

  /** The held seconds of `service` in [from, to), published only, ascending. */
  function heldSeconds(service: string, from: number, to: number): { second: number; held: ServiceSecond }[] {
    const first = Math.max(from, evict());
    const last = Math.min(to - 1, latestPublished());
    const out: { second: number; held: ServiceSecond }[] = [];
    for (let s = Math.ceil(first); s <= last; s++) {
      const held = seconds.get(s)?.get(service);
      if (held !== undefined) out.push({ second: s, held });
    }
    return out;
  }

  return {
    latestPublished,
    oldestSecond: () => evict(),

    apply(records) {
      const oldest = evict();
      applies += 1;
      for (const r of records.edge) {
        if (r.second < oldest) continue;
        const held = serviceSecond(r.second, r.service);
        (held.edge ??= createGroupedRows(EDGE_WIDTH)).add(r.datacenter, r.domain, r.values);
      }
      for (const r of records.origin) {
        if (r.second < oldest) continue;
        const held = serviceSecond(r.second, r.service);
        (held.origin ??= createGroupedRows(ORIGIN_WIDTH)).add(r.datacenter, r.backend, r.values);
      }
      enforceBudget();
    },

    async channel(service, from, to) {
      return heldSeconds(service, from, to).flatMap(({ second, held }): ChannelSecond[] => {
        const g = held.edge;
        if (g === undefined) return [];
        const out = createDenseOut(g, EDGE_WIDTH, 1 + g.outerCount);
        const byDatacenter = new Map<string, Float64Array>();
        g.forEachOuter((dc, row) => byDatacenter.set(dc, out(row)));
        return [{ second, fields: g.rows.fieldsInOrder(), revision: held.revision, aggregated: out(g.totalRow()), byDatacenter }];
      });
    },

    async domains(service, from, to) {
      return heldSeconds(service, from, to).flatMap(({ second, held }): DomainSecond[] => {
        const g = held.edge;
        if (g === undefined) return [];
        const out = createDenseOut(g, EDGE_WIDTH, g.innerCount + g.leafCount);
        const byDomain = new Map<string, Float64Array>();
        g.forEachInner((domain, row) => byDomain.set(domain, out(row)));
        return [{ second, fields: g.rows.fieldsInOrder(), revision: held.revision, byDomain, byDatacenter: leavesByOuter(g, out) }];
      });
    },

    async origins(service, from, to) {
      return heldSeconds(service, from, to).flatMap(({ second, held }): OriginSecond[] => {
        const g = held.origin;
        if (g === undefined) return [];
        const out = createDenseOut(g, ORIGIN_WIDTH, g.innerCount + g.leafCount);
        const byBackend = new Map<string, Float64Array>();
        g.forEachInner((backend, row) => byBackend.set(backend, out(row)));
        return [{ second, fields: g.rows.fieldsInOrder(), revision: held.revision, byBackend, byDatacenter: leavesByOuter(g, out) }];
      });
    },

    versions(kind, service, from, to) {
      const heldFrom = evict();
      const seconds: { second: number; revision: number }[] = [];
      for (const { second, held } of heldSeconds(service, from, to)) {
        if ((kind === 'edge' ? held.edge : held.origin) !== undefined) seconds.push({ second, revision: held.revision });
      }
      return { heldFrom, seconds };
    },

    stats() {
      evict();
      let edgeKeys = 0;
      let originKeys = 0;
      let bytes = 0;
      for (const services of seconds.values()) {
        bytes += secondBytes(services);
        for (const held of services.values()) {
          edgeKeys += held.edge?.leafCount ?? 0;
          originKeys += held.origin?.leafCount ?? 0;
        }
      }
      return { seconds: seconds.size, edgeKeys, originKeys, bytes };
    },
  };
}

type DenseOut = (row: number) => Float64Array;

/**
 * Dense copies of `vectors` rows of one second, carved out of one buffer: one allocation per
 * second read instead of one per vector (and not one per read: a buffer of several MB is slow
 * to allocate and to collect). Each vector is a fresh copy the caller may keep.
 */
function createDenseOut(g: GroupedRows, width: number, vectors: number): DenseOut {
  const buffer = new Float64Array(width * vectors);
  let next = 0;
  return (row) => {
    const offset = next;
    next += width;
    g.rows.writeDense(row, buffer, offset);
    return buffer.subarray(offset, offset + width);
  };
}

function leavesByOuter(g: GroupedRows, out: DenseOut): Map<string, Map<string, Float64Array>> {
  const byOuter = new Map<string, Map<string, Float64Array>>();
  g.forEachLeaf((outer, inner, row) => {
    let inners = byOuter.get(outer);
    if (inners === undefined) byOuter.set(outer, (inners = new Map()));
    inners.set(inner, out(row));
  });
  return byOuter;
}
