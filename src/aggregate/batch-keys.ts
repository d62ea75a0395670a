/**
 * The grouping keys of the events of one or several batches: one number per event per grouping,
 * so grouping costs one comparison (or one hash) per event. The same tuple gets the same key in
 * every batch of one keyer (ranges span them all), which lets a group commit aggregate several
 * request bodies into one set of records. Hot path: one fused pass over typed arrays.
 */
import type { EventBatch } from '../model/event.ts';
import { compositeKeys } from './composite-keys.ts';
import { scratchF64 } from './scratch.ts';

export interface BatchKeys {
  /** (second, service, datacenter, domain, product). */
  edge: Float64Array;
  /** (second, service, datacenter, backend). */
  origin: Float64Array;
  /** (second, service, domain, product, method). */
  method: Float64Array;
  /** (second, service, domain, product, status). */
  status: Float64Array;
}

const MAX_EXACT = 2 ** 53;
const PRODUCTS = 256;
const STATUSES = 65536;

interface Range {
  min: number;
  size: number;
}

type Column = 'second' | 'service' | 'datacenter' | 'domain' | 'backend' | 'method';

function rangeOf(batches: readonly EventBatch[], column: Column): Range {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const b of batches) {
    const col = b[column];
    for (let i = 0, n = b.length; i < n; i++) {
      const v = col[i] as number;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  return { min, size: max - min + 1 };
}

export interface BatchKeyer {
  /**
   * The keys of events [start, end) of `batches[which]` (index i - start); scratch, valid until
   * the next call.
   */
  keys(which: number, start: number, end: number): BatchKeys;
}

/** Keys are consistent across every chunk of every batch given: all use the same ranges. */
export function createBatchKeyer(batches: readonly EventBatch[]): BatchKeyer {
  const sec = rangeOf(batches, 'second');
  const svc = rangeOf(batches, 'service');
  const dc = rangeOf(batches, 'datacenter');
  const dom = rangeOf(batches, 'domain');
  const be = rangeOf(batches, 'backend');
  const m = rangeOf(batches, 'method');
  const perDomain = sec.size * svc.size * dom.size * PRODUCTS;
  // Rare: batches spanning too much (days of seconds times many names). Exact, slower keys, one
  // id space per grouping shared by all the batches.
  const exact = (fits: boolean, columns: (b: EventBatch) => Parameters<typeof compositeKeys>[1]): Float64Array[] | null => {
    if (fits) return null;
    const ids = new Map<string, number>();
    return batches.map((b) => compositeKeys(b.length, columns(b), ids));
  };
  const slow = {
    edge: exact(perDomain * dc.size <= MAX_EXACT, (b) => [b.second, b.service, b.datacenter, b.domain, b.product]),
    origin: exact(sec.size * svc.size * dc.size * be.size <= MAX_EXACT, (b) => [b.second, b.service, b.datacenter, b.backend]),
    method: exact(perDomain * m.size <= MAX_EXACT, (b) => [b.second, b.service, b.domain, b.product, b.method]),
    status: exact(perDomain * STATUSES <= MAX_EXACT, (b) => [b.second, b.service, b.domain, b.product, b.status]),
  };
  return {
    keys(which, start, end) {
      const b = batches[which] as EventBatch;
      const len = end - start;
      const keys: BatchKeys = {
        edge: scratchF64('key:edge', len),
        origin: scratchF64('key:origin', len),
        method: scratchF64('key:method', len),
        status: scratchF64('key:status', len),
      };
      // Mixed-radix numbers of the tuples, offset by the batch's minimum of each column: exact
      // while every product of ranges stays below 2^53 (checked above), the usual case.
      for (let i = start, j = 0; i < end; i++, j++) {
        const s = ((b.second[i] as number) - sec.min) * svc.size + ((b.service[i] as number) - svc.min);
        const d = (b.datacenter[i] as number) - dc.min;
        const perDom = (s * dom.size + ((b.domain[i] as number) - dom.min)) * PRODUCTS + (b.product[i] as number);
        keys.edge[j] = perDom * dc.size + d;
        keys.origin[j] = (s * dc.size + d) * be.size + ((b.backend[i] as number) - be.min);
        keys.method[j] = perDom * m.size + ((b.method[i] as number) - m.min);
        keys.status[j] = perDom * STATUSES + (b.status[i] as number);
      }
      for (const name of ['edge', 'origin', 'method', 'status'] as const) {
        const exactKeys = slow[name]?.[which];
        if (exactKeys !== undefined) keys[name].set(exactKeys.subarray(start, end));
      }
      return keys;
    },
  };
}
