/**
 * filterToSql with numbers the DuckDB binding cannot take as BIGINT (integral JS numbers beyond
 * int64, such as `1e308` in a `_filter`): they are still compared, as DOUBLE, with the answer
 * matchesFilter gives, instead of failing the query.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FilterNode } from '../../model/usage.ts';
import { openDuckDb, type DuckDb } from './database.ts';
import { createDuckDbUsageStore } from './usage-store.ts';
import type { UsageStore } from '../usage-store.ts';
import { matchesFilter } from '../../api/odsl/filter.ts';
import { filterToSql } from './usage-filter-sql.ts';

let db: DuckDb;
let store: UsageStore;
const T0 = Date.UTC(2024, 10, 20);
const entities = [
  { _id: 'small', owner: 'o', provider: 'P', metric: 'M', timestamp: T0, value: 1, responseSize: 10, httpstatus: 200, duration: 1.5 },
  { _id: 'big', owner: 'o', provider: 'P', metric: 'M', timestamp: T0 + 1, value: 1e300, responseSize: Number.MAX_SAFE_INTEGER, httpstatus: 500 },
];

beforeAll(async () => {
  db = await openDuckDb(':memory:');
  store = await createDuckDbUsageStore(db, { retentionSeconds: Number.POSITIVE_INFINITY });
  await store.insert(entities);
});

afterAll(async () => {
  await store.close();
  db.close();
});

const CASES: [string, FilterNode][] = [
  ['responseSize < 1e308', { op: 'lt', field: 'responseSize', value: 1e308 }],
  ['responseSize > -1e308', { op: 'gt', field: 'responseSize', value: -1e308 }],
  ['httpstatus = 1e20', { op: 'eq', field: 'httpstatus', value: 1e20 }],
  ['value >= 1e300', { op: 'gte', field: 'value', value: 1e300 }],
  ['value != 1e300', { op: 'ne', field: 'value', value: 1e300 }],
  ['timestamp <= 2^80', { op: 'lte', field: 'timestamp', value: 2 ** 80 }],
  ['responseSize in [10, 1e19]', { op: 'in', field: 'responseSize', values: [10, 1e19] }],
  ['duration nin [1e400-ish, 1.5]', { op: 'nin', field: 'duration', values: [Number.MAX_VALUE, 1.5] }],
];

describe('filterToSql with numbers beyond int64', () => {
  it.each(CASES)('%s agrees with matchesFilter', async (_name, filter) => {
    const { items } = await store.list({ owner: 'o', filter, limit: 100, skip: 0 });
    const expected = entities.filter((e) => matchesFilter(e as unknown as Record<string, unknown>, filter)).map((e) => e._id);
    expect(items.map((e) => e._id).sort()).toEqual(expected.sort());
  });

  it('binds safe integers as they are and the others as DOUBLE text', () => {
    const { sql, params } = filterToSql({ op: 'and', args: [{ op: 'lt', field: 'responseSize', value: 1e308 }, { op: 'eq', field: 'httpstatus', value: 200 }] });
    expect(sql).toBe('(COALESCE("response_size" < CAST(? AS DOUBLE), FALSE) AND COALESCE("http_status" = ?, FALSE))');
    expect(params).toEqual(['1e+308', 200]);
  });
});
