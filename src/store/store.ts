/**
 * The store interface: what the aggregator writes and the APIs read. DuckDB (embedded, default)
 * implements it in ./duckdb, ClickHouse in ./clickhouse; both pass one conformance suite
 * (./store-conformance.ts).
 *
 * Rows are deltas: rows with the same key add up (append-only, like a SummingMergeTree), so a
 * late event is one more appended row and every read sums.
 */
import type { IdRange } from '../model/distributions.ts';
import type { Delta } from '../model/delta.ts';
import type { DimensionName, DimensionRecord, EdgeRecord, OriginRecord } from '../model/record.ts';
import type { DistributionRow } from '../model/distribution-sums.ts';

export type { DistributionRow };

export { TIERS, TIER_SECONDS, type Tier } from '../model/tier.ts';
import type { Tier } from '../model/tier.ts';

/** One durable write: per-second rows (a Delta, rows additive) and the WAL position they carry. */
export interface StoreWrite {
  /**
   * The highest WAL sequence number whose deltas are fully contained in `delta` for every
   * second that `delta` touches (see src/ingest/wal docs). Stored per second, atomically with
   * the rows, so WAL replay skips what the store already has.
   */
  lsn: number;
  /** A key may appear in several rows; reads sum them. */
  delta: Delta;
}

/** Which keys a read covers; an absent list means all. */
export interface RecordFilter {
  services?: readonly string[];
  datacenters?: readonly string[];
  domains?: readonly string[];
  products?: readonly string[];
  backends?: readonly string[];
}

export interface RecordQuery {
  tier: Tier;
  /** Inclusive start, Unix seconds. */
  from: number;
  /** Exclusive end, Unix seconds. */
  to: number;
  filter: RecordFilter;
}

export type GroupDimension = 'service' | 'datacenter' | 'domain' | 'product';

/** Sums of chosen fields per time bucket (and optional groups): the query model of Azion / ODSL. */
export interface SumQuery extends RecordQuery {
  /** Bucket width in seconds, a multiple of the tier's width; buckets are aligned to the epoch. */
  bucketSeconds: number;
  /** EDGE_FIELDS names to sum. */
  fields: readonly string[];
  groupBy?: readonly GroupDimension[];
}

export interface SumRow {
  /** Bucket start, Unix seconds. */
  bucket: number;
  /** Values of the groupBy dimensions, in groupBy order. */
  group: readonly string[];
  /** Sums, in `fields` order. */
  values: readonly number[];
}

export interface DimensionSumQuery extends RecordQuery {
  bucketSeconds: number;
  dimension: DimensionName;
  /** Only these values (e.g. ['GET']); all when absent. */
  values?: readonly string[];
}

export interface DimensionSumRow {
  bucket: number;
  value: string;
  count: number;
  bytes: number;
}

import type { DistributionKind } from '../model/delta.ts';

/** The record kinds holding distribution buckets (src/model/distributions.ts). */
export type { DistributionKind };

/** Key columns a distribution read may group by: those of its kind (edge: service, datacenter, domain, product; origin: service, datacenter, backend). */
export type DistributionGroup = 'service' | 'datacenter' | 'domain' | 'product' | 'backend';

/** Bucket counts of a distribution kind per time bucket (and optional groups): what percentiles are ranked from. */
export interface DistributionQuery extends RecordQuery {
  kind: DistributionKind;
  /** Bucket width in seconds, a multiple of the tier's width; buckets are aligned to the epoch. */
  bucketSeconds: number;
  groupBy?: readonly DistributionGroup[];
  /** Only these distribution indexes (percentile buckets, client cells); default every one. */
  ids?: IdRange;
}

export interface MetricStore {
  /** Appends one write to the 1 s tier and every rollup tier, atomically. */
  append(write: StoreWrite): Promise<void>;
  /** For WAL replay: the highest lsn stored for each of these seconds (absent = none). */
  appliedLsn(seconds: readonly number[]): Promise<Map<number, number>>;
  /** The 1 s tier's rows of seconds in [from, to), as stored (additive, not summed): the window refills from them. */
  readSeconds(from: number, to: number): Promise<Delta>;
  /** Edge records summed per key (second or bucket start, service, datacenter, domain, product). */
  readEdge(query: RecordQuery): Promise<EdgeRecord[]>;
  /** Origin records summed per key (second, service, datacenter, backend). */
  readOrigin(query: RecordQuery): Promise<OriginRecord[]>;
  /** Dimension records summed per key. */
  readDimension(query: RecordQuery): Promise<DimensionRecord[]>;
  sumEdge(query: SumQuery): Promise<SumRow[]>;
  sumDimension(query: DimensionSumQuery): Promise<DimensionSumRow[]>;
  /** Distribution bucket counts summed per time bucket and group, ordered by bucket then group; groups with no count left out. */
  sumDistribution(query: DistributionQuery): Promise<DistributionRow[]>;
  /** Deletes rows older than each tier's retention; safe to run while ingesting and querying. */
  expire(nowSeconds: number): Promise<void>;
  /**
   * Folds the delta rows of each key into one row where writes have piled up (rollup buckets
   * get one row per key per write); sums are unchanged. Safe while ingesting and querying.
   */
  compact(): Promise<void>;
  close(): Promise<void>;
}
