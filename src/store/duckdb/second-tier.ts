/**
 * Reads of the 1 s tier, whose edge and origin vectors are sparse BLOBs (schema.ts): SQL selects
 * and filters the rows, JS decodes and sums them. The APIs read this tier per service over short
 * ranges (the Fastly history, the window refill on start), so the rows are few; the bulk scans
 * (Azion, ODSL) read the columnar rollup tiers. Hot path for replay after a crash: one decode per
 * row, no intermediate objects.
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { EDGE_FIELDS, edgeFieldIndex, ORIGIN_FIELDS } from '../../model/fields.ts';
import type { DimensionRecord, EdgeRecord, OriginRecord, RecordSet } from '../../model/record.ts';
import { addSparseVector } from '../../model/sparse-vector.ts';
import type { SumQuery, SumRow } from '../store.ts';
import { ident, keyColumns, KEY_COLUMNS, tableName, type RecordKind } from './schema.ts';
import type { Where } from './sql.ts';

const str = (v: DuckDBValue | undefined): string => String(v);
const n = (v: DuckDBValue | undefined): number => Number(v);
const bytesOf = (v: DuckDBValue | undefined): Uint8Array => (v as { bytes: Uint8Array }).bytes;

async function columns(c: DuckDBConnection, sql: string, params: DuckDBValue[]): Promise<{ rows: number; cols: DuckDBValue[][] }> {
  const reader = await c.runAndReadAll(sql, params);
  return { rows: reader.currentRowCount, cols: reader.getColumns() };
}

/** True when row `i` has the same bucket and keys as row `j` (columns 0..keys). */
const sameKey = (cols: DuckDBValue[][], keys: number, i: number, j: number): boolean => {
  for (let k = 0; k <= keys; k++) if (cols[k]?.[i] !== cols[k]?.[j]) return false;
  return true;
};

/**
 * The 1 s records of `kind` matching `where`. `summed`: one record per key, ordered by second
 * and key (what readEdge returns); otherwise every stored row as it is (for replay).
 */
export async function readSecondRecords<K extends RecordKind>(c: DuckDBConnection, kind: K, where: Where, summed: boolean): Promise<RecordSet[K]> {
  const keys = KEY_COLUMNS[kind].length;
  const table = tableName(kind, '1s');
  const order = summed ? ` ORDER BY bucket, ${keyColumns(kind)}` : '';
  if (kind === 'dimension') {
    const values = summed ? 'SUM("count"), SUM("bytes")' : '"count", "bytes"';
    const group = summed ? ` GROUP BY bucket, ${keyColumns(kind)}` : '';
    const { rows, cols } = await columns(c, `SELECT bucket, ${keyColumns(kind)}, ${values} FROM ${table} WHERE ${where.sql}${group}${order}`, where.params);
    const out: DimensionRecord[] = [];
    for (let i = 0; i < rows; i++) {
      const dimension = str(cols[4]?.[i]) === 'status' ? 'status' : 'method';
      out.push({ second: n(cols[0]?.[i]), service: str(cols[1]?.[i]), domain: str(cols[2]?.[i]), product: str(cols[3]?.[i]), dimension, value: str(cols[5]?.[i]), count: n(cols[6]?.[i]), bytes: n(cols[7]?.[i]) });
    }
    return out as RecordSet[K];
  }
  const { rows, cols } = await columns(c, `SELECT bucket, ${keyColumns(kind)}, vec FROM ${table} WHERE ${where.sql}${order}`, where.params);
  const length = kind === 'edge' ? EDGE_FIELDS.length : ORIGIN_FIELDS.length;
  const vec = cols[keys + 1] ?? [];
  const out: (EdgeRecord | OriginRecord)[] = [];
  for (let i = 0; i < rows; i++) {
    const last = out[out.length - 1];
    if (summed && last !== undefined && sameKey(cols, keys, i, i - 1)) {
      addSparseVector(bytesOf(vec[i]), last.values);
      continue;
    }
    const values = new Float64Array(length);
    addSparseVector(bytesOf(vec[i]), values);
    const second = n(cols[0]?.[i]);
    out.push(
      kind === 'edge'
        ? { second, service: str(cols[1]?.[i]), datacenter: str(cols[2]?.[i]), domain: str(cols[3]?.[i]), product: str(cols[4]?.[i]), values }
        : { second, service: str(cols[1]?.[i]), datacenter: str(cols[2]?.[i]), backend: str(cols[3]?.[i]), values },
    );
  }
  return out as RecordSet[K];
}

/** Orders sum rows by bucket, then group values (the order of the SQL engines' ORDER BY). */
export function compareSumRows(a: { bucket: number; group: readonly string[] }, b: { bucket: number; group: readonly string[] }): number {
  if (a.bucket !== b.bucket) return a.bucket - b.bucket;
  for (let g = 0; g < a.group.length; g++) {
    const x = a.group[g] as string;
    const y = b.group[g] as string;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** sumEdge on the 1 s tier: the rows' vectors decoded and the chosen fields summed in JS. */
export async function sumSecondEdge(c: DuckDBConnection, query: SumQuery, where: Where): Promise<SumRow[]> {
  const groupBy = query.groupBy ?? [];
  const fieldIndexes = query.fields.map((f) => edgeFieldIndex.get(f) ?? -1);
  const select = ['bucket - bucket % ? AS b', ...groupBy.map(ident), 'vec'].join(', ');
  const sql = `SELECT ${select} FROM ${tableName('edge', '1s')} WHERE ${where.sql}`;
  const { rows, cols } = await columns(c, sql, [BigInt(query.bucketSeconds), ...where.params]);
  const sums = new Map<string, { bucket: number; group: string[]; values: number[] }>();
  const scratch = new Float64Array(EDGE_FIELDS.length);
  const vec = cols[1 + groupBy.length] ?? [];
  for (let i = 0; i < rows; i++) {
    const bucket = n(cols[0]?.[i]);
    const group = groupBy.map((_, g) => str(cols[1 + g]?.[i]));
    const key = JSON.stringify([bucket, group]);
    let row = sums.get(key);
    if (row === undefined) sums.set(key, (row = { bucket, group, values: query.fields.map(() => 0) }));
    scratch.fill(0);
    addSparseVector(bytesOf(vec[i]), scratch);
    for (let f = 0; f < fieldIndexes.length; f++) row.values[f] = (row.values[f] as number) + (scratch[fieldIndexes[f] as number] as number);
  }
  return [...sums.values()].sort(compareSumRows);
}
