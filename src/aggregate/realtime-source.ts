/**
 * What the real-time APIs (Fastly channel, Domain Inspector, Origin Inspector) read: per-second
 * vectors of one service, grouped the way each API shows them. The in-memory window implements
 * it for recent seconds; src/api/fastly/ combines it with the store for older ones.
 */
import type { IdRange } from '../model/distributions.ts';
import type { DistributionKind } from '../model/delta.ts';

/** Group name -> summed vector (EDGE_FIELDS or ORIGIN_FIELDS layout). */
export type GroupedValues = ReadonlyMap<string, Float64Array>;

/**
 * What every second read carries besides its vectors. Both hints are optional: a source that
 * cannot give them (the store, test fakes) leaves them out, and readers then scan every field and
 * cache nothing.
 */
export interface SecondHints {
  second: number;
  /**
   * Ascending field indexes that include every non-zero field of every vector of this second
   * (all other fields are 0 in all of them): a renderer iterates these ~20 instead of ~265.
   */
  fields?: Uint16Array;
  /**
   * The second's version in memory (the window's): equal revisions of one service and second
   * mean equal vectors, so a rendering of it may be reused. Changes on every apply that touches
   * the service's second (late events).
   */
  revision?: number;
}

/** The seconds a source holds in memory with their revisions (RealtimeSource.versions). */
export interface HeldVersions {
  /** Seconds >= heldFrom are answered from memory; older ones (not listed) from the store. */
  heldFrom: number;
  /** Published seconds in [max(from, heldFrom), to) with data of the kind asked, ascending. */
  seconds: { second: number; revision: number }[];
}

export type SecondKind = 'edge' | 'origin';
export type { DistributionKind };

/** A record's percentile fields, in EDGE_PERCENTILE_NAMES order (src/model/distributions.ts); NaN where nothing was counted. */
export type PercentileValues = Float64Array;

export interface ChannelPercentiles {
  aggregated: PercentileValues;
  byDatacenter: ReadonlyMap<string, PercentileValues>;
}

export interface DomainPercentiles {
  byDomain: ReadonlyMap<string, PercentileValues>;
  byDatacenter: ReadonlyMap<string, ReadonlyMap<string, PercentileValues>>;
}

/** An origin record's percentile fields, in ORIGIN_PERCENTILE_NAMES order; NaN where nothing was counted. */
export interface OriginPercentiles {
  byBackend: ReadonlyMap<string, PercentileValues>;
  byDatacenter: ReadonlyMap<string, ReadonlyMap<string, PercentileValues>>;
}

export interface ChannelSecond extends SecondHints {
  /** EDGE_FIELDS vector summed over all datacenters, domains and products of the service. */
  aggregated: Float64Array;
  /** EDGE_FIELDS vectors by datacenter. */
  byDatacenter: GroupedValues;
  /** The percentile fields of the same groups (absent: the source keeps no distributions). */
  percentiles?: ChannelPercentiles;
}

export interface DomainSecond extends SecondHints {
  /** EDGE_FIELDS vectors by domain, over all datacenters. */
  byDomain: GroupedValues;
  /** datacenter -> domain -> EDGE_FIELDS vector. */
  byDatacenter: ReadonlyMap<string, GroupedValues>;
  percentiles?: DomainPercentiles;
}

export interface OriginSecond extends SecondHints {
  /** ORIGIN_FIELDS vectors by backend, over all datacenters. */
  byBackend: GroupedValues;
  /** datacenter -> backend -> ORIGIN_FIELDS vector. */
  byDatacenter: ReadonlyMap<string, GroupedValues>;
  /** origin_time_p50 ... of the same groups (absent: the source keeps no distributions). */
  percentiles?: OriginPercentiles;
}

/**
 * A channel second lent by RealtimeSource.visitChannel: the vectors live in a scratch array
 * (`values`: the aggregate at [0, width), datacenter k at [(1 + k) * width, (2 + k) * width)),
 * valid only while the visit runs.
 */
export interface BorrowedChannelSecond extends SecondHints {
  fields: Uint16Array;
  revision: number;
  values: Float64Array;
  width: number;
  /** Datacenter names, in the order of their vectors in `values`. */
  datacenters: readonly string[];
  /** Percentile fields: the aggregate's at [0, n), datacenter k's at [(1 + k) * n, (2 + k) * n), n = EDGE_PERCENTILE_NAMES.length. */
  percentiles?: Float64Array;
}

/**
 * Distribution bucket counts (src/model/distributions.ts) of one key of a published second:
 * `inner` is the domain (edgeDist, products summed) or the backend (originDist). A key may come
 * more than once (rows not yet summed): readers add them up.
 */
export interface DistributionCell {
  second: number;
  datacenter: string;
  inner: string;
  /** Ascending bucket ids into the kind's vector, counts beside them. */
  ids: Uint32Array;
  counts: Float64Array;
}

export interface RealtimeSource {
  /**
   * The newest published second: every second <= this one has been published (clock time minus
   * AggregateDelay, minus one). Independent of any service.
   */
  latestPublished(): number;
  /** Seconds in [from, to) of the service that have data, ascending. Only published seconds. */
  channel(service: string, from: number, to: number): Promise<ChannelSecond[]>;
  domains(service: string, from: number, to: number): Promise<DomainSecond[]>;
  origins(service: string, from: number, to: number): Promise<OriginSecond[]>;
  /**
   * Optional: which seconds of the service in [from, to) memory holds, with their revisions,
   * without reading any vector ('edge' for channel and domains, 'origin' for origins). Lets the
   * Fastly layer reuse its renderings of unchanged seconds (src/api/fastly/fragment-cache.ts).
   */
  versions?(kind: SecondKind, service: string, from: number, to: number): HeldVersions;
  /**
   * Optional: channel() of the seconds memory holds (those versions() lists), each lent to
   * `visit` in turn instead of copied out: no allocation per vector, for a caller that renders
   * each second at once. Seconds memory does not hold are not visited; `visit` must not call
   * back into the source.
   */
  visitChannel?(service: string, from: number, to: number, visit: (s: BorrowedChannelSecond) => void): void;
  /**
   * Optional: the distribution counts of the service's published seconds in [from, to), only
   * the indexes `ids` when given (percentile buckets, client cells). Sources without it serve no
   * distribution metrics.
   */
  distributions?(kind: DistributionKind, service: string, from: number, to: number, ids?: IdRange): Promise<DistributionCell[]>;
}
