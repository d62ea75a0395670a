/**
 * Distribution bucket counts summed per (time bucket, group): what a percentile read adds up
 * before it ranks (distributions.ts). Counts merge exactly, so the sum of any seconds, tiers or
 * nodes is the distribution of all their events. Memory follows the buckets touched per group
 * (a few hundred at most for a group's whole range), never the layout's width.
 */

/** One (time bucket, group)'s bucket counts: `ids` strictly ascending, `counts` beside them. */
export interface DistributionRow {
  /** Bucket start, Unix seconds. */
  bucket: number;
  /** Values of the groupBy dimensions, in groupBy order. */
  group: readonly string[];
  ids: Uint32Array;
  counts: Float64Array;
}

export interface DistributionSums {
  /** Adds `count` to bucket `id` of (bucket, group). */
  add(bucket: number, group: readonly string[], id: number, count: number): void;
  /** Adds every bucket of `row`. */
  addRow(row: DistributionRow): void;
  /** The sums, ordered by bucket then group (the order of the SQL stores' ORDER BY). */
  rows(): DistributionRow[];
}

interface Cell {
  bucket: number;
  group: readonly string[];
  counts: Map<number, number>;
}

export function createDistributionSums(): DistributionSums {
  const cells = new Map<string, Cell>();
  const cellOf = (bucket: number, group: readonly string[]): Cell => {
    const key = group.length === 0 ? String(bucket) : `${bucket}\u0000${group.join('\u0000')}`;
    let cell = cells.get(key);
    if (cell === undefined) cells.set(key, (cell = { bucket, group, counts: new Map() }));
    return cell;
  };
  return {
    add(bucket, group, id, count) {
      const c = cellOf(bucket, group).counts;
      c.set(id, (c.get(id) ?? 0) + count);
    },
    addRow(row) {
      const c = cellOf(row.bucket, row.group).counts;
      for (let k = 0; k < row.ids.length; k++) {
        const id = row.ids[k] as number;
        c.set(id, (c.get(id) ?? 0) + (row.counts[k] as number));
      }
    },
    rows() {
      const out: DistributionRow[] = [];
      for (const cell of cells.values()) {
        const ids = Uint32Array.from([...cell.counts.keys()].filter((id) => cell.counts.get(id) !== 0)).sort();
        out.push({ bucket: cell.bucket, group: cell.group, ids, counts: Float64Array.from(ids, (id) => cell.counts.get(id) as number) });
      }
      return out.sort(compareBucketGroup);
    },
  };
}

/** Orders by bucket, then group values (the order of the SQL stores' ORDER BY); for sum rows too. */
export function compareBucketGroup(a: { bucket: number; group: readonly string[] }, b: { bucket: number; group: readonly string[] }): number {
  if (a.bucket !== b.bucket) return a.bucket - b.bucket;
  for (let g = 0; g < a.group.length; g++) {
    const x = a.group[g] as string;
    const y = b.group[g] as string;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}
