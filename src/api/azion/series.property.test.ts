/**
 * Property: whatever the range and bucket size, an Azion series read from the store's rollup
 * tiers equals the same buckets summed from the per-second records.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dimensionRecord, edgeRecord } from '../../../test/support/azion-fixtures.ts';
import { testConfig } from '../../config/config.ts';
import { edgeFieldIndex } from '../../model/fields.ts';
import type { DimensionRecord, EdgeRecord } from '../../model/record.ts';
import { openDuckDb, type DuckDb } from '../../store/duckdb/database.ts';
import { createDuckDbMetricStore } from '../../store/duckdb/metric-store.ts';
import type { MetricStore, RecordFilter } from '../../store/store.ts';
import { GRANULARITIES, planBuckets } from './buckets.ts';
import type { Series } from './metrics.ts';
import { readSeries } from './series.ts';
import { deltaFromRecordSet } from '../../model/delta.ts';

const T = Date.UTC(2021, 2, 27) / 1000; // spans days on either side
const SPAN = 3 * 86_400;
const DOMAINS = ['a.com', 'b.com', 'c.com'];
const PRODUCTS = ['edge_application', 'intelligent_dns'];
const FIELDS = ['requests', 'req_body_bytes', 'resp_body_bytes', 'status_2xx', 'waf_blocked'];

const eventArb = fc.record({
  second: fc.integer({ min: T, max: T + SPAN - 1 }),
  domain: fc.constantFrom(...DOMAINS),
  product: fc.constantFrom(...PRODUCTS),
  datacenter: fc.constantFrom('FRA', 'LHR'),
  requests: fc.integer({ min: 1, max: 50 }),
  bytes: fc.integer({ min: 0, max: 1_000_000 }),
  status: fc.constantFrom('200', '404'),
});

const seriesArb: fc.Arbitrary<Series> = fc.oneof(
  fc.subarray(FIELDS, { minLength: 1 }).map((fields): Series => ({ reading: { kind: 'edge', fields }, scale: 'count' })),
  fc.constantFrom<Series>(
    { reading: { kind: 'edge', fields: ['requests'] }, scale: 'per-second' },
    { reading: { kind: 'edge', fields: ['resp_body_bytes'] }, scale: 'bits-per-second' },
    { reading: { kind: 'dimension', dimension: 'status', value: '404' }, scale: 'count' },
    { reading: { kind: 'distinct-domains' }, scale: 'count' },
  ),
);

/** The expected series, from the per-second records alone. */
function naive(edge: EdgeRecord[], dims: DimensionRecord[], series: Series, start: number, size: number, count: number, filter: RecordFilter): number[] {
  const slot = (second: number): number => Math.floor((second - start) / size);
  const keep = (r: { domain: string; product: string }): boolean =>
    (filter.domains?.includes(r.domain) ?? true) && (filter.products?.includes(r.product) ?? true);
  const sums = new Array<number>(count).fill(0);
  const { reading } = series;
  if (reading.kind === 'edge') {
    for (const r of edge.filter(keep)) {
      const i = slot(r.second);
      if (i >= 0 && i < count) for (const f of reading.fields) sums[i] = (sums[i] ?? 0) + (r.values[edgeFieldIndex.get(f) ?? -1] ?? 0);
    }
  } else if (reading.kind === 'dimension') {
    for (const r of dims.filter(keep)) {
      const i = slot(r.second);
      if (i >= 0 && i < count && r.value === reading.value) sums[i] = (sums[i] ?? 0) + r.count;
    }
  } else {
    const sets = sums.map(() => new Set<string>());
    for (const r of edge.filter(keep)) {
      const i = slot(r.second);
      if (i >= 0 && i < count) sets[i]?.add(r.domain);
    }
    sets.forEach((s, i) => (sums[i] = s.size));
  }
  // The documented formulas (docs/api-azion.md), in their order of operations: sum / seconds and
  // sum * 8 / seconds (multiplying by a precomputed 1 / seconds rounds differently).
  if (series.scale === 'per-second') return sums.map((v) => v / size);
  if (series.scale === 'bits-per-second') return sums.map((v) => (v * 8) / size);
  return sums;
}

describe('Azion series over rollup tiers', () => {
  let db: DuckDb;
  let store: MetricStore;
  let run = 0;

  beforeAll(async () => {
    db = await openDuckDb(':memory:');
    store = await createDuckDbMetricStore(db, { retention: testConfig('/unused').retention });
  });
  afterAll(async () => {
    await store.close();
    db.close();
  });

  it('equals summing the per-second records, for any bucketing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(eventArb, { minLength: 0, maxLength: 25 }),
        seriesArb,
        fc.integer({ min: -86_400 / 60, max: (SPAN + 86_400) / 60 }),
        fc.integer({ min: 0, max: (2 * 86_400) / 60 }),
        fc.option(fc.constantFrom(...Object.values(GRANULARITIES)), { nil: undefined }),
        fc.option(fc.constantFrom(...DOMAINS), { nil: undefined }),
        fc.constantFrom(...PRODUCTS),
        async (events, series, fromMinute, lengthMinutes, granularity, domain, product) => {
          // Each run writes its own service, so runs share one store without seeing each other.
          const service = `svc${run++}`;
          const edge = events.map((e) =>
            edgeRecord(
              { service, second: e.second, domain: e.domain, product: e.product, datacenter: e.datacenter },
              { requests: e.requests, req_body_bytes: e.bytes, resp_body_bytes: e.bytes * 2, status_2xx: e.status === '200' ? e.requests : 0, waf_blocked: 1 },
            ),
          );
          const dims = events.map((e) => dimensionRecord({ service, second: e.second, domain: e.domain, product: e.product }, 'status', e.status, e.requests));
          // Written in two halves, as the pipeline would: rollup rows of one bucket add up.
          const half = Math.floor(edge.length / 2);
          await store.append({ lsn: 2 * run, delta: deltaFromRecordSet({ edge: edge.slice(0, half), origin: [], dimension: dims.slice(0, half) }) });
          await store.append({ lsn: 2 * run + 1, delta: deltaFromRecordSet({ edge: edge.slice(half), origin: [], dimension: dims.slice(half) }) });

          const from = T + fromMinute * 60;
          const plan = planBuckets({ kind: 'absolute', fromMs: from * 1000, toMs: (from + lengthMinutes * 60) * 1000, zone: 'UTC' }, granularity);
          if (!plan.ok) throw new Error(plan.reason);
          const filter: RecordFilter = { services: [service], products: [product], ...(domain ? { domains: [domain] } : {}) };
          const got = await readSeries(store, series, plan.value, filter);
          const { start, bucketSeconds, count } = plan.value;
          expect(got).toEqual(naive(edge, dims, series, start, bucketSeconds, count, filter));
        },
      ),
      { numRuns: 30 },
    );
  });
});
