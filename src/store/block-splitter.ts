/**
 * The store writes' CPU work, on a worker thread when one is wanted: cutting a write into its 1 s
 * blocks (model/delta-concat.ts splitToBlockBytes) and summing a rollup flush per key and bucket
 * (model/key-sums.ts sumAllByKey). Both are a pass per row, and the main thread, which also takes
 * the HTTP requests, the WAL and the window, is what bounds ingest. The delta is copied to the
 * worker (the caller keeps using it: the rollup buffer holds it) and the results come back
 * transferred. A sums job may hand its delta over instead (`owned`: the caller's own copy, as a
 * rollup flush's concatenation is): it is transferred, not copied, and left detached here. A
 * worker that fails or dies is replaced by the in-thread work for good, logged; a job whose delta
 * it held is then rejected, not redone (its caller retries from its own records).
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { splitToBlockBytes, type ServiceBlockBytes } from '../model/delta-concat.ts';
import { deltaBuffers, RECORD_KIND_NAMES, type Delta, type RecordKind } from '../model/delta.ts';
import { sumAllByKey, type KeySums } from '../model/key-sums.ts';

/** A rollup flush's sums: per record kind, one KeySums per asked bucket width (in that order). */
export type RollupSums = Record<RecordKind, KeySums[]>;

/** A job for the worker (or for this thread when there is none). */
type JobRequest = { job: 'split'; delta: Delta } | { job: 'sums'; delta: Delta; bucketSeconds: number[] };

/** A job in flight: `moved` when its delta was transferred to the worker (gone from this thread). */
interface Waiting {
  req: JobRequest;
  moved: boolean;
  resolve: (r: ServiceBlockBytes[] | RollupSums) => void;
  reject: (e: unknown) => void;
}

export type BlockSplitRequest = JobRequest & { id: number };

export type BlockSplitReply = { id: number; blocks: ServiceBlockBytes[] } | { id: number; sums: RollupSums } | { id: number; failure: string };

export interface BlockSplitter {
  split(delta: Delta): Promise<ServiceBlockBytes[]>;
  /**
   * The sums of every record kind of `delta` per key and bucket of each width. `owned` (default
   * false): nothing else holds `delta`'s buffers, so they are transferred to the worker, and
   * `delta` is unusable (detached) afterwards.
   */
  sums(delta: Delta, bucketSeconds: readonly number[], owned?: boolean): Promise<RollupSums>;
  close(): Promise<void>;
}

/** The sums job, in whichever thread runs it. */
export function rollupSums(delta: Delta, bucketSeconds: readonly number[]): RollupSums {
  const out = {} as RollupSums;
  for (const kind of RECORD_KIND_NAMES) out[kind] = sumAllByKey(delta, kind, bucketSeconds);
  return out;
}

/** The buffers of a reply, to transfer. */
export function transferablesOf(reply: BlockSplitReply): ArrayBuffer[] {
  if ('blocks' in reply) return reply.blocks.map((b) => b.bytes.buffer as ArrayBuffer);
  if (!('sums' in reply)) return [];
  const out = new Set<ArrayBuffer>();
  for (const kind of RECORD_KIND_NAMES) {
    for (const s of reply.sums[kind]) for (const a of [s.bucket, s.keys, s.fieldStart, s.ids, s.sums]) out.add(a.buffer as ArrayBuffer);
  }
  return [...out];
}

export interface BlockSplitterOptions {
  /** Split on a worker thread. Default false (in-thread). */
  worker?: boolean;
  /** Where a failed worker is reported. */
  logger?: Pick<Logger, 'error'>;
}

const WORKER_URL = new URL('./block-split-worker-entry.mjs', import.meta.url);

const runHere = (req: JobRequest): ServiceBlockBytes[] | RollupSums => (req.job === 'split' ? splitToBlockBytes(req.delta) : rollupSums(req.delta, req.bucketSeconds));

export function createBlockSplitter(opts: BlockSplitterOptions = {}): BlockSplitter {
  if (opts.worker !== true) {
    return { split: async (delta) => splitToBlockBytes(delta), sums: async (delta, widths) => rollupSums(delta, widths), close: async () => undefined };
  }
  let worker: Worker | undefined = new Worker(WORKER_URL);
  worker.unref();
  let nextId = 0;
  const waiting = new Map<number, Waiting>();
  const giveUp = (err: unknown): void => {
    if (worker === undefined) return;
    opts.logger?.error({ err }, 'block-split worker failed; doing the store writes\' work in-thread from now on');
    const dead = worker;
    worker = undefined;
    void dead.terminate();
    // What was in flight is done here: the store write goes on.
    for (const [id, w] of waiting) {
      waiting.delete(id);
      if (w.moved) {
        w.reject(new Error('the block-split worker died holding this job\'s delta'));
        continue;
      }
      try {
        w.resolve(runHere(w.req));
      } catch (e) {
        w.reject(e);
      }
    }
  };
  worker.on('message', (reply: BlockSplitReply) => {
    const w = waiting.get(reply.id);
    if (w === undefined) return;
    waiting.delete(reply.id);
    // A job that fails on the worker fails the same way here (bad input, not a dead worker).
    if ('failure' in reply) w.reject(new RangeError(reply.failure));
    else w.resolve('blocks' in reply ? reply.blocks : reply.sums);
  });
  worker.on('error', giveUp);
  worker.on('exit', (code) => giveUp(new Error(`block-split worker exited with code ${code}`)));
  const run = (req: JobRequest, move = false): Promise<ServiceBlockBytes[] | RollupSums> => {
    if (worker === undefined) return Promise.resolve().then(() => runHere(req));
    const id = nextId++;
    return new Promise((resolve, reject) => {
      waiting.set(id, { req, moved: move, resolve, reject });
      worker?.postMessage({ ...req, id } satisfies BlockSplitRequest, move ? deltaBuffers(req.delta) : []);
    });
  };
  return {
    split: async (delta) => (await run({ job: 'split', delta })) as ServiceBlockBytes[],
    sums: async (delta, bucketSeconds, owned = false) => (await run({ job: 'sums', delta, bucketSeconds: [...bucketSeconds] }, owned)) as RollupSums,
    async close() {
      const w = worker;
      worker = undefined;
      if (w) await w.terminate();
      for (const [, p] of waiting) p.reject(new Error('the block splitter is closed'));
      waiting.clear();
    },
  };
}
