/**
 * The "query range per tier" limit (config `limits.maxQueryRangeSeconds`): how long a time range
 * one query may read from each store tier. Every dialect checks it once it knows the tier, and
 * answers RTM_ERR_QUERY_RANGE_TOO_LARGE in its own envelope with the range, the tier and the limit.
 */
import { DEFAULT_MAX_QUERY_RANGE_SECONDS } from '../config/config.ts';
import type { Tier } from '../store/store.ts';
import { Errors, RtmError } from '../http/errors.ts';

export type QueryRangeLimits = Readonly<Record<Tier, number>>;

export { DEFAULT_MAX_QUERY_RANGE_SECONDS };

/** What the dialect tells the client to do instead, in its own parameter names. */
export interface RangeAdvice {
  narrow: string;
  coarser?: string | undefined;
}

const ENV_OF: Readonly<Record<Tier, string>> = {
  '1s': 'RTM_MAX_QUERY_RANGE_1S',
  '1m': 'RTM_MAX_QUERY_RANGE_1M',
  '1h': 'RTM_MAX_QUERY_RANGE_1H',
  '1d': 'RTM_MAX_QUERY_RANGE_1D',
};

const UNITS: readonly [number, string][] = [
  [86_400, 'day'],
  [3600, 'hour'],
  [60, 'minute'],
];

/**
 * A length for people, exact so that a range just over a limit never reads like the limit:
 * "31 days", "31 days 1 minute", "1 hour 0.5 seconds", "Infinity".
 */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return String(seconds);
  const parts: string[] = [];
  let rest = seconds;
  for (const [size, name] of UNITS) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n} ${name}${n === 1 ? '' : 's'}`);
    rest -= n * size;
  }
  const s = Math.round(rest * 1000) / 1000;
  if (s > 0 || parts.length === 0) parts.push(`${s} second${s === 1 ? '' : 's'}`);
  return parts.join(' ');
}

/**
 * Undefined when `rangeSeconds` fits the tier's limit (a range equal to the limit fits);
 * otherwise why not, naming the range, the tier and the limit. `advice.coarser` (e.g. "use a
 * coarser granularity"; undefined when the query is at its coarsest already) is left out for
 * the 1 d tier, which has nothing coarser.
 */
export function queryRangeProblem(rangeSeconds: number, tier: Tier, limits: QueryRangeLimits, advice: RangeAdvice): string | undefined {
  const limit = limits[tier];
  if (!(rangeSeconds > limit)) return undefined;
  const hint = tier === '1d' || advice.coarser === undefined ? advice.narrow : `${advice.narrow} or ${advice.coarser}`;
  return `the range is ${formatSeconds(rangeSeconds)}, longer than the ${formatSeconds(limit)} a query may read from the ${tier} tier (${ENV_OF[tier]}); ${hint}`;
}

/** queryRangeProblem as the RTM_ERR_QUERY_RANGE_TOO_LARGE error to throw. */
export function checkQueryRange(rangeSeconds: number, tier: Tier, limits: QueryRangeLimits, advice: RangeAdvice): void {
  const problem = queryRangeProblem(rangeSeconds, tier, limits, advice);
  if (problem !== undefined) throw new RtmError(Errors.QUERY_RANGE_TOO_LARGE, problem);
}
