/**
 * Keys outlive the WAL: the pipeline writes a key in the WAL entry of its events, remembers it
 * when the entry is fsynced or replayed, and copies it to the key file before the segment is
 * deleted; a restart then still knows it. And the key file itself: torn lines, compaction.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { testConfig } from '../../config/config.ts';
import { createFakeClock, type FakeClock } from '../../model/clock.ts';
import { deltaFromRecordSet, deltaSeconds } from '../../model/delta.ts';
import { createDictionaries, type Dictionaries } from '../../model/dictionary.ts';
import { createEventBatch, type EventBatch } from '../../model/event.ts';
import { edgeRecord } from '../../store/record-fixtures.ts';
import { createIngestPipeline, type Aggregate, type PipelineStore } from '../pipeline.ts';
import type { IdempotencyRecord } from '../wal-payload.ts';
import { openIdempotencyFile } from './idempotency-file.ts';
import { createIdempotencyKeys } from './idempotency-keys.ts';

const logger = pino({ level: 'silent' });
const T0 = 1_704_067_200;

const aggregate: Aggregate = (batches, dicts) =>
  deltaFromRecordSet({
    edge: batches.flatMap((b) => Array.from({ length: b.length }, (_, i) => edgeRecord(b.second[i] ?? 0, dicts.service.name(b.service[i] ?? 0), { requests: 1 }))),
    origin: [],
    dimension: [],
  });

/** Remembers which lsn holds each second, as the DuckDB store's published_lsn does. */
function memoryStore(): PipelineStore {
  const applied = new Map<number, number>();
  return {
    async append(lsn, delta) {
      for (const s of deltaSeconds(delta)) applied.set(s, lsn);
    },
    appliedLsn: async (seconds) => new Map(seconds.filter((s) => applied.has(s)).map((s) => [s, applied.get(s) ?? 0])),
    readRecent: async () => deltaFromRecordSet({ edge: [], origin: [], dimension: [] }),
  };
}

function batchOf(dicts: Dictionaries, second: number, n: number): EventBatch {
  const b = createEventBatch(n);
  for (let i = 0; i < n; i++) {
    b.second[i] = second;
    b.service[i] = dicts.service.id('shop');
  }
  b.length = n;
  return b;
}

const record = (key: string, at: number, accepted: number): IdempotencyRecord => ({ key, hash: `h-${key}`, at, accepted, rejected: 0 });

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await fs.rm(d, { recursive: true, force: true });
});
const tempDir = async (): Promise<string> => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rtm-idem-'));
  dirs.push(dir);
  return dir;
};

async function start(dir: string, clock: FakeClock, store: PipelineStore) {
  const file = await openIdempotencyFile(path.join(dir, 'idempotency'), logger);
  const keys = createIdempotencyKeys({ clock, windowSeconds: 3600, maxKeys: 100, initial: file.initial, sink: file });
  const dictionaries = createDictionaries();
  const window = { apply: () => undefined, latestPublished: () => Math.floor(clock.now() / 1000) - 2 };
  // 100-byte segments: every entry closes one, so a store write lets the WAL drop it.
  const pipeline = await createIngestPipeline({ config: testConfig(dir), clock, logger, store, window, aggregate, dictionaries, keys, walSegmentBytes: 100, writeIntervalMs: 3_600_000 });
  return {
    keys,
    pipeline,
    dictionaries,
    close: async () => {
      await pipeline.close();
      await file.close();
    },
  };
}

