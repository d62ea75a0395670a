/**
 * The `top` family's reads: the top values of `path` or `client_ip` (model/top-values.ts). Per
 * plan part, the item and bound rows (sumDimension; the store only, the window holds no
 * dimension records) and the edge requests of the same services (sumEdge, exact), summed per
 * (bucket, service) over every part; only when every part is read does topValueOf turn the sums
 * into cells. It must run last: requests_error is a max, and the max of sums is not the sum of
 * the parts' maxes.
 *
 * A token's services bound every read (RecordFilter.services, and each row checked again), so
 * neither another service's values nor its counts in the bounds reach the answer.
 */
import { TOP_VALUES_BOUND, TOP_VALUE_DIMENSIONS, topValueOf, type TopValueBounds, type TopValueDimension, type TopValueSums } from '../model/top-values.ts';
import { TIER_SECONDS, type MetricStore, type RecordFilter } from '../store/store.ts';
import type { Part } from './plan.ts';
import { allowedValues, passes, type ResolvedQuery } from './resolve.ts';
import type { Cell, QueryInputs } from './rows.ts';

export type TopValueReads = Pick<MetricStore, 'sumEdge' | 'sumDimension'>;

export interface TopValueContext {
  query: ResolvedQuery;
  inputs: QueryInputs;
  /** The plan's bucket width; undefined for 'all'. */
  bucketSeconds: number | undefined;
  bucketOf: (second: number) => number;
  /** The services the caller may read that the filters allow; undefined = every service. */
  services: readonly string[] | undefined;
  listServices: () => Promise<readonly string[]>;
}

export interface TopValueReader {
  /** Adds one plan part's rows and edge requests to the sums. */
  read(part: Part): Promise<void>;
  /** Per (bucket, group) topValueOf of the sums: `requests` and `requests_error` as the cell's inputs. */
  cells(): Cell[];
  /** Buckets (with their services) whose edge requests exceed what the parts counted. */
  uncountedBuckets(): number;
}

const key = (...parts: readonly (string | number)[]): string => parts.join('\u0000');

export function createTopValueReader(ctx: TopValueContext, store: TopValueReads): TopValueReader {
  const { query } = ctx;
  const dimension = query.groupBy.find((g): g is TopValueDimension => (TOP_VALUE_DIMENSIONS as readonly string[]).includes(g)) ?? 'path';
  const byService = query.groupBy.includes('service');
  const items = new Map<string, { bucket: number; service: string; value: string } & TopValueSums>();
  const bounds = new Map<string, TopValueBounds>();
  const boundsOf = (bucket: number, service: string): TopValueBounds => {
    const k = key(bucket, service);
    let b = bounds.get(k);
    if (b === undefined) bounds.set(k, (b = { counted: 0, unlisted: 0, requests: 0 }));
    return b;
  };
  const values = allowedValues(query.filters, dimension);
  const pushedValues = values === undefined ? {} : { values: [...values, TOP_VALUES_BOUND] };

  // The services to read one by one (grouped by service, or filtered beyond what the store takes), else undefined: all.
  let listed: Promise<readonly string[] | undefined> | undefined;
  const servicesToRead = (): Promise<readonly string[] | undefined> =>
    (listed ??= (async () => {
      const restricted = ctx.services !== undefined || byService || query.filters.some((f) => f.field === 'service');
      if (!restricted) return undefined;
      const candidates = ctx.services ?? (await ctx.listServices());
      return candidates.filter((s) => passes(query.filters, 'service', s));
    })());

  async function readItems(part: Part, bucketSeconds: number, service: string | undefined, filter: RecordFilter): Promise<void> {
    const rows = await store.sumDimension({ tier: part.tier, from: part.from, to: part.to, filter, bucketSeconds, dimension, ...pushedValues });
    const owner = service ?? '';
    for (const r of rows) {
      const bucket = ctx.bucketOf(r.bucket);
      if (r.value === TOP_VALUES_BOUND) {
        const b = boundsOf(bucket, owner);
        b.counted += r.count;
        b.unlisted += r.bytes;
        continue;
      }
      if (!passes(query.filters, dimension, r.value)) continue;
      const k = key(bucket, owner, r.value);
      const item = items.get(k);
      if (item === undefined) items.set(k, { bucket, service: owner, value: r.value, count: r.count, error: r.bytes });
      else {
        item.count += r.count;
        item.error += r.bytes;
      }
    }
  }

  async function readRequests(part: Part, bucketSeconds: number, services: readonly string[] | undefined): Promise<void> {
    const filter: RecordFilter = services === undefined ? {} : { services };
    const rows = await store.sumEdge({ tier: part.tier, from: part.from, to: part.to, filter, bucketSeconds, fields: ['requests'], groupBy: ['service'] });
    for (const r of rows) {
      const service = r.group[0] ?? '';
      if (services !== undefined && !services.includes(service)) continue;
      boundsOf(ctx.bucketOf(r.bucket), byService ? service : '').requests += r.values[0] ?? 0;
    }
  }

  return {
    async read(part) {
      const services = await servicesToRead();
      if (services !== undefined && services.length === 0) return;
      const bucketSeconds = ctx.bucketSeconds ?? TIER_SECONDS[part.tier];
      // sumDimension does not group by service: one read per service when the answer keeps them apart.
      if (byService) for (const s of services ?? []) await readItems(part, bucketSeconds, s, { services: [s] });
      else await readItems(part, bucketSeconds, undefined, services === undefined ? {} : { services });
      await readRequests(part, bucketSeconds, services);
    },
    cells() {
      const { names } = ctx.inputs;
      const zero: TopValueBounds = { counted: 0, unlisted: 0, requests: 0 };
      return [...items.values()].map((item): Cell => {
        const figures = topValueOf(item, bounds.get(key(item.bucket, item.service)) ?? zero);
        const group = query.groupBy.map((g) => (g === 'service' ? item.service : item.value));
        return { bucket: item.bucket, group, sums: Float64Array.from(names, (n) => (n === 'requests_error' ? figures.requests_error : figures.requests)) };
      });
    },
    uncountedBuckets: () => [...bounds.values()].filter((b) => b.requests > b.counted).length,
  };
}
