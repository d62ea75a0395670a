/**
 * Reads the parts of a plan into an accumulator, through the read interfaces only: the store's
 * sumEdge / readOrigin / readDimension for store parts, and the RealtimeSource (window first,
 * the store's 1 s tier for what the window let go: src/api/fastly/realtime-reader.ts) for
 * window parts. Every record is checked against every filter here, so a filter the store cannot
 * push down (not_in, prefix) is still exact.
 */
import type { IdRange } from '../model/distributions.ts';
import type { GroupedValues, RealtimeSource } from '../aggregate/realtime-source.ts';
import { edgeFieldIndex, originFieldIndex } from '../model/fields.ts';
import { TIER_SECONDS, type DistributionGroup, type DistributionKind, type MetricStore, type RecordFilter, type SumQuery } from '../store/store.ts';
import type { GroupField } from './metrics.ts';
import type { Part } from './plan.ts';
import { allowedValues, passes, type ResolvedQuery } from './resolve.ts';
import type { Accumulator, QueryInputs } from './rows.ts';

export type StoreReads = Pick<MetricStore, 'sumEdge' | 'readOrigin' | 'readDimension' | 'sumDistribution' | 'sumDimension'>;

export interface ReadContext {
  query: ResolvedQuery;
  inputs: QueryInputs;
  acc: Accumulator;
  /** The plan's bucket width; undefined for 'all'. */
  bucketSeconds: number | undefined;
  /** Bucket start of a second (or the query's from for 'all'). */
  bucketOf: (second: number) => number;
  /** The services the caller may read that the filters allow; undefined = every service. */
  services: readonly string[] | undefined;
  /** Every known service, for window reads when `services` is undefined. */
  listServices: () => Promise<readonly string[]>;
}

/** A record's key fields by name. */
type Key = Partial<Record<GroupField, string>>;

function admit(ctx: ReadContext, key: Key): readonly string[] | undefined {
  for (const f of ctx.query.filters) if (!passes([f], f.field, key[f.field] ?? '')) return undefined;
  if (ctx.services !== undefined && key.service !== undefined && !ctx.services.includes(key.service)) return undefined;
  return ctx.query.groupBy.map((g) => key[g] ?? '');
}

function recordFilter(ctx: ReadContext): RecordFilter {
  const f: RecordFilter = {};
  const { filters } = ctx.query;
  if (ctx.services !== undefined) f.services = ctx.services;
  const set = (name: keyof RecordFilter, field: GroupField): void => {
    const values = allowedValues(filters, field);
    if (values !== undefined) f[name] = values;
  };
  set('datacenters', 'datacenter');
  set('domains', 'domain');
  set('products', 'product');
  set('backends', 'backend');
  return f;
}

type EdgeKey = NonNullable<SumQuery['groupBy']>[number];
const isEdgeKey = (g: GroupField): g is EdgeKey => g === 'service' || g === 'datacenter' || g === 'domain' || g === 'product';

/** The key fields a read must keep apart: grouped or filtered ones. */
const namedFields = (q: ResolvedQuery): Set<GroupField> => new Set([...q.groupBy, ...q.filters.map((f) => f.field)]);

async function readStore(ctx: ReadContext, part: Part, stores: StoreReads): Promise<void> {
  const { query, inputs, acc, bucketOf } = ctx;
  const base = { tier: part.tier, from: part.from, to: part.to, filter: recordFilter(ctx) };
  if (query.family === 'edge') {
    const groupBy = [...namedFields(query)].filter(isEdgeKey);
    if (ctx.services !== undefined && !groupBy.includes('service')) groupBy.push('service');
    const bucketSeconds = ctx.bucketSeconds ?? TIER_SECONDS[part.tier];
    const rows = await stores.sumEdge({ ...base, bucketSeconds, fields: inputs.names, groupBy });
    for (const r of rows) {
      const key: Key = {};
      groupBy.forEach((g, i) => (key[g] = r.group[i] ?? ''));
      const group = admit(ctx, key);
      if (group !== undefined) acc.add(bucketOf(r.bucket), group, (i) => r.values[i] ?? 0);
    }
    return;
  }
  if (query.family === 'origin') {
    const idx = inputs.names.map((n) => originFieldIndex.get(n) ?? -1);
    for (const r of await stores.readOrigin(base)) {
      const group = admit(ctx, { service: r.service, datacenter: r.datacenter, backend: r.backend });
      if (group !== undefined) acc.add(bucketOf(r.second), group, (i) => r.values[idx[i] ?? -1] ?? 0);
    }
    return;
  }
  const dimension = namedFields(query).has('method') ? 'method' : 'status';
  for (const r of await stores.readDimension(base)) {
    if (r.dimension !== dimension) continue;
    const group = admit(ctx, { service: r.service, domain: r.domain, product: r.product, [dimension]: r.value });
    if (group !== undefined) acc.add(bucketOf(r.second), group, (i) => (inputs.names[i] === 'count' ? r.count : r.bytes));
  }
}

