/**
 * Virtual metric timeseries (ODSL `_metric=provider/metric`): usage points or CDN traffic
 * aggregated into a calendar. Parameters, all optional but `_metric`:
 *   _calendar  default `#PT1H`
 *   _observed  default `summed`
 *   _range     default the last 24 hours, widened to whole buckets (./timeseries/range.ts)
 *   _filter    JSON or expression form (H6a's parseEntityFilter); CDN: service/domain/datacenter
 * The range is also held to the query range of the tier read (config `maxQueryRangeSeconds`):
 * for CDN the tier chooseTier reads; for usage entities, which are raw points and have no
 * tiers, the tier of the calendar's bucket (#PT1M..#PT30M: 1m, #PT1H..#PT12H: 1h, #P1D: 1d),
 * so the same _calendar and _range are allowed whichever provider they read.
 * A token reads only its own usage entities (an admin token on all services reads every
 * owner's) and only the CDN traffic of its services.
 */
import type { FastifyRequest } from 'fastify';
import type { Clock } from '../../model/clock.ts';
import type { FilterNode } from '../../model/usage.ts';
import { TIER_SECONDS, type MetricStore, type Tier } from '../../store/store.ts';
import type { UsageStore } from '../../store/usage-store.ts';
import { usageOwnerOf, type Principal } from '../../http/auth.ts';
import { Errors, RtmError } from '../../http/errors.ts';
import { checkQueryRange, DEFAULT_MAX_QUERY_RANGE_SECONDS, type QueryRangeLimits } from '../../query/query-range.ts';
import { CDN_FILTER_FIELDS, CDN_PROVIDER, cdnPoints } from './cdn-provider.ts';
import { parseEntityFilter } from './filter.ts';
import { SELF_METRICS, SELF_PROVIDER } from './self-metering.ts';
import { parseCalendar, type Calendar } from './timeseries/calendar.ts';
import { parseObserved } from './timeseries/observed.ts';
import { defaultRange, parseRange } from './timeseries/range.ts';
import { buildVarTimeSeries, type Point, type VarTimeSeriesBody } from './timeseries/series.ts';
import { checkTimeZone } from '../../model/time-zone.ts';

export type { VarTimeSeriesBody } from './timeseries/series.ts';

/** What this module needs of the usage store. */
export type UsagePointSource = Pick<UsageStore, 'points' | 'metrics'>;

export interface VirtualTimeseriesDeps {
  usage: UsagePointSource;
  store: MetricStore;
  clock: Clock;
  /** Zone of calendars and dates unless `_range` names one (config `timeZone`, default UTC). */
  timeZone: string;
  /** Longest range per tier (config `limits.maxQueryRangeSeconds`). Default DEFAULT_MAX_QUERY_RANGE_SECONDS. */
  maxQueryRangeSeconds?: QueryRangeLimits;
  /** Every second <= this one is in the store. Default: the clock's previous second. */
  storedThrough?: () => number;
}

/** A timeseries request, from query parameters or a stored VarMetricTimeSeries. */
export interface TimeseriesSpec {
  /** `provider/metric`. */
  metric: string;
  calendar?: string;
  observed?: string;
  range?: string;
  filter?: string;
}

/** Most buckets a range may span (a leap year of minutes). */
export const MAX_BUCKETS = 527_040;
/** Most data points in one answer (`_observed=none` lists raw points). */
export const MAX_POINTS = 100_000;
const METRIC = /^([A-Za-z0-9_.-]{1,64})\/([A-Za-z0-9_.-]{1,128})$/;

/** What to say when a range is too long for its tier. */
export const ODSL_RANGE_ADVICE = { narrow: 'narrow _range', coarser: 'use a coarser _calendar' } as const;

/** The tier a usage calendar stands for: the coarsest whose width divides the bucket. */
export function calendarTier(calendar: Calendar): Tier {
  const coarseFirst: readonly Tier[] = ['1d', '1h', '1m', '1s'];
  return coarseFirst.find((t) => calendar.periodMs % (TIER_SECONDS[t] * 1000) === 0) ?? '1s';
}

/** The owner filter of a principal: undefined (every owner) for an admin token on all services. */
export const ownerOf = usageOwnerOf;

export type TimeseriesEvaluator = (spec: TimeseriesSpec, principal: Principal) => Promise<VarTimeSeriesBody>;

