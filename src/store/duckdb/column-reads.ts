/**
 * SQL reads of the tables that keep a column per field: the rollup tiers.
 * Sums happen in DuckDB (GROUP BY), so a read costs the columns it touches; metric-store.ts adds
 * the buffered rollups (buffered-reads.ts) to what these return.
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import type { DimensionRecord, EdgeRecord, OriginRecord, RecordSet } from '../../model/record.ts';
import type { DimensionSumQuery, DimensionSumRow, RecordQuery, SumQuery, SumRow } from '../store.ts';
import { ident, keyColumns, sumColumns, tableName, VALUE_COLUMNS, type RecordKind } from './schema.ts';
import { inList, whereOf } from './sql.ts';

const str = (v: DuckDBValue | undefined): string => String(v);
const n = (v: DuckDBValue | undefined): number => Number(v);
type Cols = DuckDBValue[][];

async function columns(c: DuckDBConnection, sql: string, params: DuckDBValue[]): Promise<{ rows: number; cols: Cols }> {
  const reader = await c.runAndReadAll(sql, params);
  return { rows: reader.currentRowCount, cols: reader.getColumns() };
}

const vectorAt = (cols: Cols, first: number, length: number, i: number): Float64Array => {
  const values = new Float64Array(length);
  for (let f = 0; f < length; f++) values[f] = n(cols[first + f]?.[i]);
  return values;
};

/** Row `i` of `SELECT bucket, <keys>, <sums>` as a record of each kind. */
const toRecord: { [K in RecordKind]: (cols: Cols, i: number) => RecordSet[K][number] } = {
  edge: (cols, i): EdgeRecord => ({
    second: n(cols[0]?.[i]),
    service: str(cols[1]?.[i]),
    datacenter: str(cols[2]?.[i]),
    domain: str(cols[3]?.[i]),
    product: str(cols[4]?.[i]),
    values: vectorAt(cols, 5, VALUE_COLUMNS.edge.length, i),
  }),
  origin: (cols, i): OriginRecord => ({
    second: n(cols[0]?.[i]),
    service: str(cols[1]?.[i]),
    datacenter: str(cols[2]?.[i]),
    backend: str(cols[3]?.[i]),
    values: vectorAt(cols, 4, VALUE_COLUMNS.origin.length, i),
  }),
  dimension: (cols, i): DimensionRecord => ({
    second: n(cols[0]?.[i]),
    service: str(cols[1]?.[i]),
    domain: str(cols[2]?.[i]),
    product: str(cols[3]?.[i]),
    dimension: str(cols[4]?.[i]) === 'status' ? 'status' : 'method',
    value: str(cols[5]?.[i]),
    count: n(cols[6]?.[i]),
    bytes: n(cols[7]?.[i]),
  }),
};

/** `<kind>_<tier>` summed per key, ordered by bucket and key. */
export async function readColumnRecords<K extends RecordKind>(c: DuckDBConnection, kind: K, query: RecordQuery): Promise<RecordSet[K]> {
  const where = whereOf(kind, query);
  const keys = keyColumns(kind);
  const sql =
    `SELECT bucket, ${keys}, ${sumColumns(kind)} FROM ${tableName(kind, query.tier)} ` +
    `WHERE ${where.sql} GROUP BY bucket, ${keys} ORDER BY bucket, ${keys}`;
  const { rows, cols } = await columns(c, sql, where.params);
  const out: RecordSet[K][number][] = [];
  for (let i = 0; i < rows; i++) out.push(toRecord[kind](cols, i));
  return out as RecordSet[K];
}

/** sumEdge over a rollup table (fields and groups already checked by the caller). */
export async function sumColumnEdge(c: DuckDBConnection, query: SumQuery): Promise<SumRow[]> {
  const groupBy = query.groupBy ?? [];
  const where = whereOf('edge', query);
  const groups = ['b', ...groupBy.map(ident)].join(', ');
  const sums = query.fields.map((f) => `SUM(${ident(f)})`);
  const select = ['bucket - bucket % ? AS b', ...groupBy.map(ident), ...sums].join(', ');
  const sql = `SELECT ${select} FROM ${tableName('edge', query.tier)} WHERE ${where.sql} GROUP BY ${groups} ORDER BY ${groups}`;
  const { rows, cols } = await columns(c, sql, [BigInt(query.bucketSeconds), ...where.params]);
  const out: SumRow[] = [];
  for (let i = 0; i < rows; i++) {
    out.push({
      bucket: n(cols[0]?.[i]),
      group: groupBy.map((_, g) => str(cols[1 + g]?.[i])),
      values: query.fields.map((_, f) => n(cols[1 + groupBy.length + f]?.[i])),
    });
  }
  return out;
}

/** sumDimension over `dimension_<tier>` (a rollup tier). */
export async function sumColumnDimension(c: DuckDBConnection, query: DimensionSumQuery): Promise<DimensionSumRow[]> {
  const where = whereOf('dimension', query);
  const params: DuckDBValue[] = [BigInt(query.bucketSeconds), ...where.params, query.dimension];
  const valueFilter = query.values === undefined ? '' : ` AND ${inList('value', query.values, params)}`;
  const sql =
    `SELECT bucket - bucket % ? AS b, "value", SUM("count"), SUM("bytes") FROM ${tableName('dimension', query.tier)} ` +
    `WHERE ${where.sql} AND "dimension" = ?${valueFilter} GROUP BY b, "value" ORDER BY b, "value"`;
  const { rows, cols } = await columns(c, sql, params);
  const out: DimensionSumRow[] = [];
  for (let i = 0; i < rows; i++) out.push({ bucket: n(cols[0]?.[i]), value: str(cols[1]?.[i]), count: n(cols[2]?.[i]), bytes: n(cols[3]?.[i]) });
  return out;
}
