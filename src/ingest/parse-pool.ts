/**
 * Parses NDJSON bodies on worker threads, so the main thread (the bottleneck of POST /ingest)
 * only maps ids and checks services. Each worker interns into its own Dictionaries and sends
 * the names it added with each reply; the main thread keeps, per worker, an Int32Array from the
 * worker's ids to its own, filled lazily (so names of refused lines are never interned here).
 * The per-token service check (permissions and the service quota, stateful) runs here, once per
 * distinct service of a body, and refuses the events of a refused service with their lines.
 * One difference from parsing in-thread: a line with a refused service AND another invalid
 * field reports the other field's reason (the worker checks fields first).
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Dictionaries } from '../model/dictionary.ts';
import type { EventBatch } from '../model/event.ts';
import { parseNdjson, type LineError, type ParseOptions, type ParseResult } from './ndjson-parser.ts';
import { DICTIONARY_NAMES, type DictionaryName, type WorkerReply, type WorkerRequest } from './parse-protocol.ts';

export interface ParsePoolOptions {
  /** Worker threads (>= 1). */
  workers: number;
  /** Smaller bodies are parsed on the calling thread: the round trip would cost more. Default 64 KiB. */
  minBodyBytes?: number;
  /** Where a dead worker is reported. Default: nowhere. */
  logger?: Pick<Logger, 'error'>;
}

export interface ParsePool {
  /** What parseNdjson(body, opts) gives (but the note above); `opts.jsonParseOnly` is ignored. */
  parse(body: Buffer, opts: ParseOptions): Promise<ParseResult>;
  /** Live workers. */
  readonly workers: number;
  /** Stops the workers; parses in flight are rejected. */
  close(): Promise<void>;
}

interface Waiting {
  opts: ParseOptions;
  resolve: (result: ParseResult) => void;
  reject: (err: unknown) => void;
}

interface Slot {
  worker: Worker;
  /** It has answered once: it can start, so a replacement is worth spawning when it dies. */
  answered: boolean;
  waiting: Map<number, Waiting>;
  /** The worker's names by its ids. */
  names: Record<DictionaryName, string[]>;
  /** Per main-thread Dictionaries (one per sink), the worker's ids -> its ids (-1: not mapped yet). */
  ids: WeakMap<Dictionaries, Record<DictionaryName, Int32Array>>;
}

const emptyIds = (): Record<DictionaryName, Int32Array> => ({
  service: new Int32Array(0),
  datacenter: new Int32Array(0),
  domain: new Int32Array(0),
  backend: new Int32Array(0),
  method: new Int32Array(0),
});

const WORKER_URL = new URL('./parse-worker-entry.mjs', import.meta.url);
const ID_COLUMNS = DICTIONARY_NAMES;

/** Merges two line-ordered error lists, keeping the first `max`. */
function mergeErrors(a: readonly LineError[], b: readonly LineError[], max: number): LineError[] {
  const out: LineError[] = [];
  let i = 0;
  let j = 0;
  while (out.length < max && (i < a.length || j < b.length)) {
    const x = a[i];
    const y = b[j];
    if (y === undefined || (x !== undefined && x.line <= y.line)) {
      out.push(x as LineError);
      i++;
    } else {
      out.push(y);
      j++;
    }
  }
  return out;
}

/**
 * The worker's batch made the main thread's: refused services dropped (with their lines), ids
 * mapped, in place. Per event: a few typed-array reads and writes.
 */
