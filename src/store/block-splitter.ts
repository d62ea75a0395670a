/**
 * Cuts store writes into their 1 s blocks (model/delta-concat.ts splitToBlockBytes), on a worker
 * thread when one is wanted: the split is a copy per row, and the main thread, which also takes
 * the HTTP requests, the WAL and the window, is what bounds ingest. The delta is copied to the
 * worker (the caller keeps using it: the rollup buffer holds it) and the blocks come back
 * transferred. A worker that fails or dies is replaced by the in-thread split for good, logged.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { splitToBlockBytes, type ServiceBlockBytes } from '../model/delta-concat.ts';
import type { Delta } from '../model/delta.ts';

export interface BlockSplitRequest {
  id: number;
  delta: Delta;
}

export type BlockSplitReply = { id: number; blocks: ServiceBlockBytes[] } | { id: number; failure: string };

export interface BlockSplitter {
  split(delta: Delta): Promise<ServiceBlockBytes[]>;
  close(): Promise<void>;
}

export interface BlockSplitterOptions {
  /** Split on a worker thread. Default false (in-thread). */
  worker?: boolean;
  /** Where a failed worker is reported. */
  logger?: Pick<Logger, 'error'>;
}

const WORKER_URL = new URL('./block-split-worker-entry.mjs', import.meta.url);

export function createBlockSplitter(opts: BlockSplitterOptions = {}): BlockSplitter {
  if (opts.worker !== true) return { split: async (delta) => splitToBlockBytes(delta), close: async () => undefined };
  let worker: Worker | undefined = new Worker(WORKER_URL);
  worker.unref();
  let nextId = 0;
  const waiting = new Map<number, { delta: Delta; resolve: (b: ServiceBlockBytes[]) => void; reject: (e: unknown) => void }>();
  const giveUp = (err: unknown): void => {
    if (worker === undefined) return;
    opts.logger?.error({ err }, 'block-split worker failed; splitting store writes in-thread from now on');
    const dead = worker;
    worker = undefined;
    void dead.terminate();
    // What was in flight is split here: the store write goes on.
    for (const [id, w] of waiting) {
      waiting.delete(id);
      try {
        w.resolve(splitToBlockBytes(w.delta));
      } catch (e) {
        w.reject(e);
      }
    }
  };
  worker.on('message', (reply: BlockSplitReply) => {
    const w = waiting.get(reply.id);
    if (w === undefined) return;
    waiting.delete(reply.id);
    // A split that fails on the worker fails the same way here (bad input, not a dead worker).
    if ('failure' in reply) w.reject(new RangeError(reply.failure));
    else w.resolve(reply.blocks);
  });
  worker.on('error', giveUp);
  worker.on('exit', (code) => giveUp(new Error(`block-split worker exited with code ${code}`)));
  return {
    split(delta) {
      if (worker === undefined) return Promise.resolve().then(() => splitToBlockBytes(delta));
      const id = nextId++;
      return new Promise((resolve, reject) => {
        waiting.set(id, { delta, resolve, reject });
        worker?.postMessage({ id, delta } satisfies BlockSplitRequest);
      });
    },
    async close() {
      const w = worker;
      worker = undefined;
      if (w) await w.terminate();
      for (const [, p] of waiting) p.reject(new Error('the block splitter is closed'));
      waiting.clear();
    },
  };
}
