/**
 * WAL segment files: names, the header, entry framing with a CRC32, and the scan that reads a
 * segment back and stops at the first torn or corrupt entry. Layout in docs/wal.md.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';

export const SEGMENT_MAGIC = Buffer.from('RTMWAL01', 'latin1');
/** magic (8) + start lsn (u64) + crc32 of the previous 16 bytes (u32). */
export const HEADER_BYTES = 28;
/** payload length (u32) + crc32 (u32) + lsn (u64). */
export const ENTRY_HEADER_BYTES = 16;
/** Largest payload accepted on read: anything bigger is a corrupt length. */
export const MAX_PAYLOAD_BYTES = 1 << 30;

const SEGMENT_NAME = /^(\d{8})\.wal$/;

export const segmentName = (seq: number): string => `${String(seq).padStart(8, '0')}.wal`;

/** The segment sequence numbers in `dir`, ascending. */
export async function listSegments(dir: string): Promise<number[]> {
  const names = await fs.readdir(dir);
  const seqs: number[] = [];
  for (const name of names) {
    const m = SEGMENT_NAME.exec(name);
    if (m?.[1] !== undefined) seqs.push(Number(m[1]));
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

export interface ScannedSegment {
  /** The header's start lsn, or undefined when the header itself is missing or torn. */
  startLsn: number | undefined;
  entries: ScannedEntry[];
  /** Bytes of valid header and entries; anything after was torn or corrupt. */
  validBytes: number;
  /** Why the scan stopped before the end of the file, if it did. */
  stoppedBecause: string | undefined;
}

/** Reads a whole segment file. */
export async function scanSegment(file: string): Promise<ScannedSegment> {
  const data = await fs.readFile(file);
  if (data.length < HEADER_BYTES || !data.subarray(0, 8).equals(SEGMENT_MAGIC) || data.readUInt32LE(24) !== crc32(data.subarray(0, 24))) {
    return { startLsn: undefined, entries: [], validBytes: 0, stoppedBecause: data.length === 0 ? undefined : 'bad segment header' };
  }
  const startLsn = Number(data.readBigUInt64LE(8));
  const entries: ScannedEntry[] = [];
  let pos = HEADER_BYTES;
  let stoppedBecause: string | undefined;
  let lastLsn = startLsn - 1;
  while (pos < data.length) {
    if (data.length - pos < ENTRY_HEADER_BYTES) {
      stoppedBecause = 'torn entry header';
      break;
    }
    const length = data.readUInt32LE(pos);
    if (length > MAX_PAYLOAD_BYTES || pos + ENTRY_HEADER_BYTES + length > data.length) {
      stoppedBecause = 'torn entry';
      break;
    }
    const end = pos + ENTRY_HEADER_BYTES + length;
    if (data.readUInt32LE(pos + 4) !== crc32(data.subarray(pos + 8, end))) {
      stoppedBecause = 'entry checksum mismatch';
      break;
    }
    const lsn = Number(data.readBigUInt64LE(pos + 8));
    if (lsn <= lastLsn) {
      stoppedBecause = `lsn ${lsn} does not follow ${lastLsn}`;
      break;
    }
    entries.push({ lsn, payload: data.subarray(pos + ENTRY_HEADER_BYTES, end) });
    lastLsn = lsn;
    pos = end;
  }
  return { startLsn, entries, validBytes: pos, stoppedBecause };
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
