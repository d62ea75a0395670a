/**
 * The behaviour every UsageStore must show, as vitest cases: DuckDB (one node's file) and
 * ClickHouse (shared by the nodes) answer insert, list (filter, sort, paging), get, providers,
 * metrics, points and expire the same way; a property test checks that each engine's SQL of a
 * filter selects exactly what matchesFilter selects. Each engine's test file calls
 * describeUsageStoreConformance with a factory for a fresh, empty store.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchesFilter, parseEntityFilter } from '../api/odsl/filter.ts';
import { createFakeClock, type Clock } from '../model/clock.ts';
import type { FilterNode, FilterValue } from '../model/usage.ts';
import { usageEntityBytes, type NewUsageEntity, type UsageStore } from './usage-store.ts';

export interface OpenedUsageStore {
  store: UsageStore;
  /** Closes the store (if still open) and what it was kept in. */
  close(): Promise<void>;
}

/** What a factory opens a store with; `clock` is where an engine that cuts reads by retention reads the time. */
export interface UsageStoreSetup {
  retentionSeconds: number;
  clock: Clock;
}

const T0 = Date.UTC(2024, 10, 20);
const DAY = 86_400_000;

const entity = (over: Partial<NewUsageEntity> & { owner: string }): NewUsageEntity => ({
  provider: 'P',
  metric: 'M',
  timestamp: T0,
  value: 1,
  ...over,
});

const STRINGS = ['', 'a', 'b', 'ab', 'B', 'é', '\uffff', '\u{10000}', 'object'];
const str = fc.constantFrom(...STRINGS);
const num = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom(0.5, 2.5, 1e9));
const STRING_FIELDS = ['provider', 'metric', 'service', 'user', 'application', 'detail', 'method'] as const;
const NUMBER_FIELDS = ['value', 'duration', 'httpstatus', 'responseSize', 'timestamp'] as const;

const arbEntity = fc.record(
  {
    provider: str.filter((s) => s !== ''),
    metric: str,
    timestamp: fc.integer({ min: -2, max: 3 }),
    value: num,
    service: str,
    user: str,
    application: str,
    detail: str,
    method: str,
    duration: num,
    httpstatus: fc.integer({ min: -2, max: 3 }),
    responseSize: fc.integer({ min: -3, max: 3 }),
  },
  { requiredKeys: ['provider', 'metric', 'timestamp', 'value'] },
);

const leafArb: fc.Arbitrary<FilterNode> = fc.oneof(
  fc.tuple(fc.constantFrom(...STRING_FIELDS), fc.constantFrom('eq', 'ne', 'gt', 'gte', 'lt', 'lte' as const), str).map(
    ([field, op, value]) => ({ op, field, value }) as FilterNode,
  ),
  fc.tuple(fc.constantFrom(...NUMBER_FIELDS), fc.constantFrom('eq', 'ne', 'gt', 'gte', 'lt', 'lte' as const), num).map(
    ([field, op, value]) => ({ op, field, value }) as FilterNode,
  ),
  fc.tuple(fc.constantFrom(...STRING_FIELDS), fc.constantFrom('in', 'nin' as const), fc.array(str, { maxLength: 3 })).map(
    ([field, op, values]) => ({ op, field, values: values as FilterValue[] }),
  ),
  fc.tuple(fc.constantFrom(...NUMBER_FIELDS), fc.constantFrom('in', 'nin' as const), fc.array(num, { maxLength: 3 })).map(
    ([field, op, values]) => ({ op, field, values: values as FilterValue[] }),
  ),
);

const filterArb: fc.Arbitrary<FilterNode> = fc.letrec<{ node: FilterNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leafArb,
    fc.record({ op: fc.constantFrom('and', 'or' as const), args: fc.array(tie('node'), { maxLength: 3 }) }),
  ),
})).node;

