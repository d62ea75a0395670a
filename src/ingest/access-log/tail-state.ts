/**
 * Where `rtmetrics tail` is in a log, kept durably in the data dir (`<dataDir>/tail/<id>.json`):
 * the file (device and inode, so a rotation is told from an append), the byte offset and line
 * number of the next line to read, and the batch in flight, if any. Written atomically (temp
 * file, fsync, rename, fsync of the directory): after a crash the file holds the old or the new
 * state, never a mix. docs/decisions.md says why this gives exactly-once counting.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface PendingBatch {
  /** Byte range of the batch's lines, [from, to), and the line number before `from`. */
  from: number;
  to: number;
  fromLine: number;
  toLine: number;
  /** The Idempotency-Key it was (and will again be) sent with. */
  key: string;
  /** In process: the submitter's durable mark read before submitting (see submit.ts). */
  mark: number | undefined;
  /** The fingerprint at `to` (see TailState.fingerprint). */
  toFingerprint: string;
}

export interface TailState {
  /** The followed path, as given. */
  path: string;
  dev: number;
  ino: number;
  /** Next byte to read (a line start) and the number of the line before it. */
  offset: number;
  line: number;
  pending: PendingBatch | undefined;
  /** Hex of the (up to 64) bytes before `offset`: how a copy made by copytruncate is recognised. */
  fingerprint: string;
}

/** The state file of a followed path: one per absolute path. */
export function tailStateFile(dataDir: string, logPath: string): string {
  const id = createHash('sha256').update(path.resolve(logPath)).digest('hex').slice(0, 16);
  return path.join(dataDir, 'tail', `${path.basename(logPath).replace(/[^A-Za-z0-9._-]/g, '_')}-${id}.json`);
}

export function readTailState(file: string): TailState | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const s = JSON.parse(text) as TailState & { pending?: PendingBatch | null };
  return { ...s, pending: s.pending ?? undefined };
}

export function writeTailState(file: string, state: TailState): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, JSON.stringify({ ...state, pending: state.pending ?? null }));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  const dirFd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(dirFd);
  } finally {
    fs.closeSync(dirFd);
  }
}
