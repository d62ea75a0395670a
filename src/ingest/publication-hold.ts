/**
 * The publication watermark of the ingest path (docs/decisions.md, "Publication waits for the
 * requests in flight"): a second must not be published while an ingest request that may carry
 * events for it is still running, else a `ts/{t}` cursor that moved past it never sees them.
 *
 * A request that arrives at second A may carry events up to A (and a little ahead); the window
 * had published through A - AggregateDelay - 1 when it arrived, so events for earlier seconds
 * are late whatever we do. While it runs, publication therefore stops at that second: the bound
 * is the oldest running request's arrival second - AggregateDelay - 1. A request running longer
 * than maxHoldSeconds no longer holds (one stuck client must not stall every poller); its events
 * still reach the window, the store and the rollups, and are counted as late after publish.
 *
 * The window asks bound() on every latestPublished(): O(1) unless requests expired since.
 */
import type { Clock } from '../model/clock.ts';

export interface PublicationHoldOptions {
  clock: Clock;
  /** config.aggregateDelaySeconds. */
  aggregateDelaySeconds: number;
  /** config.maxPublishHoldSeconds; 0 turns the hold off (bound() is always +Infinity). */
  maxHoldSeconds: number;
}

export interface PublicationHold {
  /** A request has arrived (authenticated); call the returned function when it has ended (idempotent). */
  begin(): () => void;
  /** The newest second publication may reach now; +Infinity when nothing holds it. */
  bound(): number;
  /** Requests running now that hold publication, and those that ran past maxHoldSeconds since start (self-metrics). */
  stats(): { holding: number; expired: number };
}

export function createPublicationHold(opts: PublicationHoldOptions): PublicationHold {
  const { clock, aggregateDelaySeconds } = opts;
  const maxHoldMs = opts.maxHoldSeconds * 1000;
  // Insertion order is arrival order (the clock does not go back), so the first entry is the oldest.
  const running = new Map<number, number>();
  let nextId = 0;
  let expired = 0;

  const dropExpired = (now: number): void => {
    for (const [id, at] of running) {
      if (now - at < maxHoldMs) return;
      running.delete(id);
      expired++;
    }
  };

  return {
    begin() {
      if (maxHoldMs <= 0) return () => undefined;
      const id = nextId++;
      running.set(id, clock.now());
      return () => {
        running.delete(id);
      };
    },
    bound() {
      if (running.size === 0) return Number.POSITIVE_INFINITY;
      dropExpired(clock.now());
      const oldest = running.values().next();
      if (oldest.done === true) return Number.POSITIVE_INFINITY;
      return Math.floor(oldest.value / 1000) - aggregateDelaySeconds - 1;
    },
    stats() {
      dropExpired(clock.now());
      return { holding: running.size, expired };
    },
  };
}
