/**
 * Delivers store writes to ClickHouse one at a time, in order, each exactly once (the ledger of
 * ./ledger.ts). With a spool, a write is fsynced to it first; the caller then waits for the
 * delivery only up to `waitMs`: a write still undelivered by then is durable in the spool and
 * goes on being delivered in the background, so a ClickHouse that is away for minutes stalls no
 * WAL truncation and no shutdown (the spool finishes the writes on the next start). Without a
 * spool the caller waits for the delivery itself.
 */
import type { Delta } from '../../model/delta.ts';
import type { WriteSpool } from './write-spool.ts';

export interface QueuedWrite {
  writeId: string;
  lsn: number;
  delta: Delta;
  seconds: readonly number[];
}

export interface WriteQueueOptions {
  /** Sends one write whole, exactly once; rejects when it gives up (store closing, permanent error). */
  send(write: QueuedWrite): Promise<void>;
  spool?: WriteSpool;
  /** Longest wait of a caller for a spooled write's delivery, ms. Default 5,000. */
  waitMs?: number;
  /** A background delivery that failed (its write stays in the spool for the next start). */
  onError?: (err: unknown, write: QueuedWrite) => void;
  /** Clock of the delivery lag, ms. Default Date.now. */
  now?: () => number;
}

export interface WriteQueue {
  /** Resolves once the write is in ClickHouse, or durable in the spool and `waitMs` has passed. */
  enqueue(write: QueuedWrite): Promise<void>;
  /** Writes accepted and not yet in ClickHouse. */
  pending(): number;
  /** When the oldest of those was accepted (ms of `now`), undefined when none. */
  oldestPendingAt(): number | undefined;
  /** Waits for the deliveries in progress to end (the caller stops their retries first). */
  idle(): Promise<void>;
}

export function createWriteQueue(opts: WriteQueueOptions): WriteQueue {
  let tail: Promise<unknown> = Promise.resolve();
  let pending = 0;
  const waitMs = opts.waitMs ?? 5000;
  const now = opts.now ?? Date.now;
  /** Acceptance times of the pending writes, oldest first (deliveries end in order). */
  const accepted: number[] = [];
  return {
    async enqueue(write) {
      const file = await opts.spool?.put(write.writeId, write.lsn, write.delta);
      pending++;
      accepted.push(now());
      const delivered = tail.then(async () => {
        await opts.send(write);
        if (file !== undefined) await opts.spool?.done(file);
      });
      tail = delivered
        .catch(() => undefined)
        .finally(() => {
          pending--;
          accepted.shift();
        });
      if (file === undefined) return delivered;
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<'waited'>((resolve) => (timer = setTimeout(() => resolve('waited'), waitMs)));
      try {
        const outcome = await Promise.race([delivered, waited]);
        if (outcome === 'waited') delivered.catch((err: unknown) => opts.onError?.(err, write));
      } finally {
        clearTimeout(timer);
      }
    },
    pending: () => pending,
    oldestPendingAt: () => accepted[0],
    async idle() {
      await tail;
    },
  };
}
