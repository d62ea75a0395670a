/** ORDER BY clauses of the usage store's sorts (SortSpec, store/usage-store.ts). */
import type { SortSpec } from '../usage-store.ts';

/**
 * ORDER BY for a sort: columns are checked identifiers; the id breaks ties so pages are stable.
 * Missing values sort last either way.
 */
export function sortToSql(sort: SortSpec, columns: Readonly<Record<string, string>>, tieBreak = 'id'): string {
  const parts = sort.map(({ field, dir }) => {
    const c = Object.hasOwn(columns, field) ? columns[field] : undefined;
    if (!c || !/^[a-z_][a-z0-9_]*$/.test(c)) throw new Error(`sortToSql: no column for field ${field}`);
    return `"${c}" ${dir === 1 ? 'ASC' : 'DESC'} NULLS LAST`;
  });
  if (!sort.some(({ field }) => columns[field] === tieBreak)) parts.push(`"${tieBreak}" ASC`);
  return parts.join(', ');
}
