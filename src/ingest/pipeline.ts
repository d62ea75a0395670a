/**
 * The durable ingest path: aggregate batches into a delta, write it to the WAL (fsync), then
 * make it visible (window) and queue it for the store. Nothing is visible before it is durable.
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
import type { EventBatch } from '../model/event.ts';
import { createRecordAccumulator } from '../model/record-accumulator.ts';
import type { RecordSet } from '../model/record.ts';
import type { MetricStore } from '../store/store.ts';
import type { IngestSink } from './sink.ts';
import { openWal, type WalStats } from './wal/wal.ts';

/** What the pipeline needs of the in-memory window (src/aggregate/window.ts implements it). */
export interface PipelineWindow {
  apply(records: RecordSet): void;
  /** Every second <= this one is published. */
  latestPublished(): number;
}

/** Several batches (sharing `dicts`) -> one delta: aggregateBatches in src/aggregate/aggregate-batch.ts. */
export type Aggregate = (batches: readonly EventBatch[], dicts: Dictionaries) => RecordSet;

export interface IngestPipelineOptions {
  config: Config;
  clock: Clock;
  logger: Logger;
  store: MetricStore;
  window: PipelineWindow;
  aggregate: Aggregate;
  dictionaries: Dictionaries;
  /** Called after each successful store write with what it wrote (e.g. the catalog registers names). */
  onStored?: (records: RecordSet) => void;
  /** Milliseconds between store writes. Default 1000. */
  writeIntervalMs?: number;
  /** WAL directory. Default `<config.dataDir>/wal`. */
  walDir?: string;
  /** WAL segment size. Default 64 MiB. */
  walSegmentBytes?: number;
}

export interface IngestPipelineStats {
  /** Highest lsn applied to the window and the store queue. */
  appliedLsn: number;
  /** Seconds with deltas not yet in the store. */
  pendingSeconds: number;
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
  batch: EventBatch;
  resolve: () => void;
  reject: (err: unknown) => void;
}

const isEmpty = (rs: RecordSet): boolean => rs.edge.length + rs.origin.length + rs.dimension.length === 0;

const secondsOf = (rs: RecordSet): Set<number> => {
  const set = new Set<number>();
  for (const list of [rs.edge, rs.origin, rs.dimension]) for (const r of list) set.add(r.second);
  return set;
};

/** The parts of `rs` whose second passes `keep`. */
const filterSeconds = (rs: RecordSet, keep: (second: number) => boolean): RecordSet => ({
  edge: rs.edge.filter((r) => keep(r.second)),
  origin: rs.origin.filter((r) => keep(r.second)),
  dimension: rs.dimension.filter((r) => keep(r.second)),
});

