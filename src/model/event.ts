/**
 * The request event of `shared/spec/events.md`, in the columnar form the ingest parser fills and
 * the aggregator reads. Hot path: one batch of typed arrays per request body, no object per event.
 */

/** `cache` values, in code order: the code is the index. Default `pass`. */
import { createInterner, type Interner } from './dictionary.ts';

export const CACHE_VALUES = ['hit', 'miss', 'pass', 'synth', 'error'] as const;
export type CacheOutcome = (typeof CACHE_VALUES)[number];
export const CACHE_HIT = 0;
export const CACHE_MISS = 1;
export const CACHE_PASS = 2;
export const CACHE_SYNTH = 3;
export const CACHE_ERROR = 4;

/** `tls` codes: 0 = absent (plain HTTP), then the versions in order. */
export const TLS_VALUES = ['', '1.0', '1.1', '1.2', '1.3'] as const;
/** `http` codes; default `1.1` (code 1). */
export const HTTP_VALUES = ['1.0', '1.1', '2', '3'] as const;
/** `waf` codes: 0 = absent. */
export const WAF_VALUES = ['', 'blocked', 'logged', 'passed'] as const;
/** `product` codes; default `edge_application` (code 0). */
export const PRODUCT_VALUES = [
  'edge_application',
  'edge_functions',
  'image_processor',
  'live_streaming',
  'load_balancer',
  'l2_caching',
  'data_streaming',
  'intelligent_dns',
] as const;
export type Product = (typeof PRODUCT_VALUES)[number];

/** Bits of `EventBatch.flags`. */
export const FLAG_SHIELD = 1;
export const FLAG_COMPUTE = 2;
export const FLAG_IPV6 = 4;

/** `originStatus` when the event has no `origin_status` (not fetched from origin). */
export const ORIGIN_ABSENT = -1;

/**
 * Parsed, validated events, column by column. String fields are interned ids from the
 * `Dictionaries` the parser was given (see dictionary.ts); `domain` is already lower-cased.
 */
export interface EventBatch {
  length: number;
  /** floor(timestamp), Unix seconds. */
  second: Float64Array;
  service: Int32Array;
  datacenter: Int32Array;
  domain: Int32Array;
  backend: Int32Array;
  method: Int32Array;
  status: Uint16Array;
  /** Code into CACHE_VALUES. */
  cache: Uint8Array;
  /** Code into TLS_VALUES. */
  tls: Uint8Array;
  /** Code into HTTP_VALUES. */
  http: Uint8Array;
  /** Code into WAF_VALUES. */
  waf: Uint8Array;
  /** Code into PRODUCT_VALUES. */
  product: Uint8Array;
  /** FLAG_* bits. */
  flags: Uint8Array;
  /** 0 or 100..599, or ORIGIN_ABSENT. */
  originStatus: Int16Array;
  reqHeaderBytes: Float64Array;
  reqBodyBytes: Float64Array;
  respHeaderBytes: Float64Array;
  respBodyBytes: Float64Array;
  bereqHeaderBytes: Float64Array;
  bereqBodyBytes: Float64Array;
  berespHeaderBytes: Float64Array;
  berespBodyBytes: Float64Array;
  timeMs: Float64Array;
  originTimeMs: Float64Array;
  computeTimeMs: Float64Array;
  computeCpuMs: Float64Array;
  /** Unique-client cell of `client_ip` (unique-clients.ts), or NO_CLIENT (-1) when it has none. */
  clientCell: Int32Array;
  /**
   * The normalized `path` (top-values.ts normalizePath) and the `client_ip`, as ids into the
   * parse's own TopValueNames (never the sink's Dictionaries: they are counted per body, then
   * dropped), or -1 when the event has none.
   */
  path: Int32Array;
  clientIp: Int32Array;
}

/** The per-parse interners of EventBatch.path and .clientIp. */
export interface TopValueNames {
  path: Interner;
  clientIp: Interner;
}

export const createTopValueNames = (): TopValueNames => ({ path: createInterner(), clientIp: createInterner() });

/** Allocates a batch able to hold `capacity` events; `length` starts at 0. */
export function createEventBatch(capacity: number): EventBatch {
  return {
    length: 0,
    second: new Float64Array(capacity),
    service: new Int32Array(capacity),
    datacenter: new Int32Array(capacity),
    domain: new Int32Array(capacity),
    backend: new Int32Array(capacity),
    method: new Int32Array(capacity),
    status: new Uint16Array(capacity),
    cache: new Uint8Array(capacity),
    tls: new Uint8Array(capacity),
    http: new Uint8Array(capacity),
    waf: new Uint8Array(capacity),
    product: new Uint8Array(capacity),
    flags: new Uint8Array(capacity),
    originStatus: new Int16Array(capacity),
    reqHeaderBytes: new Float64Array(capacity),
    reqBodyBytes: new Float64Array(capacity),
    respHeaderBytes: new Float64Array(capacity),
    respBodyBytes: new Float64Array(capacity),
    bereqHeaderBytes: new Float64Array(capacity),
    bereqBodyBytes: new Float64Array(capacity),
    berespHeaderBytes: new Float64Array(capacity),
    berespBodyBytes: new Float64Array(capacity),
    timeMs: new Float64Array(capacity),
    originTimeMs: new Float64Array(capacity),
    computeTimeMs: new Float64Array(capacity),
    computeCpuMs: new Float64Array(capacity),
    clientCell: new Int32Array(capacity).fill(-1),
    path: new Int32Array(capacity).fill(-1),
    clientIp: new Int32Array(capacity).fill(-1),
  };
}
