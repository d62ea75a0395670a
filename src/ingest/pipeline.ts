/**
 * The durable ingest path on Deltas (src/model/delta.ts): aggregate batches into a delta (or take
 * one a parse worker aggregated), write its bytes to the WAL (fsync), then make it visible
 * (window) and queue it for the store. Nothing is visible before it is durable.
 * Group commit: the batches that arrive while a WAL write + fsync is in flight queue up, and the
 * next cycle aggregates them all into ONE delta (one record per key, however many bodies), writes
 * it as one WAL entry, applies it once, then resolves every request of the group. Per-key work
 * is thus paid per commit, not per request body.
 * A writer loop moves published seconds from the queue to the store, one write at a time, and
 * then drops WAL segments the store fully holds. On start the WAL is replayed, minus what the
 * store already has (published_lsn), and the window is refilled from the store.
 *
 * The invariant the replay relies on: a store write with lsn L that touches second s holds every
 * delta of s with lsn <= L. It holds because deltas are applied synchronously in lsn order right
 * after their fsync (Wal.append's onDurable), and a write drains its seconds in the same tick it
 * reads the applied lsn.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import type { Clock } from '../model/clock.ts';
import type { Dictionaries } from '../model/dictionary.ts';
import { filterDelta } from '../model/delta-builder.ts';
import { deltaSeconds, isEmptyDelta, type Delta } from '../model/delta.ts';
import type { EventBatch } from '../model/event.ts';
import { createPendingDeltas } from './pending-deltas.ts';
import type { IngestSink } from './sink.ts';
import { decodeWalPayload, encodeWalPayload, type IdempotencyRecord } from './wal-payload.ts';
import { openWal, type WalStats } from './wal/wal.ts';

/** What the pipeline needs of the in-memory window (src/aggregate/window.ts implements it). */
export interface PipelineWindow {
  apply(delta: Delta): void;
  /** Every second <= this one is published. */
  latestPublished(): number;
}

/** What the pipeline needs of the store: its write side and what recovery reads. */
export interface PipelineStore {
  /** Appends the rows of `delta` under `lsn` (see the invariant above). */
  append(lsn: number, delta: Delta): Promise<void>;
  /** For WAL replay: the highest lsn stored for each of these seconds (absent = none). */
  appliedLsn(seconds: readonly number[]): Promise<Map<number, number>>;
  /** The 1 s rows of seconds >= from, to refill the window on start. */
  readRecent(from: number): Promise<Delta>;
}

/** Several batches (sharing `dicts`) -> one delta: aggregateToDelta in src/aggregate/aggregate-batch.ts. */
export type Aggregate = (batches: readonly EventBatch[], dicts: Dictionaries) => Delta;

export interface IngestPipelineOptions {
  config: Config;
  clock: Clock;
  logger: Logger;
  store: PipelineStore;
  window: PipelineWindow;
  aggregate: Aggregate;
  dictionaries: Dictionaries;
  /** Called with each durable delta, right after the window has it (e.g. the catalog registers names). */
  onApplied?: (delta: Delta) => void | Promise<void>;
  /** Milliseconds between store writes. Default 1000. */
  writeIntervalMs?: number;
  /** WAL directory. Default `<config.dataDir>/wal`. */
  walDir?: string;
  /** Rows one store write takes at most (its memory is bounded by them). Default 262,144. */
  storeWriteMaxRows?: number;
  /** WAL segment size. Default 64 MiB. */
  walSegmentBytes?: number;
  /**
   * Where the Idempotency-Keys of the WAL entries go (src/ingest/idempotency/): `remember` when an
   * entry is durable or replayed, `persist` before WAL segments are deleted. Default: none.
   */
  keys?: { remember(record: IdempotencyRecord): void; persist(): Promise<void> };
}

export interface IngestPipelineStats {
  /** Highest lsn applied to the window and the store queue. */
  appliedLsn: number;
  /** Seconds with deltas not yet in the store. */
  pendingSeconds: number;
  /** Rows of those deltas. */
  pendingRows: number;
  walSegments: number;
  /** Corruption the WAL skipped on open and replay (self-metrics). */
  wal: WalStats;
}