export async function createIngestPipeline(opts: IngestPipelineOptions): Promise<IngestPipeline> {
  const { config, clock, logger, store, window, aggregate, dictionaries } = opts;
  const wal = await openWal({
    dir: opts.walDir ?? path.join(config.dataDir, 'wal'),
    logger,
    fsync: config.walFsync,
    ...(opts.walSegmentBytes === undefined ? {} : { segmentBytes: opts.walSegmentBytes }),
  });
  const pending = createRecordAccumulator(1);
  /** second -> lowest lsn of its deltas in `pending`: what the WAL must keep. */
  const pendingLsn = new Map<number, number>();
  /** The same for seconds drained into the store write in flight. */
  let inFlightLsn = new Map<number, number>();
  let appliedLsn = 0;
  let closed = false;

  const applyDelta = (lsn: number, delta: RecordSet): void => {
    pending.add(delta);
    for (const s of secondsOf(delta)) if (!pendingLsn.has(s)) pendingLsn.set(s, lsn);
    appliedLsn = Math.max(appliedLsn, lsn);
    try {
      window.apply(delta);
    } catch (err) {
      // The delta is durable and queued for the store; only the live view misses it.
      logger.error({ err, lsn }, 'window rejected a delta');
    }
  };

  const lowestUnstored = (): number => {
    let low = appliedLsn + 1;
    for (const lsn of pendingLsn.values()) low = Math.min(low, lsn);
    for (const lsn of inFlightLsn.values()) low = Math.min(low, lsn);
    return low;
  };

  // Refill the window with the recent seconds the store holds, then replay what it lacks.
  const now = Math.floor(clock.now() / 1000);
  const recent = { tier: '1s' as const, from: now - config.windowSeconds, to: Number.POSITIVE_INFINITY, filter: {} };
  const [edge, origin, dimension] = await Promise.all([store.readEdge(recent), store.readOrigin(recent), store.readDimension(recent)]);
  if (edge.length + origin.length + dimension.length > 0) window.apply({ edge, origin, dimension });
  let replayed = 0;
  for await (const entries of wal.replay()) {
    const seconds = new Set<number>();
    for (const e of entries) for (const s of secondsOf(e.records)) seconds.add(s);
    const stored = await store.appliedLsn([...seconds]);
    for (const e of entries) {
      const rest = filterSeconds(e.records, (s) => (stored.get(s) ?? -1) < e.lsn);
      if (!isEmpty(rest)) {
        applyDelta(e.lsn, rest);
        replayed++;
      }
    }
  }
  appliedLsn = Math.max(appliedLsn, wal.lastLsn);
  if (replayed > 0) logger.info({ entries: replayed, lastLsn: wal.lastLsn }, 'replayed the WAL');

  let writing: Promise<void> = Promise.resolve();
  const writeOnce = async (): Promise<void> => {
    const published = window.latestPublished();
    // Read the lsn and drain in one tick: no delta can be applied in between.
    const lsn = appliedLsn;
    const records = pending.drain((s) => s <= published);
    inFlightLsn = new Map([...pendingLsn].filter(([s]) => s <= published));
    for (const s of inFlightLsn.keys()) pendingLsn.delete(s);
    if (!isEmpty(records)) {
      try {
        await store.append({ lsn, records });
      } catch (err) {
        logger.error({ err }, 'store write failed; retrying with the next write');
        pending.add(records);
        for (const [s, l] of inFlightLsn) pendingLsn.set(s, Math.min(l, pendingLsn.get(s) ?? l));
        inFlightLsn = new Map();
        return;
      }
      inFlightLsn = new Map();
      try {
        opts.onStored?.(records);
      } catch (err) {
        logger.error({ err }, 'onStored failed');
      }
    }
    inFlightLsn = new Map();
    try {
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

  /** Batches waiting for the next commit cycle. */
  let queued: Queued[] = [];
  let committing: Promise<void> | undefined;

  /** One WAL entry for the whole group; settles every request of it. */
  const commitGroup = async (group: readonly Queued[]): Promise<void> => {
    let delta: RecordSet;
    try {
      delta = aggregate(
        group.map((q) => q.batch),
        dictionaries,
      );
    } catch (err) {
      // Aggregation is pure: find the batch that fails by committing each alone.
      if (group.length > 1) {
        for (const q of group) await commitGroup([q]);
        return;
      }
      for (const q of group) q.reject(err);
      return;
    }
    try {
      if (!isEmpty(delta)) await wal.append(delta, (lsn) => applyDelta(lsn, delta));
    } catch (err) {
      for (const q of group) q.reject(err);
      return;
    }
    for (const q of group) q.resolve();
  };

  const commitLoop = async (): Promise<void> => {
    while (queued.length > 0) {
      const group = queued;
      queued = [];
      await commitGroup(group);
    }
    committing = undefined;
  };

  return {
    dictionaries,
    ingest(batch) {
      if (closed) return Promise.reject(new Error('ingest pipeline is closed'));
      if (batch.length === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        queued.push({ batch, resolve, reject });
        // Start a cycle after this turn's I/O callbacks: bodies parsed in the same turn share it.
        committing ??= new Promise<void>((started) => setImmediate(started)).then(commitLoop);
      });
    },
    flush: async () => {
      await committing;
      await write();
    },
    stats: () => ({ appliedLsn, pendingSeconds: pendingLsn.size + inFlightLsn.size, walSegments: wal.segmentCount, wal: wal.stats() }),
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
