/**
 * The rollup tiers' write buffer. A store write lands in the 1 s tier at once; its rows are
 * buffered here as they came (deltas: ~60 bytes a row, not a 2 KB vector per key) and a flush
 * sums them per key and minute (model/key-sums.ts) and writes them to the rollup tables in one
 * transaction: when the writes reach a new minute, when the buffer holds too many rows, and
 * before compaction, expiry and close. So a busy key costs one rollup row per tier per minute
 * instead of one per second, the wide rows being what made writes slow.
 *
 * Crash safety: each 1 s row carries its write's id, and a flush stores, in its transaction,
 * the highest write id it holds (`store_state.rolled_up_write_id`). On open the 1 s rows above it
 * are read back into the buffer, so after a kill at any point every rollup tier ends up holding
 * each 1 s row exactly once. Expiry never deletes 1 s rows above that id.
 *
 * Reads merge the buffer into their SQL results (buffered-reads.ts). A flush's COMMIT and the
 * buffer forgetting the flushed records cannot happen at one instant for another connection, so
 * a read that overlapped a commit is run again (a sequence counter, as in a seqlock).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { arityOf, deltaRows, deltaStrings, RECORD_KIND_NAMES, type Delta } from '../../model/delta.ts';
import { concatDeltas } from '../../model/delta-concat.ts';
import { chunksOf, type KeySums } from '../../model/key-sums.ts';
import { rollupSums, type RollupSums } from '../block-splitter.ts';
import { TIER_SECONDS, type Tier } from '../store.ts';
import { appendKeySums } from './append-rows.ts';
import { rawTableName, RECORD_KINDS, ROLLUP_TIERS } from './schema.ts';
import { readSecondBlocks } from './second-tier.ts';

export { ROLLUP_TIERS };
const MINUTE = 60;

export interface RollupBufferOptions {
  /** Buffered rows that force a flush. Default 1,000,000 (~60 MB). */
  maxRows?: number;
  /** Sums a flush per key and bucket (on the block-split worker when it has one). Default: in-thread. */
  sums?: (delta: Delta, bucketSeconds: readonly number[], owned: boolean) => Promise<RollupSums>;
  /** Told which buckets of which tier each flush wrote (compaction tracks them). */
  onFlushed?: (tier: Tier, buckets: number[]) => void;
}

export interface RollupBuffer {
  /** The id of the last 1 s write the store holds; the next write takes the one after. */
  readonly lastWriteId: number;
  /** Whether the buffer should be flushed before adding a write whose newest second is `maxSecond`. */
  due(maxSecond: number): boolean;
  /** Adds a committed 1 s write (call right after its COMMIT). */
  add(delta: Delta, writeId: number): void;
  /** Writes all that is buffered to the rollup tables; resolves once a flush started now has committed. */
  flush(): Promise<void>;
  /** Runs `read` on the buffered deltas; runs it again if a flush committed meanwhile. */
  consistent<T>(read: (buffered: readonly Delta[]) => Promise<T>): Promise<T>;
  /** Buffered rows (a key may have several). */
  readonly size: number;
}

async function scalar(c: DuckDBConnection, sql: string): Promise<number | undefined> {
  const v = (await c.runAndReadAll(sql)).getRows()[0]?.[0];
  return v === null || v === undefined ? undefined : Number(v);
}

const maxSecondOf = (delta: Delta): number => {
  let max = Number.NEGATIVE_INFINITY;
  for (const kind of RECORD_KIND_NAMES) for (const s of delta[kind].second) if (s > max) max = s;
  return max;
};

