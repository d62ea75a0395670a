/**
 * The write-ahead log: every aggregated delta is written here, and fsynced, before the ingest
 * request is acknowledged. The log is record-agnostic (like Prometheus' wlog): it stores opaque
 * payloads (the pipeline's encoded Deltas) with an lsn and a checksum. Appends queue up while a write is in flight; the next write + fsync
 * covers all of them (group commit), so throughput grows with concurrency while each append
 * still resolves only once its bytes are durable. Format: docs/wal.md.
 */
import fs from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { Logger } from 'pino';
import { StartupError } from '../../startup-error.ts';
import { encodeEntry, encodeHeader, HEADER_BYTES, listSegments, scanSegment, segmentPath, syncDir } from './segment.ts';

export interface WalOptions {
  /** Directory of the segment files, created if missing (`<dataDir>/wal`). */
  dir: string;
  logger: Logger;
  /** fsync each group commit. Default true; false only for benchmarks (acks are then not durable). */
  fsync?: boolean;
  /** A segment is closed and a new one started once it reaches this size. Default 64 MiB. */
  segmentBytes?: number;
}

/** What the WAL found wrong on disk since it was opened (self-metrics). */
export interface WalStats {
  /** Corrupt stretches skipped inside segments (valid entries followed), plus segments with a bad header. */
  corruptRegions: number;
  /** Bytes in those stretches and headerless segments. */
  corruptBytesSkipped: number;
  /** Entries lost in them (lsn gaps), plus entries with a valid checksum that could not be decoded. */
  corruptEntriesSkipped: number;
  /** Newest segments found without a complete header (a stop while one was being created), removed. */
  emptySegmentsRemoved: number;
}

export interface WalEntry {
  lsn: number;
  payload: Uint8Array;
}

export interface Wal {
  /**
   * Appends a payload and resolves with its lsn once durable. `onDurable` runs synchronously right
   * after the covering fsync, in lsn order, before any later entry's: the pipeline applies the
   * delta there, so "applied" always means "every lower lsn applied too".
   */
  append(payload: Uint8Array, onDurable?: (lsn: number) => void): Promise<number>;
  /** The entries that were on disk when the WAL was opened, segment by segment, in lsn order. */
  replay(): AsyncIterable<readonly WalEntry[]>;
  /** Deletes closed segments whose entries all have lsn < `lowestUnstoredLsn`. Returns how many. */
  truncate(lowestUnstoredLsn: number): Promise<number>;
  /** The highest lsn handed out (or found on disk). */
  readonly lastLsn: number;
  /** Segment files on disk, the active one included. */
  readonly segmentCount: number;
  /** Corruption found on open and replay: counted so an operator sees it, not only in the log. */
  stats(): WalStats;
  /** Counts an entry whose checksum held but whose payload its reader could not decode. */
  noteUndecodable(): void;
  /** Waits for queued appends, then closes the active segment. */
  close(): Promise<void>;
}

interface Segment {
  seq: number;
  /** Highest lsn written to it (start lsn - 1 when empty). */
  maxLsn: number;
}

interface Pending {
  lsn: number;
  bytes: Buffer;
  onDurable: ((lsn: number) => void) | undefined;
  resolve: (lsn: number) => void;
  reject: (err: unknown) => void;
}

async function writeFully(h: FileHandle, data: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await h.write(data, done, data.length - done, position + done);
    done += bytesWritten;
  }
}

async function ensureDirectory(dir: string): Promise<void> {
  try {
    await fs.mkdir(dir, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTDIR') {
      throw new StartupError(`${dir} is not a directory (the write-ahead log needs a directory there)`, `move the file ${dir} out of the data dir and start again`, { cause: err });
    }
    throw err;
  }
}