export interface IngestPipeline extends IngestSink {
  /** Writes every published second that is pending to the store now (tests, shutdown). */
  flush(): Promise<void>;
  stats(): IngestPipelineStats;
  /** Stops the writer, writes what is published, closes the WAL (the rest stays in it). */
  close(): Promise<void>;
}

interface Queued {
  /** Events to aggregate in the commit, or a delta aggregated already (a parse worker's). */
  input: EventBatch | Delta;
  key: IdempotencyRecord | undefined;
  resolve: () => void;
  reject: (err: unknown) => void;
}

const isBatch = (x: EventBatch | Delta): x is EventBatch => (x as EventBatch).service instanceof Int32Array;

export async function createIngestPipeline(opts: IngestPipelineOptions): Promise<IngestPipeline> {
  const { config, clock, logger, store, window, aggregate, dictionaries } = opts;
  const wal = await openWal({
    dir: opts.walDir ?? path.join(config.dataDir, 'wal'),
    logger,
    fsync: config.walFsync,
    ...(opts.walSegmentBytes === undefined ? {} : { segmentBytes: opts.walSegmentBytes }),
  });
  const pending = createPendingDeltas();
  const storeWriteMaxRows = opts.storeWriteMaxRows ?? 262_144;
  /** Lowest lsn of the store write in flight (its entries left `pending`). */
  let inFlightLow: number | undefined;
  let appliedLsn = 0;
  let closed = false;

  /** Applies a durable delta; resolves once onApplied's work (the catalog's new names) is done. */
  const applyDelta = (lsn: number, delta: Delta): Promise<void> | undefined => {
    pending.add(lsn, delta);
    appliedLsn = Math.max(appliedLsn, lsn);
    try {
      window.apply(delta);
    } catch (err) {
      // The delta is durable and queued for the store; only the live view misses it.
      logger.error({ err, lsn }, 'window rejected a delta');
    }
    try {
      const done = opts.onApplied?.(delta);
      return done?.catch((err: unknown) => logger.error({ err }, 'onApplied failed'));
    } catch (err) {
      logger.error({ err }, 'onApplied failed');
      return undefined;
    }
  };

  const lowestUnstored = (): number => Math.min(appliedLsn + 1, pending.lowestLsn() ?? Number.POSITIVE_INFINITY, inFlightLow ?? Number.POSITIVE_INFINITY);

  // Recovery: refill the window with the recent seconds the store holds, then replay what it lacks.
  const now = Math.floor(clock.now() / 1000);
  const recent = await store.readRecent(now - config.windowSeconds);
  if (!isEmptyDelta(recent)) window.apply(recent);
  let replayed = 0;
  for await (const entries of wal.replay()) {
    const decoded: { lsn: number; delta: Delta }[] = [];
    for (const e of entries) {
      try {
        const payload = decodeWalPayload(e.payload);
        // Every replayed entry's keys, stored or not: the key file may not have them yet.
        for (const k of payload.keys) opts.keys?.remember(k);
        decoded.push({ lsn: e.lsn, delta: payload.delta });
      } catch (err) {
        wal.noteUndecodable();
        logger.error({ err, lsn: e.lsn }, 'WAL entry has a valid checksum but cannot be decoded; skipped');
      }
    }
    const seconds = new Set<number>();
    for (const e of decoded) for (const s of deltaSeconds(e.delta)) seconds.add(s);
    const stored = await store.appliedLsn([...seconds]);
    for (const e of decoded) {
      const rest = filterDelta(e.delta, (s) => (stored.get(s) ?? -1) < e.lsn);
      if (!isEmptyDelta(rest)) {
        // Replay registers its names before the server listens.
        await applyDelta(e.lsn, rest);
        replayed++;
      }
    }
  }
  appliedLsn = Math.max(appliedLsn, wal.lastLsn);
  if (replayed > 0) logger.info({ entries: replayed, lastLsn: wal.lastLsn }, 'replayed the WAL');

  // The store writer: published seconds from the queue to the store, one write at a time.
  let writing: Promise<void> = Promise.resolve();
  const writeOnce = async (): Promise<void> => {
    // Bounded writes, one after another, until the published seconds are all in the store.
    for (let more = true; more; ) {
      const published = window.latestPublished();
      // Read the lsn and drain in one tick: no delta can be applied in between.
      const lsn = appliedLsn;
      const drained = pending.drain(published, storeWriteMaxRows);
      if (drained === undefined) break;
      more = drained.partial;
      inFlightLow = drained.entries.reduce((low, e) => Math.min(low, e.lsn), Number.POSITIVE_INFINITY);
      try {
        // A partial drain holds every delta of its seconds up to its own highest lsn only.
        await store.append(drained.partial ? drained.maxLsn : lsn, drained.delta);
      } catch (err) {
        logger.error({ err }, 'store write failed; retrying with the next write');
        pending.restore(drained);
        inFlightLow = undefined;
        return;
      }
      inFlightLow = undefined;
    }
    try {
      // The keys of the segments about to go must be in the key file first.
      await opts.keys?.persist();
      await wal.truncate(lowestUnstored());
    } catch (err) {
      logger.warn({ err }, 'WAL truncation failed; retrying with the next write');
    }
  };
  const write = (): Promise<void> => {
    writing = writing.then(writeOnce);
    return writing;
  };

  const timer = setInterval(() => void write(), opts.writeIntervalMs ?? 1000);
  timer.unref();

  // The commit loop: inputs that arrive while a WAL write is in flight queue up; the next cycle
  // aggregates the queued batches into one delta and writes it with the queued worker deltas.
  let queued: Queued[] = [];
  let committing: Promise<void> | undefined;

  const commitDelta = async (delta: Delta, group: readonly Queued[]): Promise<void> => {
    const keys: IdempotencyRecord[] = [];
    for (const q of group) if (q.key !== undefined) keys.push(q.key);
    let applied: Promise<void> | undefined;
    try {
      if (!isEmptyDelta(delta) || keys.length > 0) {
        await wal.append(encodeWalPayload(delta, keys), (lsn) => {
          if (!isEmptyDelta(delta)) applied = applyDelta(lsn, delta);
          for (const k of keys) opts.keys?.remember(k);
        });
      }
    } catch (err) {
      for (const q of group) q.reject(err);
      return;
    }
    // Answered once what the delta's names register is done (a new service is listed by the
    // time its first event is acknowledged); it never fails the request: the events are durable.
    await applied;
    for (const q of group) q.resolve();
  };

  /** One WAL entry for the group's batches; settles every request of it. */
  const commitBatches = async (group: readonly Queued[]): Promise<void> => {
    let delta: Delta;
    try {
      delta = aggregate(
        group.map((q) => q.input as EventBatch),
        dictionaries,
      );
    } catch (err) {
      // Aggregation is pure: find the batch that fails by committing each alone.
      if (group.length > 1) {
        for (const q of group) await commitBatches([q]);
        return;
      }
      for (const q of group) q.reject(err);
      return;
    }
    await commitDelta(delta, group);
  };

  const commitLoop = async (): Promise<void> => {
    while (queued.length > 0) {
      const group = queued;
      queued = [];
      const batches = group.filter((q) => isBatch(q.input));
      // Worker deltas go to the WAL as they are (appends in one turn share one fsync).
      const deltas = group.filter((q) => !isBatch(q.input)).map((q) => commitDelta(q.input as Delta, [q]));
      if (batches.length > 0) deltas.push(commitBatches(batches));
      await Promise.all(deltas);
    }
    committing = undefined;
  };

  const enqueue = (input: EventBatch | Delta, key: IdempotencyRecord | undefined): Promise<void> => {
    if (closed) return Promise.reject(new Error('ingest pipeline is closed'));
    return new Promise<void>((resolve, reject) => {
      queued.push({ input, key, resolve, reject });
      // Start a cycle after this turn's I/O callbacks: bodies parsed in the same turn share it.
      committing ??= new Promise<void>((started) => setImmediate(started)).then(commitLoop);
    });
  };

  return {
    dictionaries,
    ingest(batch, key) {
      if (batch.length === 0 && key === undefined && !closed) return Promise.resolve();
      return enqueue(batch, key);
    },
    ingestDelta(delta, key) {
      if (isEmptyDelta(delta) && key === undefined && !closed) return Promise.resolve();
      return enqueue(delta, key);
    },
    flush: async () => {
      await committing;
      await write();
    },
    stats: () => ({ appliedLsn, pendingSeconds: pending.seconds(), pendingRows: pending.rows(), walSegments: wal.segmentCount, wal: wal.stats() }),
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      await committing;
      await write();
      await wal.close();
    },
  };
}
