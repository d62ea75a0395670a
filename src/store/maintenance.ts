/**
 * Runs the store's compaction and expiry in the background, one round at a time (a round never
 * overlaps the next). The store does each in short transactions, so ingest and queries go on.
 */
import type { Logger } from 'pino';
import type { Clock } from '../model/clock.ts';
import type { MetricStore } from './store.ts';

export interface StoreMaintenanceOptions {
  store: MetricStore;
  clock: Clock;
  logger: Logger;
  /** Milliseconds between rounds. Default 60,000. */
  intervalMs?: number;
}

export interface StoreMaintenance {
  /** Runs one round now (compact, then expire); for tests and shutdown. */
  runOnce(): Promise<void>;
  /** Stops the timer and waits for a running round. */
  stop(): Promise<void>;
}

export function startStoreMaintenance({ store, clock, logger, intervalMs = 60_000 }: StoreMaintenanceOptions): StoreMaintenance {
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const round = async (): Promise<void> => {
    try {
      await store.compact();
      await store.expire(Math.floor(clock.now() / 1000));
    } catch (err) {
      // The next round retries; the rows stay correct (only not yet folded or dropped).
      logger.warn({ err }, 'store maintenance round failed');
    }
  };
  const runOnce = (): Promise<void> => {
    running = running.then(round);
    return running;
  };
  const timer = setInterval(() => {
    if (!stopped) void runOnce();
  }, intervalMs);
  timer.unref();
  return {
    runOnce,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