export async function openWal({ dir, logger, fsync = true, segmentBytes = 64 * 1024 * 1024 }: WalOptions): Promise<Wal> {
  await ensureDirectory(dir);
  const found = await listSegments(dir);
  const closed: Segment[] = [];
  const stats: WalStats = { corruptRegions: 0, corruptBytesSkipped: 0, corruptEntriesSkipped: 0, emptySegmentsRemoved: 0 };
  let lastLsn = 0;
  for (const [i, seq] of found.entries()) {
    const file = segmentPath(dir, seq);
    const newest = i === found.length - 1;
    const scan = await scanSegment(file);
    if (scan.startLsn === undefined && newest && scan.fileBytes < HEADER_BYTES) {
      // Created but stopped before its header was synced: no entry was ever written to it
      // (createSegment syncs the header before the segment takes entries).
      logger.warn({ segment: file, bytes: scan.fileBytes }, 'newest WAL segment has no complete header (the server stopped while creating it); it holds no entries and is removed');
      await fs.rm(file, { force: true });
      await syncDir(dir);
      stats.emptySegmentsRemoved++;
      continue;
    }
    if (scan.startLsn === undefined) {
      stats.corruptRegions++;
      stats.corruptBytesSkipped += scan.fileBytes;
      logger.error({ segment: file, bytesSkipped: scan.fileBytes, reason: scan.stoppedBecause }, 'WAL segment is corrupt: no valid header, every entry in it is skipped');
    }
    for (const region of scan.skipped) {
      stats.corruptRegions++;
      stats.corruptBytesSkipped += region.bytes;
      stats.corruptEntriesSkipped += region.entries;
      logger.error(
        { segment: file, offset: region.offset, bytesSkipped: region.bytes, entriesSkipped: region.entries, reason: region.reason },
        'WAL segment is corrupt: bytes skipped, the valid entries after them are replayed',
      );
    }
    if (scan.stoppedBecause !== undefined && scan.startLsn !== undefined) {
      // Only the newest segment can end in a torn write (its tail was never acknowledged).
      const level = newest ? 'warn' : 'error';
      logger[level](
        { segment: file, validBytes: scan.validBytes, bytesIgnored: scan.fileBytes - scan.validBytes, reason: scan.stoppedBecause },
        'WAL segment ends early; the rest is ignored',
      );
    }
    const maxLsn = scan.entries.at(-1)?.lsn ?? (scan.startLsn ?? 1) - 1;
    closed.push({ seq, maxLsn });
    lastLsn = Math.max(lastLsn, maxLsn);
  }
  const replaySegments = closed.map((s) => s.seq);

  const createSegment = async (seq: number, startLsn: number): Promise<{ handle: FileHandle; size: number }> => {
    const handle = await fs.open(segmentPath(dir, seq), 'wx');
    await writeFully(handle, encodeHeader(startLsn), 0);
    // The header carries the next lsn even while the segment is empty, so lsns never restart.
    await handle.sync();
    await syncDir(dir);
    return { handle, size: HEADER_BYTES };
  };

  let active: Segment & { handle: FileHandle; size: number } = {
    seq: (found.at(-1) ?? 0) + 1,
    maxLsn: lastLsn,
    ...(await createSegment((found.at(-1) ?? 0) + 1, lastLsn + 1)),
  };
  const queue: Pending[] = [];
  let flushing: Promise<void> | undefined;
  let failed: unknown;
  let isClosed = false;

  const rotate = async (): Promise<void> => {
    const next = { seq: active.seq + 1, maxLsn: active.maxLsn, ...(await createSegment(active.seq + 1, active.maxLsn + 1)) };
    await active.handle.close();
    closed.push({ seq: active.seq, maxLsn: active.maxLsn });
    active = next;
  };

  const writeBatch = async (batch: Pending[]): Promise<void> => {
    const data = Buffer.concat(batch.map((p) => p.bytes));
    if (active.size > HEADER_BYTES && active.size + data.length > segmentBytes) await rotate();
    try {
      await writeFully(active.handle, data, active.size);
      if (fsync) await active.handle.datasync();
    } catch (err) {
      // Cut the partial write off so later entries are not hidden behind garbage on replay.
      await active.handle.truncate(active.size).catch((e: unknown) => {
        failed = e;
      });
      throw err;
    }
    active.size += data.length;
    active.maxLsn = (batch.at(-1) as Pending).lsn;
  };

  const flushLoop = async (): Promise<void> => {
    while (queue.length > 0) {
      const batch = queue.splice(0);
      try {
        await writeBatch(batch);
      } catch (err) {
        logger.error({ err, entries: batch.length }, 'WAL write failed');
        for (const p of batch) p.reject(err);
        continue;
      }
      for (const p of batch) {
        try {
          p.onDurable?.(p.lsn);
          p.resolve(p.lsn);
        } catch (err) {
          p.reject(err);
        }
      }
    }
    flushing = undefined;
  };

  return {
    append(payload, onDurable) {
      if (isClosed) return Promise.reject(new Error('WAL is closed'));
      if (failed !== undefined) return Promise.reject(new Error('WAL is unusable after a failed write', { cause: failed }));
      let bytes: Buffer;
      try {
        bytes = encodeEntry(lastLsn + 1, payload);
      } catch (err) {
        return Promise.reject(err);
      }
      const lsn = ++lastLsn;
      return new Promise<number>((resolve, reject) => {
        queue.push({ lsn, bytes, onDurable, resolve, reject });
        flushing ??= flushLoop();
      });
    },

    async *replay() {
      for (const seq of replaySegments) {
        let scan;
        try {
          scan = await scanSegment(segmentPath(dir, seq));
        } catch (err) {
          // Truncated away meanwhile: it was fully stored.
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
          throw err;
        }
        yield scan.entries.map((e) => ({ lsn: e.lsn, payload: e.payload }));
      }
    },

    async truncate(lowestUnstoredLsn) {
      const gone = closed.filter((s) => s.maxLsn < lowestUnstoredLsn);
      if (gone.length === 0) return 0;
      for (const s of gone) closed.splice(closed.indexOf(s), 1);
      for (const s of gone) await fs.rm(segmentPath(dir, s.seq), { force: true });
      await syncDir(dir);
      return gone.length;
    },

    get lastLsn() {
      return lastLsn;
    },
    get segmentCount() {
      return closed.length + 1;
    },
    stats: () => ({ ...stats }),
    noteUndecodable: () => {
      stats.corruptEntriesSkipped++;
    },

    async close() {
      if (isClosed) return;
      isClosed = true;
      await flushing;
      await active.handle.close();
    },
  };
}
