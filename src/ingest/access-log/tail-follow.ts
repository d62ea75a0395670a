/**
 * `rtmetrics tail`: follows a growing log and sends its lines in batches through the
 * submitter, keeping its position durably (tail-state.ts) so that a restart resumes where it
 * stopped. Rotation:
 * - by rename (logrotate's default): the path names a new inode; the old file, still open, is
 *   read to its end (its last line even without a line break), then the new one from byte 0;
 * - by truncation (copytruncate): the file is shorter than what was read; the lines written
 *   between the last read and the truncation are read from the copy (`FILE.1` or `FILE-*`, the
 *   one whose bytes before the old offset match what was read), then the file from byte 0.
 * Exactly once (docs/decisions.md): before a batch is submitted its byte range is written to the
 * state as pending; after it is acknowledged the state moves past it. On restart a pending batch
 * is resolved: in process by the WAL's lsn (did it grow past the mark read before?), over HTTP by
 * sending the same lines again with the same Idempotency-Key.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BLANK, parseLineInto } from './import-run.ts';
import type { LineParser } from './line-parser.ts';
import { createLineSplitter, cutAfterLines, type LineSplitter } from './line-splitter.ts';
import { LogRecord } from './log-record.ts';
import type { EventSubmitter, SubmitBatch } from './submit.ts';
import { readTailState, writeTailState, type PendingBatch, type TailState } from './tail-state.ts';

export interface TailOptions {
  path: string;
  stateFile: string;
  parser: LineParser;
  submitter: EventSubmitter;
  maxLineBytes: number;
  /** Records per batch at most. Default 50,000. */
  batchSize?: number;
  /** How often the file is checked for growth and rotation, ms. Default 250. */
  pollMs?: number;
  /** Where a log never seen before starts: its first byte or its current end. Default start. */
  from?: 'start' | 'end';
  signal?: AbortSignal;
  /** Told of every acknowledged batch and every rejected line, for the CLI's output. */
  onBatch?: (b: { file: string; events: number; rejected: number; offset: number }) => void;
  onReject?: (file: string, line: number, reason: string) => void;
  onRotate?: (how: 'renamed' | 'truncated', recoveredFrom: string | undefined) => void;
}

export interface TailStats {
  lines: number;
  events: number;
  rejected: number;
  rotations: number;
}

/** Bytes kept of the end of what was read: how a copy made by copytruncate is recognised. */
const FINGERPRINT_BYTES = 64;
const READ_BYTES = 1024 * 1024;

interface Reader {
  fd: number;
  file: string;
  dev: number;
  ino: number;
  /** Next byte to read (past the splitter's carried partial line). */
  readPos: number;
  splitter: LineSplitter;
  /** Start of the batch being filled, and the line number before it. */
  batchFrom: number;
  batchFromLine: number;
  /** The last bytes of complete lines read: a fingerprint of the position. */
  tail: Buffer;
}

const sha = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 32);

/** Up to FINGERPRINT_BYTES bytes that end at `offset` in `fd` (hex), '' at offset 0. */
function fingerprintAt(fd: number, offset: number): string {
  const n = Math.min(FINGERPRINT_BYTES, offset);
  if (n === 0) return '';
  const buf = Buffer.alloc(n);
  const got = fs.readSync(fd, buf, 0, n, offset - n);
  return got === n ? buf.toString('hex') : '';
}

/** The rotated copy of `file` that holds `offset` bytes ending with `fingerprint`, if any. */
function findRotatedCopy(file: string, offset: number, fingerprint: string, ino?: number): string | undefined {
  const dir = path.dirname(file);
  const base = path.basename(file);
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n !== base && n.startsWith(base) && !n.endsWith('.gz') && !n.endsWith('.tmp'));
  } catch {
    return undefined;
  }
  for (const name of names.sort()) {
    const candidate = path.join(dir, name);
    let fd: number | undefined;
    try {
      fd = fs.openSync(candidate, 'r');
      const st = fs.fstatSync(fd);
      // A renamed file is known by its inode; a copy by its bytes before the offset.
      if (ino !== undefined ? st.ino === ino && st.size >= offset : st.size >= offset && fingerprintAt(fd, offset) === fingerprint) return candidate;
    } catch {
      continue;
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  }
  return undefined;
}

