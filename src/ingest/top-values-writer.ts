/**
 * Writes the top values of each minute (aggregate/top-values-tracker.ts) through the ingest
 * sink once the minute is over: every few seconds, and everything on close. The parts then
 * travel like any acknowledged events (WAL, store, every tier, other nodes' reads). Parts still
 * in memory when the process dies are lost; readers count those events in requests_error (their
 * edge requests exceed what the parts counted: model/top-values.ts).
 */
import type { Logger } from 'pino';
import type { TopValueCounts } from '../aggregate/top-value-counts.ts';
import { createTopValuesTracker } from '../aggregate/top-values-tracker.ts';
import type { Clock } from '../model/clock.ts';
import type { IngestSink } from './sink.ts';

export interface TopValuesWriter {
  /** Adds an acknowledged body's counts. */
  add(counts: TopValueCounts): void;
  /** Writes the parts of every minute that is over (every part with `all`); resolves once they are durable. */
  write(all?: boolean): Promise<void>;
  /** Values followed in memory. */
  size(): number;
  /** Stops the timer and writes every part. */
  close(): Promise<void>;
}

export interface TopValuesWriterOptions {
  sink: Pick<IngestSink, 'ingestDelta'>;
  clock: Clock;
  logger: Logger;
  /** Seconds after a minute's end before it is written (late events still join it). */
  graceSeconds: number;
  /** Between writes; default 5 s. 0: no timer (tests call write). */
  intervalMs?: number;
}

export function startTopValuesWriter(opts: TopValuesWriterOptions): TopValuesWriter {
  const tracker = createTopValuesTracker({ graceSeconds: opts.graceSeconds });
  let writing: Promise<void> = Promise.resolve();
  const write = (all = false): Promise<void> => {
    const delta = all ? tracker.takeAll() : tracker.takeDue(Math.floor(opts.clock.now() / 1000));
    if (delta === undefined) return writing;
    writing = writing.then(() => opts.sink.ingestDelta(delta)).catch((err: unknown) => opts.logger.error({ err }, 'writing top values failed'));
    return writing;
  };
  const interval = opts.intervalMs ?? 5000;
  const timer = interval > 0 ? setInterval(() => void write(), interval) : undefined;
  timer?.unref();
  return {
    add: (counts) => tracker.add(counts),
    write,
    size: () => tracker.size(),
    async close() {
      if (timer !== undefined) clearInterval(timer);
      await write(true);
    },
  };
}
