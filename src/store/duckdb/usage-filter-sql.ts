/**
 * FilterNode -> SQL WHERE fragment, with the semantics of matchesFilter (a missing value fails
 * every comparison but ne/nin). Columns are checked identifiers; values are bound parameters.
 */
import type { DuckDBValue } from '@duckdb/node-api';
import type { CmpOp, FilterNode, FilterValue } from '../../model/usage.ts';
import { USAGE_COLUMNS } from '../usage-store.ts';

export { USAGE_COLUMNS };

const SQL_OPS: Readonly<Record<CmpOp, string>> = { eq: '=', ne: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=' };

/**
 * A WHERE fragment for a filter: columns are checked identifiers (quoted), values are bound
 * parameters (`?`, in order). `columns` maps fields to columns; default USAGE_COLUMNS.
 */
export function filterToSql(
  f: FilterNode,
  columns: Readonly<Record<string, string>> = USAGE_COLUMNS,
): { sql: string; params: DuckDBValue[] } {
  const params: DuckDBValue[] = [];
  /**
   * A bound value's placeholder. @duckdb/node-api binds an integral JS number as BIGINT, which
   * throws for one beyond int64 (`1e308`, a valid JSON number): those go as text cast to DOUBLE.
   */
  const bind = (v: FilterValue): string => {
    if (typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v)) {
      params.push(String(v));
      return 'CAST(? AS DOUBLE)';
    }
    params.push(v);
    return '?';
  };
  const col = (field: string): string => {
    const c = Object.hasOwn(columns, field) ? columns[field] : undefined;
    if (!c || !/^[a-z_][a-z0-9_]*$/.test(c)) throw new Error(`filterToSql: no column for field ${field}`);
    return `"${c}"`;
  };
  const walk = (n: FilterNode): string => {
    switch (n.op) {
      case 'and':
      case 'or':
        if (n.args.length === 0) return n.op === 'and' ? 'TRUE' : 'FALSE';
        return `(${n.args.map(walk).join(n.op === 'and' ? ' AND ' : ' OR ')})`;
      case 'in':
      case 'nin': {
        if (n.values.length === 0) return n.op === 'in' ? 'FALSE' : 'TRUE';
        const list = `${col(n.field)} IN (${n.values.map(bind).join(', ')})`;
        // A missing value is in no list: coalesce keeps NOT IN true for it, as matchesFilter does.
        return n.op === 'in' ? `COALESCE(${list}, FALSE)` : `NOT COALESCE(${list}, FALSE)`;
      }
      case 'ne':
        return `(${col(n.field)} IS DISTINCT FROM ${bind(n.value)})`;
      default:
        return `COALESCE(${col(n.field)} ${SQL_OPS[n.op]} ${bind(n.value)}, FALSE)`;
    }
  };
  return { sql: walk(f), params };
}
