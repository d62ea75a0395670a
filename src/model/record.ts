/**
 * Aggregated records as they cross module boundaries (WAL, store, APIs). Within the aggregator
 * the same data lives in typed arrays; these shapes are for the readers.
 *
 * A record is a *delta*: two records with the same key add element-wise. The store may hold
 * several rows for one key (a late event appends another); readers sum them.
 */
import type { TopValueDimension } from './top-values.ts';

/** Edge traffic of one key. `values.length === EDGE_FIELDS.length`. */
export interface EdgeRecord {
  /** Start of the bucket, Unix seconds (the second itself for 1 s records). */
  second: number;
  service: string;
  datacenter: string;
  /** Lower-cased host. */
  domain: string;
  /** One of PRODUCT_VALUES. */
  product: string;
  values: Float64Array;
}

/** Origin fetches of one backend. `values.length === ORIGIN_FIELDS.length`. */
export interface OriginRecord {
  second: number;
  service: string;
  datacenter: string;
  backend: string;
  values: Float64Array;
}

/**
 * Open-ended dimensions that do not fit a fixed vector: requests by `method` (value = the
 * method) and by exact `status` (value = the code as a string, e.g. "404"). Azion's
 * `http_method` and `status_code` metrics read these.
 */
/** What a dimension record breaks requests down by. */
export type DimensionName = 'method' | 'status' | TopValueDimension;
const DIMENSION_NAMES: ReadonlySet<string> = new Set<DimensionName>(['method', 'status', 'path', 'client_ip']);
/** A stored dimension column's value as a DimensionName (an unknown one, from no writer of ours, reads as 'method'). */
export const dimensionNameOf = (stored: string): DimensionName => (DIMENSION_NAMES.has(stored) ? (stored as DimensionName) : 'method');

export interface DimensionRecord {
  second: number;
  service: string;
  domain: string;
  product: string;
  /** method or status (per second), or a top-values dimension (per minute, top-values.ts). */
  dimension: DimensionName;
  value: string;
  /** Requests. */
  count: number;
  /** resp_header_bytes + resp_body_bytes of those requests. */
  bytes: number;
}

/** Bucket counters of a key's distributions (src/model/distributions.ts), sparse: `ids` ascending, `counts` beside them. */
export interface DistCounts {
  ids: Uint32Array;
  counts: Float64Array;
}

/** The distributions (edge time, origin time, object size) of one edge key. */
export interface EdgeDistRecord extends DistCounts {
  second: number;
  service: string;
  datacenter: string;
  domain: string;
  product: string;
}

/** The origin time distribution of one backend's fetches. */
export interface OriginDistRecord extends DistCounts {
  second: number;
  service: string;
  datacenter: string;
  backend: string;
}

/** Everything one aggregation step produced. The distributions are optional: most tests build records without them. */
export interface RecordSet {
  edge: EdgeRecord[];
  origin: OriginRecord[];
  dimension: DimensionRecord[];
  edgeDist?: EdgeDistRecord[];
  originDist?: OriginDistRecord[];
}

export const emptyRecordSet = (): RecordSet => ({ edge: [], origin: [], dimension: [] });
