import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { testConfig } from '../config/config.ts';
import { createFakeClock, type FakeClock } from '../model/clock.ts';
import { createDictionaries, type Dictionaries } from '../model/dictionary.ts';
import { createEventBatch, type EventBatch } from '../model/event.ts';
import { createRecordAccumulator } from '../model/record-accumulator.ts';
import type { RecordSet } from '../model/record.ts';
import { deltaFromRecordSet, deltaToRecordSet } from '../model/delta.ts';
import { edgeRecord } from '../store/record-fixtures.ts';
import { createIngestPipeline, type Aggregate, type IngestPipeline, type PipelineStore, type PipelineWindow } from './pipeline.ts';

const logger = pino({ level: 'silent' });
const T0 = 1_704_067_200;

/** One edge record per event, requests = 1: enough to count what arrives where. */
const aggregate: Aggregate = (batches, dicts) =>
  deltaFromRecordSet({
    edge: batches.flatMap((batch) =>
      Array.from({ length: batch.length }, (_, i) => edgeRecord(batch.second[i] ?? 0, dicts.service.name(batch.service[i] ?? 0), { requests: 1 })),
    ),
    origin: [],
    dimension: [],
  });

interface StoreWrite {
  lsn: number;
  records: RecordSet;
}

/** A store that keeps writes in memory and survives "crashes" of the pipeline. */
function fakeStore() {
  const writes: StoreWrite[] = [];
  const published = new Map<number, number>();
  let failNext = 0;
  const sum = () => {
    const acc = createRecordAccumulator(1);
    for (const w of writes) acc.add(w.records);
    return acc.snapshot();
  };
  const store: PipelineStore = {
    async append(lsn, delta) {
      if (failNext > 0) {
        failNext--;
        throw new Error('disk full');
      }
      const write = { lsn, records: deltaToRecordSet(delta) };
      writes.push(write);
      for (const r of write.records.edge) published.set(r.second, Math.max(write.lsn, published.get(r.second) ?? 0));
    },
    appliedLsn: async (seconds) => new Map(seconds.filter((s) => published.has(s)).map((s) => [s, published.get(s) ?? 0])),
    readRecent: async (from) => deltaFromRecordSet({ edge: sum().edge.filter((r) => r.second >= from), origin: [], dimension: [] }),
  };
  return {
    store,
    writes,
    failWrites: (n: number) => (failNext = n),
    total: (): number => sum().edge.reduce((t, r) => t + (r.values[0] ?? 0), 0),
  };
}

function fakeWindow(clock: FakeClock) {
  const acc = createRecordAccumulator(1);
  const window: PipelineWindow = { apply: (delta) => acc.add(deltaToRecordSet(delta)), latestPublished: () => Math.floor(clock.now() / 1000) - 1 - 1 };
  return { window, total: (): number => acc.snapshot().edge.reduce((t, r) => t + (r.values[0] ?? 0), 0) };
}

function batchOf(dicts: Dictionaries, events: readonly [second: number, service: string][]): EventBatch {
  const b = createEventBatch(events.length);
  for (const [i, [second, service]] of events.entries()) {
    b.second[i] = second;
    b.service[i] = dicts.service.id(service);
  }
  b.length = events.length;
  return b;
}