export async function runTail(opts: TailOptions): Promise<TailStats> {
  const { parser, submitter, maxLineBytes, stateFile } = opts;
  const batchSize = opts.batchSize ?? 50_000;
  const pollMs = opts.pollMs ?? 250;
  const signal = opts.signal;
  const rec = new LogRecord();
  const stats: TailStats = { lines: 0, events: 0, rejected: 0, rotations: 0 };
  const stopped = (): boolean => signal?.aborted === true;

  let batch: SubmitBatch = submitter.createBatch(batchSize);
  let batchLines: number[] = [];
  let reader: Reader | undefined;
  /** Over HTTP after a restart: the pending batch to send again, exactly its lines, with its key. */
  let resend: PendingBatch | undefined;

  const state = (): TailState => {
    const r = reader as Reader;
    return { path: opts.path, dev: r.dev, ino: r.ino, offset: r.splitter.consumed, line: r.splitter.lines, pending: undefined, fingerprint: r.tail.toString('hex') };
  };

  const openReader = (file: string, offset: number, line: number): Reader => {
    const fd = fs.openSync(file, 'r');
    const st = fs.fstatSync(fd);
    const r: Reader = {
      fd,
      file,
      dev: st.dev,
      ino: st.ino,
      readPos: offset,
      batchFrom: offset,
      batchFromLine: line,
      tail: Buffer.from(fingerprintAt(fd, offset), 'hex'),
      splitter: undefined as unknown as LineSplitter,
    };
    r.splitter = createLineSplitter(
      {
        line(buf, start, end, n) {
          const reason = parseLineInto(buf, start, end, parser, rec, batch);
          if (reason === BLANK) return;
          stats.lines++;
          if (reason === undefined) batchLines.push(n);
          else {
            stats.rejected++;
            opts.onReject?.(r.file, n, reason);
          }
        },
        tooLong(n, bytes) {
          stats.lines++;
          stats.rejected++;
          opts.onReject?.(r.file, n, `line is ${bytes} bytes, longer than the limit of ${maxLineBytes} bytes`);
        },
      },
      { maxLineBytes, startOffset: offset, startLine: line },
    );
    return r;
  };

  /** Sends the batch of lines [batchFrom, consumed) and moves the durable position past it. */
  const commit = async (): Promise<void> => {
    const r = reader as Reader;
    const to = r.splitter.consumed;
    if (to === r.batchFrom) return;
    const base = state();
    const key = resend?.key ?? `rtm-tail-${sha(`${stateFile}:${r.dev}:${r.ino}:${r.batchFrom}:${to}`)}`;
    resend = undefined;
    const full = batch;
    const linesOf = batchLines;
    batch = submitter.createBatch(batchSize);
    batchLines = [];
    if (full.length > 0) {
      const pending: PendingBatch = { from: r.batchFrom, to, fromLine: r.batchFromLine, toLine: r.splitter.lines, key, mark: submitter.durableMark(), toFingerprint: base.fingerprint };
      writeTailState(stateFile, { ...base, offset: r.batchFrom, line: r.batchFromLine, pending, fingerprint: fingerprintAt(r.fd, r.batchFrom) });
      const outcome = await submitter.submit(full, key);
      stats.events += outcome.accepted;
      stats.rejected += outcome.rejected;
      for (const e of outcome.errors) opts.onReject?.(r.file, linesOf[e.index] ?? 0, e.reason);
      opts.onBatch?.({ file: r.file, events: outcome.accepted, rejected: outcome.rejected, offset: to });
    }
    writeTailState(stateFile, base);
    r.batchFrom = to;
    r.batchFromLine = r.splitter.lines;
  };

  /** Reads `r` to its current end (or `limit`), committing full batches; with `final`, its last partial line too. */
  const drain = async (r: Reader, final: boolean): Promise<void> => {
    const buf = Buffer.allocUnsafe(READ_BYTES);
    for (;;) {
      const limit = resend !== undefined ? resend.to - r.readPos : READ_BYTES;
      if (limit <= 0) break;
      const got = fs.readSync(r.fd, buf, 0, Math.min(READ_BYTES, limit), r.readPos);
      if (got === 0) break;
      r.readPos += got;
      const chunk = buf.subarray(0, got);
      let pos = 0;
      while (pos < got) {
        const cut = cutAfterLines(chunk, pos, batchSize - batch.length);
        r.splitter.push(chunk.subarray(pos, cut));
        pos = cut;
        if (batch.length >= batchSize) await commit();
      }
      const consumed = r.splitter.consumed;
      if (consumed > 0) r.tail = Buffer.from(fingerprintAt(r.fd, consumed), 'hex');
      if (resend !== undefined && r.splitter.consumed >= resend.to) await commit();
      if (stopped()) return;
    }
    if (final) r.splitter.end();
    await commit();
    if (r.splitter.consumed > 0) r.tail = Buffer.from(fingerprintAt(r.fd, r.splitter.consumed), 'hex');
  };

  const waitForFile = async (): Promise<fs.Stats | undefined> => {
    while (!stopped()) {
      try {
        return fs.statSync(opts.path);
      } catch {
        await sleep(pollMs, undefined, { signal }).catch(() => undefined);
      }
    }
    return undefined;
  };

  // Where to start: the saved state (its pending batch resolved), else the start or end of the file.
  const st0 = await waitForFile();
  if (st0 === undefined) return stats;
  const saved = readTailState(stateFile);
  if (saved?.pending !== undefined) {
    const p = saved.pending;
    const mark = submitter.durableMark();
    if (mark !== undefined && p.mark !== undefined) {
      const landed = mark > p.mark;
      saved.offset = landed ? p.to : p.from;
      saved.line = landed ? p.toLine : p.fromLine;
      if (landed) saved.fingerprint = p.toFingerprint;
    } else {
      saved.offset = p.from;
      saved.line = p.fromLine;
      resend = p;
    }
    saved.pending = undefined;
  }
  if (saved !== undefined && saved.dev === st0.dev && saved.ino === st0.ino && st0.size >= saved.offset) {
    reader = openReader(opts.path, saved.offset, saved.line);
  } else if (saved !== undefined) {
    // Rotated (or truncated) while stopped: finish the old file from its copy when one is found.
    const copy = findRotatedCopy(opts.path, saved.offset, saved.fingerprint, saved.dev === st0.dev && saved.ino === st0.ino ? undefined : saved.ino);
    if (copy !== undefined) {
      reader = openReader(copy, saved.offset, saved.line);
      await drain(reader, true);
      fs.closeSync(reader.fd);
    }
    resend = undefined;
    stats.rotations++;
    opts.onRotate?.(saved.ino === st0.ino ? 'truncated' : 'renamed', copy);
    reader = openReader(opts.path, 0, 0);
  } else {
    const start = opts.from === 'end' ? st0.size : 0;
    reader = openReader(opts.path, start, 0);
  }
  writeTailState(stateFile, state());

  try {
    while (!stopped()) {
      await drain(reader, false);
      if (stopped()) break;
      await sleep(pollMs, undefined, { signal }).catch(() => undefined);
      if (stopped()) break;
      let st: fs.Stats;
      try {
        st = fs.statSync(opts.path);
      } catch {
        continue; // between the rename and the new file: keep reading the old one
      }
      const r: Reader = reader;
      if (st.ino !== r.ino || st.dev !== r.dev) {
        await drain(r, true);
        fs.closeSync(r.fd);
        stats.rotations++;
        opts.onRotate?.('renamed', undefined);
        reader = openReader(opts.path, 0, 0);
        writeTailState(stateFile, state());
      } else if (st.size < r.readPos) {
        // copytruncate: what was appended after the last read is in the copy.
        const fingerprint = r.tail.toString('hex');
        const copy = findRotatedCopy(opts.path, r.splitter.consumed, fingerprint);
        if (copy !== undefined) {
          const c = openReader(copy, r.splitter.consumed, r.splitter.lines);
          c.batchFrom = r.batchFrom;
          reader = c;
          await drain(c, true);
          fs.closeSync(c.fd);
        }
        fs.closeSync(r.fd);
        stats.rotations++;
        opts.onRotate?.('truncated', copy);
        reader = openReader(opts.path, 0, 0);
        writeTailState(stateFile, state());
      }
    }
  } finally {
    fs.closeSync(reader.fd);
  }
  return stats;
}
