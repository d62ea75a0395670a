/**
 * The real-time view of a node that shares its store with other nodes (RTM_STORE=clickhouse):
 * its window holds only the events this node acknowledged, so every second is read from the
 * store, where all nodes' writes meet. A second is published once
 * - this node has written every published second up to it to the store (storedThrough, or it
 *   holds nothing the store lacks), and
 * - the clock is `delaySeconds` past its end (AggregateDelay plus the read lag that covers the
 *   other nodes' store writes, config.realtimeDelaySeconds),
 * so a cursor client polling any node sees each second once, with every node's events in it.
 * A WindowView for createRealtimeReader: it reports no second held in memory (oldestSecond is
 * +Infinity), so the reader sends every range to the store.
 */
import type { WindowView } from './realtime-reader.ts';
import type { Clock } from '../../model/clock.ts';

export interface StoreReadHorizonOptions {
  clock: Clock;
  /** Every second <= this one that this node published is in the store (createStoreWatermark). */
  storedThrough: () => number;
  /**
   * This node holds no row the store lacks: none pending and no append in progress (then every
   * second it published is in the store, whatever storedThrough last said).
   */
  settled: () => boolean;
  /** Seconds after a second's end before it is published (config.realtimeDelaySeconds). */
  delaySeconds: number;
}

const none = async (): Promise<never[]> => [];

export function storeReadHorizon(opts: StoreReadHorizonOptions): WindowView {
  const { clock, storedThrough, settled, delaySeconds } = opts;
  return {
    oldestSecond: () => Number.POSITIVE_INFINITY,
    latestPublished() {
      const byClock = Math.floor(clock.now() / 1000) - delaySeconds - 1;
      return settled() ? byClock : Math.min(storedThrough(), byClock);
    },
    // Never asked (no second is held here): the reader reads every range from the store.
    channel: none,
    domains: none,
    origins: none,
  };
}
