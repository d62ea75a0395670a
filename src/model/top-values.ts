/**
 * Top values (heavy hitters) of `path` and `client_ip` per service and minute, as additive
 * dimension rows (issue 11 "Top-N"), so they merge across minutes, tiers and nodes like every
 * other record, with an error bound a reader can state.
 *
 * A node counts each service's values of a minute in a Space-Saving summary (top-values-tracker.ts,
 * capacity TOP_VALUES_CAPACITY), and when the minute is over writes one *part*: dimension records
 * (record.ts DimensionRecord) at the minute's start second, domain and product '':
 *   - an item row per listed value (at most TOP_VALUES_LISTED, the largest counts):
 *       dimension 'path' | 'client_ip', value = the value, count = its Space-Saving count (an
 *       upper bound of its events in the part), bytes = that count's error (its events in the
 *       part are at least count - bytes);
 *   - one bound row, value TOP_VALUES_BOUND (''): count = the events the part counted (every
 *     event of the service and minute, with a value of the dimension or not), bytes =
 *     an upper bound of the events, in the part, of any value the part does not list (0 when the
 *     part lists every value it saw: then every count is exact).
 * Summed over any parts (minutes, late parts, nodes), for a value x with U = sum of its counts,
 * E = sum of its errors, M = sum of the bound rows' bytes, N = their counts, and R = the edge
 * records' requests of the same service(s) and range (R - N: events no part counted, such as
 * those of a minute whose node stopped before writing it):
 *     U - E  <=  true events of x  <=  U + M + (R - N)
 * so a reader serves requests = U and requests_error = max(E, M + R - N) (topValueOf).
 */

/** The dimensions counted as top values (the DimensionRecord.dimension of their rows). */
export const TOP_VALUE_DIMENSIONS = ['path', 'client_ip'] as const;
export type TopValueDimension = (typeof TOP_VALUE_DIMENSIONS)[number];

/** The value of a part's bound row (no real path or address is empty). */
export const TOP_VALUES_BOUND = '';

/** Values a summary follows per service, dimension and minute (Space-Saving capacity). */
export const TOP_VALUES_CAPACITY = 1000;
/** Values a part lists (its largest counts); the rest are covered by its bound row. */
export const TOP_VALUES_LISTED = 100;

/** Sums over parts of one value: its rows' counts and errors. */
export interface TopValueSums {
  /** Sum of the item rows' counts. */
  count: number;
  /** Sum of the item rows' errors (bytes). */
  error: number;
}

/** Sums over the same parts' bound rows, and the edge requests of the same services and range. */
export interface TopValueBounds {
  /** Sum of the bound rows' counts: the events the parts counted. */
  counted: number;
  /** Sum of the bound rows' bytes: the most any unlisted value can hide. */
  unlisted: number;
  /** Edge requests of the same services and range (exact). */
  requests: number;
}

/** The served figures of one value: requests = U and requests_error = max(E, M + R - N). */
export function topValueOf(sums: TopValueSums, bounds: TopValueBounds): { requests: number; requests_error: number } {
  const uncounted = Math.max(0, bounds.requests - bounds.counted);
  return { requests: sums.count, requests_error: Math.max(sums.error, bounds.unlisted + uncounted) };
}

/**
 * The counted form of a request path: the query string dropped (unless `keepQuery`), at most
 * MAX_PATH_LENGTH characters. An empty path counts as "/".
 */
export const MAX_PATH_LENGTH = 512;
export function normalizePath(path: string, keepQuery = false): string {
  let p = path;
  if (!keepQuery) {
    const q = p.indexOf('?');
    if (q >= 0) p = p.slice(0, q);
  }
  const hash = p.indexOf('#');
  if (hash >= 0) p = p.slice(0, hash);
  if (p.length === 0) p = '/';
  return p.length > MAX_PATH_LENGTH ? p.slice(0, MAX_PATH_LENGTH) : p;
}
