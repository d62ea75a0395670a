/**
 * One parsed batch -> its per-second records (deltas): edge records per (second, service,
 * datacenter, domain, product), origin records per (second, service, datacenter, backend) over
 * origin fetches, and dimension records (method, exact status) per (second, service, domain,
 * product). Pure: the same batch always gives the same records.
 */
import { PRODUCT_VALUES, type EventBatch } from '../model/event.ts';
import type { Dictionaries } from '../model/dictionary.ts';
import type { DimensionRecord, EdgeRecord, OriginRecord, RecordSet } from '../model/record.ts';
import { EVENT_AXES } from './axes.ts';
import { batchKeys } from './batch-keys.ts';
import { createAxisCodes, type AxisCodes, type CompiledTable } from './compile-table.ts';
import { EDGE_TABLE, ORIGIN_TABLE } from './field-table.ts';
import { createSlotIndex } from './slot-index.ts';

export function aggregateBatch(batch: EventBatch, dicts: Dictionaries): RecordSet {
  const n = batch.length;
  if (n === 0) return { edge: [], origin: [], dimension: [] };
  const b = batch;

  const T = (globalThis as any).__T ??= [0,0,0,0,0,0];
  let t = performance.now();
  const lap = (k: number) => { const x = performance.now(); T[k] += x - t; t = x; };
  const keys = batchKeys(b); lap(0);
  const axisCodes = createAxisCodes(b, EVENT_AXES);
  const edge = sumByKey(EDGE_TABLE, b, axisCodes, keys.edge, null); lap(1);
  const origin = sumByKey(ORIGIN_TABLE, b, axisCodes, keys.origin, b.originStatus); lap(2);
  const byMethod = countByKey(b, keys.method);
  const byStatus = countByKey(b, keys.status); lap(3);

  // From here on, per key (not per event): readable code.
  const product = (i: number): string => PRODUCT_VALUES[b.product[i] as number] ?? PRODUCT_VALUES[0];
  const second = (i: number): number => b.second[i] as number;
  const service = (i: number): string => dicts.service.name(b.service[i] as number);
  const datacenter = (i: number): string => dicts.datacenter.name(b.datacenter[i] as number);
  const domain = (i: number): string => dicts.domain.name(b.domain[i] as number);

  const edgeRecords: EdgeRecord[] = [];
  edge.forEachSlot((i, values) =>
    edgeRecords.push({ second: second(i), service: service(i), datacenter: datacenter(i), domain: domain(i), product: product(i), values }),
  );
  const originRecords: OriginRecord[] = [];
  origin.forEachSlot((i, values) =>
    originRecords.push({
      second: second(i),
      service: service(i),
      datacenter: datacenter(i),
      backend: dicts.backend.name(b.backend[i] as number),
      values,
    }),
  );
  const dimension: DimensionRecord[] = [];
  const dimensionOf = (dim: 'method' | 'status', value: (i: number) => string) => (i: number, count: number, bytes: number) =>
    dimension.push({ second: second(i), service: service(i), domain: domain(i), product: product(i), dimension: dim, value: value(i), count, bytes });
  byMethod.forEachSlot(dimensionOf('method', (i) => dicts.method.name(b.method[i] as number)));
  byStatus.forEachSlot(dimensionOf('status', (i) => String(b.status[i])));
  lap(5);
  return { edge: edgeRecords, origin: originRecords, dimension };
}

interface Sums {
  /** Calls `f` per key with the index of the key's first event and a fresh copy of its vector. */
  forEachSlot(f: (firstEvent: number, values: Float64Array) => void): void;
}

const grown = <T extends Float64Array | Int32Array>(a: T, min: number, make: (n: number) => T): T => {
  if (a.length >= min) return a;
  const next = make(Math.max(min, a.length * 2));
  next.set(a);
  return next;
};

/**
 * HOT PATH, written for speed: per event, one key lookup (skipped while the key repeats) and the
 * few compiled programs of its group codes, each a flat list of `slab[field] += column[event]`.
 * No allocation per event; vectors live in one Float64Array slab (slot x field).
 * `fetchedOnly`: when given, only the events with a value >= 0 there (origin fetches) count.
 */
