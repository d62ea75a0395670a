/**
 * The grouping keys of a batch's events: one number per event per grouping, so grouping costs
 * one comparison (or one hash) per event. Hot path: one fused pass over typed arrays.
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

function rangeOf(col: Float64Array | Int32Array, n: number): Range {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const v = col[i] as number;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, size: max - min + 1 };
}

export interface BatchKeyer {
  /** The keys of events [start, end) (index i - start); scratch, valid until the next call. */
  keys(start: number, end: number): BatchKeys;
}

/** Keys are consistent across the whole batch: every chunk of it uses the same ranges. */
export function createBatchKeyer(b: EventBatch): BatchKeyer {
  const n = b.length;
  const sec = rangeOf(b.second, n);
  const svc = rangeOf(b.service, n);
  const dc = rangeOf(b.datacenter, n);
  const dom = rangeOf(b.domain, n);
  const be = rangeOf(b.backend, n);
  const m = rangeOf(b.method, n);
  const perDomain = sec.size * svc.size * dom.size * PRODUCTS;
  // Rare: a batch spanning too much (days of seconds times many names). Exact, slower keys.
  const slow = {
    edge: perDomain * dc.size <= MAX_EXACT ? null : compositeKeys(n, [b.second, b.service, b.datacenter, b.domain, b.product]),
    origin: sec.size * svc.size * dc.size * be.size <= MAX_EXACT ? null : compositeKeys(n, [b.second, b.service, b.datacenter, b.backend]),
    method: perDomain * m.size <= MAX_EXACT ? null : compositeKeys(n, [b.second, b.service, b.domain, b.product, b.method]),
    status: perDomain * STATUSES <= MAX_EXACT ? null : compositeKeys(n, [b.second, b.service, b.domain, b.product, b.status]),
  };
  return {
    keys(start, end) {
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
        const exact = slow[name];
        if (exact !== null) keys[name].set(exact.subarray(start, end));
      }
      return keys;
    },
  };
}
