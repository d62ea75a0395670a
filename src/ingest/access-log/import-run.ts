/**
 * `rtmetrics import`: log sources -> lines (bounded memory) -> a format's parser -> batches
 * -> the submitter (durable ingest). Bad lines are counted and the first ones kept with their
 * file and line number; good lines of the same file are kept. While one batch is being made
 * durable the next one is parsed.
 */
import { isUtf8 } from 'node:buffer';
import { createHash, randomUUID } from 'node:crypto';
import type { LineParser } from './line-parser.ts';
import { createImportTally, type RejectedLine, type TallyResult } from './import-tally.ts';
import { createLineSplitter, cutAfterLines } from './line-splitter.ts';
import { LogRecord } from './log-record.ts';
import type { LogSource } from './source.ts';
import type { EventSubmitter, SubmitBatch, SubmitOutcome } from './submit.ts';

export interface ImportProgress {
  file: string;
  /** Raw (on-disk) bytes read of all files so far, and their total when known. */
  bytes: number;
  totalBytes: number | undefined;
  lines: number;
  events: number;
  rejected: number;
}

export type { RejectedLine } from './import-tally.ts';

export interface ImportSummary {
  files: number;
  lines: number;
  /** Events acknowledged (durable). */
  events: number;
  /** Of those, events the server had acknowledged before under the same Idempotency-Key (an earlier run), not counted again. */
  alreadyImported: number;
  /** Lines rejected (blank lines are neither). */
  rejected: number;
  /** The first rejected lines (at most `maxErrors`). */
  errors: RejectedLine[];
  /** First and last second of the accepted events, and how many distinct seconds they cover. */
  firstSecond: number | undefined;
  lastSecond: number | undefined;
  seconds: number;
  services: string[];
  bytes: number;
  elapsedMs: number;
}

export interface ImportOptions {
  sources: readonly LogSource[];
  parser: LineParser;
  submitter: EventSubmitter;
  /** Longer lines are rejected without being held in memory. */
  maxLineBytes: number;
  /** Records per submitted batch. Default 50,000. */
  batchSize?: number;
  /** Rejected lines kept for the summary. Default 100. */
  maxErrors?: number;
  /**
   * Everything besides the file that decides a batch's events (format, service, mapping, batch
   * size): part of each batch's Idempotency-Key, so a re-run with the same options sends the same
   * keys (and is not counted twice) while a run with other options is not taken for a retry.
   * Default ''.
   */
  keyScope?: string;
  onProgress?: (p: ImportProgress) => void;
}

/** Only white space (what trim() removes), without making the trimmed string: a line's first character nearly always decides. */
const isBlank = (s: string): boolean => {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!(c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0xfeff || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000)) return false;
  }
  return true;
};

/** Sentinel of parseLineInto: the line is blank (neither an event nor a rejection). */
export const BLANK = '';

/**
 * One line into `batch`: undefined when added, BLANK when blank, else why it is rejected.
 * Hot path: one decode, one parse, one validation.
 */
export function parseLineInto(buf: Buffer, start: number, end: number, parser: LineParser, rec: LogRecord, batch: SubmitBatch): string | undefined {
  const text = buf.toString('utf8', start, end);
  if (text.includes('\uFFFD') && !isUtf8(buf.subarray(start, end))) return 'not valid UTF-8 (binary data?)';
  if (isBlank(text)) return BLANK;
  return parser.parse(text, rec) ?? batch.add(rec);
}

