/**
 * Parsed batches -> their per-second records, as one Delta (src/model/delta.ts): edge records per (second, service,
 * datacenter, domain, product), origin records per (second, service, datacenter, backend) over
 * origin fetches, and dimension records (method, exact status) per (second, service, domain,
 * product). Several batches (the request bodies of one WAL group commit) aggregate into one
 * RecordSet, as if they were one batch: per-key work (vectors, WAL bytes, window and store
 * queue updates) is then paid once per commit, not once per body. The batches must share one
 * Dictionaries. Pure as seen from outside: the same batches always give the same delta (it
 * reuses module-level scratch arrays, slot sums and compiled table programs; none is
 * observable, since aggregation is synchronous and leaves its scratch zeroed). Batches are worked through in chunks of CHUNK events so scratch stays small and
 * cached.
 */
import { PRODUCT_VALUES, type EventBatch } from '../model/event.ts';
import type { Dictionaries, Interner } from '../model/dictionary.ts';
import { PartWriter, StringTableWriter, deltaToRecordSet, type Delta } from '../model/delta.ts';
import { SlotVectors, WideSlotSums } from '../model/delta-builder.ts';
import { CLIENT_CELLS_OFFSET, EDGE_DISTRIBUTIONS, ORIGIN_DISTRIBUTIONS, EDGE_DIST_WIDTH, ORIGIN_DIST_WIDTH, type DistributionSlice } from '../model/distributions.ts';
import type { RecordSet } from '../model/record.ts';
import { EVENT_AXES } from './axes.ts';
import { createBatchKeyer } from './batch-keys.ts';
import { createAxisCodes, type AxisCodes, type CompiledTable } from './compile-table.ts';
import { EDGE_TABLE, ORIGIN_TABLE } from './field-table.ts';
import { CHUNK } from './scratch.ts';
import { createSlotIndex } from './slot-index.ts';

/** The records of one batch (read-side shape; tests and tools). */
export function aggregateBatch(batch: EventBatch, dicts: Dictionaries): RecordSet {
  return deltaToRecordSet(aggregateToDelta([batch], dicts));
}

/** The records of several batches together, read-side shape: one record per key over all of them. */
export function aggregateBatches(batches: readonly EventBatch[], dicts: Dictionaries): RecordSet {
  return deltaToRecordSet(aggregateToDelta(batches, dicts));
}

// Reused across calls (aggregation is synchronous; every emit leaves the slots zeroed).
const edgeSums = new SlotVectors(EDGE_TABLE.fields.length, 1024);
const originSums = new SlotVectors(ORIGIN_TABLE.fields.length, 256);
const methodSums = new SlotVectors(2, 1024);
const statusSums = new SlotVectors(2, 1024);
const edgeDistSums = new WideSlotSums(EDGE_DIST_WIDTH);
const originDistSums = new WideSlotSums(ORIGIN_DIST_WIDTH);

const [EDGE_TIME, ORIGIN_TIME, OBJECT_SIZE] = EDGE_DISTRIBUTIONS as [DistributionSlice, DistributionSlice, DistributionSlice];
const ORIGIN_ONLY = ORIGIN_DISTRIBUTIONS[0] as DistributionSlice;

/**
 * Where a row's distribution buckets go (distributions.ts): after its counters in the same
 * vector (model/delta.ts), summed per slot in `sums`. Per edge key its events' time_ms,
 * origin_time_ms (origin fetches only) and resp_body_bytes; per origin key (`originOnly`) its
 * fetches' origin_time_ms: two or three bucket lookups and sparse adds per event, and per edge key
 * its events' unique-client cells (one add per event with a client_ip).
 */
interface DistributionSums {
  sums: WideSlotSums;
  /** Origin rows: only origin time (their events are fetches). Edge rows: edge time, object size and, for fetches, origin time. */
  originOnly: boolean;
  /** False: no distributions at all (AggregateOptions.distributions). */
  record: boolean;
}

export interface AggregateOptions {
  /**
   * Record the distributions (percentile buckets and unique-client cells) in the edge and origin
   * rows. Default true; false (config.distributions, RTM_DISTRIBUTIONS=off) keeps the counters only.
   */
  distributions?: boolean;
}

