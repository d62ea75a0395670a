/**
 * The vocabulary of the field table (field-table.ts): the discrete facts a rule may test about an
 * event ("axes") and the per-event quantities a rule may add ("values").
 *
 * An axis maps every event to a small integer code (0..size-1) and decodes a code into the value
 * a rule's condition sees (`'hit'`, `true`, `404`, `null` for absent...). Because every fact is
 * discrete, compile-table.ts can evaluate the rules once per combination of codes instead of
 * once per event. Continuous columns become axes through the buckets the rules distinguish
 * (object size, miss_histogram edge, origin latency bucket).
 *
 * Axes and values are computed column by column over a whole batch (one call per batch, no call
 * per event): they run on the hot path.
 */
import {
  MISS_HISTOGRAM_EDGES,
  OBJECT_SIZE_BUCKETS,
  ORIGIN_LATENCY_BUCKETS,
} from '../model/fields.ts';
import {
  CACHE_VALUES,
  FLAG_COMPUTE,
  FLAG_IPV6,
  FLAG_SHIELD,
  HTTP_VALUES,
  TLS_VALUES,
  WAF_VALUES,
  type EventBatch,
} from '../model/event.ts';

export interface Axis<V> {
  /** Codes are 0..size-1. */
  readonly size: number;
  /** The value a rule's condition sees for `code`. */
  decode(code: number): V;
  /** Writes the code of events [start, end) of the batch into out[0, end - start). */
  codes(batch: EventBatch, start: number, end: number, out: Int32Array): void;
}

/** The value type an axis decodes to. */
export type AxisValue<A> = A extends Axis<infer V> ? V : never;

type CodeColumn = 'cache' | 'tls' | 'http' | 'waf';

function enumAxis<const T extends readonly string[]>(values: T, column: CodeColumn): Axis<T[number]> {
  return {
    size: values.length,
    decode: (code) => values[code] as T[number],
    codes(batch, start, end, out) {
      const col = batch[column];
      // Codes out of range would index past the compiled programs: fold them into the default 0.
      for (let i = start; i < end; i++) {
        const c = col[i] as number;
        out[i - start] = c < values.length ? c : 0;
      }
    },
  };
}

function flagAxis(bit: number): Axis<boolean> {
  return {
    size: 2,
    decode: (code) => code === 1,
    codes(batch, start, end, out) {
      const flags = batch.flags;
      for (let i = start; i < end; i++) out[i - start] = ((flags[i] as number) & bit) === 0 ? 0 : 1;
    },
  };
}

/** Index of the first upper bound > v (bounds ascending); bounds.length when none. */
function bucketOf(bounds: Float64Array, v: number): number {
  let k = 0;
  while (k < bounds.length && v >= (bounds[k] as number)) k++;
  return k;
}

const OBJECT_SIZE_BOUNDS = Float64Array.from(OBJECT_SIZE_BUCKETS, ([, upper]) => upper);
const LATENCY_BOUNDS = Float64Array.from(ORIGIN_LATENCY_BUCKETS.slice(0, -1), ([, , upper]) => upper);
const LAST_EDGE = MISS_HISTOGRAM_EDGES[MISS_HISTOGRAM_EDGES.length - 1] as number;
/**
 * miss_histogram edge index by floor(t), t < LAST_EDGE: the edges are integers, so "the smallest
 * edge > t" equals "the smallest edge > floor(t)". One 60 KB table instead of a search per event.
 */
const MISS_EDGE_BY_MS = (() => {
  const table = new Uint8Array(LAST_EDGE);
  let k = 0;
  for (let t = 0; t < LAST_EDGE; t++) {
    while ((MISS_HISTOGRAM_EDGES[k] as number) <= t) k++;
    table[t] = k;
  }
  return table;
})();