describe('idempotency keys across restarts', () => {
  it('keeps a key after the WAL segment that carried it is deleted', async () => {
    const dir = await tempDir();
    const clock = createFakeClock(T0 * 1000);
    const store = memoryStore();
    const first = await start(dir, clock, store);
    await first.pipeline.ingest(batchOf(first.dictionaries, T0, 3), record('k1', T0 * 1000, 3));
    expect(first.keys.claim('k1', 'h-k1')).toMatchObject({ kind: 'done', record: { accepted: 3 } });
    await first.pipeline.ingest(batchOf(first.dictionaries, T0, 1));
    const segments = first.pipeline.stats().walSegments;
    clock.advance(5000);
    await first.pipeline.flush();
    expect(first.pipeline.stats().walSegments).toBeLessThan(segments);
    await first.close();
    // Nothing of the first entry is left in the WAL: only the key file knows k1 now.
    const second = await start(dir, clock, store);
    expect(second.keys.claim('k1', 'h-k1')).toMatchObject({ kind: 'done', record: { accepted: 3 } });
    expect(second.keys.claim('k1', 'other')).toEqual({ kind: 'mismatch' });
    await second.close();
    await fs.rm(path.join(dir, 'idempotency'), { recursive: true });
    const third = await start(dir, clock, store);
    expect(third.keys.claim('k1', 'h-k1').kind).toBe('owner');
    await third.close();
  });

  it('knows a key from the WAL replay when it never reached the key file (a crash before the store write)', async () => {
    const dir = await tempDir();
    const clock = createFakeClock(T0 * 1000);
    const store = memoryStore();
    const first = await start(dir, clock, store);
    await first.pipeline.ingest(batchOf(first.dictionaries, T0, 2), record('k2', T0 * 1000, 2));
    // Crash: no flush, no close; the key is only in the WAL.
    expect(await fs.readFile(path.join(dir, 'idempotency', 'keys.ndjson'), 'utf8')).toBe('');
    const second = await start(dir, clock, store);
    expect(second.keys.claim('k2', 'h-k2')).toMatchObject({ kind: 'done', record: { accepted: 2 } });
    await second.close();
  });
});

describe('the key file', () => {
  it('skips a torn last line and appends after it on a line of its own', async () => {
    const dir = await tempDir();
    const clock = createFakeClock(T0 * 1000);
    await fs.writeFile(path.join(dir, 'keys.ndjson'), `${JSON.stringify(record('a', T0 * 1000, 1))}\n{"key":"b","ha`);
    const file = await openIdempotencyFile(dir, logger);
    expect(file.initial.map((r) => r.key)).toEqual(['a']);
    const keys = createIdempotencyKeys({ clock, windowSeconds: 60, maxKeys: 10, initial: file.initial, sink: file });
    keys.remember(record('c', T0 * 1000, 1));
    await keys.persist();
    await file.close();
    const again = await openIdempotencyFile(dir, logger);
    expect(again.initial.map((r) => r.key)).toEqual(['a', 'c']);
    await again.close();
  });

  it('rewrites itself with only the live keys once most lines are expired', async () => {
    const dir = await tempDir();
    const clock = createFakeClock(T0 * 1000);
    const file = await openIdempotencyFile(dir, logger);
    const keys = createIdempotencyKeys({ clock, windowSeconds: 60, maxKeys: 100_000, sink: file });
    for (let i = 0; i < 12_000; i++) keys.remember(record(`old-${i}`, clock.now(), 1));
    await keys.persist();
    clock.advance(61_000);
    keys.remember(record('new', clock.now(), 1));
    await keys.persist();
    await file.close();
    const again = await openIdempotencyFile(dir, logger);
    expect(again.initial.map((r) => r.key)).toEqual(['new']);
    await again.close();
  });

  it('forgets the oldest keys beyond maxKeys and counts them', () => {
    const clock = createFakeClock(T0 * 1000);
    const keys = createIdempotencyKeys({ clock, windowSeconds: 60, maxKeys: 2 });
    for (const k of ['a', 'b', 'c']) keys.remember(record(k, clock.now(), 1));
    expect(keys.size()).toBe(2);
    expect(keys.evicted()).toBe(1);
    expect(keys.claim('a', 'h-a').kind).toBe('owner');
    expect(keys.claim('c', 'h-c').kind).toBe('done');
  });
});
