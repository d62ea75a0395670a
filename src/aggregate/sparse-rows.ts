/**
 * A compact matrix of counter vectors (rows of EDGE_FIELDS or ORIGIN_FIELDS width) for the
 * window. A row of 265 fields is mostly zeros, but the rows of one service and second have
 * nearly the same non-zero fields (every POP serves 200s, hits, bytes...): storing only the
 * columns some row of the block uses takes ~15-30 columns instead of 265, about 10x less memory,
 * and a read writes those few columns into a dense vector.
 */
export interface SparseRows {
  /** Appends a row of zeros; returns its index. */
  addRow(): number;
  /** Appends a copy of `row`; returns the new row's index. */
  copyRow(row: number): number;
  /**
   * row += delta (a dense vector of the full width). `nonZero`, when given, lists the fields
   * where delta is not 0 (its first `count` entries): adding one delta to a leaf and its sums
   * then scans the 265 fields once instead of once per row.
   */
  add(row: number, delta: Float64Array, nonZero?: Int32Array, count?: number): void;
  /** Writes `row` densely into out[offset, offset + width); that range must be zeros. */
  writeDense(row: number, out: Float64Array, offset: number): void;
  /**
   * The fields some row of the block has set, ascending: every other field is 0 in every row.
   * The same array until a new field appears (then a new one), so callers may key caches by it.
   */
  fieldsInOrder(): Uint16Array;
  readonly rowCount: number;
  /** Approximate bytes held. */
  bytes(): number;
}

export function createSparseRows(width: number): SparseRows {
  // colOf[field] = column position or -1; cols[position] = field.
  const colOf = new Int16Array(width).fill(-1);
  let cols = new Uint16Array(8);
  let colCount = 0;
  let colCap = 8;
  let rowCap = 2;
  let rowCount = 0;
  let data = new Float64Array(rowCap * colCap);
  let ordered: Uint16Array | undefined;

  function relayout(newRowCap: number, newColCap: number): void {
    const next = new Float64Array(newRowCap * newColCap);
    for (let r = 0; r < rowCount; r++) next.set(data.subarray(r * colCap, r * colCap + colCount), r * newColCap);
    data = next;
    rowCap = newRowCap;
    colCap = newColCap;
  }

  function addColumn(field: number): number {
    if (colCount === colCap) {
      relayout(rowCap, Math.min(width, colCap * 2));
      const grown = new Uint16Array(colCap);
      grown.set(cols);
      cols = grown;
    }
    cols[colCount] = field;
    colOf[field] = colCount;
    ordered = undefined;
    return colCount++;
  }

  function addRow(): number {
    if (rowCount === rowCap) relayout(rowCap * 2, colCap);
    return rowCount++;
  }

  return {
    addRow,
    copyRow(row) {
      const copy = addRow();
      data.copyWithin(copy * colCap, row * colCap, row * colCap + colCount);
      return copy;
    },
    add(row, delta, nonZero, count = 0) {
      if (nonZero !== undefined) {
        for (let k = 0; k < count; k++) {
          const f = nonZero[k] as number;
          let c = colOf[f] as number;
          if (c < 0) c = addColumn(f);
          const at = row * colCap + c;
          data[at] = (data[at] as number) + (delta[f] as number);
        }
        return;
      }
      for (let f = 0; f < width; f++) {
        const v = delta[f] as number;
        if (v === 0) continue;
        let c = colOf[f] as number;
        if (c < 0) c = addColumn(f);
        const at = row * colCap + c;
        data[at] = (data[at] as number) + v;
      }
    },
    writeDense(row, out, offset) {
      const start = row * colCap;
      for (let c = 0; c < colCount; c++) out[offset + (cols[c] as number)] = data[start + c] as number;
    },
    fieldsInOrder() {
      return (ordered ??= cols.slice(0, colCount).sort());
    },
    get rowCount() {
      return rowCount;
    },
    bytes: () => data.byteLength + cols.byteLength + colOf.byteLength + 96,
  };
}