/** The facts rules may test. Add an axis here when a new rule needs a fact none of these gives. */
export const EVENT_AXES = {
  cache: enumAxis(CACHE_VALUES, 'cache'),
  /** '' = plain HTTP. */
  tls: enumAxis(TLS_VALUES, 'tls'),
  http: enumAxis(HTTP_VALUES, 'http'),
  /** '' = no WAF verdict. */
  waf: enumAxis(WAF_VALUES, 'waf'),
  shield: flagAxis(FLAG_SHIELD),
  compute: flagAxis(FLAG_COMPUTE),
  ipv6: flagAxis(FLAG_IPV6),
  /** The client status, 100..599 (anything else decodes to 0 and matches no status rule). */
  status: {
    size: 600,
    decode: (code: number): number => code,
    codes(batch: EventBatch, start: number, end: number, out: Int32Array): void {
      const col = batch.status;
      for (let i = start; i < end; i++) {
        const s = col[i] as number;
        out[i - start] = s < 600 ? s : 0;
      }
    },
  } satisfies Axis<number>,
  /** `origin_status`: null when absent (not an origin fetch), else 0 or 100..599. */
  originStatus: {
    size: 601,
    decode: (code: number): number | null => (code === 0 ? null : code - 1),
    codes(batch: EventBatch, start: number, end: number, out: Int32Array): void {
      const col = batch.originStatus;
      for (let i = start; i < end; i++) {
        const s = col[i] as number;
        // Fetched iff s >= 0 (as everywhere); an impossible s >= 600 counts as "no response".
        out[i - start] = s < 0 ? 0 : s < 600 ? s + 1 : 1;
      }
    },
  } satisfies Axis<number | null>,
  /** Index into OBJECT_SIZE_BUCKETS of `resp_body_bytes`; OBJECT_SIZE_BUCKETS.length = above all. */
  objectSize: {
    size: OBJECT_SIZE_BUCKETS.length + 1,
    decode: (code: number): number => code,
    codes(batch: EventBatch, start: number, end: number, out: Int32Array): void {
      const col = batch.respBodyBytes;
      for (let i = start; i < end; i++) out[i - start] = bucketOf(OBJECT_SIZE_BOUNDS, col[i] as number);
    },
  } satisfies Axis<number>,
  /** For an origin fetch, the miss_histogram edge (ms) its `origin_time_ms` falls under; else null. */
  missEdge: {
    size: MISS_HISTOGRAM_EDGES.length + 1,
    decode: (code: number): number | null => (code === 0 ? null : (MISS_HISTOGRAM_EDGES[code - 1] as number)),
    codes(batch: EventBatch, start: number, end: number, out: Int32Array): void {
      const fetched = batch.originStatus;
      const time = batch.originTimeMs;
      const last = MISS_HISTOGRAM_EDGES.length - 1;
      for (let i = start; i < end; i++) {
        if ((fetched[i] as number) < 0) {
          out[i - start] = 0;
          continue;
        }
        const t = time[i] as number;
        // `t < LAST_EDGE` is false for NaN too: it lands in the last bucket rather than nowhere.
        out[i - start] = 1 + (t < LAST_EDGE ? (MISS_EDGE_BY_MS[t > 0 ? Math.floor(t) : 0] as number) : last);
      }
    },
  } satisfies Axis<number | null>,
  /** Index into ORIGIN_LATENCY_BUCKETS of `origin_time_ms` (lower bound inclusive). */
  originLatency: {
    size: ORIGIN_LATENCY_BUCKETS.length,
    decode: (code: number): number => code,
    codes(batch: EventBatch, start: number, end: number, out: Int32Array): void {
      const col = batch.originTimeMs;
      for (let i = start; i < end; i++) out[i - start] = bucketOf(LATENCY_BOUNDS, col[i] as number);
    },
  } satisfies Axis<number>,
};

export type EventAxes = typeof EVENT_AXES;

/**
 * Writes a per-event quantity of events [start, end) into out[(i - start) * stride + offset]:
 * strided, because the accumulate loop reads each event's values side by side.
 */
export type ValueFill = (b: EventBatch, start: number, end: number, out: Float64Array, stride: number, offset: number) => void;

type Column = 'reqHeaderBytes' | 'reqBodyBytes' | 'respHeaderBytes' | 'respBodyBytes' | 'bereqHeaderBytes' | 'bereqBodyBytes' | 'berespHeaderBytes' | 'berespBodyBytes' | 'computeTimeMs' | 'computeCpuMs' | 'timeMs';

/** The column itself. */
const copied =
  (column: Column): ValueFill =>
  (b, start, end, out, stride, offset) => {
    const col = b[column];
    for (let i = start, o = offset; i < end; i++, o += stride) out[o] = col[i] as number;
  };

/** The quantities a rule may add. */
export const EVENT_VALUES = {
  one: ((_b, start, end, out, stride, offset) => {
    for (let i = start, o = offset; i < end; i++, o += stride) out[o] = 1;
  }) as ValueFill,
  req_header_bytes: copied('reqHeaderBytes'),
  req_body_bytes: copied('reqBodyBytes'),
  resp_header_bytes: copied('respHeaderBytes'),
  resp_body_bytes: copied('respBodyBytes'),
  bereq_header_bytes: copied('bereqHeaderBytes'),
  bereq_body_bytes: copied('bereqBodyBytes'),
  beresp_header_bytes: copied('berespHeaderBytes'),
  beresp_body_bytes: copied('berespBodyBytes'),
  /** `time_ms` / 1000: the `*_time` fields are seconds (a division, as the spec writes it). */
  time_s: ((b, start, end, out, stride, offset) => {
    const col = b.timeMs;
    for (let i = start, o = offset; i < end; i++, o += stride) out[o] = (col[i] as number) / 1000;
  }) as ValueFill,
  compute_time_ms: copied('computeTimeMs'),
  compute_cpu_ms: copied('computeCpuMs'),
  /** ceil(compute_time_ms / 50) * 50: Compute bills request time in 50 ms units. */
  compute_billed_ms: ((b, start, end, out, stride, offset) => {
    const col = b.computeTimeMs;
    for (let i = start, o = offset; i < end; i++, o += stride) out[o] = Math.ceil((col[i] as number) / 50) * 50;
  }) as ValueFill,
};

export type ValueName = keyof typeof EVENT_VALUES;
