/**
 * The background refresh of a node's in-memory copy of a table every node shares (the tokens, the
 * catalog): a read `refreshMs` after the previous one ended, until stopped, and the report of its
 * failures. A chain of timeouts, not an interval: reads never overlap, and a slow one delays the next.
 */

export interface RefreshLoop {
  /** Stops the timer and waits for the read in progress, if any. */
  stop(): Promise<void>;
}

/** Starts the loop; `read` reports its own failures (a rejection is ignored here). */
export function startRefreshLoop(refreshMs: number, read: () => Promise<void>): RefreshLoop {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let reading: Promise<void> | undefined;
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      reading = read()
        .catch(() => undefined)
        .finally(() => {
          reading = undefined;
          schedule();
        });
    }, refreshMs);
    timer.unref();
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await reading;
    },
  };
}

/** Told of the first failure of a run and of every REPORT_EVERY-th after it: a shard away for an hour logs a line a minute, not one a second. */
const REPORT_EVERY = 60;

export interface FailureReport {
  failed(err: unknown): void;
  succeeded(): void;
  /** The last attempt failed. */
  readonly failing: boolean;
}

export function createFailureReport(report: ((err: unknown, failuresInARow: number) => void) | undefined): FailureReport {
  let failures = 0;
  return {
    failed(err) {
      failures++;
      if (failures === 1 || failures % REPORT_EVERY === 0) report?.(err, failures);
    },
    succeeded() {
      failures = 0;
    },
    get failing() {
      return failures > 0;
    },
  };
}
