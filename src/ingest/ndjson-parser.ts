/**
 * NDJSON request bodies to an EventBatch (events.md section 1): one event per line; each bad
 * line is rejected with its number and reason while the good lines of the same body are kept.
 * Written for speed (the ingest hot path): lines are found with Buffer#indexOf, read by the
 * fast byte scanner where it can, and appended to typed arrays that grow by doubling.
 */
import { isUtf8 } from 'node:buffer';
import type { Dictionaries } from '../model/dictionary.ts';
import type { CappedKey } from '../model/other-key.ts';
import { createEventBatch, type EventBatch, type TopValueNames } from '../model/event.ts';
import { scanLine } from './fast-scanner.ts';
import { createRawEvent, fillRawFromObject } from './raw-event.ts';
import { createEventValidator } from './validate-event.ts';

export interface ParseOptions {
  /** The interners the batch's ids come from (the sink's). */
  dictionaries: Dictionaries;
  /** A longer line (bytes, without its line break) is rejected. */
  maxLineBytes: number;
  /** Most events (non-blank lines) in one body; beyond it parsing stops with `tooManyEvents`. */
  maxEvents: number;
  /** Undefined when events of `service` may be ingested, else the reason to reject the line. Default: all may. */
  acceptService?: ((service: string) => string | undefined) | undefined;
  /**
   * Asked after acceptService, once per distinct domain, datacenter and backend (of origin
   * fetches) of each admitted service of a body (the per-service key caps): undefined when the
   * value may be a key of its own, else why its events are counted under OTHER_KEY. Default: all may.
   */
  acceptKey?: ((key: CappedKey, service: string, value: string) => string | undefined) | undefined;
  /** Latest accepted second (server clock plus the allowed skew); later events are rejected. Default: none. */
  maxSecond?: number | undefined;
  /** Most errors kept in `errors` (all are counted in `rejected`). Default: all. */
  maxErrors?: number | undefined;
  /** Read every line with JSON.parse instead of the fast scanner. Default false; tests compare the two. */
  jsonParseOnly?: boolean | undefined;
  /** Fill `ParseResult.lines` (the line of each accepted event). Default false. */
  recordLines?: boolean | undefined;
  /** Keep a path's query string in EventBatch.path (config.keepPathQuery). Default false. */
  keepPathQuery?: boolean | undefined;
  /** Leave EventBatch.path and .clientIp at -1 (config.topValues off). Default false. */
  skipTopValues?: boolean | undefined;
  /** For a parse worker's aggregation: record no distributions (config.distributions off). Default false. */
  skipDistributions?: boolean | undefined;
}

export interface LineError {
  /** 1-based line number in the (decoded) body; blank lines count. */
  line: number;
  reason: string;
}

export interface ParseResult {
  batch: EventBatch;
  accepted: number;
  rejected: number;
  errors: LineError[];
  /**
   * The body has more than `maxEvents` events: parsing stopped there and the batch must not be
   * ingested (the route answers 413 so that a request is taken whole or not at all).
   */
  tooManyEvents: boolean;
  /** With `recordLines`: the 1-based line of each event of `batch`, by index. */
  lines?: Int32Array;
  /** What batch.path and batch.clientIp refer to. */
  topNames: TopValueNames;
}

const NEWLINE = 10;

function isBlank(body: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = body[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}

function hasBom(body: Buffer): boolean {
  return body.length >= 3 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf;
}

/** Doubles the batch's columns until it holds `capacity` events, keeping its events. */
export function ensureCapacity(batch: EventBatch, capacity: number): void {
  const current = batch.second.length;
  if (capacity <= current) return;
  let size = Math.max(current, 16);
  while (size < capacity) size *= 2;
  const grown = createEventBatch(size);
  for (const key of Object.keys(grown) as (keyof EventBatch)[]) {
    if (key === 'length') continue;
    const column = grown[key];
    column.set((batch[key] as typeof column).subarray(0, batch.length) as never);
    (batch as unknown as Record<string, unknown>)[key] = column;
  }
}

function jsonErrorText(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.length > 120 ? `${message.slice(0, 120)}...` : message;
}

/** Parses a whole body. Never throws on bad input: bad lines are counted and reported. */
export function parseNdjson(body: Buffer, opts: ParseOptions): ParseResult {
  const { maxLineBytes, maxEvents } = opts;
  const maxErrors = opts.maxErrors ?? Number.POSITIVE_INFINITY;
  const fast = opts.jsonParseOnly !== true;
  const validator = createEventValidator({ dictionaries: opts.dictionaries, acceptService: opts.acceptService, maxSecond: opts.maxSecond, keepPathQuery: opts.keepPathQuery, skipTopValues: opts.skipTopValues });
  const raw = createRawEvent();
  // Typical events are 150..400 bytes: start near the final size, double if short.
  const batch = createEventBatch(Math.max(16, Math.min(maxEvents, Math.ceil(body.length / 256))));
  const errors: LineError[] = [];
  let lines = opts.recordLines === true ? new Int32Array(batch.second.length) : undefined;
  const accept = (line: number): void => {
    if (lines === undefined) return;
    if (batch.length > lines.length) {
      const grown = new Int32Array(batch.second.length);
      grown.set(lines);
      lines = grown;
    }
    lines[batch.length - 1] = line;
  };
  let rejected = 0;
  let events = 0;
  let tooManyEvents = false;

  const reject = (line: number, reason: string): void => {
    rejected++;
    if (errors.length < maxErrors) errors.push({ line, reason });
  };

  const length = body.length;
  let pos = hasBom(body) ? 3 : 0;
  let line = 0;
  while (pos < length) {
    line++;
    let next = body.indexOf(NEWLINE, pos);
    if (next < 0) next = length;
    const start = pos;
    const end = next > start && body[next - 1] === 0x0d ? next - 1 : next;
    pos = next + 1;
    if (isBlank(body, start, end)) continue;
    if (++events > maxEvents) {
      tooManyEvents = true;
      break;
    }
    if (end - start > maxLineBytes) {
      reject(line, `line is ${end - start} bytes, longer than the limit of ${maxLineBytes} bytes`);
      continue;
    }
    if (batch.length === batch.second.length) ensureCapacity(batch, batch.length + 1);
    if (fast && scanLine(body, start, end, raw)) {
      const reason = validator.append(raw, batch);
      if (reason !== undefined) reject(line, reason);
      else accept(line);
      continue;
    }
    // The careful path: anything the scanner was not sure about.
    const bytes = body.subarray(start, end);
    if (!isUtf8(bytes)) {
      reject(line, 'not valid UTF-8');
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(bytes.toString('utf8'));
    } catch (err) {
      reject(line, `not valid JSON: ${jsonErrorText(err)}`);
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      reject(line, `must be a JSON object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`}`);
      continue;
    }
    fillRawFromObject(raw, value as Record<string, unknown>);
    const reason = validator.append(raw, batch);
    if (reason !== undefined) reject(line, reason);
    else accept(line);
  }

  const result: ParseResult = { batch, accepted: batch.length, rejected, errors, tooManyEvents, topNames: validator.topNames };
  if (lines !== undefined) result.lines = lines.subarray(0, batch.length);
  return result;
}