function sumByKey(
  table: CompiledTable,
  batch: EventBatch,
  axisCodes: AxisCodes,
  keys: Float64Array,
  fetchedOnly: Int16Array | null,
): Sums {
  const n = batch.length;
  const width = table.fields.length;
  const t0 = performance.now();
  const { codes, values, valueWidth } = table.prepare(batch, axisCodes);
  (globalThis as any).__T[4] += performance.now() - t0;
  const groups = table.groupCount;
  const programAt = table.programAt;
  let ops = table.ops;
  const index = createSlotIndex(256);
  let slab = new Float64Array(width * 64);
  let firstEvent = new Int32Array(64);
  let slots = 0;
  let lastKey = -1;
  let base = 0;
  const events = fetchedOnly === null ? null : indicesWhereFetched(fetchedOnly, n);
  const count = events === null ? n : events.length;
  for (let e = 0; e < count; e++) {
    const i = events === null ? e : (events[e] as number);
    const key = keys[i] as number;
    if (key !== lastKey) {
      const slot = index.slotOf(key);
      if (slot === slots) {
        slots++;
        slab = grown(slab, slots * width, (len) => new Float64Array(len));
        firstEvent = grown(firstEvent, slots, (len) => new Int32Array(len));
        firstEvent[slot] = i;
      }
      lastKey = key;
      base = slot * width;
    }
    const row = i * valueWidth;
    for (let c = i * groups, end = c + groups; c < end; c++) {
      let at = programAt[codes[c] as number] as number;
      if (at < 0) {
        at = table.compile(codes[c] as number);
        ops = table.ops;
      }
      const last = at + 2 * (ops[at] as number);
      for (let k = at + 1; k < last; k += 2) {
        const f = base + (ops[k] as number);
        slab[f] = (slab[f] as number) + (values[row + (ops[k + 1] as number)] as number);
      }
    }
  }
  return {
    forEachSlot(f) {
      for (let s = 0; s < slots; s++) f(firstEvent[s] as number, slab.slice(s * width, (s + 1) * width));
    },
  };
}

function indicesWhereFetched(originStatus: Int16Array, n: number): Int32Array {
  let count = 0;
  for (let i = 0; i < n; i++) if ((originStatus[i] as number) >= 0) count++;
  const out = new Int32Array(count);
  for (let i = 0, k = 0; i < n; i++) if ((originStatus[i] as number) >= 0) out[k++] = i;
  return out;
}

interface Counts {
  forEachSlot(f: (firstEvent: number, count: number, bytes: number) => void): void;
}

/** Hot path too: requests and resp_header_bytes + resp_body_bytes per key. */
function countByKey(batch: EventBatch, keys: Float64Array): Counts {
  const index = createSlotIndex(256);
  let sums = new Float64Array(128);
  let firstEvent = new Int32Array(64);
  let slots = 0;
  let lastKey = -1;
  let slot = 0;
  const header = batch.respHeaderBytes;
  const body = batch.respBodyBytes;
  for (let i = 0; i < batch.length; i++) {
    const key = keys[i] as number;
    if (key !== lastKey) {
      slot = index.slotOf(key);
      if (slot === slots) {
        slots++;
        sums = grown(sums, slots * 2, (len) => new Float64Array(len));
        firstEvent = grown(firstEvent, slots, (len) => new Int32Array(len));
        firstEvent[slot] = i;
      }
      lastKey = key;
    }
    sums[slot * 2] = (sums[slot * 2] as number) + 1;
    sums[slot * 2 + 1] = (sums[slot * 2 + 1] as number) + (header[i] as number) + (body[i] as number);
  }
  return {
    forEachSlot(f) {
      for (let s = 0; s < slots; s++) f(firstEvent[s] as number, sums[s * 2] as number, sums[s * 2 + 1] as number);
    },
  };
}
