/**
 * From a schema-valid query body to a ResolvedQuery: metric names looked up, the record family
 * chosen from the metrics, groupBy and filters, relative times made absolute, and every
 * mistake a 400 naming its field. Pure: no store, no clock (`now` is passed in).
 */
import { Errors, RtmError } from '../http/errors.ts';
import { ALL_METRIC_NAMES, FAMILY_KEYS, METRICS, type Family, type GroupField, type MetricDef } from './metrics.ts';
import { TOP_VALUE_DIMENSIONS, type TopValueDimension } from '../model/top-values.ts';
import type { QueryBody } from './query-schema.ts';

export type Granularity = '1s' | '1m' | '1h' | '1d' | 'all';
export type FilterOp = 'eq' | 'in' | 'not_in' | 'prefix';

export interface Filter {
  field: GroupField;
  op: FilterOp;
  values: readonly string[];
}

export interface ResolvedQuery {
  /** Unix seconds; for top values widened to whole minutes (from down, to up). */
  from: number;
  to: number;
  /** 'auto' is still 'auto' here: the planner chooses it (it knows the range limits). */
  granularity: Granularity | 'auto';
  family: Family;
  metrics: readonly MetricDef[];
  groupBy: readonly GroupField[];
  filters: readonly Filter[];
  /** Metrics (all among `metrics`) that rank groups, first one first. */
  orderBy: readonly { metric: MetricDef; desc: boolean }[];
  limit: number | undefined;
}

const bad = (detail: string): RtmError => new RtmError(Errors.REQUEST_BAD_PARAM, detail);

/** Which family the query reads, from the fields it names. */
function familyOf(body: QueryBody, fields: readonly GroupField[]): Family {
  if (fields.some(isTopValueField)) return 'top';
  if (fields.includes('status') || fields.includes('method')) return 'dimension';
  if (fields.includes('backend') || body.metrics.some((m) => m.startsWith('backend_'))) return 'origin';
  return 'edge';
}

const FAMILY_NAME: Readonly<Record<Family, string>> = {
  edge: 'edge metrics',
  origin: 'backend_* metrics (origin fetches per backend)',
  dimension: 'status and method breakdowns',
  top: 'top values (path, client_ip)',
};

const isTopValueField = (f: GroupField): f is TopValueDimension => (TOP_VALUE_DIMENSIONS as readonly string[]).includes(f);

/** Top values are counted per minute (model/top-values.ts): whole minutes, buckets of whole minutes, one value dimension to group by. */
function checkTopValues(body: QueryBody, groupBy: readonly GroupField[], named: readonly GroupField[]): void {
  const dims = [...new Set(named.filter(isTopValueField))];
  if (dims.length > 1) throw bad('groupBy: path and client_ip cannot be combined (each is its own top-values list)');
  const dim = dims[0] as TopValueDimension;
  if (!groupBy.includes(dim)) throw bad(`groupBy: a query on ${dim} must group by ${dim} (top values are served per value; they do not sum into one honest total)`);
  if (body.granularity === '1s') throw bad('granularity: top values are counted per minute (use 1m, 1h, 1d, all or auto)');
}

const MINUTE = 60;

export function resolveQuery(body: QueryBody, nowSecond: number): ResolvedQuery {
  const abs = (t: number): number => (t < 0 ? nowSecond + t : t);
  const from = abs(body.from);
  const to = body.to === undefined ? nowSecond : abs(body.to);
  if (!(from < to)) throw bad(`to: must be after from (from ${from}, to ${to})`);

  const groupBy = body.groupBy ?? [];
  const filters: Filter[] = (body.filters ?? []).map((f, i) => {
    const values = Array.isArray(f.value) ? f.value : [f.value];
    if ((f.op === 'eq' || f.op === 'prefix') && values.length !== 1) throw bad(`filters/${i}/value: ${f.op} takes one string`);
    if (values.length === 0) throw bad(`filters/${i}/value: ${f.op} needs at least one value`);
    return { field: f.field, op: f.op, values };
  });
  const named = [...groupBy, ...filters.map((f) => f.field)];
  const family = familyOf(body, named);
  if (named.includes('status') && named.includes('method')) throw bad('groupBy: status and method cannot be combined (each is its own breakdown)');
  if (family === 'top') checkTopValues(body, groupBy, named);

  const keys = FAMILY_KEYS[family];
  groupBy.forEach((g, i) => {
    if (!keys.includes(g)) throw bad(`groupBy/${i}: ${FAMILY_NAME[family]} cannot be grouped by ${g} (they are kept per ${keys.join(', ')})`);
  });
  filters.forEach((f, i) => {
    if (!keys.includes(f.field)) throw bad(`filters/${i}/field: ${FAMILY_NAME[family]} cannot be filtered by ${f.field} (they are kept per ${keys.join(', ')})`);
  });

  const defs = METRICS[family];
  const metrics = body.metrics.map((name, i) => {
    const def = defs.get(name);
    if (def !== undefined) return def;
    if (ALL_METRIC_NAMES.includes(name) || METRICS.dimension.has(name) || METRICS.top.has(name)) {
      throw bad(`metrics/${i}: ${name} is not one of the ${FAMILY_NAME[family]} this query reads (allowed: ${[...defs.keys()].slice(0, 8).join(', ')}, ...)`);
    }
    throw bad(`metrics/${i}: unknown metric "${name}" (see docs/api-native.md)`);
  });
  if (new Set(body.metrics).size !== body.metrics.length) throw bad('metrics: a metric is named twice');

  const orderBy = (body.orderBy ?? []).map((o, i) => {
    const metric = metrics.find((m) => m.name === o.metric);
    if (metric === undefined) throw bad(`orderBy/${i}/metric: ${o.metric} is not among the query's metrics`);
    return { metric, desc: o.desc ?? true };
  });
  // Top values rank by requests (largest first) unless told otherwise.
  const topRequests = family === 'top' ? metrics.find((m) => m.name === 'requests') : undefined;
  if (orderBy.length === 0 && topRequests !== undefined) orderBy.push({ metric: topRequests, desc: true });
  // A minute's top values are one part at its start second: a range of whole minutes (from down, to up) reads whole parts only.
  const range = family === 'top' ? { from: Math.floor(from / MINUTE) * MINUTE, to: Math.ceil(to / MINUTE) * MINUTE } : { from, to };
  return { ...range, granularity: body.granularity ?? 'auto', family, metrics, groupBy, filters, orderBy, limit: body.limit };
}

/** True when `value` passes every filter on `field`. */
export function passes(filters: readonly Filter[], field: GroupField, value: string): boolean {
  for (const f of filters) {
    if (f.field !== field) continue;
    switch (f.op) {
      case 'eq':
      case 'in':
        if (!f.values.includes(value)) return false;
        break;
      case 'not_in':
        if (f.values.includes(value)) return false;
        break;
      case 'prefix':
        if (!value.startsWith(f.values[0] ?? '')) return false;
        break;
    }
  }
  return true;
}

/** The values an eq/in filter on `field` allows (the intersection of them), or undefined when none restricts it. */
export function allowedValues(filters: readonly Filter[], field: GroupField): string[] | undefined {
  let allowed: string[] | undefined;
  for (const f of filters) {
    if (f.field !== field || (f.op !== 'eq' && f.op !== 'in')) continue;
    allowed = allowed === undefined ? [...f.values] : allowed.filter((v) => f.values.includes(v));
  }
  return allowed;
}
