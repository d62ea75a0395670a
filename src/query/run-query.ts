/**
 * One native query, end to end: who may read what, which second the answer is final through,
 * the plan, the reads, the rows. The API layer (src/api/native/query-routes.ts) only parses and
 * renders.
 */
import type { RealtimeSource } from '../aggregate/realtime-source.ts';
import { otherKeyWarnings } from './other-key-warnings.ts';
import type { QueryRangeLimits } from './query-range.ts';
import type { Part } from './plan.ts';
import { planQuery } from './plan.ts';
import { readPart, type StoreReads } from './read-parts.ts';
import { allowedValues, type Granularity, type ResolvedQuery } from './resolve.ts';
import { buildRows, createAccumulator, inputsOf, type Row } from './rows.ts';

export interface QuerySources {
  store: StoreReads;
  /** The window with the store's 1 s tier behind it (createRealtimeReader). */
  realtime: RealtimeSource;
  /** First second the window holds (window.oldestSecond()). */
  windowFrom(): number;
  /** Every second <= this one is in the store (src/query/store-watermark.ts). */
  storedThrough(): number;
  /** Every known service id. */
  listServices(): Promise<readonly string[]>;
  limits: QueryRangeLimits;
}

export interface QueryAnswer {
  from: number;
  to: number;
  granularity: Granularity;
  /** Every second <= final_through is in the answer as published; later seconds are not in it yet. */
  final_through: number;
  rows: Row[];
  tiers: { tier: string; source: 'window' | 'store'; from: number; to: number }[];
  /** Present when a row's domain, datacenter or backend is OTHER_KEY: what that row holds (other-key-warnings.ts). */
  warnings?: string[];
}

/** The services `granted` may read that the filters allow; undefined = all of them. */
function servicesFor(query: ResolvedQuery, granted: 'all' | ReadonlySet<string>): readonly string[] | undefined {
  const allowed = allowedValues(query.filters, 'service');
  if (granted === 'all') return allowed;
  return (allowed ?? [...granted]).filter((s) => granted.has(s)).sort();
}

export async function runQuery(sources: QuerySources, query: ResolvedQuery, granted: 'all' | ReadonlySet<string>): Promise<QueryAnswer> {
  // The window splits neither products nor status/method: those queries read the store only.
  const windowable = query.family !== 'dimension' && !query.groupBy.includes('product') && !query.filters.some((f) => f.field === 'product');
  const finalThrough = Math.min(query.to - 1, windowable ? sources.realtime.latestPublished() : sources.storedThrough());
  const plan = planQuery({
    from: query.from,
    to: query.to,
    granularity: query.granularity,
    finalThrough,
    windowFrom: windowable ? sources.windowFrom() : undefined,
    limits: sources.limits,
  });
  const inputs = inputsOf(query.metrics);
  const acc = createAccumulator(inputs.names.length);
  const services = servicesFor(query, granted);
  const { bucketSeconds } = plan;
  const ctx = {
    query,
    inputs,
    acc,
    bucketSeconds,
    bucketOf: (second: number) => (bucketSeconds === undefined ? query.from : Math.floor(second / bucketSeconds) * bucketSeconds),
    services,
    listServices: sources.listServices,
  };
  const parts: Part[] = services !== undefined && services.length === 0 ? [] : plan.parts;
  for (const part of parts) await readPart(ctx, part, sources.store, sources.realtime);
  const rows = buildRows(acc.cells(), {
    metrics: query.metrics,
    inputs,
    groupBy: query.groupBy,
    orderBy: query.orderBy,
    limit: query.limit,
    timeless: bucketSeconds === undefined,
  });
  const answer: QueryAnswer = {
    from: query.from,
    to: query.to,
    granularity: plan.granularity,
    final_through: finalThrough,
    rows,
    tiers: plan.parts.map((p) => ({ tier: p.tier, source: p.source, from: p.from, to: p.to })),
  };
  const warnings = otherKeyWarnings(rows);
  if (warnings.length > 0) answer.warnings = warnings;
  return answer;
}
