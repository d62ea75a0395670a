/**
 * The vectors of one service and second in the window: leaves per (outer, inner) key (datacenter
 * x domain, or datacenter x backend) with their sums kept up to date on every add, so a read
 * copies pre-summed vectors instead of summing thousands: per outer (datacenter), per inner
 * (domain or backend) and in total.
 *
 * A sum over a single child is that child: it shares the child's row (an alias) until a second
 * child appears, and only then gets a row of its own. Most services have one domain per POP, so
 * per-POP sums cost nothing.
 *
 * Names are kept in small arrays searched linearly (few POPs and domains per service), with a
 * Map index once a list grows long: less memory per key than a Map per block.
 */
import { createSparseRows, type SparseRows } from './sparse-rows.ts';

const INDEX_FROM = 32;

/**
 * The non-zero fields of the delta being added: computed once per add, used for the leaf and
 * each of its sums. Shared by every block (adds never interleave), so it costs no memory per key.
 */
let nonZero = new Int32Array(512);

/** Names with their position; `sums[k]` is the row of name k's sum (alias: -(leafRow + 1)). */
interface Names {
  names: string[];
  sums: number[];
  index: Map<string, number> | undefined;
}

const newNames = (): Names => ({ names: [], sums: [], index: undefined });

function positionOf(n: Names, name: string): number {
  if (n.index !== undefined) return n.index.get(name) ?? -1;
  return n.names.indexOf(name);
}

function addName(n: Names, name: string, sum: number): number {
  n.names.push(name);
  n.sums.push(sum);
  const k = n.names.length - 1;
  if (n.index !== undefined) n.index.set(name, k);
  else if (n.names.length > INDEX_FROM) n.index = new Map(n.names.map((x, i) => [x, i]));
  return k;
}

const aliasOf = (leafRow: number): number => -(leafRow + 1);
const rowOf = (sum: number): number => (sum < 0 ? -sum - 1 : sum);

export interface GroupedRows {
  /** Adds a dense delta to the leaf (outer, inner) and to its sums. */
  add(outer: string, inner: string, delta: Float64Array): void;
  readonly rows: SparseRows;
  readonly leafCount: number;
  readonly outerCount: number;
  readonly innerCount: number;
  /** Row of the total over every leaf. Only call when leafCount > 0. */
  totalRow(): number;
  forEachOuter(f: (outer: string, row: number) => void): void;
  forEachInner(f: (inner: string, row: number) => void): void;
  /** Leaves grouped by outer: f(outer, inner, row), all leaves of one outer consecutively. */
  forEachLeaf(f: (outer: string, inner: string, row: number) => void): void;
  bytes(): number;
}

export function createGroupedRows(width: number): GroupedRows {
  const rows = createSparseRows(width);
  const outers = newNames();
  const inners = newNames();
  const leafOuter: number[] = [];
  const leafInner: number[] = [];
  const leafRow: number[] = [];
  let leafIndex: Map<number, number> | undefined;
  let total = 0;
  let count = 0;
  const addTo = (row: number, delta: Float64Array): void => rows.add(row, delta, nonZero, count);

  function findLeaf(o: number, i: number): number {
    if (leafIndex !== undefined) return leafIndex.get(o * 2 ** 21 + i) ?? -1;
    for (let k = 0; k < leafOuter.length; k++) if (leafOuter[k] === o && leafInner[k] === i) return k;
    return -1;
  }

  /** Keeps a sum up to date after `delta` went into `leaf`; returns the sum's new encoding. */
  function updateSum(sum: number, leaf: number, delta: Float64Array): number {
    if (sum >= 0) {
      addTo(sum, delta);
      return sum;
    }
    if (rowOf(sum) === leaf) return sum; // alias of this very leaf: already counted
    // A second child: the sum gets its own row, the first child's values plus this delta.
    const own = rows.copyRow(rowOf(sum));
    addTo(own, delta);
    return own;
  }

  return {
    add(outer, inner, delta) {
      if (nonZero.length < width) nonZero = new Int32Array(width);
      count = 0;
      for (let f = 0; f < width; f++) if ((delta[f] as number) !== 0) nonZero[count++] = f;
      let o = positionOf(outers, outer);
      let i = positionOf(inners, inner);
      let k = o < 0 || i < 0 ? -1 : findLeaf(o, i);
      let leaf: number;
      if (k >= 0) {
        leaf = leafRow[k] as number;
        addTo(leaf, delta);
      } else {
        leaf = rows.addRow();
        addTo(leaf, delta);
        k = leafRow.length;
        leafRow.push(leaf);
        if (o < 0) o = addName(outers, outer, aliasOf(leaf));
        else outers.sums[o] = updateSum(outers.sums[o] as number, leaf, delta);
        if (i < 0) i = addName(inners, inner, aliasOf(leaf));
        else inners.sums[i] = updateSum(inners.sums[i] as number, leaf, delta);
        leafOuter.push(o);
        leafInner.push(i);
        if (leafIndex !== undefined) leafIndex.set(o * 2 ** 21 + i, k);
        else if (leafRow.length > INDEX_FROM) leafIndex = new Map(leafRow.map((_, j) => [(leafOuter[j] as number) * 2 ** 21 + (leafInner[j] as number), j]));
        total = k === 0 ? aliasOf(leaf) : updateSum(total, leaf, delta);
        return;
      }
      outers.sums[o] = updateSum(outers.sums[o] as number, leaf, delta);
      inners.sums[i] = updateSum(inners.sums[i] as number, leaf, delta);
      total = updateSum(total, leaf, delta);
    },
    rows,
    get leafCount() {
      return leafRow.length;
    },
    get outerCount() {
      return outers.names.length;
    },
    get innerCount() {
      return inners.names.length;
    },
    totalRow: () => rowOf(total),
    forEachOuter(f) {
      outers.names.forEach((name, k) => f(name, rowOf(outers.sums[k] as number)));
    },
    forEachInner(f) {
      inners.names.forEach((name, k) => f(name, rowOf(inners.sums[k] as number)));
    },
    forEachLeaf(f) {
      const byOuter: number[][] = outers.names.map(() => []);
      leafOuter.forEach((o, k) => (byOuter[o] as number[]).push(k));
      byOuter.forEach((leaves, o) => {
        const name = outers.names[o] as string;
        for (const k of leaves) f(name, inners.names[leafInner[k] as number] as string, leafRow[k] as number);
      });
    },
    bytes: () => rows.bytes() + (outers.names.length + inners.names.length) * 24 + leafRow.length * 24 + 200,
  };
}
