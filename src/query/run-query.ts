/**
 * One native query, end to end: who may read what, which second the answer is final through,
 * the plan, the reads, the rows. The API layer (src/api/native/query-routes.ts) only parses and
 * renders.
 */
import type { RealtimeSource } from '../aggregate/realtime-source.ts';
import { otherKeyWarnings } from './other-key-warnings.ts';
import type { QueryRangeLimits } from './query-range.ts';
import type { Part } from './plan.ts';
import { chooseGranularity, planQuery } from './plan.ts';
import { createTopValueReader } from './read-top-values.ts';
import { readPart, type StoreReads } from './read-parts.ts';
import { allowedValues, type Granularity, type ResolvedQuery } from './resolve.ts';
import { buildRows, createAccumulator, inputsOf, type Cell, type Row } from './rows.ts';

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
  /**
   * Present when a row's domain, datacenter or backend is OTHER_KEY (what that row holds:
   * other-key-warnings.ts), or when top values miss counted events (requests_error covers them).
   */
  warnings?: string[];
}

/** The services `granted` may read that the filters allow; undefined = all of them. */
function servicesFor(query: ResolvedQuery, granted: 'all' | ReadonlySet<string>): readonly string[] | undefined {
  const allowed = allowedValues(query.filters, 'service');
  if (granted === 'all') return allowed;
  return (allowed ?? [...granted]).filter((s) => granted.has(s)).sort();
}

/** Top values exist per whole minute: the last second of the last whole minute through `second`. */
const wholeMinutesThrough = (second: number): number => Math.floor((second + 1) / 60) * 60 - 1;

/** The granularity to plan: 'auto' never picks 1s for top values, which are counted per minute. */
function granularityOf(query: ResolvedQuery, limits: QueryRangeLimits): Granularity | 'auto' {
  if (query.family !== 'top' || query.granularity !== 'auto') return query.granularity;
  const g = chooseGranularity(query.from, query.to, limits);
  return g === '1s' ? '1m' : g;
}

export async function runQuery(sources: QuerySources, query: ResolvedQuery, granted: 'all' | ReadonlySet<string>): Promise<QueryAnswer> {
  const top = query.family === 'top';
  // The window splits neither products nor dimension records (status, method, top values): those queries read the store only.
  const windowable = query.family !== 'dimension' && !top && !query.groupBy.includes('product') && !query.filters.some((f) => f.field === 'product');
  const through = Math.min(query.to - 1, windowable ? sources.realtime.latestPublished() : sources.storedThrough());
  const finalThrough = top ? wholeMinutesThrough(through) : through;
  const plan = planQuery({
    from: query.from,
    to: query.to,
    granularity: granularityOf(query, sources.limits),
    finalThrough,
    windowFrom: windowable ? sources.windowFrom() : undefined,
    limits: sources.limits,
  });
  const inputs = inputsOf(query.metrics);
  const services = servicesFor(query, granted);
  const { bucketSeconds } = plan;
  const ctx = {
    query,
    inputs,
    bucketSeconds,
    bucketOf: (second: number) => (bucketSeconds === undefined ? query.from : Math.floor(second / bucketSeconds) * bucketSeconds),
    services,
    listServices: sources.listServices,
  };
  const parts: Part[] = services !== undefined && services.length === 0 ? [] : plan.parts;
  let cells: Iterable<Cell>;
  let uncounted = 0;
  if (top) {
    const reader = createTopValueReader(ctx, sources.store);
    for (const part of parts) await reader.read(part);
    cells = reader.cells();
    uncounted = reader.uncountedBuckets();
  } else {
    const acc = createAccumulator(inputs.names.length);
    for (const part of parts) await readPart({ ...ctx, acc }, part, sources.store, sources.realtime);
    cells = acc.cells();
  }
  const rows = buildRows(cells, {
    metrics: query.metrics,
    inputs,
    groupBy: query.groupBy,
    orderBy: query.orderBy,
    limit: query.limit,
    timeless: bucketSeconds === undefined,
    otherRow: !top,
    dropEmpty: !top,
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
  if (uncounted > 0) {
    warnings.push(`${uncounted} bucket(s) hold edge requests that no top-values part counted (a minute whose part was not written): they widen requests_error`);
  }
  if (warnings.length > 0) answer.warnings = warnings;
  return answer;
}
