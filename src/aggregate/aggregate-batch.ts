/**
 * Parsed batches -> their per-second records (deltas): edge records per (second, service,
 * datacenter, domain, product), origin records per (second, service, datacenter, backend) over
 * origin fetches, and dimension records (method, exact status) per (second, service, domain,
 * product). Several batches (the request bodies of one WAL group commit) aggregate into one
 * RecordSet, as if they were one batch: per-key work (vectors, WAL bytes, window and store
 * queue updates) is then paid once per commit, not once per body. The batches must share one
 * Dictionaries. Pure as seen from outside: the same batches always give the same records (it
 * reuses module-level scratch arrays and compiles table programs lazily; neither is
 * observable). Batches are worked through in chunks of CHUNK events so scratch stays small and
 * cached.
 */
import { PRODUCT_VALUES, type EventBatch } from '../model/event.ts';
import type { Dictionaries } from '../model/dictionary.ts';
import type { DimensionRecord, EdgeRecord, OriginRecord, RecordSet } from '../model/record.ts';
import { EVENT_AXES } from './axes.ts';
import { createBatchKeyer } from './batch-keys.ts';
import { createAxisCodes, type AxisCodes, type CompiledTable } from './compile-table.ts';
import { EDGE_TABLE, ORIGIN_TABLE } from './field-table.ts';
import { CHUNK } from './scratch.ts';
import { createSlotIndex } from './slot-index.ts';

/** The records of one batch. */
export function aggregateBatch(batch: EventBatch, dicts: Dictionaries): RecordSet {
  return aggregateBatches([batch], dicts);
}

/** The records of several batches together: one record per key over all of them. */
export function aggregateBatches(batches: readonly EventBatch[], dicts: Dictionaries): RecordSet {
  const live = batches.filter((b) => b.length > 0);
  if (live.length === 0) return { edge: [], origin: [], dimension: [] };

  const keyer = createBatchKeyer(live);
  const edge = createSums(EDGE_TABLE);
  const origin = createSums(ORIGIN_TABLE);
  const byMethod = createCounts();
  const byStatus = createCounts();
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

  // From here on, per key (not per event): readable code. A key is read off its first event.
  const at = (which: number): EventBatch => live[which] as EventBatch;
  const product = (b: EventBatch, i: number): string => PRODUCT_VALUES[b.product[i] as number] ?? PRODUCT_VALUES[0];
  const second = (b: EventBatch, i: number): number => b.second[i] as number;
  const service = (b: EventBatch, i: number): string => dicts.service.name(b.service[i] as number);
  const datacenter = (b: EventBatch, i: number): string => dicts.datacenter.name(b.datacenter[i] as number);
  const domain = (b: EventBatch, i: number): string => dicts.domain.name(b.domain[i] as number);

  const edgeRecords: EdgeRecord[] = [];
  edge.forEachSlot((which, i, values) => {
    const b = at(which);
    edgeRecords.push({ second: second(b, i), service: service(b, i), datacenter: datacenter(b, i), domain: domain(b, i), product: product(b, i), values });
  });
  const originRecords: OriginRecord[] = [];
  origin.forEachSlot((which, i, values) => {
    const b = at(which);
    originRecords.push({
      second: second(b, i),
      service: service(b, i),
      datacenter: datacenter(b, i),
      backend: dicts.backend.name(b.backend[i] as number),
      values,
    });
  });
  const dimension: DimensionRecord[] = [];
  const dimensionOf =
    (dim: 'method' | 'status', value: (b: EventBatch, i: number) => string) => (which: number, i: number, count: number, bytes: number) => {
      const b = at(which);
      dimension.push({ second: second(b, i), service: service(b, i), domain: domain(b, i), product: product(b, i), dimension: dim, value: value(b, i), count, bytes });
    };
  byMethod.forEachSlot(dimensionOf('method', (b, i) => dicts.method.name(b.method[i] as number)));
  byStatus.forEachSlot(dimensionOf('status', (b, i) => String(b.status[i])));
  return { edge: edgeRecords, origin: originRecords, dimension };
}

