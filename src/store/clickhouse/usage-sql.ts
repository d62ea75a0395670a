/**
 * FilterNode and SortSpec -> ClickHouse SQL for the usage table, with the semantics of
 * matchesFilter and of the DuckDB store (./duckdb/usage-filter-sql.ts, usage-sort-sql.ts): a
 * missing value fails every comparison but ne/nin, and sorts last either way. 18.16 has no query
 * parameters, so values are literals (`literal`, or a number's JS text); columns come from a
 * fixed table. A value of another type than its column compares as matchesFilter's `compare`
 * does (never equal), decided here rather than left to a ClickHouse type error.
 */
import type { CmpOp, FilterNode, FilterValue } from '../../model/usage.ts';
import { USAGE_COLUMNS, type SortSpec } from '../usage-store.ts';
import { literal } from './client.ts';

type ColumnType = 'string' | 'number';

/** The type of each usage column and whether it may be NULL (an optional entity field). */
export const USAGE_COLUMN_TYPES: Readonly<Record<string, { type: ColumnType; nullable: boolean }>> = Object.freeze({
  id: { type: 'string', nullable: false },
  owner: { type: 'string', nullable: false },
  provider: { type: 'string', nullable: false },
  metric: { type: 'string', nullable: false },
  timestamp_ms: { type: 'number', nullable: false },
  value: { type: 'number', nullable: false },
  type: { type: 'string', nullable: true },
  action: { type: 'string', nullable: true },
  application: { type: 'string', nullable: true },
  detail: { type: 'string', nullable: true },
  duration: { type: 'number', nullable: true },
  environment: { type: 'string', nullable: true },
  http_status: { type: 'number', nullable: true },
  invocation_id: { type: 'string', nullable: true },
  method: { type: 'string', nullable: true },
  response_size: { type: 'number', nullable: true },
  service: { type: 'string', nullable: true },
  user_id: { type: 'string', nullable: true },
});

const SQL_OPS: Readonly<Record<CmpOp, string>> = { eq: '=', ne: '!=', gt: '>', gte: '>=', lt: '<', lte: '<=' };

function columnOf(field: string): { name: string; type: ColumnType; nullable: boolean } {
  const name = Object.hasOwn(USAGE_COLUMNS, field) ? USAGE_COLUMNS[field] : undefined;
  const info = name !== undefined && Object.hasOwn(USAGE_COLUMN_TYPES, name) ? USAGE_COLUMN_TYPES[name] : undefined;
  if (name === undefined || !info) throw new Error(`usage SQL: no column for field ${field}`);
  return { name, ...info };
}

/** A literal of `v` when it has the column's type; undefined when it can never compare equal. */
function valueLiteral(v: FilterValue, type: ColumnType): string | undefined {
  if (type === 'string') return typeof v === 'string' ? literal(v) : undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) return undefined;
  // An integer beyond the safe range goes in exponent form, which ClickHouse reads as Float64 (as
  // the DuckDB store casts it to DOUBLE), not as a UInt64 literal it might not fit.
  return Number.isInteger(v) && !Number.isSafeInteger(v) ? v.toExponential() : String(v);
}

/** A WHERE expression (UInt8) selecting exactly the entities matchesFilter selects. */
export function usageFilterSql(f: FilterNode): string {
  switch (f.op) {
    case 'and':
    case 'or':
      if (f.args.length === 0) return f.op === 'and' ? '1' : '0';
      return `(${f.args.map(usageFilterSql).join(f.op === 'and' ? ' AND ' : ' OR ')})`;
    case 'in':
    case 'nin': {
      const c = columnOf(f.field);
      const values = f.values.flatMap((v) => valueLiteral(v, c.type) ?? []);
      if (values.length === 0) return f.op === 'in' ? '0' : '1';
      // A NULL is in no list (ifNull), so NOT IN holds for a missing value, as in matchesFilter.
      const list = c.nullable ? `ifNull(${c.name} IN (${values.join(', ')}), 0)` : `${c.name} IN (${values.join(', ')})`;
      return f.op === 'in' ? list : `NOT ${list}`;
    }
    default: {
      const c = columnOf(f.field);
      const v = valueLiteral(f.value, c.type);
      if (v === undefined) return f.op === 'ne' ? '1' : '0';
      if (f.op === 'ne') return c.nullable ? `(isNull(${c.name}) OR ${c.name} != ${v})` : `${c.name} != ${v}`;
      const cmp = `${c.name} ${SQL_OPS[f.op]} ${v}`;
      return c.nullable ? `ifNull(${cmp}, 0)` : cmp;
    }
  }
}

/** ORDER BY of a sort: missing values last either way; the id breaks ties so pages are stable. */
export function usageSortSql(sort: SortSpec): string {
  const parts = sort.map(({ field, dir }) => `${columnOf(field).name} ${dir === 1 ? 'ASC' : 'DESC'} NULLS LAST`);
  if (!sort.some(({ field }) => USAGE_COLUMNS[field] === 'id')) parts.push('id ASC');
  return parts.join(', ');
}
