/**
 * What the real-time APIs (Fastly channel, Domain Inspector, Origin Inspector) read: per-second
 * vectors of one service, grouped the way each API shows them. The in-memory window implements
 * it for recent seconds; src/api/fastly/ combines it with the store for older ones.
 */

/** Group name -> summed vector (EDGE_FIELDS or ORIGIN_FIELDS layout). */
export type GroupedValues = ReadonlyMap<string, Float64Array>;

export interface ChannelSecond {
  second: number;
  /** EDGE_FIELDS vector summed over all datacenters, domains and products of the service. */
  aggregated: Float64Array;
  /** EDGE_FIELDS vectors by datacenter. */
  byDatacenter: GroupedValues;
}

export interface DomainSecond {
  second: number;
  /** EDGE_FIELDS vectors by domain, over all datacenters. */
  byDomain: GroupedValues;
  /** datacenter -> domain -> EDGE_FIELDS vector. */
  byDatacenter: ReadonlyMap<string, GroupedValues>;
}

export interface OriginSecond {
  second: number;
  /** ORIGIN_FIELDS vectors by backend, over all datacenters. */
  byBackend: GroupedValues;
  /** datacenter -> backend -> ORIGIN_FIELDS vector. */
  byDatacenter: ReadonlyMap<string, GroupedValues>;
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
}