async function readWindow(ctx: ReadContext, part: Part, source: RealtimeSource): Promise<void> {
  const { query, inputs, acc, bucketOf } = ctx;
  const named = namedFields(query);
  const services = ctx.services ?? (await ctx.listServices()).filter((s) => passes(query.filters, 'service', s));
  const isOrigin = query.family === 'origin';
  const idx = inputs.names.map((n) => (isOrigin ? originFieldIndex : edgeFieldIndex).get(n) ?? -1);
  const add = (second: number, key: Key, v: Float64Array): void => {
    const group = admit(ctx, key);
    if (group !== undefined) acc.add(bucketOf(second), group, (i) => v[idx[i] ?? -1] ?? 0);
  };
  const leaves = (second: number, service: string, inner: 'domain' | 'backend', byDc: ReadonlyMap<string, GroupedValues>): void => {
    for (const [datacenter, groups] of byDc) for (const [name, v] of groups) add(second, { service, datacenter, [inner]: name }, v);
  };
  for (const service of services) {
    if (isOrigin) {
      for (const s of await source.origins(service, part.from, part.to)) leaves(s.second, service, 'backend', s.byDatacenter);
    } else if (named.has('domain')) {
      for (const s of await source.domains(service, part.from, part.to)) {
        if (named.has('datacenter')) leaves(s.second, service, 'domain', s.byDatacenter);
        else for (const [domain, v] of s.byDomain) add(s.second, { service, domain }, v);
      }
    } else {
      for (const s of await source.channel(service, part.from, part.to)) {
        if (named.has('datacenter')) for (const [datacenter, v] of s.byDatacenter) add(s.second, { service, datacenter }, v);
        else add(s.second, { service }, s.aggregated);
      }
    }
  }
}

/**
 * The distribution kind the query's distribution metrics read (one family, one kind) and the
 * span of indexes they need (percentile buckets, client cells, or both), if it asks for any.
 */
function distributionReadOf(query: ResolvedQuery): { kind: DistributionKind; ids: IdRange } | undefined {
  const reads = query.metrics.flatMap((m) => (m.distribution === undefined ? [] : [m.distribution]));
  const first = reads[0];
  if (first === undefined) return undefined;
  return { kind: first.kind, ids: { from: Math.min(...reads.map((r) => r.ids.from)), to: Math.max(...reads.map((r) => r.ids.to)) } };
}

const DIST_KEYS: Readonly<Record<DistributionKind, readonly DistributionGroup[]>> = {
  edgeDist: ['service', 'datacenter', 'domain', 'product'],
  originDist: ['service', 'datacenter', 'backend'],
};

async function readStoreDistributions(ctx: ReadContext, part: Part, stores: StoreReads, kind: DistributionKind, ids: IdRange): Promise<void> {
  const keys = DIST_KEYS[kind];
  const groupBy = [...namedFields(ctx.query)].filter((g): g is DistributionGroup => (keys as readonly string[]).includes(g));
  if (ctx.services !== undefined && !groupBy.includes('service')) groupBy.push('service');
  const bucketSeconds = ctx.bucketSeconds ?? TIER_SECONDS[part.tier];
  const rows = await stores.sumDistribution({ kind, tier: part.tier, from: part.from, to: part.to, filter: recordFilter(ctx), bucketSeconds, groupBy, ids });
  for (const r of rows) {
    const key: Key = {};
    groupBy.forEach((g, i) => (key[g] = r.group[i] ?? ''));
    const group = admit(ctx, key);
    if (group !== undefined) ctx.acc.addDistribution(ctx.bucketOf(r.bucket), group, r.ids, r.counts);
  }
}

async function readWindowDistributions(ctx: ReadContext, part: Part, source: RealtimeSource, kind: DistributionKind, ids: IdRange): Promise<void> {
  if (source.distributions === undefined) return;
  const services = ctx.services ?? (await ctx.listServices()).filter((s) => passes(ctx.query.filters, 'service', s));
  const inner = kind === 'edgeDist' ? 'domain' : 'backend';
  for (const service of services) {
    for (const c of await source.distributions(kind, service, part.from, part.to, ids)) {
      const group = admit(ctx, { service, datacenter: c.datacenter, [inner]: c.inner });
      if (group !== undefined) ctx.acc.addDistribution(ctx.bucketOf(c.second), group, c.ids, c.counts);
    }
  }
}

export async function readPart(ctx: ReadContext, part: Part, stores: StoreReads, source: RealtimeSource): Promise<void> {
  // A query of distribution metrics only reads no sums.
  if (ctx.inputs.names.length > 0) {
    if (part.source === 'window') await readWindow(ctx, part, source);
    else await readStore(ctx, part, stores);
  }
  const read = distributionReadOf(ctx.query);
  if (read === undefined) return;
  if (part.source === 'window') await readWindowDistributions(ctx, part, source, read.kind, read.ids);
  else await readStoreDistributions(ctx, part, stores, read.kind, read.ids);
}