/** `propertyRuns`: cases of the filter property test. Default 150. */
export function describeUsageStoreConformance(name: string, open: (setup: UsageStoreSetup) => Promise<OpenedUsageStore>, opts: { propertyRuns?: number } = {}): void {
  const clock = createFakeClock(T0);
  describe(`UsageStore conformance: ${name}`, () => {
    let store: UsageStore;
    let opened: OpenedUsageStore;
    beforeAll(async () => {
      opened = await open({ retentionSeconds: 395 * 86_400, clock });
      store = opened.store;
    });
    afterAll(async () => {
      await opened.close();
    });

    it('assigns 24-hex ids, keeps given ones, and round-trips every field', async () => {
      const full: NewUsageEntity = {
        _id: 'given-id',
        owner: 'rt',
        provider: 'RTMRequest',
        metric: 'ReadRequests',
        timestamp: T0 + 123,
        value: 2.5,
        type: 'api',
        action: 'read',
        application: 'app',
        detail: 'd',
        duration: 1.25,
        environment: 'test',
        httpstatus: 200,
        invocationId: 'inv',
        method: 'get',
        responseSize: 5_000_000_000,
        service: 'metric',
        user: 'u',
      };
      await store.insert([full, entity({ owner: 'rt', timestamp: T0 })]);
      expect(await store.get('given-id', 'rt')).toEqual(full);
      const { total, items } = await store.list({ owner: 'rt', limit: 10, skip: 0 });
      expect(total).toBe(2);
      expect(items[0]?._id).toBe('given-id'); // newest first
      expect(items[1]?._id).toMatch(/^[0-9a-f]{24}$/);
      expect(items[1]).toEqual({ _id: items[1]?._id, owner: 'rt', provider: 'P', metric: 'M', timestamp: T0, value: 1 });
    });

    it('scopes every read by owner; undefined owner sees all', async () => {
      await store.insert([entity({ _id: 'a1', owner: 'iso-a', provider: 'PA' }), entity({ _id: 'b1', owner: 'iso-b', provider: 'PB' })]);
      expect(await store.get('a1', 'iso-b')).toBeUndefined();
      expect((await store.get('a1'))?.owner).toBe('iso-a');
      expect((await store.list({ owner: 'iso-b', limit: 10, skip: 0 })).items.map((e) => e._id)).toEqual(['b1']);
      expect(await store.providers('iso-a')).toEqual(['PA']);
      expect(await store.providers()).toEqual(expect.arrayContaining(['PA', 'PB', 'P', 'RTMRequest']));
      expect(await store.metrics('PA', 'iso-b')).toEqual([]);
      expect(await store.metrics('PA', 'iso-a')).toEqual(['M']);
    });

    it('totals an owner\'s entities and their usageEntityBytes, leaving out the given providers', async () => {
      const owner = 'totals';
      const rows: NewUsageEntity[] = [
        entity({ owner, provider: 'App', metric: 'Jobs', service: 'é-svc', httpstatus: 200 }),
        entity({ owner, provider: 'App', metric: 'Jobs', duration: 1.5, responseSize: 10, user: 'u' }),
        entity({ owner, provider: 'RTMRequest', metric: 'ReadRequests' }),
      ];
      await store.insert(rows);
      const bytes = (es: readonly NewUsageEntity[]): number => es.reduce((sum, e) => sum + usageEntityBytes(e), 0);
      expect(await store.ownerTotals(owner, [])).toEqual({ entities: 3, bytes: bytes(rows) });
      expect(await store.ownerTotals(owner, ['RTMRequest', 'CDN'])).toEqual({ entities: 2, bytes: bytes(rows.slice(0, 2)) });
      expect(await store.ownerTotals('nobody', [])).toEqual({ entities: 0, bytes: 0 });
    });

    it('takes quotes and backslashes in values and filters as text', async () => {
      const owner = "quo'te";
      const tricky = "it's \\ a 'x' \\' OR 1 = 1 --";
      await store.insert([entity({ _id: 'q1', owner, service: tricky }), entity({ _id: 'q2', owner, service: 'plain' })]);
      const svc = parseEntityFilter(JSON.stringify({ service: tricky }));
      if (!svc.ok) throw new Error(svc.error);
      expect((await store.list({ owner, filter: svc.filter, limit: 10, skip: 0 })).items).toEqual([{ ...entity({ owner, service: tricky }), _id: 'q1' }]);
      const injected = parseEntityFilter(JSON.stringify({ service: "x' OR '1' = '1" }));
      if (!injected.ok) throw new Error(injected.error);
      expect((await store.list({ owner, filter: injected.filter, limit: 10, skip: 0 })).total).toBe(0);
      expect(await store.get("q1' OR '1' = '1", owner)).toBeUndefined();
      expect(await store.metrics('P', owner)).toEqual(['M']);
    });

    it('sorts, limits and skips with a stable tie-break', async () => {
      const owner = 'sorter';
      await store.insert([
        entity({ _id: 's1', owner, timestamp: T0 + 1, duration: 5 }),
        entity({ _id: 's2', owner, timestamp: T0 + 2, duration: 1 }),
        entity({ _id: 's3', owner, timestamp: T0 + 2, duration: 9 }),
        entity({ _id: 's4', owner, timestamp: T0 + 3 }),
      ]);
      const ids = async (q: Partial<Parameters<UsageStore['list']>[0]>) =>
        (await store.list({ owner, limit: 100, skip: 0, ...q })).items.map((e) => e._id);
      expect(await ids({})).toEqual(['s4', 's2', 's3', 's1']);
      expect(await ids({ sort: [{ field: 'timestamp', dir: 1 }, { field: 'duration', dir: -1 }] })).toEqual(['s1', 's3', 's2', 's4']);
      expect(await ids({ sort: [{ field: 'duration', dir: 1 }] })).toEqual(['s2', 's1', 's3', 's4']); // missing last
      expect(await ids({ limit: 2, skip: 1 })).toEqual(['s2', 's3']);
      const page = await store.list({ owner, limit: 1, skip: 3 });
      expect(page.total).toBe(4);
      expect(page.items.map((e) => e._id)).toEqual(['s1']);
    });

    it('returns the points of one metric in [from, to), filtered, oldest first', async () => {
      const owner = 'pts';
      await store.insert([
        entity({ owner, metric: 'X', timestamp: T0 - 1, value: 100 }),
        entity({ owner, metric: 'X', timestamp: T0, value: 1, service: 'a' }),
        entity({ owner, metric: 'X', timestamp: T0 + 10, value: 2, service: 'b' }),
        entity({ owner, metric: 'Y', timestamp: T0 + 10, value: 3 }),
        entity({ owner, metric: 'X', timestamp: T0 + 20, value: 4 }),
        entity({ owner: 'other', metric: 'X', timestamp: T0 + 5, value: 5 }),
      ]);
      expect(await store.points({ provider: 'P', metric: 'X', owner, from: T0, to: T0 + 20 })).toEqual([
        { timestamp: T0, value: 1 },
        { timestamp: T0 + 10, value: 2 },
      ]);
      const svcB = parseEntityFilter('service=b');
      if (!svcB.ok) throw new Error(svcB.error);
      expect(await store.points({ provider: 'P', metric: 'X', owner, filter: svcB.filter, from: 0, to: T0 + DAY })).toEqual([
        { timestamp: T0 + 10, value: 2 },
      ]);
      expect((await store.points({ provider: 'P', metric: 'X', from: T0, to: T0 + 6 })).map((p) => p.value)).toEqual([1, 5]);
    });

    it('expires entities older than the retention', async () => {
      const o = await open({ retentionSeconds: 86_400, clock });
      const s = o.store;
      await s.insert([entity({ _id: 'old', owner: 'o', timestamp: T0 - 2 * DAY }), entity({ _id: 'new', owner: 'o', timestamp: T0 - DAY / 2 })]);
      await s.expire(T0);
      expect((await s.list({ limit: 10, skip: 0 })).items.map((e) => e._id)).toEqual(['new']);
      await s.close();
      await s.close(); // idempotent
      await o.close();
    });
  });

  describe(`UsageStore conformance: ${name}: the SQL of a filter selects exactly what matchesFilter selects`, () => {
    let store: UsageStore;
    let opened: OpenedUsageStore;
    beforeAll(async () => {
      opened = await open({ retentionSeconds: Infinity, clock });
      store = opened.store;
    });
    afterAll(async () => {
      await opened.close();
    });

    it('on random entities and filters', async () => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(arbEntity, { minLength: 1, maxLength: 15 }), filterArb, async (rows, filter) => {
          const owner = `prop-${run++}`;
          const entities = rows.map((r, i) => ({ ...r, _id: `${owner}-${i}`, owner }));
          await store.insert(entities);
          const { items } = await store.list({ owner, filter, limit: 10_000, skip: 0 });
          const fromSql = items.map((e) => e._id).sort();
          const inMemory = entities.filter((e) => matchesFilter(e as unknown as Record<string, unknown>, filter)).map((e) => e._id).sort();
          expect(fromSql).toEqual(inMemory);
        }),
        { numRuns: opts.propertyRuns ?? 150 },
      );
    });
  });
}
