/**
 * The time semantics of the Fastly real-time APIs (events.md section 3, docs/api-fastly.md):
 * which seconds a request reads, which of them it answers with, and the `Timestamp` cursor.
 * Pure functions of the request and P = the newest published second, so they are table-tested
 * without a clock.
 *
 * The cursor guarantee: a client that always asks `ts/{previous Timestamp}` sees every second
 * with data at least once, in order, with no gap; the only repeats are the seconds in
 * [t - AggregateDelay, t) that each response re-sends because late events may have changed them.
 */

export interface FastlyLimits {
  /** Most new seconds (>= t) one `ts/{t}` response covers; the cursor continues after them. Default 120. */
  maxSecondsPerResponse: number;
  /** How far before P a `ts/{t}` request reaches; older `t` start at P - maxLookbackSeconds + 1. Default 3600. */
  maxLookbackSeconds: number;
}

export const DEFAULT_FASTLY_LIMITS: Readonly<FastlyLimits> = Object.freeze({
  maxSecondsPerResponse: 120,
  maxLookbackSeconds: 3600,
});

/** Seconds in `ts/h`. */
export const HISTORY_SECONDS = 120;
/** Largest `limit/{n}`. */
export const MAX_LIMIT = 120;

/** What the path asked for: `ts/0`, `ts/{t}` (t > 0) or `ts/h`, each with an optional limit. */
export type CursorRequest =
  | { kind: 'latest'; limit?: number }
  | { kind: 'since'; t: number; limit?: number }
  | { kind: 'history'; limit?: number };

export interface Selection<T> {
  entries: T[];
  timestamp: number;
}

export interface CursorPlan {
  /** The seconds to read: [from, to). Empty when from >= to. */
  from: number;
  to: number;
  /** Picks the answer among the seconds read (ascending, only seconds with data). */
  pick<T extends { second: number }>(seconds: readonly T[]): Selection<T>;
}

export function planCursor(
  req: CursorRequest,
  published: number,
  aggregateDelay: number,
  limits: Readonly<FastlyLimits> = DEFAULT_FASTLY_LIMITS,
): CursorPlan {
  const next = published + 1;
  switch (req.kind) {
    case 'latest':
      return { from: published, to: next, pick: (seconds) => ({ entries: [...seconds], timestamp: next }) };
    case 'history':
      return {
        from: next - HISTORY_SECONDS,
        to: next,
        // The limit keeps the newest entries: ts/h is "what happened lately".
        pick: (seconds) => ({
          entries: req.limit === undefined ? [...seconds] : seconds.slice(Math.max(0, seconds.length - req.limit)),
          timestamp: next,
        }),
      };
    case 'since':
      return planSince(req.t, req.limit, published, aggregateDelay, limits);
  }
}

function planSince(
  t: number,
  limit: number | undefined,
  published: number,
  aggregateDelay: number,
  limits: Readonly<FastlyLimits>,
): CursorPlan {
  // A cursor from the future (clock skew, another server): nothing yet, keep the client's place.
  if (t > published + 1) return { from: t, to: t, pick: () => ({ entries: [], timestamp: t }) };
  const from = Math.max(t - aggregateDelay, published - limits.maxLookbackSeconds + 1);
  // Seconds >= freshStart are new to the client; those before it are the AggregateDelay repeats.
  const freshStart = Math.max(t, from);
  const last = Math.min(published, freshStart + limits.maxSecondsPerResponse - 1);
  return {
    from,
    to: last + 1,
    pick(seconds) {
      const firstFresh = seconds.findIndex((s) => s.second >= freshStart);
      const freshCount = firstFresh === -1 ? 0 : seconds.length - firstFresh;
      // The limit counts new entries only and keeps the oldest, so the cursor resumes right
      // after the last one returned: paging, never skipping. Counting the repeats too would stall
      // a client whose limit is <= AggregateDelay.
      if (limit !== undefined && freshCount > limit) {
        const entries = seconds.slice(0, firstFresh + limit);
        const lastReturned = entries[entries.length - 1];
        return { entries, timestamp: (lastReturned?.second ?? last) + 1 };
      }
      return { entries: [...seconds], timestamp: last + 1 };
    },
  };
}