function adopt(slot: Slot, reply: WorkerReply, opts: ParseOptions, dicts: Dictionaries): ParseResult {
  let ids = slot.ids.get(dicts);
  if (ids === undefined) slot.ids.set(dicts, (ids = emptyIds()));
  for (const d of DICTIONARY_NAMES) {
    const names = slot.names[d];
    for (const name of reply.names[d]) names.push(name);
    const held = ids[d];
    if (held.length < names.length) {
      const grown = new Int32Array(Math.max(names.length, held.length * 2)).fill(-1);
      grown.set(held);
      ids[d] = grown;
    }
  }
  const b = reply.batch;
  const n = b.length;
  const columns = (Object.keys(b) as (keyof EventBatch)[]).filter((k) => k !== 'length').map((k) => b[k] as Float64Array);
  const idColumns = ID_COLUMNS.map((d) => b[d]);
  const maps = ID_COLUMNS.map((d) => (ids as Record<DictionaryName, Int32Array>)[d]);
  const maxErrors = opts.maxErrors ?? Number.POSITIVE_INFINITY;
  const verdicts = new Map<number, string | undefined>();
  const refused: LineError[] = [];
  let refusedCount = 0;
  let kept = 0;
  for (let i = 0; i < n; i++) {
    if (opts.acceptService !== undefined) {
      const s = b.service[i] as number;
      let reason = verdicts.get(s);
      if (reason === undefined && !verdicts.has(s)) {
        reason = opts.acceptService(slot.names.service[s] as string);
        verdicts.set(s, reason);
      }
      if (reason !== undefined) {
        refusedCount++;
        if (refused.length < maxErrors) refused.push({ line: reply.lines[i] as number, reason });
        continue;
      }
    }
    if (kept !== i) for (const col of columns) col[kept] = col[i] as number;
    for (let c = 0; c < idColumns.length; c++) {
      const col = idColumns[c] as Int32Array;
      const map = maps[c] as Int32Array;
      const local = col[kept] as number;
      let id = map[local] as number;
      if (id < 0) {
        const d = ID_COLUMNS[c] as DictionaryName;
        id = dicts[d].id(slot.names[d][local] as string);
        map[local] = id;
      }
      col[kept] = id;
    }
    kept++;
  }
  b.length = kept;
  return {
    batch: b,
    accepted: kept,
    rejected: reply.rejected + refusedCount,
    errors: refusedCount === 0 ? reply.errors : mergeErrors(reply.errors, refused, maxErrors),
    tooManyEvents: reply.tooManyEvents,
  };
}

export function createParsePool({ workers, minBodyBytes = 64 * 1024, logger }: ParsePoolOptions): ParsePool {
  if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`a parse pool needs at least one worker, got ${workers}`);
  let nextId = 0;
  let closing = false;

  const spawn = (): Slot => {
    const worker = new Worker(WORKER_URL);
    worker.unref();
    const slot: Slot = {
      worker,
      answered: false,
      waiting: new Map(),
      names: { service: [], datacenter: [], domain: [], backend: [], method: [] },
      ids: new WeakMap(),
    };
    worker.on('message', (reply: WorkerReply) => {
      slot.answered = true;
      const w = slot.waiting.get(reply.id);
      if (w === undefined) return;
      slot.waiting.delete(reply.id);
      try {
        w.resolve(adopt(slot, reply, w.opts, w.opts.dictionaries));
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
      // A fresh worker (with fresh names) takes the place of one that worked; one that never
      // answered is dropped (no respawn loop), and with none left bodies parse in-thread.
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
      if (body.length < minBodyBytes || slots.length === 0) return Promise.resolve(parseNdjson(body, opts));
      let slot = slots[0] as Slot;
      for (const s of slots) if (s.waiting.size < slot.waiting.size) slot = s;
      const id = nextId++;
      // A copy of exactly the body's bytes (unpooled, not zero-filled first), moved to the worker.
      const bytes = Buffer.allocUnsafeSlow(body.length);
      body.copy(bytes);
      const req: WorkerRequest = { id, body: bytes, maxLineBytes: opts.maxLineBytes, maxEvents: opts.maxEvents, maxSecond: opts.maxSecond, maxErrors: opts.maxErrors };
      const target = slot;
      return new Promise<ParseResult>((resolve, reject) => {
        target.waiting.set(id, { opts, resolve, reject });
        target.worker.postMessage(req, [bytes.buffer]);
      });
    },
    async close() {
      closing = true;
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}
