/**
 * Parses and aggregates NDJSON bodies on worker threads (parse-worker.ts), so the main thread
 * (the bottleneck of POST /ingest) neither parses, maps ids nor aggregates: a worker returns the
 * body's Delta (its arrays transferred) and its distinct services, and the main thread only runs
 * the per-token admission over those services (parse-body.ts admitDelta) and drops the rows of
 * the refused ones. Small bodies are parsed in-thread (parseInThread), with the same answers.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { ParseOptions } from './ndjson-parser.ts';
import { admitDelta, parseInThread, type ParsedBody } from './parse-body.ts';
import type { WorkerData, WorkerFailure, WorkerReply, WorkerRequest } from './parse-protocol.ts';

export interface ParsePoolOptions {
  /** Worker threads (>= 1). */
  workers: number;
  /** Smaller bodies are parsed on the calling thread: the round trip would cost more. Default 64 KiB. */
  minBodyBytes?: number;
  /** Where a dead worker is reported. Default: nowhere. */
  logger?: Pick<Logger, 'error'>;
  /** Names a worker's dictionaries hold before it starts them again. Default 1M (tests set less). */
  workerMaxNames?: number;
}

export interface ParsePool {
  /**
   * The body parsed and admitted: what parseInThread(body, opts) answers; the events are a
   * worker's delta for a body of minBodyBytes or more. `opts.jsonParseOnly` is ignored.
   */
  parse(body: Buffer, opts: ParseOptions): Promise<ParsedBody>;
  /** Live workers. */
  readonly workers: number;
  /** Stops the workers; parses in flight are rejected. */
  close(): Promise<void>;
}

interface Waiting {
  opts: ParseOptions;
  /** Parsed again here when the admission folds some of its values into __other__ (parse-body.ts admitDelta). */
  body: Buffer;
  resolve: (result: ParsedBody) => void;
  reject: (err: unknown) => void;
}

interface Slot {
  worker: Worker;
  /** It has answered once: it can start, so a replacement is worth spawning when it dies. */
  answered: boolean;
  waiting: Map<number, Waiting>;
}

const WORKER_URL = new URL('./parse-worker-entry.mjs', import.meta.url);

export function createParsePool({ workers, minBodyBytes = 64 * 1024, logger, workerMaxNames }: ParsePoolOptions): ParsePool {
  if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`a parse pool needs at least one worker, got ${workers}`);
  let nextId = 0;
  let closing = false;

  const spawn = (): Slot => {
    const data: WorkerData = { maxNames: workerMaxNames };
    const worker = new Worker(WORKER_URL, { workerData: data });
    worker.unref();
    const slot: Slot = { worker, answered: false, waiting: new Map() };
    worker.on('message', (reply: WorkerReply | WorkerFailure) => {
      slot.answered = true;
      const w = slot.waiting.get(reply.id);
      if (w === undefined) return;
      slot.waiting.delete(reply.id);
      if ('failure' in reply) {
        w.reject(new Error(`parse worker failed: ${reply.failure}`));
        return;
      }
      try {
        w.resolve(admitDelta(reply, w.opts, w.body));
      } catch (err) {
        w.reject(err);
      }
    });
    const fail = (err: unknown): void => {
      for (const w of slot.waiting.values()) w.reject(err);
      slot.waiting.clear();
      const at = slots.indexOf(slot);
      if (at < 0 || closing) return;
      logger?.error({ err }, 'parse worker died');
      // A fresh worker takes the place of one that worked; one that never answered is dropped
      // (no respawn loop), and with none left bodies parse in-thread.
      if (slot.answered) slots[at] = spawn();
      else slots.splice(at, 1);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`parse worker exited with code ${code}`)));
    return slot;
  };
  const slots: Slot[] = Array.from({ length: workers }, spawn);

  return {
    get workers() {
      return slots.length;
    },
    parse(body, opts) {
      if (closing) return Promise.reject(new Error('parse pool is closed'));
      if (body.length < minBodyBytes || slots.length === 0) {
        try {
          return Promise.resolve(parseInThread(body, opts));
        } catch (err) {
          return Promise.reject(err);
        }
      }
      let slot = slots[0] as Slot;
      for (const s of slots) if (s.waiting.size < slot.waiting.size) slot = s;
      const id = nextId++;
      // A copy of exactly the body's bytes (unpooled, not zero-filled first), moved to the worker.
      const bytes = Buffer.allocUnsafeSlow(body.length);
      body.copy(bytes);
      const req: WorkerRequest = { id, body: bytes, maxLineBytes: opts.maxLineBytes, maxEvents: opts.maxEvents, maxSecond: opts.maxSecond, maxErrors: opts.maxErrors, keepPathQuery: opts.keepPathQuery, skipTopValues: opts.skipTopValues, skipDistributions: opts.skipDistributions };
      const target = slot;
      return new Promise<ParsedBody>((resolve, reject) => {
        target.waiting.set(id, { opts, body, resolve, reject });
        target.worker.postMessage(req, [bytes.buffer]);
      });
    },
    async close() {
      closing = true;
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}