/** Opens the buffer on its own connection and reloads the 1 s rows the rollup tables lack. */
export async function openRollupBuffer(c: DuckDBConnection, opts: RollupBufferOptions = {}): Promise<RollupBuffer> {
  const maxRows = opts.maxRows ?? 1_000_000;
  let buffer: Delta[] = [];
  let bufferedRows = 0;
  /** Deltas being written by the flush in progress: still buffered as far as reads go. */
  let flushing: readonly Delta[] | undefined;
  let lastAdded = (await scalar(c, "SELECT value FROM store_state WHERE name = 'rolled_up_write_id'")) ?? 0;
  let highMinute = Number.NEGATIVE_INFINITY;
  /** Odd while a flush commits. */
  let sequence = 0;
  let committed: Promise<void> = Promise.resolve();
  /** Reads that retried too often hold commits off while they run again, so they finish. */
  let pinned = 0;
  let unpinned: Promise<void> = Promise.resolve();
  let unpin = (): void => undefined;

  const add = (delta: Delta, writeId: number): void => {
    buffer.push(delta);
    bufferedRows += deltaRows(delta);
    lastAdded = Math.max(lastAdded, writeId);
    const max = maxSecondOf(delta);
    if (Number.isFinite(max)) highMinute = Math.max(highMinute, max - (((max % MINUTE) + MINUTE) % MINUTE));
  };

  // Recovery: the 1 s blocks written after the last flush (a crash lost their buffered sums).
  // Filtered on write_id, so row groups below (write_id only grows) are skipped by their min/max.
  let lastWriteId = lastAdded;
  for (const block of await readSecondBlocks(c, { sql: 'write_id > ?', params: [BigInt(lastAdded)] })) {
    add(block.delta, block.writeId);
    lastWriteId = Math.max(lastWriteId, block.writeId);
  }

  const flushOnce = async (): Promise<void> => {
    // Synchronous up to the first await: the drained records and `upTo` describe the same writes.
    const drained = buffer;
    const upTo = lastAdded;
    if (bufferedRows === 0) return;
    buffer = [];
    bufferedRows = 0;
    flushing = drained;
    let endCommit = (): void => undefined;
    try {
      // Every tier's sums are made before the transaction (on the worker when there is one):
      // one key index per tier over the same delta rows, sparse; the flush only appends them,
      // each list or column as one native copy. Grouping minute rows into hours and days in
      // SQL cost more CPU than all of ingest's JavaScript: a hash aggregate of one state per
      // key and field (265 of them) touches ~4 KB of fresh memory per key.
      let began = false;
      try {
        const joined = concatDeltas(drained);
        const widths = ROLLUP_TIERS.map((t) => TIER_SECONDS[t]);
        // Decoded before the sums: a concatenation of several writes is this flush's own, so it
        // goes to the worker by transfer (not a copy) and is gone from here after.
        const names = deltaStrings(joined);
        const sums = await (opts.sums?.(joined, widths, drained.length > 1) ?? Promise.resolve().then(() => rollupSums(joined, widths)));
        await c.run('BEGIN TRANSACTION');
        began = true;
        for (const kind of RECORD_KINDS) {
          for (let t = 0; t < ROLLUP_TIERS.length; t++) {
            await appendKeySums(c, rawTableName(kind, ROLLUP_TIERS[t] as Tier), kind, chunksOf(sums[kind][t] as KeySums, names, arityOf(kind)));
          }
        }
        await c.run("INSERT OR REPLACE INTO store_state VALUES ('rolled_up_write_id', ?)", [BigInt(upTo)]);
        while (pinned > 0) await unpinned;
        sequence++;
        committed = new Promise((resolve) => (endCommit = resolve));
        await c.run('COMMIT');
      } catch (err) {
        if (began) await c.run('ROLLBACK').catch(() => undefined);
        // Back into the buffer in the same tick `flushing` is cleared: reads never miss them.
        buffer = [...drained, ...buffer];
        bufferedRows = buffer.reduce((n, d) => n + deltaRows(d), 0);
        throw err;
      }
      const minutes = new Set<number>();
      for (const d of drained) for (const kind of RECORD_KIND_NAMES) for (const s of d[kind].second) minutes.add(s - (((s % MINUTE) + MINUTE) % MINUTE));
      for (const tier of ROLLUP_TIERS) {
        const w = TIER_SECONDS[tier];
        opts.onFlushed?.(tier, [...new Set([...minutes].map((m) => m - (((m % w) + w) % w)))]);
      }
    } finally {
      flushing = undefined;
      if (sequence % 2 === 1) sequence++;
      endCommit();
    }
  };

  let running: Promise<void> | undefined;
  let queued: Promise<void> | undefined;
  const flush = (): Promise<void> => {
    if (running === undefined) {
      running = flushOnce().finally(() => (running = undefined));
      return running;
    }
    // One flush at a time: a failed one puts its records back before the next drains.
    queued ??= running
      .catch(() => undefined)
      .then(() => {
        queued = undefined;
        return flush();
      });
    return queued;
  };

  if (bufferedRows > 0) await flush();

  return {
    get lastWriteId() {
      return Math.max(lastWriteId, lastAdded);
    },
    due: (maxSecond) => bufferedRows > 0 && (maxSecond - (((maxSecond % MINUTE) + MINUTE) % MINUTE) > highMinute || bufferedRows >= maxRows),
    add: (records, writeId) => {
      lastWriteId = Math.max(lastWriteId, writeId);
      add(records, writeId);
    },
    flush,
    async consistent(read) {
      for (let attempt = 1; ; attempt++) {
        while (sequence % 2 === 1) await committed;
        const pin = attempt > 2;
        if (pin && pinned++ === 0) unpinned = new Promise((resolve) => (unpin = resolve));
        try {
          const before = sequence;
          const view = flushing === undefined ? buffer : [...buffer, ...flushing];
          const result = await read(view);
          if (sequence === before) return result;
        } finally {
          if (pin && --pinned === 0) unpin();
        }
      }
    },
    get size() {
      return bufferedRows;
    },
  };
}
