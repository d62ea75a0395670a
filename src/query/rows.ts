/**
 * Sums per (bucket, group) while the parts of a plan are read, then the answer's rows: top N
 * groups and an `other` row per bucket holding the rest (so every bucket's total stays exact;
 * top values leave the rest out instead),
 * ranked by orderBy over the whole range, zero rows left out, metrics computed from the sums.
 */
import type { GroupField, MetricDef } from './metrics.ts';

export interface Cell {
  bucket: number;
  group: readonly string[];
  /** Sums of the query's inputs (QueryInputs.names order). */
  sums: Float64Array;
  /** Distribution bucket id -> count, merged (only when the query asks for a percentile). */
  dist?: Map<number, number>;
}

/** The stored fields a query's metrics read, each once; metrics point into this list. */
export interface QueryInputs {
  names: readonly string[];
  /** Per metric, the positions of its inputs in `names`. */
  of: readonly (readonly number[])[];
}

export function inputsOf(metrics: readonly MetricDef[]): QueryInputs {
  const names: string[] = [];
  const of = metrics.map((m) =>
    m.inputs.map((input) => {
      let i = names.indexOf(input);
      if (i < 0) i = names.push(input) - 1;
      return i;
    }),
  );
  return { names, of };
}

export interface Accumulator {
  /** Adds `values` (read through `pick`, one per input) into the cell of bucket and group. */
  add(bucket: number, group: readonly string[], pick: (input: number) => number): void;
  /** Merges bucket counts into the cell of bucket and group. */
  addDistribution(bucket: number, group: readonly string[], ids: ArrayLike<number>, counts: ArrayLike<number>): void;
  cells(): IterableIterator<Cell>;
}

function mergeInto(into: Map<number, number>, ids: ArrayLike<number>, counts: ArrayLike<number>): void {
  for (let k = 0; k < ids.length; k++) {
    const id = ids[k] as number;
    into.set(id, (into.get(id) ?? 0) + (counts[k] as number));
  }
}

const mergeMaps = (into: Map<number, number> | undefined, from: Map<number, number> | undefined): Map<number, number> | undefined => {
  if (from === undefined) return into;
  const out = into ?? new Map<number, number>();
  for (const [id, n] of from) out.set(id, (out.get(id) ?? 0) + n);
  return out;
};

export function createAccumulator(width: number): Accumulator {
  const cells = new Map<string, Cell>();
  const cellOf = (bucket: number, group: readonly string[]): Cell => {
    const key = `${bucket}\u0000${group.join('\u0000')}`;
    let cell = cells.get(key);
    if (cell === undefined) cells.set(key, (cell = { bucket, group, sums: new Float64Array(width) }));
    return cell;
  };
  return {
    add(bucket, group, pick) {
      const cell = cellOf(bucket, group);
      for (let i = 0; i < width; i++) cell.sums[i] = (cell.sums[i] ?? 0) + pick(i);
    },
    addDistribution(bucket, group, ids, counts) {
      const cell = cellOf(bucket, group);
      mergeInto((cell.dist ??= new Map()), ids, counts);
    },
    cells: () => cells.values(),
  };
}

export type Row = Record<string, string | number | boolean | null>;

export interface RowOptions {
  metrics: readonly MetricDef[];
  inputs: QueryInputs;
  groupBy: readonly GroupField[];
  orderBy: readonly { metric: MetricDef; desc: boolean }[];
  limit: number | undefined;
  /** Leave `time` out (granularity 'all'). */
  timeless: boolean;
  /** Sum the groups past `limit` into one `other` row per bucket; false leaves them out (top values, which do not sum). */
  otherRow: boolean;
  /** Leave out a row whose sums are all 0; false keeps it (a top value's requests_error of 0 is an answer). */
  dropEmpty: boolean;
}

/** What a row's metrics are computed from: its sums, and its merged distribution when it has one. */
interface Totals {
  sums: Float64Array;
  dist?: Map<number, number> | undefined;
}

const valueOf = (m: number, t: Totals, opts: RowOptions): number | undefined => {
  const def = opts.metrics[m] as MetricDef;
  if (def.distribution !== undefined) {
    const ids = t.dist === undefined ? [] : [...t.dist.keys()].sort((a, b) => a - b);
    return def.distribution.value(ids, ids.map((id) => t.dist?.get(id) ?? 0));
  }
  return def.compute((opts.inputs.of[m] ?? []).map((i) => t.sums[i] ?? 0));
};