interface Sums {
  /**
   * Adds events [start, end) (`keys` and `axisCodes` index them from 0); `fetchedOnly`: only
   * the origin fetches count.
   */
  add(batch: EventBatch, which: number, start: number, end: number, axisCodes: AxisCodes, keys: Float64Array, fetchedOnly: boolean): void;
  /**
   * Calls `f` per key with the batch (`which`) and index of the key's first event and a fresh
   * copy of its vector.
   */
  forEachSlot(f: (which: number, firstEvent: number, values: Float64Array) => void): void;
}

const grown = <T extends Float64Array | Int32Array>(a: T, min: number, make: (n: number) => T): T => {
  if (a.length >= min) return a;
  const next = make(Math.max(min, a.length * 2));
  next.set(a);
  return next;
};

function createSums(table: CompiledTable): Sums {
  const width = table.fields.length;
  const groups = table.groupCount;
  const programAt = table.programAt;
  const index = createSlotIndex(256);
  let slab = new Float64Array(width * 16);
  let firstEvent = new Int32Array(16);
  let firstBatch = new Int32Array(16);
  let slots = 0;
  return {
    /**
     * HOT PATH, written for speed: per event, one key lookup (skipped while the key repeats)
     * and the few compiled programs of its group codes, each a flat list of
     * `slab[field] += value`. No allocation per event; vectors live in one Float64Array slab
     * (slot x field).
     */
    add(batch, which, start, end, axisCodes, keys, fetchedOnly) {
      const { codes, values, valueWidth } = table.prepare(batch, start, end, axisCodes);
      const fetched = batch.originStatus;
      let ops = table.ops;
      let lastKey = -1;
      let base = 0;
      for (let i = start, j = 0; i < end; i++, j++) {
        if (fetchedOnly && (fetched[i] as number) < 0) continue;
        const key = keys[j] as number;
        if (key !== lastKey) {
          const slot = index.slotOf(key);
          if (slot === slots) {
            slots++;
            slab = grown(slab, slots * width, (len) => new Float64Array(len));
            firstEvent = grown(firstEvent, slots, (len) => new Int32Array(len));
            firstBatch = grown(firstBatch, slots, (len) => new Int32Array(len));
            firstEvent[slot] = i;
            firstBatch[slot] = which;
          }
          lastKey = key;
          base = slot * width;
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
            const f = base + (ops[k] as number);
            slab[f] = (slab[f] as number) + (values[row + (ops[k + 1] as number)] as number);
          }
        }
      }
    },
    forEachSlot(f) {
      for (let s = 0; s < slots; s++) f(firstBatch[s] as number, firstEvent[s] as number, slab.slice(s * width, (s + 1) * width));
    },
  };
}

interface Counts {
  add(batch: EventBatch, which: number, start: number, end: number, keys: Float64Array): void;
  forEachSlot(f: (which: number, firstEvent: number, count: number, bytes: number) => void): void;
}

/** Requests and resp_header_bytes + resp_body_bytes per key: the hot path too. */
function createCounts(): Counts {
  const index = createSlotIndex(256);
  let sums = new Float64Array(128);
  let firstEvent = new Int32Array(64);
  let firstBatch = new Int32Array(64);
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
            sums = grown(sums, slots * 2, (len) => new Float64Array(len));
            firstEvent = grown(firstEvent, slots, (len) => new Int32Array(len));
            firstBatch = grown(firstBatch, slots, (len) => new Int32Array(len));
            firstEvent[slot] = i;
            firstBatch[slot] = which;
          }
          lastKey = key;
        }
        sums[slot * 2] = (sums[slot * 2] as number) + 1;
        sums[slot * 2 + 1] = (sums[slot * 2 + 1] as number) + (header[i] as number) + (body[i] as number);
      }
    },
    forEachSlot(f) {
      for (let s = 0; s < slots; s++) f(firstBatch[s] as number, firstEvent[s] as number, sums[s * 2] as number, sums[s * 2 + 1] as number);
    },
  };
}
