/**
 * Validation of ODSL objects (`POST /api/object/v1`): an object is free-form JSON with an
 * optional `_id`; a property whose `_type` is `VarMetricTimeSeries` is a stored metric timeseries
 * and must name a provider, a metric, a calendar and (optionally) an observed and a filter that
 * would be accepted by `_metric` queries. Input is untrusted: size, depth and key counts are bounded.
 */
import { randomBytes } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { OBJECT_ID, type JsonObject } from '../../store/object-store.ts';
import { CDN_FILTER_FIELDS, CDN_PROVIDER } from './cdn-provider.ts';
import { parseEntityFilter } from './filter.ts';
import { parseCalendar } from './timeseries/calendar.ts';
import { parseObserved } from './timeseries/observed.ts';
import type { TimeseriesSpec } from './virtual-timeseries.ts';

export const METRIC_TIMESERIES_TYPE = 'VarMetricTimeSeries';
/** Most properties of one object. */
export const MAX_OBJECT_PROPERTIES = 1000;
/** Deepest nesting of arrays and objects inside one object. */
export const MAX_OBJECT_DEPTH = 16;
/** Property names: a URL path segment without escaping. */
export const PROPERTY_NAME = /^[A-Za-z0-9_.:@-]{1,128}$/;

export const VarMetricTimeSeries = Type.Object(
  {
    _id: Type.Optional(Type.String({ maxLength: 128 })),
    _type: Type.Literal(METRIC_TIMESERIES_TYPE),
    provider: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }),
    metric: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,128}$' }),
    calendar: Type.String({ maxLength: 16 }),
    observed: Type.Optional(Type.String({ maxLength: 16 })),
    name: Type.Optional(Type.String({ maxLength: 200 })),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    filter: Type.Optional(Type.Union([Type.String({ maxLength: 8192 }), Type.Record(Type.String(), Type.Unknown())])),
  },
  { additionalProperties: false },
);
export type VarMetricTimeSeriesT = Static<typeof VarMetricTimeSeries>;

export type Checked<T> = { ok: true; value: T } | { ok: false; error: string };

/** 96 random bits as 24 hex characters, the shape of ODSL ids. */
export const newObjectId = (): string => randomBytes(12).toString('hex');

function depthOf(root: unknown): number {
  // Iterative: a hostile body must not exhaust the stack.
  let max = 0;
  const stack: [unknown, number][] = [[root, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (typeof v !== 'object' || v === null) continue;
    max = Math.max(max, d);
    if (max > MAX_OBJECT_DEPTH) return max;
    for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}

/** The filter text of a stored timeseries (an object filter is the JSON form). */
export const filterText = (f: VarMetricTimeSeriesT['filter']): string | undefined =>
  f === undefined ? undefined : typeof f === 'string' ? f : JSON.stringify(f);

function checkTimeseries(name: string, v: unknown): string | undefined {
  if (!Value.Check(VarMetricTimeSeries, v)) {
    const first = Value.Errors(VarMetricTimeSeries, v).First();
    const where = first?.path ? `${name}${first.path.replace(/\//g, '.')}` : name;
    return `${where}: ${first?.message ?? 'invalid VarMetricTimeSeries'}`;
  }
  const cal = parseCalendar(v.calendar);
  if (!cal.ok) return `${name}.calendar: ${cal.error}`;
  if (v.observed !== undefined) {
    const obs = parseObserved(v.observed);
    if (!obs.ok) return `${name}.observed: ${obs.error}`;
  }
  const f = filterText(v.filter);
  if (f !== undefined) {
    const parsed = parseEntityFilter(f, v.provider === CDN_PROVIDER ? { fields: CDN_FILTER_FIELDS } : {});
    if (!parsed.ok) return `${name}.filter: ${parsed.error}`;
  }
  return undefined;
}

/** Validates a posted object and gives it an `_id` when it has none. */
export function checkObject(body: unknown): Checked<{ id: string; object: JsonObject }> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, error: 'the body must be a JSON object' };
  const entries = Object.entries(body);
  if (entries.length > MAX_OBJECT_PROPERTIES) return { ok: false, error: `more than ${MAX_OBJECT_PROPERTIES} properties` };
  if (depthOf(body) > MAX_OBJECT_DEPTH) return { ok: false, error: `nested deeper than ${MAX_OBJECT_DEPTH} levels` };
  const rawId: unknown = (body as JsonObject)['_id'];
  if (rawId !== undefined && (typeof rawId !== 'string' || !OBJECT_ID.test(rawId))) {
    return { ok: false, error: '_id must be 1-128 characters of A-Z a-z 0-9 _ . : @ -' };
  }
  for (const [key, value] of entries) {
    if (!PROPERTY_NAME.test(key)) return { ok: false, error: `property name "${key.slice(0, 40)}" must be 1-128 characters of A-Z a-z 0-9 _ . : @ -` };
    if (typeof value === 'object' && value !== null && (value as JsonObject)['_type'] === METRIC_TIMESERIES_TYPE) {
      const error = checkTimeseries(key, value);
      if (error) return { ok: false, error };
    }
  }
  const id = typeof rawId === 'string' ? rawId : newObjectId();
  return { ok: true, value: { id, object: { ...(body as JsonObject), _id: id } } };
}

/** The timeseries request of a stored property, or why it is not one. */
export function timeseriesOf(property: unknown): TimeseriesSpec | undefined {
  if (!Value.Check(VarMetricTimeSeries, property)) return undefined;
  const spec: TimeseriesSpec = { metric: `${property.provider}/${property.metric}`, calendar: property.calendar };
  if (property.observed !== undefined) spec.observed = property.observed;
  const f = filterText(property.filter);
  if (f !== undefined) spec.filter = f;
  return spec;
}
