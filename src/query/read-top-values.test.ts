import { describe, expect, it } from 'vitest';
import type { DimensionSumQuery, DimensionSumRow, SumQuery, SumRow } from '../store/store.ts';
import { METRICS } from './metrics.ts';
import type { Part } from './plan.ts';
import { createTopValueReader, type TopValueReads } from './read-top-values.ts';
import type { ResolvedQuery } from './resolve.ts';
import { inputsOf } from './rows.ts';

const T = 1_704_067_200;
const metrics = ['requests', 'requests_error'].map((m) => METRICS.top.get(m)!);
const query: ResolvedQuery = { from: T, to: T + 7200, granularity: 'all', family: 'top', metrics, groupBy: ['path'], filters: [], orderBy: [], limit: undefined };

/** A store whose answers depend on the part's tier: two parts, each with its own rows. */
function fakeStore(seen: { dimension: DimensionSumQuery[]; edge: SumQuery[] }): TopValueReads {
  const dimension: Record<string, DimensionSumRow[]> = {
    '1h': [
      { bucket: T, value: '', count: 100, bytes: 10 },
      { bucket: T, value: '/a', count: 60, bytes: 4 },
    ],
    '1m': [
      { bucket: T + 3600, value: '', count: 50, bytes: 0 },
      { bucket: T + 3600, value: '/a', count: 20, bytes: 0 },
    ],
  };
  const edge: Record<string, SumRow[]> = { '1h': [{ bucket: T, group: ['s1'], values: [100] }], '1m': [{ bucket: T + 3600, group: ['s1'], values: [70] }] };
  return {
    sumDimension: async (q) => (seen.dimension.push(q), dimension[q.tier] ?? []),
    sumEdge: async (q) => (seen.edge.push(q), edge[q.tier] ?? []),
  };
}

describe('createTopValueReader', () => {
  it('sums every part before the bound: max(E, M + R - N) of the range, not a sum of per-part bounds', async () => {
    const seen = { dimension: [] as DimensionSumQuery[], edge: [] as SumQuery[] };
    const reader = createTopValueReader({ query, inputs: inputsOf(metrics), bucketSeconds: undefined, bucketOf: () => T, services: undefined, listServices: async () => ['s1'] }, fakeStore(seen));
    const parts: Part[] = [
      { source: 'store', tier: '1h', from: T, to: T + 3600 },
      { source: 'store', tier: '1m', from: T + 3600, to: T + 3660 },
    ];
    for (const p of parts) await reader.read(p);
    // U = 80, E = 4, M = 10, R - N = 170 - 150 = 20: max(4, 30) = 30 (per part it would be 10 + 20).
    expect(reader.cells().map((c) => ({ group: c.group, sums: [...c.sums] }))).toEqual([{ group: ['/a'], sums: [80, 30] }]);
    expect(reader.uncountedBuckets()).toBe(1);
    expect(seen.dimension.map((q) => [q.tier, q.bucketSeconds, q.dimension])).toEqual([
      ['1h', 3600, 'path'],
      ['1m', 60, 'path'],
    ]);
  });

  it('reads only the services it is given, and pushes eq/in values down with the bound value', async () => {
    const seen = { dimension: [] as DimensionSumQuery[], edge: [] as SumQuery[] };
    const filtered: ResolvedQuery = { ...query, groupBy: ['service', 'path'], filters: [{ field: 'path', op: 'in', values: ['/a'] }] };
    const reader = createTopValueReader({ query: filtered, inputs: inputsOf(metrics), bucketSeconds: undefined, bucketOf: () => T, services: ['s1'], listServices: async () => ['s1', 's2'] }, fakeStore(seen));
    await reader.read({ source: 'store', tier: '1h', from: T, to: T + 3600 });
    expect(seen.dimension.map((q) => [q.filter.services, q.values])).toEqual([[['s1'], ['/a', '']]]);
    expect(seen.edge.map((q) => q.filter.services)).toEqual([['s1']]);
    expect(reader.cells().map((c) => c.group)).toEqual([['s1', '/a']]);
  });
});