export function createTimeseriesEvaluator(deps: VirtualTimeseriesDeps): TimeseriesEvaluator {
  const zone = checkTimeZone(deps.timeZone);
  if (!zone.ok) throw new Error(`virtual timeseries: ${zone.error}`);
  const maxRangeSeconds = deps.maxQueryRangeSeconds ?? DEFAULT_MAX_QUERY_RANGE_SECONDS;
  const storedThrough = deps.storedThrough ?? ((): number => Math.floor(deps.clock.now() / 1000) - 1);

  return async (spec, principal) => {
    const m = METRIC.exec(spec.metric.trim());
    if (!m) throw new RtmError(Errors.ODSL_BAD_METRIC, `_metric "${spec.metric.slice(0, 80)}" is not provider/metric (e.g. RTMRequest/ReadRequests)`);
    const provider = m[1] ?? '';
    const metric = m[2] ?? '';
    const cal = parseCalendar(spec.calendar ?? '#PT1H');
    if (!cal.ok) throw new RtmError(Errors.ODSL_BAD_CALENDAR, cal.error);
    const obs = parseObserved(spec.observed ?? 'summed');
    if (!obs.ok) throw new RtmError(Errors.ODSL_BAD_OBSERVED, obs.error);
    const calendar = cal.calendar;
    const observed = obs.observed;
    const nowMs = deps.clock.now();
    let timeZone = zone.timeZone;
    let range = defaultRange({ nowMs, timeZone, calendar });
    if (spec.range !== undefined) {
      const r = parseRange(spec.range, { nowMs, timeZone, calendar });
      if (!r.ok) throw new RtmError(Errors.ODSL_BAD_RANGE, r.error);
      range = r.range;
      timeZone = r.timeZone;
    }
    if ((range.to - range.from) / calendar.periodMs > MAX_BUCKETS) {
      throw new RtmError(Errors.QUERY_RANGE_TOO_LARGE, `the range spans more than ${MAX_BUCKETS} ${calendar.code} buckets; narrow _range or use a coarser _calendar`);
    }
    const isCdn = provider === CDN_PROVIDER;
    let filter: FilterNode | undefined;
    if (spec.filter !== undefined) {
      const f = parseEntityFilter(spec.filter, isCdn ? { fields: CDN_FILTER_FIELDS } : {});
      if (!f.ok) throw new RtmError(isCdn ? Errors.ODSL_BAD_TS_FILTER : Errors.ODSL_BAD_FILTER, f.error);
      filter = f.filter;
    }

    let points: Point[];
    if (isCdn) {
      const cdn = await cdnPoints(deps.store, { metric, filter, principal, calendar, observed, timeZone, range, maxRangeSeconds, storedThrough });
      points = cdn.points;
      range = cdn.range;
    } else {
      checkQueryRange((range.to - range.from) / 1000, calendarTier(calendar), maxRangeSeconds, ODSL_RANGE_ADVICE);
      const owner = ownerOf(principal);
      points = await deps.usage.points({
        provider,
        metric,
        from: range.from,
        to: range.to,
        ...(owner === undefined ? {} : { owner }),
        ...(filter === undefined ? {} : { filter }),
      });
      // An empty answer for a metric nobody ever sent is a typo more often than a quiet hour.
      const selfMetric = provider === SELF_PROVIDER && (SELF_METRICS as readonly string[]).includes(metric);
      if (points.length === 0 && !selfMetric && !(await deps.usage.metrics(provider, owner)).includes(metric)) {
        throw new RtmError(Errors.ODSL_UNKNOWN_METRIC, `no metric "${metric}" of provider "${provider}" is known to this token`);
      }
    }
    const body = buildVarTimeSeries(points, { calendar, observed, range, timeZone });
    if (body.data.length > MAX_POINTS) {
      throw new RtmError(Errors.QUERY_RANGE_TOO_LARGE, `more than ${MAX_POINTS} points; narrow _range or aggregate with _observed`);
    }
    return body;
  };
}

/** A query parameter as one string; a repeated parameter is a 400. */
export function queryString(query: unknown, name: string): string | undefined {
  if (typeof query !== 'object' || query === null) return undefined;
  const v = (query as Record<string, unknown>)[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new RtmError(Errors.ODSL_BAD_PARAM, `${name} must be given once`);
  return v;
}

/** The timeseries of a request's `_metric`, `_calendar`, `_observed`, `_range` and `_filter`. */
export function createVirtualTimeseriesHandler(
  deps: VirtualTimeseriesDeps,
): (req: FastifyRequest, principal: Principal) => Promise<VarTimeSeriesBody> {
  const evaluate = createTimeseriesEvaluator(deps);
  return (req, principal) => {
    const q = req.query;
    const spec: TimeseriesSpec = { metric: queryString(q, '_metric') ?? '' };
    for (const [key, name] of [['calendar', '_calendar'], ['observed', '_observed'], ['range', '_range'], ['filter', '_filter']] as const) {
      const v = queryString(q, name);
      if (v !== undefined) spec[key] = v;
    }
    return evaluate(spec, principal);
  };
}
