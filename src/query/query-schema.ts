/**
 * The native query (`POST /rtm/v1/query`) as a TypeBox schema, and its GET form: the same
 * parameters in the query string. Both parse to one QueryInput; resolveQuery (resolve.ts) then
 * checks what a schema cannot (metric names, families, from < to) and names the bad field.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Errors, RtmError } from '../http/errors.ts';
import { GROUP_FIELDS } from './metrics.ts';

export const GRANULARITIES = ['1s', '1m', '1h', '1d', 'all', 'auto'] as const;
export const FILTER_OPS = ['eq', 'in', 'not_in', 'prefix'] as const;

const GroupFieldT = Type.Union(GROUP_FIELDS.map((f) => Type.Literal(f)));

export const FilterSchema = Type.Object(
  {
    field: GroupFieldT,
    op: Type.Union(FILTER_OPS.map((o) => Type.Literal(o))),
    value: Type.Union([Type.String({ maxLength: 1000 }), Type.Array(Type.String({ maxLength: 1000 }), { maxItems: 10_000 })]),
  },
  { additionalProperties: false },
);

export const QueryBodySchema = Type.Object(
  {
    from: Type.Integer({ description: 'inclusive start, Unix seconds; a negative number is relative to now (-3600: an hour ago)' }),
    to: Type.Optional(Type.Integer({ description: 'exclusive end, Unix seconds; negative is relative to now; default now' })),
    granularity: Type.Optional(Type.Union(GRANULARITIES.map((g) => Type.Literal(g)), { default: 'auto' })),
    metrics: Type.Array(Type.String({ maxLength: 100 }), { minItems: 1, maxItems: 300 }),
    groupBy: Type.Optional(Type.Array(GroupFieldT, { maxItems: 7, uniqueItems: true })),
    filters: Type.Optional(Type.Array(FilterSchema, { maxItems: 50 })),
    orderBy: Type.Optional(Type.Array(Type.Object({ metric: Type.String({ maxLength: 100 }), desc: Type.Optional(Type.Boolean({ default: true })) }, { additionalProperties: false }), { maxItems: 10 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'top N groups; the rest are summed into one `other` row (top values of path or client_ip: left out)' })),
  },
  { additionalProperties: false },
);
export type QueryBody = Static<typeof QueryBodySchema>;

/** GET: lists are comma-separated (or repeated), filters JSON or `field:op:v1|v2`, orderBy `metric[:asc|:desc]`. */
export const QueryStringSchema = Type.Object(
  {
    from: Type.Integer(),
    to: Type.Optional(Type.Integer()),
    granularity: Type.Optional(Type.Union(GRANULARITIES.map((g) => Type.Literal(g)))),
    metrics: Type.Union([Type.String({ maxLength: 8000 }), Type.Array(Type.String({ maxLength: 8000 }))]),
    groupBy: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Array(Type.String({ maxLength: 200 }))])),
    filters: Type.Optional(Type.String({ maxLength: 20_000, description: 'the POST body\'s filters as JSON' })),
    filter: Type.Optional(Type.Union([Type.String({ maxLength: 20_000 }), Type.Array(Type.String({ maxLength: 20_000 }))], { description: 'field:op:value, values of in/not_in separated by |' })),
    orderBy: Type.Optional(Type.String({ maxLength: 1000 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
  },
  { additionalProperties: false },
);
export type QueryString = Static<typeof QueryStringSchema>;

const list = (v: string | string[] | undefined): string[] =>
  (v === undefined ? [] : Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);

const bad = (detail: string): RtmError => new RtmError(Errors.REQUEST_BAD_PARAM, detail);

/** The GET form as the POST body; the field names of errors are the query string's. */
export function bodyFromQueryString(q: QueryString): Record<string, unknown> {
  const body: Record<string, unknown> = { from: q.from, metrics: list(q.metrics) };
  if (q.to !== undefined) body['to'] = q.to;
  if (q.granularity !== undefined) body['granularity'] = q.granularity;
  if (q.groupBy !== undefined) body['groupBy'] = list(q.groupBy);
  if (q.limit !== undefined) body['limit'] = q.limit;
  const filters: unknown[] = [];
  if (q.filters !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(q.filters);
    } catch {
      throw bad('filters: not valid JSON (expected [{"field", "op", "value"}])');
    }
    if (!Array.isArray(parsed)) throw bad('filters: expected a JSON array');
    filters.push(...(parsed as unknown[]));
  }
  for (const f of q.filter === undefined ? [] : Array.isArray(q.filter) ? q.filter : [q.filter]) {
    const m = /^([a-z_]+):([a-z_]+):(.*)$/s.exec(f);
    if (!m) throw bad(`filter: "${f}" is not field:op:value`);
    const [, field, op, raw] = m as unknown as [string, string, string, string];
    filters.push({ field, op, value: op === 'in' || op === 'not_in' ? raw.split('|') : raw });
  }
  if (filters.length > 0) body['filters'] = filters;
  if (q.orderBy !== undefined) {
    body['orderBy'] = list(q.orderBy).map((o) => {
      const [metric, dir] = o.split(':');
      if (dir !== undefined && dir !== 'asc' && dir !== 'desc') throw bad(`orderBy: "${o}" must be metric, metric:asc or metric:desc`);
      return { metric, desc: dir !== 'asc' };
    });
  }
  return body;
}
