/**
 * ODSL `_observed`: how the points inside one calendar bucket become its value (ODSL "Timeseries
 * Scaling"). `delta` is the change over the bucket, last value minus first (for meter readings);
 * `none` keeps every point as it is (no aggregation, the point's own time).
 */

export const OBSERVED = ['summed', 'averaged', 'high', 'low', 'beginning', 'end', 'delta', 'none'] as const;
export type Observed = (typeof OBSERVED)[number];

const ALIASES: Readonly<Record<string, Observed>> = Object.freeze({
  sum: 'summed',
  average: 'averaged',
  avg: 'averaged',
  max: 'high',
  min: 'low',
  first: 'beginning',
  last: 'end',
});

export type ObservedResult = { ok: true; observed: Observed } | { ok: false; error: string };

/** Parses an observed name (case-insensitive; `sum` is `summed`). */
export function parseObserved(text: string): ObservedResult {
  const t = text.trim().toLowerCase();
  if ((OBSERVED as readonly string[]).includes(t)) return { ok: true, observed: t as Observed };
  if (Object.hasOwn(ALIASES, t)) return { ok: true, observed: ALIASES[t] as Observed };
  return { ok: false, error: `unknown observed "${text.slice(0, 32)}" (use one of ${OBSERVED.join(', ')}, or sum)` };
}

/** The value of one bucket from its values in time order (non-empty). */
export function aggregate(observed: Exclude<Observed, 'none'>, values: readonly number[]): number {
  const n = values.length;
  const first = values[0] ?? Number.NaN;
  const last = values[n - 1] ?? Number.NaN;
  switch (observed) {
    case 'summed':
      return sum(values);
    case 'averaged':
      return sum(values) / n;
    case 'high':
      return values.reduce((m, v) => (v > m ? v : m), first);
    case 'low':
      return values.reduce((m, v) => (v < m ? v : m), first);
    case 'beginning':
      return first;
    case 'end':
      return last;
    case 'delta':
      return last - first;
  }
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}
