/**
 * WAL segment files: names, the header, entry framing with a CRC32, and the scan that reads a
 * segment back: it skips a corrupt region when valid entries follow it (and reports it) and
 * stops at a torn tail. Layout in docs/wal.md.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { StartupError } from '../../startup-error.ts';

export const SEGMENT_MAGIC = Buffer.from('RTMWAL01', 'latin1');
/** magic (8) + start lsn (u64) + crc32 of the previous 16 bytes (u32). */
export const HEADER_BYTES = 28;
/** payload length (u32) + crc32 (u32) + lsn (u64). */
export const ENTRY_HEADER_BYTES = 16;
/** Largest payload accepted on read: anything bigger is a corrupt length. */
export const MAX_PAYLOAD_BYTES = 1 << 30;

/** Anything that looks like a segment: digits then `.wal`. */
const SEGMENT_NAME = /^(\d+)\.wal$/;

/** 8 digits at least; sequence numbers past 99999999 simply get longer names. */
export const segmentName = (seq: number): string => `${String(seq).padStart(8, '0')}.wal`;

/**
 * The segment sequence numbers in `dir`, ascending. Every number of any length is taken (a
 * segment that was ignored would let lsns restart below the acknowledged ones); a name that is
 * not the canonical spelling of its number (`1.wal`, `000000001.wal`) or a number beyond 2^53
 * is refused, since the WAL could not tell which file holds which entries.
 */
export async function listSegments(dir: string): Promise<number[]> {
  const names = await fs.readdir(dir);
  const seqs: number[] = [];
  for (const name of names) {
    const m = SEGMENT_NAME.exec(name);
    if (m?.[1] === undefined) continue;
    const seq = Number(m[1]);
    if (!Number.isSafeInteger(seq) || segmentName(seq) !== name) {
      throw new StartupError(
        `WAL segment ${path.join(dir, name)} has a name the WAL does not write (expected 8 or more digits without extra leading zeros, below 2^53)`,
        `rename it to ${Number.isSafeInteger(seq) ? segmentName(seq) : 'a valid name'} if it is a real segment, or move it out of ${dir}`,
      );
    }
    seqs.push(seq);
  }
  return seqs.sort((a, b) => a - b);
}

export function encodeHeader(startLsn: number): Buffer {
  const b = Buffer.alloc(HEADER_BYTES);
  SEGMENT_MAGIC.copy(b, 0);
  b.writeBigUInt64LE(BigInt(startLsn), 8);
  // Bytes 16..23 are reserved (zero) for future flags.
  b.writeUInt32LE(crc32(b.subarray(0, 24)), 24);
  return b;
}

/** Frames one entry: the CRC covers the lsn and the payload, so a torn or mixed write fails it. */
export function encodeEntry(lsn: number, payload: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(ENTRY_HEADER_BYTES + payload.length);
  b.writeUInt32LE(payload.length, 0);
  b.writeBigUInt64LE(BigInt(lsn), 8);
  b.set(payload, ENTRY_HEADER_BYTES);
  b.writeUInt32LE(crc32(b.subarray(8)), 4);
  return b;
}

export interface ScannedEntry {
  lsn: number;
  payload: Buffer;
}

/** A corrupt stretch the scan skipped because a valid entry follows it. */
export interface SkippedRegion {
  /** File offset where the bad bytes start. */
  offset: number;
  bytes: number;
  /** Entries lost in it: the lsn gap to the next valid entry (the WAL hands out consecutive lsns). */
  entries: number;
  reason: string;
}

export interface ScannedSegment {
  /** The header's start lsn, or undefined when the header itself is missing or torn. */
  startLsn: number | undefined;
  entries: ScannedEntry[];
  /** End of the last valid entry (or of the header); anything after it is the torn tail. */
  validBytes: number;
  /** The file's size. */
  fileBytes: number;
  /** Why the scan stopped before the end of the file, if it did (a torn tail: nothing valid follows). */
  stoppedBecause: string | undefined;
  /** Corrupt regions with valid entries after them (never in a clean segment). */
  skipped: SkippedRegion[];
}

