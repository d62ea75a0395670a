import { describe, expect, it } from 'vitest';
import { createFakeClock } from '../../model/clock.ts';
import type { EdgeRecord, OriginRecord } from '../../model/record.ts';
import type { RecordQuery } from '../../store/store.ts';
import { renderChannel, renderDomain, renderOrigin } from './render.ts';
import { createRealtimeReader, type WindowView } from './realtime-reader.ts';
import { createFakeSource, edgeRecord, originRecord } from './test-helpers.ts';

const T0 = 1_700_000_000;

/** A window holding seconds >= oldest (a fake source) and a store with the records given. */
function setup(oldest: number, windowEdge: EdgeRecord[], storeEdge: EdgeRecord[], windowOrigin: OriginRecord[] = [], storeOrigin: OriginRecord[] = []) {
  const clock = createFakeClock((T0 + 2) * 1000);
  const inMemory = createFakeSource(clock, 1);
  inMemory.edge.push(...windowEdge);
  inMemory.origin.push(...windowOrigin);
  let oldestSecond = oldest;
  // Delegates at call time, so a test can swap the fake's methods afterwards.
  const window: WindowView = {
    latestPublished: () => inMemory.latestPublished(),
    channel: (...args) => inMemory.channel(...args),
    domains: (...args) => inMemory.domains(...args),
    origins: (...args) => inMemory.origins(...args),
    oldestSecond: () => oldestSecond,
  };
  const queries: RecordQuery[] = [];
  const inRange = <R extends { second: number; service: string }>(rows: R[], q: RecordQuery): R[] => {
    queries.push(q);
    return rows.filter((r) => r.second >= q.from && r.second < q.to && (q.filter.services ?? [r.service]).includes(r.service));
  };
  const store = {
    readEdge: async (q: RecordQuery) => inRange(storeEdge, q),
    readOrigin: async (q: RecordQuery) => inRange(storeOrigin, q),
  };
  return {
    reader: createRealtimeReader(window, store),
    inMemory,
    queries,
    evict: (to: number) => {
      oldestSecond = to;
    },
  };
}

describe('createRealtimeReader', () => {
  it('merges store seconds (older) and window seconds (newer), ascending, summing store rows per key', async () => {
    const { reader, queries } = setup(
      T0 - 5,
      [edgeRecord(T0 - 5, { requests: 5 }), edgeRecord(T0, { requests: 1 })],
      [
        edgeRecord(T0 - 8, { requests: 2 }, { datacenter: 'FRA' }),
        edgeRecord(T0 - 8, { requests: 3 }, { datacenter: 'AMS', domain: 'b.example' }),
        // Two store rows for one key (a late event appended a delta): they add up.
        edgeRecord(T0 - 8, { requests: 1 }, { datacenter: 'AMS', domain: 'b.example', product: 'edge_functions' }),
        edgeRecord(T0 - 6, { requests: 4 }),
        edgeRecord(T0 - 6, { requests: 50 }, { service: 'other' }),
        // The window answers for seconds >= its oldest: a store copy of them is not counted.
        edgeRecord(T0 - 5, { requests: 500 }),
      ],
    );
    const channel = await reader.channel('svc1', T0 - 10, T0 + 1);
    expect(channel.map((s) => [s.second, renderChannel(s.aggregated).requests])).toEqual([
      [T0 - 8, 6],
      [T0 - 6, 4],
      [T0 - 5, 5],
      [T0, 1],
    ]);
    const first = channel[0];
    expect(first && Object.fromEntries([...first.byDatacenter].map(([dc, v]) => [dc, renderChannel(v).requests]))).toEqual({ AMS: 4, FRA: 2 });
    expect(queries).toEqual([{ tier: '1s', from: T0 - 10, to: T0 - 5, filter: { services: ['svc1'] } }]);

    const domains = await reader.domains('svc1', T0 - 10, T0 - 7);
    expect(domains).toHaveLength(1);
    const d = domains[0];
    expect(d && [...d.byDomain].map(([name, v]) => [name, renderDomain(v).requests])).toEqual([
      ['www.example.com', 2],
      ['b.example', 4],
    ]);
    expect(d && renderDomain(d.byDatacenter.get('AMS')?.get('b.example') ?? new Float64Array()).requests).toBe(4);
  });

  it('reads only the window when the range is in memory, only the store when it is older', async () => {
    const { reader, queries } = setup(T0 - 5, [edgeRecord(T0 - 1, { requests: 1 })], [edgeRecord(T0 - 9, { requests: 9 })]);
    expect((await reader.channel('svc1', T0 - 3, T0 + 1)).map((s) => s.second)).toEqual([T0 - 1]);
    expect(queries).toHaveLength(0);
    expect((await reader.channel('svc1', T0 - 10, T0 - 6)).map((s) => s.second)).toEqual([T0 - 9]);
    expect(queries).toHaveLength(1);
    expect(await reader.channel('svc1', T0, T0)).toEqual([]);
  });

  it('origins: store rows grouped by backend and by POP then backend', async () => {
    const { reader } = setup(
      T0 - 1,
      [],
      [],
      [originRecord(T0, { responses: 1 })],
      [originRecord(T0 - 3, { responses: 2 }, { datacenter: 'AMS' }), originRecord(T0 - 3, { responses: 3 }, { backend: 'b2' })],
    );
    const seconds = await reader.origins('svc1', T0 - 3, T0 + 1);
    expect(seconds.map((s) => [s.second, Object.fromEntries([...s.byBackend].map(([b, v]) => [b, renderOrigin(v).responses]))])).toEqual([
      [T0 - 3, { 'origin-a': 2, b2: 3 }],
      [T0, { 'origin-a': 1 }],
    ]);
    expect(renderOrigin(seconds[0]?.byDatacenter.get('FRA')?.get('b2') ?? new Float64Array()).responses).toBe(3);
  });

  it('a second the window hands to the store while being read is answered once', async () => {
    const { reader, inMemory, evict } = setup(T0 - 5, [edgeRecord(T0 - 5, { requests: 5 }), edgeRecord(T0 - 4, { requests: 4 })], [
      edgeRecord(T0 - 5, { requests: 5 }),
      edgeRecord(T0 - 4, { requests: 4 }),
      edgeRecord(T0 - 7, { requests: 7 }),
    ]);
    // The window evicts T0-5 and T0-4 right after answering.
    const channel = inMemory.channel;
    inMemory.channel = async (...args) => {
      const result = await channel(...args);
      evict(T0 - 3);
      return result;
    };
    const got = await reader.channel('svc1', T0 - 10, T0 + 1);
    expect(got.map((s) => [s.second, renderChannel(s.aggregated).requests])).toEqual([
      [T0 - 7, 7],
      [T0 - 5, 5],
      [T0 - 4, 4],
    ]);
  });
});