/** The delta of several batches: one row per key over all of them. */
export function aggregateToDelta(batches: readonly EventBatch[], dicts: Dictionaries, opts: AggregateOptions = {}): Delta {
  const withDistributions = opts.distributions !== false;
  const live = batches.filter((b) => b.length > 0);
  const strings = new StringTableWriter();
  const edgeOut = new PartWriter(4);
  const originOut = new PartWriter(3);
  const dimensionOut = new PartWriter(5);
  if (live.length > 0) {
    const keyer = createBatchKeyer(live);
    const edge = createSums(EDGE_TABLE, edgeSums, { sums: edgeDistSums, originOnly: false, record: withDistributions });
    const origin = createSums(ORIGIN_TABLE, originSums, { sums: originDistSums, originOnly: true, record: withDistributions });
    const byMethod = createCounts(methodSums);
    const byStatus = createCounts(statusSums);
    for (const [which, b] of live.entries()) {
      for (let start = 0; start < b.length; start += CHUNK) {
        const end = Math.min(b.length, start + CHUNK);
        const keys = keyer.keys(which, start, end);
        const axisCodes = createAxisCodes(b, start, end, EVENT_AXES);
        edge.add(b, which, start, end, axisCodes, keys.edge, false);
        origin.add(b, which, start, end, axisCodes, keys.origin, true);
        byMethod.add(b, which, start, end, keys.method);
        byStatus.add(b, which, start, end, keys.status);
      }
    }
    // Per key from here (not per event). Key strings are interned into the delta's table once
    // per dictionary id, read off the key's first event.
    const ids = createIdMaps(dicts, strings);
    const productIds = PRODUCT_VALUES.map((p) => strings.id(p));
    const methodId = strings.id('method');
    const edgeKey: KeyWriter = (w, which, i, row) => {
      const b = live[which] as EventBatch;
      w.keys[row] = ids.service(b.service[i] as number);
      w.keys[row + 1] = ids.datacenter(b.datacenter[i] as number);
      w.keys[row + 2] = ids.domain(b.domain[i] as number);
      w.keys[row + 3] = productIds[b.product[i] as number] ?? (productIds[0] as number);
      return b.second[i] as number;
    };
    const originKey: KeyWriter = (w, which, i, row) => {
      const b = live[which] as EventBatch;
      w.keys[row] = ids.service(b.service[i] as number);
      w.keys[row + 1] = ids.datacenter(b.datacenter[i] as number);
      w.keys[row + 2] = ids.backend(b.backend[i] as number);
      return b.second[i] as number;
    };
    edge.emit(edgeOut, edgeKey);
    origin.emit(originOut, originKey);
    byMethod.emit(dimensionOut, (w, which, i, row) => {
      const b = live[which] as EventBatch;
      w.keys[row] = ids.service(b.service[i] as number);
      w.keys[row + 1] = ids.domain(b.domain[i] as number);
      w.keys[row + 2] = productIds[b.product[i] as number] ?? (productIds[0] as number);
      w.keys[row + 3] = methodId;
      w.keys[row + 4] = ids.method(b.method[i] as number);
      return b.second[i] as number;
    });
    const statusId = strings.id('status');
    const statusNames = new Map<number, number>();
    byStatus.emit(dimensionOut, (w, which, i, row) => {
      const b = live[which] as EventBatch;
      const status = b.status[i] as number;
      let id = statusNames.get(status);
      if (id === undefined) statusNames.set(status, (id = strings.id(String(status))));
      w.keys[row] = ids.service(b.service[i] as number);
      w.keys[row + 1] = ids.domain(b.domain[i] as number);
      w.keys[row + 2] = productIds[b.product[i] as number] ?? (productIds[0] as number);
      w.keys[row + 3] = statusId;
      w.keys[row + 4] = id;
      return b.second[i] as number;
    });
  }
  return {
    ...strings.finish(),
    edge: edgeOut.finish(),
    origin: originOut.finish(),
    dimension: dimensionOut.finish(),
  };
}

type IdMap = (dictionaryId: number) => number;

/** Dictionary id -> delta string id, per dictionary, memoized for one build. */
function createIdMaps(dicts: Dictionaries, strings: StringTableWriter): Record<'service' | 'datacenter' | 'domain' | 'backend' | 'method', IdMap> {
  const one = (interner: Interner): IdMap => {
    const memo = new Map<number, number>();
    return (id) => {
      let out = memo.get(id);
      if (out === undefined) memo.set(id, (out = strings.id(interner.name(id))));
      return out;
    };
  };
  return { service: one(dicts.service), datacenter: one(dicts.datacenter), domain: one(dicts.domain), backend: one(dicts.backend), method: one(dicts.method) };
}

/** Writes a row's key ids at w.keys[row..] for the key's first event; returns its second. */
type KeyWriter = (w: PartWriter, which: number, firstEvent: number, row: number) => number;

interface Sums {
  /**
   * Adds events [start, end) (`keys` and `axisCodes` index them from 0); `fetchedOnly`: only
   * the origin fetches count.
   */
  add(batch: EventBatch, which: number, start: number, end: number, axisCodes: AxisCodes, keys: Float64Array, fetchedOnly: boolean): void;
  /** Appends one row per key to `out` (zeroing the slot sums for the next call). */
  emit(out: PartWriter, key: KeyWriter): void;
}

const grownI32 = (a: Int32Array, min: number): Int32Array => {
  if (a.length >= min) return a;
  const next = new Int32Array(Math.max(min, a.length * 2));
  next.set(a);
  return next;
};