describe('ingest pipeline', () => {
  const dirs: string[] = [];
  const open: IngestPipeline[] = [];
  afterEach(async () => {
    for (const p of open.splice(0)) await p.close();
    for (const d of dirs.splice(0)) await fs.rm(d, { recursive: true, force: true });
  });
  const setup = async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rtm-pipe-'));
    dirs.push(dir);
    const clock = createFakeClock(T0 * 1000 + 500);
    return { dir, clock, store: fakeStore() };
  };
  const start = async (dir: string, clock: FakeClock, store: PipelineStore, agg: Aggregate = aggregate, storeWriteMaxRows?: number) => {
    const w = fakeWindow(clock);
    const dictionaries = createDictionaries();
    const pipeline = await createIngestPipeline({
      config: testConfig(dir),
      clock,
      logger,
      store,
      window: w.window,
      aggregate: agg,
      dictionaries,
      writeIntervalMs: 3_600_000,
      ...(storeWriteMaxRows === undefined ? {} : { storeWriteMaxRows }),
    });
    return { pipeline, window: w, dictionaries };
  };

  it('makes a batch visible once durable and stores it once its second is published', async () => {
    const { dir, clock, store } = await setup();
    const { pipeline, window, dictionaries } = await start(dir, clock, store.store);
    open.push(pipeline);
    await pipeline.ingest(batchOf(dictionaries, [[T0, 's1'], [T0, 's1'], [T0 + 1, 's2']]));
    expect(window.total()).toBe(3);
    await pipeline.flush();
    expect(store.writes).toHaveLength(0);
    clock.advance(2000);
    await pipeline.flush();
    // Rows are additive: the second's two events may stay two rows; the store sums them.
    expect(store.writes.map((w) => [w.lsn, [...new Set(w.records.edge.map((r) => r.second))]])).toEqual([[1, [T0]]]);
    clock.advance(1000);
    await pipeline.flush();
    expect(store.total()).toBe(3);
    expect(pipeline.stats().pendingSeconds).toBe(0);
  });

  it('writes late events for published seconds with the next write', async () => {
    const { dir, clock, store } = await setup();
    const { pipeline, dictionaries } = await start(dir, clock, store.store);
    open.push(pipeline);
    clock.advance(10_000);
    await pipeline.ingest(batchOf(dictionaries, [[T0, 's1']]));
    await pipeline.flush();
    await pipeline.ingest(batchOf(dictionaries, [[T0, 's1'], [T0 - 3600, 's1']]));
    await pipeline.flush();
    expect(store.total()).toBe(3);
    expect(store.writes.map((w) => w.lsn)).toEqual([1, 2]);
  });

  it('replays after a crash: nothing acknowledged is lost, nothing stored is counted twice', async () => {
    const { dir, clock, store } = await setup();
    const first = await start(dir, clock, store.store);
    // One WAL entry spanning a published and an unpublished second: the first part gets stored.
    await first.pipeline.ingest(batchOf(first.dictionaries, [[T0, 's1'], [T0 + 5, 's1']]));
    await first.pipeline.ingest(batchOf(first.dictionaries, [[T0 + 5, 's2']]));
    clock.advance(2000);
    await first.pipeline.flush();
    expect(store.total()).toBe(1);
    // Crash: the first pipeline is abandoned without close().
    const second = await start(dir, clock, store.store);
    open.push(second.pipeline);
    expect(second.window.total()).toBe(3);
    clock.advance(10_000);
    await second.pipeline.flush();
    expect(store.total()).toBe(3);
    // New lsns follow the replayed ones.
    await second.pipeline.ingest(batchOf(second.dictionaries, [[T0 + 6, 's1']]));
    expect(second.pipeline.stats().appliedLsn).toBe(3);
  });

  it('writes a large backlog in bounded writes, each with the lsn it holds, and a crash between them loses and doubles nothing', async () => {
    const { dir, clock, store } = await setup();
    const first = await start(dir, clock, store.store, aggregate, 1);
    // Three WAL entries with published rows, one that also has an unpublished second.
    await first.pipeline.ingest(batchOf(first.dictionaries, [[T0, 's1'], [T0, 's2']]));
    await first.pipeline.ingest(batchOf(first.dictionaries, [[T0, 's1']]));
    await first.pipeline.ingest(batchOf(first.dictionaries, [[T0, 's3'], [T0 + 5, 's1']]));
    clock.advance(2000);
    // One write per entry (each over the 1-row bound), in lsn order, each stored under its own lsn.
    store.failWrites(0);
    await first.pipeline.flush();
    expect(store.writes.map((w) => w.lsn)).toEqual([1, 2, 3]);
    expect(store.total()).toBe(4);
    // A crash before T0 + 5 is stored: the restart replays only that row.
    const second = await start(dir, clock, store.store, aggregate, 1);
    open.push(second.pipeline);
    expect(second.window.total()).toBe(5);
    clock.advance(10_000);
    await second.pipeline.flush();
    expect(store.total()).toBe(5);
  });

  it('keeps deltas when a store write fails and writes them with the next one', async () => {
    const { dir, clock, store } = await setup();
    const { pipeline, dictionaries } = await start(dir, clock, store.store);
    open.push(pipeline);
    await pipeline.ingest(batchOf(dictionaries, [[T0, 's1']]));
    clock.advance(5000);
    store.failWrites(1);
    await pipeline.flush();
    expect(store.total()).toBe(0);
    await pipeline.ingest(batchOf(dictionaries, [[T0, 's1']]));
    await pipeline.flush();
    expect(store.total()).toBe(2);
  });

  it('deletes WAL segments once the store holds them, and replays nothing after', async () => {
    const { dir, clock, store } = await setup();
    const w = fakeWindow(clock);
    const dictionaries = createDictionaries();
    const config = testConfig(dir);
    const pipeline = await createIngestPipeline({ config, clock, logger, store: store.store, window: w.window, aggregate, dictionaries, walSegmentBytes: 100, writeIntervalMs: 3_600_000 });
    for (let i = 0; i < 10; i++) await pipeline.ingest(batchOf(dictionaries, [[T0 + i, 's1']]));
    expect(pipeline.stats().walSegments).toBeGreaterThan(3);
    clock.advance(20_000);
    await pipeline.flush();
    expect(pipeline.stats().walSegments).toBe(1);
    await pipeline.close();
    const again = await start(dir, clock, store.store);
    open.push(again.pipeline);
    await again.pipeline.flush();
    expect(store.total()).toBe(10);
    expect(again.window.total()).toBe(10);
  });

  it('commits concurrent ingests as one group: one aggregation, one WAL entry, every request resolved', async () => {
    const { dir, clock, store } = await setup();
    const calls: number[] = [];
    const counting: Aggregate = (batches, dicts) => {
      calls.push(batches.length);
      return aggregate(batches, dicts);
    };
    const first = await start(dir, clock, store.store, counting);
    const d = first.dictionaries;
    const sizes = [1, 3, 2, 5, 4];
    await Promise.all(sizes.map((n, k) => first.pipeline.ingest(batchOf(d, Array.from({ length: n }, () => [T0 + (k % 2), `s${k}`] as const)))));
    expect(calls).toEqual([5]);
    expect(first.pipeline.stats().appliedLsn).toBe(1);
    expect(first.window.total()).toBe(15);
    // While that group is in flight, later ingests form the next group, with the next lsn.
    const a = first.pipeline.ingest(batchOf(d, [[T0, 'a']]));
    await new Promise((r) => setImmediate(r));
    const b = first.pipeline.ingest(batchOf(d, [[T0, 'b']]));
    const c = first.pipeline.ingest(batchOf(d, [[T0, 'c']]));
    await Promise.all([a, b, c]);
    expect(calls).toEqual([5, 1, 2]);
    expect(first.pipeline.stats().appliedLsn).toBe(3);
    expect(first.window.total()).toBe(18);
    // The WAL holds exactly those entries: a restart replays all 18 events, not more.
    const again = await start(dir, clock, store.store);
    open.push(again.pipeline);
    expect(again.window.total()).toBe(18);
    expect(again.pipeline.stats().appliedLsn).toBe(3);
  });

  it('rejects only the request whose batch fails to aggregate; the rest of its group commits', async () => {
    const { dir, clock, store } = await setup();
    const picky: Aggregate = (batches, dicts) => {
      if (batches.some((b) => b.service[0] === dicts.service.id('poison'))) throw new Error('cannot aggregate');
      return aggregate(batches, dicts);
    };
    const { pipeline, window, dictionaries: d } = await start(dir, clock, store.store, picky);
    open.push(pipeline);
    const results = await Promise.allSettled([
      pipeline.ingest(batchOf(d, [[T0, 's1']])),
      pipeline.ingest(batchOf(d, [[T0, 'poison']])),
      pipeline.ingest(batchOf(d, [[T0, 's2'], [T0, 's2']])),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(window.total()).toBe(3);
    clock.advance(5000);
    await pipeline.flush();
    expect(store.total()).toBe(3);
  });

  it('rejects the whole group when its WAL write fails, and nothing of it becomes visible', async () => {
    const { dir, clock, store } = await setup();
    const { pipeline, window, dictionaries: d } = await start(dir, clock, store.store);
    open.push(pipeline);
    // A delta the WAL payload encoder refuses (a non-integer second) fails the group's one entry.
    const results = await Promise.allSettled([pipeline.ingest(batchOf(d, [[T0, 's1']])), pipeline.ingest(batchOf(d, [[T0 + 0.5, 's1']]))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(window.total()).toBe(0);
    await pipeline.ingest(batchOf(d, [[T0, 's1']]));
    expect(window.total()).toBe(1);
  });

  it('refuses batches after close', async () => {
    const { dir, clock, store } = await setup();
    const { pipeline, dictionaries } = await start(dir, clock, store.store);
    await pipeline.close();
    await expect(pipeline.ingest(batchOf(dictionaries, [[T0, 's1']]))).rejects.toThrow(/closed/);
  });
});