export async function runImport(opts: ImportOptions): Promise<ImportSummary> {
  const { parser, submitter, maxLineBytes } = opts;
  const batchSize = opts.batchSize ?? 50_000;
  const maxErrors = opts.maxErrors ?? 100;
  const started = performance.now();
  const runId = randomUUID();
  const rec = new LogRecord();
  const tally = createImportTally(maxErrors);
  let events = 0;
  let alreadyImported = 0;
  let rawBytes = 0;
  let seq = 0;
  const knownTotal = opts.sources.every((s) => s.size !== undefined) ? opts.sources.reduce((n, s) => n + (s.size ?? 0), 0) : undefined;

  /** The batch being filled, with the file line of each record in it. */
  let batch: SubmitBatch = submitter.createBatch(batchSize);
  let batchLines = new Int32Array(batchSize);
  let batchFile = '';
  let batchIdentity: string | undefined;
  /** The batch being made durable. */
  let inFlight: Promise<void> | undefined;

  const settle = (outcome: SubmitOutcome, file: string, linesOf: Int32Array): void => {
    events += outcome.accepted;
    if (outcome.replayed === true) alreadyImported += outcome.accepted;
    for (const e of outcome.errors) tally.reject(file, linesOf[e.index] ?? 0, e.reason);
    // Rejections beyond the ones the server listed still count.
    tally.rejected += Math.max(0, outcome.rejected - outcome.errors.length);
  };

  const ship = async (): Promise<void> => {
    if (batch.length === 0) return;
    const full = batch;
    const linesOf = batchLines;
    const file = batchFile;
    // A file's batches are named by its identity and their line range, the same in every run
    // over the same bytes; stdin has no identity to find again, its keys only cover retries.
    const key =
      batchIdentity === undefined
        ? `rtm-import-${runId}-${seq++}`
        : `rtm-import-${createHash('sha256').update(`${opts.keyScope ?? ''}\n${batchIdentity}\n${linesOf[0]}-${linesOf[full.length - 1]}`).digest('base64url')}`;
    batch = submitter.createBatch(batchSize);
    batchLines = new Int32Array(batchSize);
    if (inFlight) await inFlight;
    inFlight = submitter.submit(full, key).then((outcome) => settle(outcome, file, linesOf));
  };

  for (const source of opts.sources) {
    const file = source.name;
    if (batch.length > 0 && batchFile !== file) await ship();
    batchFile = file;
    batchIdentity = source.identity;
    let pendingShip = false;
    const splitter = createLineSplitter(
      {
        // Hot path: per line one decode, one parse, one validation into the batch.
        line(buf, start, end, line) {
          const reason = parseLineInto(buf, start, end, parser, rec, batch);
          if (reason === BLANK) return;
          tally.lines++;
          if (reason !== undefined) {
            tally.reject(file, line, reason);
            return;
          }
          batchLines[batch.length - 1] = line;
          tally.accept(rec);
          if (batch.length >= batchSize) pendingShip = true;
        },
        tooLong(line, bytes) {
          tally.lines++;
          tally.reject(file, line, `line is ${bytes} bytes, longer than the limit of ${maxLineBytes} bytes`);
        },
      },
      { maxLineBytes },
    );
    const onChunkLines = async (): Promise<void> => {
      if (pendingShip) {
        pendingShip = false;
        await ship();
      }
    };
    for await (const chunk of source.chunks((n) => (rawBytes += n))) {
      // A 1 MiB chunk holds a few thousand lines: the batch may overshoot batchSize within one
      // chunk, so lines are fed in slices that fit.
      let pos = 0;
      while (pos < chunk.length) {
        const room = batchSize - batch.length;
        const cut = cutAfterLines(chunk, pos, room);
        splitter.push(pos === 0 && cut === chunk.length ? chunk : chunk.subarray(pos, cut));
        pos = cut;
        await onChunkLines();
      }
      opts.onProgress?.({ file, bytes: rawBytes, totalBytes: knownTotal, lines: tally.lines, events, rejected: tally.rejected });
    }
    splitter.end();
    await onChunkLines();
  }
  await ship();
  if (inFlight) await inFlight;
  opts.onProgress?.({ file: '', bytes: rawBytes, totalBytes: knownTotal, lines: tally.lines, events, rejected: tally.rejected });

  return summaryOf(opts.sources.length, tally.result(), events, alreadyImported, rawBytes, started);
}

/** The summary of an import from its tally and what was acknowledged. */
export function summaryOf(
  files: number,
  tally: TallyResult,
  events: number,
  alreadyImported: number,
  bytes: number,
  started: number,
): ImportSummary {
  return {
    files,
    lines: tally.lines,
    events,
    alreadyImported,
    rejected: tally.rejected,
    errors: tally.errors,
    firstSecond: tally.firstSecond,
    lastSecond: tally.lastSecond,
    seconds: tally.seconds,
    services: tally.services,
    bytes,
    elapsedMs: performance.now() - started,
  };
}
