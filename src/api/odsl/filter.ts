/**
 * `_filter` of the OpenDataDSL dialect: JSON form (`{"httpstatus": {"$gte": 400}}`) or expression
 * form (`(service=object or service=data) and httpstatus=200`), both parsed into the shared
 * FilterNode. The same node is evaluated in memory (matchesFilter) and in SQL (filterToSql) with
 * identical semantics: a missing field fails eq/gt/gte/lt/lte/in and passes ne/nin (as MongoDB).
 * Input is untrusted: length, depth and size are bounded, and values are coerced to the field's
 * type at parse time so both evaluators compare like with like.
 */
import type { FilterNode, FilterValue } from '../../model/usage.ts';
import { parseExpression } from './filter-expression.ts';
import { describe, FilterError, LeafBuilder, USAGE_FIELD_TYPES, type CmpOp, type FieldType } from './filter-leaf.ts';

export { filterToSql, USAGE_COLUMNS } from '../../store/duckdb/usage-filter-sql.ts';
export { FilterError, MAX_FILTER_TERMS, OPERATOR_USAGE_FIELD_TYPES, parseIsoTime, USAGE_FIELD_TYPES, type FieldType } from './filter-leaf.ts';

/** Longest accepted filter text, characters. */
export const MAX_FILTER_LENGTH = 8192;
/** Deepest nesting of and/or groups. */
export const MAX_FILTER_DEPTH = 16;

export interface FilterOptions {
  /** Field name -> type of the fields a filter may name. Default USAGE_FIELD_TYPES. */
  fields?: Readonly<Record<string, FieldType>>;
}

export type FilterResult = { ok: true; filter: FilterNode } | { ok: false; error: string };

const JSON_OPS: Readonly<Record<string, CmpOp | 'in' | 'nin'>> = {
  $eq: 'eq', $ne: 'ne', $gt: 'gt', $gte: 'gte', $lt: 'lt', $lte: 'lte', $in: 'in', $nin: 'nin',
};

/** Parses `_filter` text in either form. Never throws. */
export function parseEntityFilter(text: string, opts: FilterOptions = {}): FilterResult {
  const fields = opts.fields ?? USAGE_FIELD_TYPES;
  if (text.length > MAX_FILTER_LENGTH) return { ok: false, error: `filter longer than ${MAX_FILTER_LENGTH} characters` };
  const trimmed = text.trim();
  if (trimmed === '') return { ok: false, error: 'empty filter' };
  const leaves = new LeafBuilder(fields);
  try {
    if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
      let json: unknown;
      try {
        json = JSON.parse(trimmed);
      } catch (err) {
        return { ok: false, error: `invalid JSON filter: ${(err as Error).message}` };
      }
      return { ok: true, filter: fromJson(json, leaves, 1) };
    }
    return { ok: true, filter: parseExpression(trimmed, leaves, MAX_FILTER_DEPTH) };
  } catch (err) {
    if (err instanceof FilterError) return { ok: false, error: err.message };
    throw err;
  }
}

function fromJson(json: unknown, leaves: LeafBuilder, depth: number): FilterNode {
  if (depth > MAX_FILTER_DEPTH) throw new FilterError(`filter nested deeper than ${MAX_FILTER_DEPTH}`);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new FilterError(`a filter must be a JSON object, got ${describe(json)}`);
  }
  const args: FilterNode[] = [];
  for (const [key, value] of Object.entries(json)) {
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(value) || value.length === 0) throw new FilterError(`${key} expects a non-empty array of filters`);
      args.push({ op: key === '$and' ? 'and' : 'or', args: value.map((v) => fromJson(v, leaves, depth + 1)) });
    } else if (key.startsWith('$')) {
      throw new FilterError(`unknown operator ${key} at the top level (use $and, $or or a field name)`);
    } else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const ops = Object.entries(value);
      if (ops.length === 0) throw new FilterError(`no operator given for ${key}`);
      for (const [opKey, operand] of ops) {
        const op = Object.hasOwn(JSON_OPS, opKey) ? JSON_OPS[opKey] : undefined;
        if (!op) throw new FilterError(`unknown operator ${opKey} for ${key} (use ${Object.keys(JSON_OPS).join(', ')})`);
        args.push(op === 'in' || op === 'nin' ? leaves.list(op, key, operand) : leaves.leaf(op, key, operand));
      }
    } else {
      args.push(leaves.leaf('eq', key, value));
    }
  }
  return args.length === 1 && args[0] ? args[0] : { op: 'and', args };
}

// ---- evaluation -------------------------------------------------------------------------------

/** Code-point order, as DuckDB compares VARCHAR (UTF-16 `<` differs above the BMP). */
export function compareStrings(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i) ?? 0;
    const y = b.codePointAt(i) ?? 0;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** -1/0/1, or undefined when the two cannot be compared (missing, or of different types). */
function compare(actual: unknown, expected: FilterValue): number | undefined {
  if (typeof actual === 'number' && typeof expected === 'number') return actual < expected ? -1 : actual > expected ? 1 : 0;
  if (typeof actual === 'string' && typeof expected === 'string') return compareStrings(actual, expected);
  if (typeof actual === 'boolean' && typeof expected === 'boolean') return actual === expected ? 0 : actual ? 1 : -1;
  return undefined;
}

/** Evaluates a filter against one entity (epoch-ms timestamp), with the semantics of filterToSql. */
export function matchesFilter(entity: Record<string, unknown>, f: FilterNode): boolean {
  switch (f.op) {
    case 'and':
      return f.args.every((a) => matchesFilter(entity, a));
    case 'or':
      return f.args.some((a) => matchesFilter(entity, a));
    case 'in':
      return f.values.some((v) => compare(entity[f.field], v) === 0);
    case 'nin':
      return !f.values.some((v) => compare(entity[f.field], v) === 0);
    default: {
      const c = compare(entity[f.field], f.value);
      if (f.op === 'ne') return c !== 0;
      if (c === undefined) return false;
      if (f.op === 'eq') return c === 0;
      if (f.op === 'gt') return c > 0;
      if (f.op === 'gte') return c >= 0;
      if (f.op === 'lt') return c < 0;
      return c <= 0;
    }
  }
}

/**
 * Plain `field=value` query parameters as a filter (a repeated parameter means any of its values).
 * Parameters starting with `_` are the caller's to handle and are skipped here.
 */
export function filterFromParams(
  query: Readonly<Record<string, unknown>>,
  opts: FilterOptions = {},
): FilterResult | undefined {
  const leaves = new LeafBuilder(opts.fields ?? USAGE_FIELD_TYPES);
  const args: FilterNode[] = [];
  try {
    for (const [key, value] of Object.entries(query)) {
      if (key.startsWith('_') && key !== '_id') continue;
      args.push(Array.isArray(value) ? leaves.list('in', key, value) : leaves.leaf('eq', key, value));
    }
  } catch (err) {
    if (err instanceof FilterError) return { ok: false, error: err.message };
    throw err;
  }
  if (args.length === 0) return undefined;
  return { ok: true, filter: args.length === 1 && args[0] ? args[0] : { op: 'and', args } };
}

/** `a and b`, dropping absent parts; undefined when nothing is left. */
export function andFilters(...parts: (FilterNode | undefined)[]): FilterNode | undefined {
  const args = parts.filter((p): p is FilterNode => p !== undefined);
  if (args.length <= 1) return args[0];
  return { op: 'and', args };
}
