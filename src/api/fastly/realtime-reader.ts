/**
 * One RealtimeSource over two places a second can live: the in-memory window (seconds >=
 * window.oldestSecond(), the "head block") and the store's 1 s tier (older seconds, including
 * those that late events changed after the window let them go). A range that spans both comes
 * back merged and ascending, so the Fastly routes never know where a second came from.
 */
import { PERCENTILE_IDS } from '../../model/distributions.ts';
import type { ChannelSecond, DistributionCell, DomainSecond, OriginSecond, RealtimeSource } from '../../aggregate/realtime-source.ts';
import { EDGE_FIELDS, ORIGIN_FIELDS } from '../../model/fields.ts';
import { attachChannelPercentiles, attachDomainPercentiles, attachOriginPercentiles } from './store-percentiles.ts';
import type { EdgeRecord, OriginRecord } from '../../model/record.ts';
import type { MetricStore, RecordQuery } from '../../store/store.ts';

/** What the reader needs of the window (src/aggregate/window.ts implements it). */
export interface WindowView extends RealtimeSource {
  /** The oldest second the window holds; every second from here on is answered from memory. */
  oldestSecond(): number;
}

type StoreReader = Pick<MetricStore, 'readEdge' | 'readOrigin'> & Partial<Pick<MetricStore, 'sumDistribution'>>;

export function createRealtimeReader(window: WindowView, store: StoreReader): RealtimeSource {
  const query = (service: string, from: number, to: number): RecordQuery => ({
    tier: '1s',
    from,
    to,
    filter: { services: [service] },
  });

  /**
   * Window first, then the store below the boundary. The boundary is read again after the
   * window answered: if the window handed seconds to the store meanwhile, the store covers them,
   * and a second both answered keeps the window's version (never counted twice).
   */
  async function merged<S extends { second: number }>(
    from: number,
    to: number,
    fromWindow: (from: number, to: number) => Promise<S[]>,
    fromStore: (from: number, to: number) => Promise<S[]>,
  ): Promise<S[]> {
    if (from >= to) return [];
    const boundary = window.oldestSecond();
    const recent = boundary < to ? await fromWindow(Math.max(from, boundary), to) : [];
    const storeTo = Math.min(to, Math.max(boundary, window.oldestSecond()));
    if (from >= storeTo) return recent;
    const older = await fromStore(from, storeTo);
    if (older.length === 0) return recent;
    const inWindow = new Set(recent.map((s) => s.second));
    return [...older.filter((s) => !inWindow.has(s.second)), ...recent].sort((a, b) => a.second - b.second);
  }

  const storeDist = store.sumDistribution?.bind(store);
  // The records and their percentile buckets are read at once (two store reads in flight, not one
  // after the other: on ClickHouse, where every real-time read goes, each is a round trip).
  const storeChannel = async (service: string, f: number, t: number): Promise<ChannelSecond[]> => {
    const dist = storeDist?.({ ...query(service, f, t), kind: 'edgeDist', bucketSeconds: 1, groupBy: ['datacenter'], ids: PERCENTILE_IDS });
    const [records, cells] = await Promise.all([store.readEdge(query(service, f, t)), dist]);
    const seconds = channelSeconds(records);
    if (cells !== undefined && seconds.length > 0) attachChannelPercentiles(seconds, cells);
    return seconds;
  };
  const storeDomains = async (service: string, f: number, t: number): Promise<DomainSecond[]> => {
    const dist = storeDist?.({ ...query(service, f, t), kind: 'edgeDist', bucketSeconds: 1, groupBy: ['datacenter', 'domain'], ids: PERCENTILE_IDS });
    const [records, cells] = await Promise.all([store.readEdge(query(service, f, t)), dist]);
    const seconds = domainSeconds(records);
    if (cells !== undefined && seconds.length > 0) attachDomainPercentiles(seconds, cells);
    return seconds;
  };

  const reader: RealtimeSource = {
    latestPublished: () => window.latestPublished(),
    channel: (service, from, to) =>
      merged(
        from,
        to,
        (f, t) => window.channel(service, f, t),
        (f, t) => storeChannel(service, f, t),
      ),
    domains: (service, from, to) =>
      merged(
        from,
        to,
        (f, t) => window.domains(service, f, t),
        (f, t) => storeDomains(service, f, t),
      ),
    origins: (service, from, to) =>
      merged(
        from,
        to,
        (f, t) => window.origins(service, f, t),
        async (f, t) => {
          const dist = storeDist?.({ ...query(service, f, t), kind: 'originDist', bucketSeconds: 1, groupBy: ['datacenter', 'backend'], ids: PERCENTILE_IDS });
          const [records, cells] = await Promise.all([store.readOrigin(query(service, f, t)), dist]);
          const seconds = originSeconds(records);
          if (cells !== undefined && seconds.length > 0) attachOriginPercentiles(seconds, cells);
          return seconds;
        },
      ),
  };
  // Memory's versions are the reader's: the seconds it lists are the ones merged() reads from
  // the window, and heldFrom is the boundary below which it reads the store.
  const windowDistributions = window.distributions?.bind(window);
  if (windowDistributions !== undefined && storeDist !== undefined) {
    // Per second, the window's cells or the store's: a second is never in both (merged() keeps the window's).
    reader.distributions = async (kind, service, from, to, ids) => {
      const bySecond = (cells: DistributionCell[]): { second: number; cells: DistributionCell[] }[] => {
        const out = new Map<number, DistributionCell[]>();
        for (const c of cells) {
          let list = out.get(c.second);
          if (list === undefined) out.set(c.second, (list = []));
          list.push(c);
        }
        return [...out].map(([second, list]) => ({ second, cells: list }));
      };
      const inner = kind === 'edgeDist' ? 'domain' : 'backend';
      const seconds = await merged(
        from,
        to,
        async (f, t) => bySecond(await windowDistributions(kind, service, f, t, ids)),
        async (f, t) => {
          const rows = await storeDist({ ...query(service, f, t), kind, bucketSeconds: 1, groupBy: ['datacenter', inner], ...(ids === undefined ? {} : { ids }) });
          return bySecond(rows.map((r) => ({ second: r.bucket, datacenter: r.group[0] as string, inner: r.group[1] as string, ids: r.ids, counts: r.counts })));
        },
      );
      return seconds.flatMap((s) => s.cells);
    };
  }
  const versions = window.versions?.bind(window);
  if (versions !== undefined) reader.versions = versions;
  // Likewise: it visits only seconds memory holds, which versions() lists.
  const visitChannel = window.visitChannel?.bind(window);
  if (visitChannel !== undefined) reader.visitChannel = visitChannel;
  return reader;
}

