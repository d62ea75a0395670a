/**
 * Tells when a new second is published: a timer (only while someone listens) that compares the
 * source's latestPublished() (the injected clock's view) with the last one it saw. The window
 * itself has no timer and no events (src/aggregate/window.ts publishes by the clock alone), so
 * the push APIs (SSE stream, Fastly long-poll) learn of new seconds here.
 */

export interface PublishedSecondsOptions {
  source: { latestPublished(): number };
  /** How often to look, ms. Default 100 (a tenth of a second's latency at most). */
  pollMs?: number;
  /** Told of a failed look or listener (the timer goes on). Default: nowhere. */
  onError?: (err: unknown) => void;
}

export interface PublishedSeconds {
  latest(): number;
  /** Calls `listener(latest)` each time the newest published second moves; returns the unsubscribe. */
  subscribe(listener: (latest: number) => void): () => void;
  /**
   * Resolves with the newest published second once it is > `after`, or with the newest one at
   * `timeoutMs` or when `signal` aborts, whichever comes first.
   */
  waitBeyond(after: number, timeoutMs: number, signal?: AbortSignal): Promise<number>;
  /** Stops the timer; waiters resolve now. */
  close(): void;
}

export function createPublishedSeconds(opts: PublishedSecondsOptions): PublishedSeconds {
  const { source } = opts;
  const pollMs = opts.pollMs ?? 100;
  const listeners = new Set<(latest: number) => void>();
  let last = source.latestPublished();
  let timer: NodeJS.Timeout | undefined;

  const notify = (value: number): void => {
    for (const l of [...listeners]) {
      try {
        l(value);
      } catch (err) {
        opts.onError?.(err);
      }
    }
  };
  // A timer callback that throws is an uncaught exception: the process would die of a failing
  // window read or a listener's bug. Each is caught and reported; the next tick tries again.
  const tick = (): void => {
    let now: number;
    try {
      now = source.latestPublished();
    } catch (err) {
      opts.onError?.(err);
      return;
    }
    if (now <= last) return;
    last = now;
    notify(now);
  };
  const start = (): void => {
    if (timer !== undefined) return;
    last = Math.max(last, source.latestPublished());
    timer = setInterval(tick, pollMs);
    timer.unref();
  };
  const stopIfIdle = (): void => {
    if (listeners.size === 0 && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
    }
  };
  const subscribe = (listener: (latest: number) => void): (() => void) => {
    listeners.add(listener);
    start();
    return () => {
      listeners.delete(listener);
      stopIfIdle();
    };
  };

  return {
    latest: () => Math.max(last, source.latestPublished()),
    subscribe,
    waitBeyond(after, timeoutMs, signal) {
      const now = source.latestPublished();
      if (now > after || timeoutMs <= 0 || signal?.aborted) return Promise.resolve(now);
      return new Promise((resolve) => {
        const done = (): void => {
          clearTimeout(timeout);
          unsubscribe();
          signal?.removeEventListener('abort', done);
          resolve(source.latestPublished());
        };
        const unsubscribe = subscribe((latest) => {
          if (latest > after) done();
        });
        const timeout = setTimeout(done, timeoutMs);
        signal?.addEventListener('abort', done, { once: true });
      });
    },
    close() {
      notify(Number.POSITIVE_INFINITY);
      listeners.clear();
      stopIfIdle();
    },
  };
}