/** True when a row holds nothing: zero sums and no counted distribution. */
const isEmpty = (t: Totals): boolean => t.sums.every((x) => x === 0) && (t.dist === undefined || [...t.dist.values()].every((n) => n === 0));

const compareGroups = (a: readonly string[], b: readonly string[]): number => {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return (a[i] as string) < (b[i] as string) ? -1 : 1;
  return 0;
};

export function buildRows(cells: Iterable<Cell>, opts: RowOptions): Row[] {
  const width = opts.inputs.names.length;
  const all = [...cells];
  // Totals per group over the range: what ranks the groups.
  const ranksByDistribution = opts.orderBy.some((o) => o.metric.distribution !== undefined) || (opts.orderBy.length === 0 && opts.metrics[0]?.distribution !== undefined);
  const totals = new Map<string, { group: readonly string[]; sums: Float64Array; dist?: Map<number, number> | undefined }>();
  for (const c of all) {
    const key = c.group.join('\u0000');
    let t = totals.get(key);
    if (t === undefined) totals.set(key, (t = { group: c.group, sums: new Float64Array(width) }));
    for (let i = 0; i < width; i++) t.sums[i] = (t.sums[i] ?? 0) + (c.sums[i] ?? 0);
    if (ranksByDistribution) t.dist = mergeMaps(t.dist, c.dist);
  }
  const ranking = opts.orderBy.length > 0 ? opts.orderBy : opts.limit !== undefined && opts.metrics.length > 0 ? [{ metric: opts.metrics[0] as MetricDef, desc: true }] : [];
  const ranked = [...totals.values()].sort((a, b) => {
    for (const { metric, desc } of ranking) {
      const m = opts.metrics.indexOf(metric);
      const x = valueOf(m, a, opts);
      const y = valueOf(m, b, opts);
      if (x === y) continue;
      // A metric without a value (a ratio over nothing) ranks last either way.
      if (x === undefined) return 1;
      if (y === undefined) return -1;
      return desc ? y - x : x - y;
    }
    return compareGroups(a.group, b.group);
  });
  const rank = new Map(ranked.map((t, i) => [t.group.join('\u0000'), i]));
  const kept = opts.limit !== undefined && opts.groupBy.length > 0 ? opts.limit : Number.POSITIVE_INFINITY;

  const buckets = new Map<number, { cells: Cell[]; other: Totals | undefined }>();
  for (const c of all) {
    let b = buckets.get(c.bucket);
    if (b === undefined) buckets.set(c.bucket, (b = { cells: [], other: undefined }));
    if ((rank.get(c.group.join('\u0000')) ?? 0) < kept) b.cells.push(c);
    else if (opts.otherRow) {
      b.other ??= { sums: new Float64Array(width) };
      for (let i = 0; i < width; i++) b.other.sums[i] = (b.other.sums[i] ?? 0) + (c.sums[i] ?? 0);
      b.other.dist = mergeMaps(b.other.dist, c.dist);
    }
  }

  const rows: Row[] = [];
  const row = (bucket: number, group: readonly (string | null)[], t: Totals, other: boolean): void => {
    if (opts.dropEmpty && isEmpty(t)) return;
    const r: Row = opts.timeless ? {} : { time: bucket };
    opts.groupBy.forEach((g, i) => (r[g] = group[i] ?? null));
    opts.metrics.forEach((m, i) => (r[m.name] = valueOf(i, t, opts) ?? null));
    if (other) r['other'] = true;
    rows.push(r);
  };
  for (const bucket of [...buckets.keys()].sort((a, b) => a - b)) {
    const b = buckets.get(bucket) as { cells: Cell[]; other: Totals | undefined };
    b.cells.sort((x, y) => (rank.get(x.group.join('\u0000')) ?? 0) - (rank.get(y.group.join('\u0000')) ?? 0));
    for (const c of b.cells) row(bucket, c.group, c, false);
    if (b.other !== undefined) row(bucket, opts.groupBy.map(() => null), b.other, true);
  }
  return rows;
}
