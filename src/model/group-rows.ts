/**
 * Rows grouped by a group number, by a counting sort: `rows` lists the row indexes group by group
 * (in row order within a group), group g's spanning rows[start[g], start[g + 1]). Linear, two
 * passes, no comparison: the store writer groups hundreds of thousands of rows a write this way.
 */
export interface RowGroups {
  start: Int32Array;
  rows: Int32Array;
}

export function groupRows(groupOf: Int32Array, groups: number): RowGroups {
  const start = new Int32Array(groups + 1);
  for (let i = 0; i < groupOf.length; i++) {
    const g = (groupOf[i] as number) + 1;
    start[g] = (start[g] as number) + 1;
  }
  for (let g = 0; g < groups; g++) start[g + 1] = (start[g + 1] as number) + (start[g] as number);
  const fill = start.slice(0, groups);
  const rows = new Int32Array(groupOf.length);
  for (let i = 0; i < groupOf.length; i++) {
    const g = groupOf[i] as number;
    rows[fill[g] as number] = i;
    fill[g] = (fill[g] as number) + 1;
  }
  return { start, rows };
}