function createSums(table: CompiledTable, sums: SlotVectors, dist: DistributionSums): Sums {
  const width = table.fields.length;
  const wide = dist.sums;
  const originOnly = dist.originOnly;
  const recordDistributions = dist.record;
  const originSlice = originOnly ? ORIGIN_ONLY : ORIGIN_TIME;
  const originLayout = originSlice.layout;
  const originOffset = originSlice.offset;
  const timeLayout = EDGE_TIME.layout;
  const sizeLayout = OBJECT_SIZE.layout;
  const words = sums.words;
  const groups = table.groupCount;
  const programAt = table.programAt;
  const index = createSlotIndex(256);
  let firstEvent: Int32Array = new Int32Array(16);
  let firstBatch: Int32Array = new Int32Array(16);
  let slots = 0;
  return {
    /**
     * HOT PATH, written for speed: per event, one key lookup (skipped while the key repeats)
     * and the few compiled programs of its group codes, each a flat list of
     * `slab[field] += value` plus the field's touched bit. No allocation per event; vectors
     * live in one reused Float64Array slab (slot x field).
     */
    add(batch, which, start, end, axisCodes, keys, fetchedOnly) {
      const { codes, values, valueWidth } = table.prepare(batch, start, end, axisCodes);
      const fetched = batch.originStatus;
      const timeMs = batch.timeMs;
      const originMs = batch.originTimeMs;
      const body = batch.respBodyBytes;
      const client = batch.clientCell;
      let ops = table.ops;
      let slab = sums.slab;
      let bits = sums.bits;
      let lastKey = -1;
      let base = 0;
      let wbase = 0;
      let distSlot = 0;
      for (let i = start, j = 0; i < end; i++, j++) {
        if (fetchedOnly && (fetched[i] as number) < 0) continue;
        const key = keys[j] as number;
        if (key !== lastKey) {
          const slot = index.slotOf(key);
          if (slot === slots) {
            slots++;
            sums.ensure(slots);
            slab = sums.slab;
            bits = sums.bits;
            firstEvent = grownI32(firstEvent, slots);
            firstBatch = grownI32(firstBatch, slots);
            firstEvent[slot] = i;
            firstBatch[slot] = which;
            wide.ensure(slots);
          }
          lastKey = key;
          base = slot * width;
          wbase = slot * words;
          distSlot = slot;
        }
        // The distribution buckets (model/distributions.ts) of the event.
        if (recordDistributions && (fetched[i] as number) >= 0) wide.add(distSlot, originOffset + originLayout.bucketOf(originMs[i] as number), 1);
        if (recordDistributions && !originOnly) {
          wide.add(distSlot, EDGE_TIME.offset + timeLayout.bucketOf(timeMs[i] as number), 1);
          wide.add(distSlot, OBJECT_SIZE.offset + sizeLayout.bucketOf(body[i] as number), 1);
          const cell = client[i] as number;
          if (cell >= 0) wide.add(distSlot, CLIENT_CELLS_OFFSET + cell, 1);
        }
        const row = j * valueWidth;
        for (let c = j * groups, last = c + groups; c < last; c++) {
          let at = programAt[codes[c] as number] as number;
          if (at < 0) {
            at = table.compile(codes[c] as number);
            ops = table.ops;
          }
          const stop = at + 2 * (ops[at] as number);
          for (let k = at + 1; k < stop; k += 2) {
            const field = ops[k] as number;
            const f = base + field;
            slab[f] = (slab[f] as number) + (values[row + (ops[k + 1] as number)] as number);
            const w = wbase + (field >>> 5);
            bits[w] = (bits[w] as number) | (1 << (field & 31));
          }
        }
      }
    },
    emit(out, key) {
      for (let s = 0; s < slots; s++) {
        out.reserve(0);
        const second = key(out, firstBatch[s] as number, firstEvent[s] as number, out.rows * out.arity);
        sums.emitWith(s, out, wide, width);
        out.endRow(second);
      }
    },
  };
}

/** Requests and resp_header_bytes + resp_body_bytes per key: the hot path too. */
function createCounts(sums: SlotVectors): { add(batch: EventBatch, which: number, start: number, end: number, keys: Float64Array): void; emit(out: PartWriter, key: KeyWriter): void } {
  const index = createSlotIndex(256);
  let firstEvent: Int32Array = new Int32Array(64);
  let firstBatch: Int32Array = new Int32Array(64);
  let slots = 0;
  return {
    add(batch, which, start, end, keys) {
      const header = batch.respHeaderBytes;
      const body = batch.respBodyBytes;
      let lastKey = -1;
      let slot = 0;
      for (let i = start, j = 0; i < end; i++, j++) {
        const key = keys[j] as number;
        if (key !== lastKey) {
          slot = index.slotOf(key);
          if (slot === slots) {
            slots++;
            sums.ensure(slots);
            firstEvent = grownI32(firstEvent, slots);
            firstBatch = grownI32(firstBatch, slots);
            firstEvent[slot] = i;
            firstBatch[slot] = which;
          }
          lastKey = key;
        }
        sums.add(slot, 0, 1);
        sums.add(slot, 1, (header[i] as number) + (body[i] as number));
      }
    },
    emit(out, key) {
      for (let s = 0; s < slots; s++) {
        out.reserve(0);
        const second = key(out, firstBatch[s] as number, firstEvent[s] as number, out.rows * out.arity);
        sums.emit(s, out);
        out.endRow(second);
      }
    },
  };
}
