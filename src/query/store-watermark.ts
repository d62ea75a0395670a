/**
 * Up to which second the store holds every published second: what a query that reads the store
 * only (products, status and method breakdowns, which the window does not keep) may call final.
 *
 * An adapter around what the ingest pipeline is given, so the pipeline itself is untouched: its
 * writer asks the window for latestPublished() (P), drains every pending second <= P and, in
 * the same tick, appends them to the store (or appends nothing when nothing was pending). So
 * once that append resolves, or when no append follows in that tick, the store holds every
 * second <= P. Writes run one at a time, so an earlier one has finished by then.
 */
import type { PipelineStore, PipelineWindow } from '../ingest/pipeline.ts';

export interface StoreWatermark<S extends PipelineStore> {
  /** The store to give the pipeline. */
  store: S;
  /** The window to give the pipeline. */
  window: PipelineWindow;
  /** Every published second <= this one is in the store; -Infinity before the first write. */
  storedThrough(): number;
  /** A store append is in progress (its rows are neither pending nor stored yet). */
  appending(): boolean;
}

export function createStoreWatermark<S extends PipelineStore>(store: S, window: PipelineWindow): StoreWatermark<S> {
  let through = Number.NEGATIVE_INFINITY;
  let asked = Number.NEGATIVE_INFINITY;
  let appendedSinceAsk = false;
  let inFlight = 0;
  const wrapped: S = {
    ...store,
    async append(lsn, delta) {
      appendedSinceAsk = true;
      const covers = asked;
      inFlight++;
      try {
        await store.append(lsn, delta);
        through = Math.max(through, covers);
      } finally {
        inFlight--;
      }
    },
  };
  return {
    store: wrapped,
    window: {
      apply: (delta) => window.apply(delta),
      latestPublished() {
        const published = window.latestPublished();
        asked = published;
        appendedSinceAsk = false;
        queueMicrotask(() => {
          if (!appendedSinceAsk && inFlight === 0) through = Math.max(through, published);
        });
        return published;
      },
    },
    storedThrough: () => through,
    appending: () => inFlight > 0,
  };
}