/**
 * How far past the last good lsn a resync candidate may be. Lsns are consecutive, so the next
 * good entry is at most one segment's worth of entries further; the bound keeps the CRC (the
 * expensive check) to the few offsets that could be an entry.
 */
const RESYNC_LSN_WINDOW = 1 << 24;

/** Why the entry at `pos` is not a valid successor of `lastLsn`, or undefined when it is. */
function entryProblem(data: Buffer, pos: number, lastLsn: number): string | undefined {
  if (data.length - pos < ENTRY_HEADER_BYTES) return 'torn entry header';
  const length = data.readUInt32LE(pos);
  if (length > MAX_PAYLOAD_BYTES || pos + ENTRY_HEADER_BYTES + length > data.length) return 'torn entry';
  if (data.readUInt32LE(pos + 4) !== crc32(data.subarray(pos + 8, pos + ENTRY_HEADER_BYTES + length))) return 'entry checksum mismatch';
  const lsn = readLsn(data, pos);
  if (lsn <= lastLsn) return `lsn ${lsn} does not follow ${lastLsn}`;
  return undefined;
}

const readLsn = (data: Buffer, pos: number): number => data.readUInt32LE(pos + 8) + data.readUInt32LE(pos + 12) * 2 ** 32;

/** The offset of the next valid entry after a bad one at `from`, or undefined when none follows. */
function resync(data: Buffer, from: number, lastLsn: number): number | undefined {
  for (let p = from + 1; p + ENTRY_HEADER_BYTES <= data.length; p++) {
    // Cheap filters first: a plausible lsn and a length that fits, then the CRC.
    const lsn = readLsn(data, p);
    if (lsn <= lastLsn || lsn > lastLsn + RESYNC_LSN_WINDOW) continue;
    if (p + ENTRY_HEADER_BYTES + data.readUInt32LE(p) > data.length) continue;
    if (entryProblem(data, p, lastLsn) === undefined) return p;
  }
  return undefined;
}

/** Reads a whole segment file. */
export async function scanSegment(file: string): Promise<ScannedSegment> {
  const data = await fs.readFile(file);
  if (data.length < HEADER_BYTES || !data.subarray(0, 8).equals(SEGMENT_MAGIC) || data.readUInt32LE(24) !== crc32(data.subarray(0, 24))) {
    return {
      startLsn: undefined,
      entries: [],
      validBytes: 0,
      fileBytes: data.length,
      stoppedBecause: data.length === 0 ? 'empty file' : data.length < HEADER_BYTES ? 'torn segment header' : 'bad segment header',
      skipped: [],
    };
  }
  const startLsn = Number(data.readBigUInt64LE(8));
  const entries: ScannedEntry[] = [];
  const skipped: SkippedRegion[] = [];
  let pos = HEADER_BYTES;
  let stoppedBecause: string | undefined;
  let lastLsn = startLsn - 1;
  while (pos < data.length) {
    const problem = entryProblem(data, pos, lastLsn);
    if (problem !== undefined) {
      const next = resync(data, pos, lastLsn);
      if (next === undefined) {
        stoppedBecause = problem;
        break;
      }
      skipped.push({ offset: pos, bytes: next - pos, entries: readLsn(data, next) - lastLsn - 1, reason: problem });
      pos = next;
      continue;
    }
    const end = pos + ENTRY_HEADER_BYTES + data.readUInt32LE(pos);
    const lsn = readLsn(data, pos);
    entries.push({ lsn, payload: data.subarray(pos + ENTRY_HEADER_BYTES, end) });
    lastLsn = lsn;
    pos = end;
  }
  return { startLsn, entries, validBytes: pos, fileBytes: data.length, stoppedBecause, skipped };
}

/** fsyncs a directory so a created or removed file name is durable. */
export async function syncDir(dir: string): Promise<void> {
  const h = await fs.open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

export const segmentPath = (dir: string, seq: number): string => path.join(dir, segmentName(seq));