/** Adds `values` into the vector of `key`, creating it (zeros of `length`) on first sight. */
function addInto(groups: Map<string, Float64Array>, key: string, values: Float64Array, length: number): void {
  let sum = groups.get(key);
  if (sum === undefined) {
    sum = new Float64Array(length);
    groups.set(key, sum);
  }
  for (let i = 0; i < length; i++) sum[i] = (sum[i] ?? 0) + (values[i] ?? 0);
}

function nestedGroup(outer: Map<string, Map<string, Float64Array>>, key: string): Map<string, Float64Array> {
  let inner = outer.get(key);
  if (inner === undefined) {
    inner = new Map();
    outer.set(key, inner);
  }
  return inner;
}

/** Records grouped by second, ascending. */
function bySecond<R extends { second: number }, A>(records: readonly R[], create: () => A, add: (acc: A, r: R) => void) {
  const seconds = new Map<number, A>();
  for (const r of records) {
    let acc = seconds.get(r.second);
    if (acc === undefined) {
      acc = create();
      seconds.set(r.second, acc);
    }
    add(acc, r);
  }
  return [...seconds].sort(([a], [b]) => a - b);
}

const ALL = '';

export function channelSeconds(records: readonly EdgeRecord[]): ChannelSecond[] {
  const n = EDGE_FIELDS.length;
  return bySecond(
    records,
    () => ({ total: new Map<string, Float64Array>(), byDatacenter: new Map<string, Float64Array>() }),
    (acc, r) => {
      addInto(acc.total, ALL, r.values, n);
      addInto(acc.byDatacenter, r.datacenter, r.values, n);
    },
  ).map(([second, acc]) => ({
    second,
    aggregated: acc.total.get(ALL) ?? new Float64Array(n),
    byDatacenter: acc.byDatacenter,
  }));
}

export function domainSeconds(records: readonly EdgeRecord[]): DomainSecond[] {
  const n = EDGE_FIELDS.length;
  return bySecond(
    records,
    () => ({ byDomain: new Map<string, Float64Array>(), byDatacenter: new Map<string, Map<string, Float64Array>>() }),
    (acc, r) => {
      addInto(acc.byDomain, r.domain, r.values, n);
      addInto(nestedGroup(acc.byDatacenter, r.datacenter), r.domain, r.values, n);
    },
  ).map(([second, acc]) => ({ second, byDomain: acc.byDomain, byDatacenter: acc.byDatacenter }));
}

export function originSeconds(records: readonly OriginRecord[]): OriginSecond[] {
  const n = ORIGIN_FIELDS.length;
  return bySecond(
    records,
    () => ({ byBackend: new Map<string, Float64Array>(), byDatacenter: new Map<string, Map<string, Float64Array>>() }),
    (acc, r) => {
      addInto(acc.byBackend, r.backend, r.values, n);
      addInto(nestedGroup(acc.byDatacenter, r.datacenter), r.backend, r.values, n);
    },
  ).map(([second, acc]) => ({ second, byBackend: acc.byBackend, byDatacenter: acc.byDatacenter }));
}
