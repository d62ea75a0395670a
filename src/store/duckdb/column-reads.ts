/**
 * SQL reads of the rollup tiers. Sums happen in DuckDB (GROUP BY): over a column per field for
 * dimension rows, over the field lists of the sparse layout (schema.ts) for edge and origin
 * rows, so a read costs the fields it asks for. metric-store.ts adds the buffered rollups
 * (buffered-reads.ts) to what these return.
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import type { DimensionRecord, EdgeRecord, OriginRecord, RecordSet } from '../../model/record.ts';
import type { DimensionSumQuery, DimensionSumRow, DistributionQuery, RecordQuery, SumQuery, SumRow } from '../store.ts';
import type { DistributionSums } from '../../model/distribution-sums.ts';
import { countersOf, DIST_RECORD } from '../../model/delta.ts';
import { FIELD_IDS, FIELD_VALUES, ident, isSparseKind, KEY_COLUMNS, keyColumns, sparseFieldSum, sparseFieldSums, sumColumns, tableName, VALUE_COLUMNS, type RecordKind, type SparseKind } from './schema.ts';
import { inList, whereOf } from './sql.ts';
import { dimensionNameOf } from '../dimension-name.ts';

const str = (v: DuckDBValue | undefined): string => String(v);
const n = (v: DuckDBValue | undefined): number => Number(v);
type Cols = DuckDBValue[][];

async function columns(c: DuckDBConnection, sql: string, params: DuckDBValue[]): Promise<{ rows: number; cols: Cols }> {
  const reader = await c.runAndReadAll(sql, params);
  return { rows: reader.currentRowCount, cols: reader.getColumns() };
}

/** Row `i` of `SELECT bucket, <keys>, SUM("count"), SUM("bytes")` of the dimension table. */
const dimensionRecord = (cols: Cols, i: number): DimensionRecord => ({
  second: n(cols[0]?.[i]),
  service: str(cols[1]?.[i]),
  domain: str(cols[2]?.[i]),
  product: str(cols[3]?.[i]),
  dimension: dimensionNameOf(str(cols[4]?.[i])),
  value: str(cols[5]?.[i]),
  count: n(cols[6]?.[i]),
  bytes: n(cols[7]?.[i]),
});

/** `<kind>_<tier>` summed per key, ordered by bucket and key. */
export async function readColumnRecords<K extends RecordKind>(c: DuckDBConnection, kind: K, query: RecordQuery): Promise<RecordSet[K]> {
  if (isSparseKind(kind)) return (await readSparseRecords(c, kind, query)) as RecordSet[K];
  const where = whereOf(kind, query);
  const keys = keyColumns(kind);
  const sql =
    `SELECT bucket, ${keys}, ${sumColumns(kind)} FROM ${tableName(kind, query.tier)} ` +
    `WHERE ${where.sql} GROUP BY bucket, ${keys} ORDER BY bucket, ${keys}`;
  const { rows, cols } = await columns(c, sql, where.params);
  const out: DimensionRecord[] = [];
  for (let i = 0; i < rows; i++) out.push(dimensionRecord(cols, i));
  return out as RecordSet[K];
}

/**
 * A sparse kind's records: the long-form sums (one row per key and non-zero field), ordered by
 * key, folded back into one vector per key here.
 */
async function readSparseRecords(c: DuckDBConnection, kind: SparseKind, query: RecordQuery): Promise<(EdgeRecord | OriginRecord)[]> {
  const where = whereOf(kind, query);
  const keys = keyColumns(kind);
  const arity = KEY_COLUMNS[kind].length;
  const width = VALUE_COLUMNS[kind].length;
  const { rows, cols } = await columns(c, `${sparseFieldSums(kind, query.tier, where.sql)} ORDER BY bucket, ${keys}`, where.params);
  const out: (EdgeRecord | OriginRecord)[] = [];
  let values: Float64Array | undefined;
  for (let i = 0; i < rows; i++) {
    let same = values !== undefined && cols[0]?.[i] === cols[0]?.[i - 1];
    for (let k = 1; same && k <= arity; k++) same = cols[k]?.[i] === cols[k]?.[i - 1];
    if (!same) {
      values = new Float64Array(width);
      const key = (k: number): string => str(cols[1 + k]?.[i]);
      out.push(
        kind === 'edge'
          ? { second: n(cols[0]?.[i]), service: key(0), datacenter: key(1), domain: key(2), product: key(3), values }
          : { second: n(cols[0]?.[i]), service: key(0), datacenter: key(1), backend: key(2), values },
      );
    }
    // NULL: a key with no non-zero field (its record is all zeros). Ids from `width` on are distribution buckets, not counters.
    const fid = cols[1 + arity]?.[i];
    if (fid !== null && fid !== undefined && n(fid) < width) (values as Float64Array)[n(fid)] = n(cols[2 + arity]?.[i]);
  }
  return out;
}

/** sumEdge over a rollup table (fields and groups already checked by the caller). */
export async function sumColumnEdge(c: DuckDBConnection, query: SumQuery): Promise<SumRow[]> {
  const groupBy = query.groupBy ?? [];
  const where = whereOf('edge', query);
  const groups = ['b', ...groupBy.map(ident)].join(', ');
  const sums = query.fields.map((f) => sparseFieldSum('edge', f));
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

/**
 * sumDistribution over a rollup table: the field lists unnested, the counters dropped, and the
 * buckets (numbered from 0 after them, model/delta.ts) summed per (time bucket, group, bucket)
 * in DuckDB, added into `sums` (which the buffered rollups join).
 */
export async function sumColumnDistribution(c: DuckDBConnection, query: DistributionQuery, sums: DistributionSums): Promise<void> {
  const kind = DIST_RECORD[query.kind];
  const counters = countersOf(kind);
  const groupBy = query.groupBy ?? [];
  for (const g of groupBy) if (!KEY_COLUMNS[kind].includes(g)) throw new RangeError(`${query.kind} cannot be grouped by ${JSON.stringify(g)}`);
  const where = whereOf(kind, query);
  const groups = groupBy.map(ident);
  const inner =
    `SELECT bucket - bucket % ? AS b${groups.map((g) => `, ${g}`).join('')}, UNNEST(${ident(FIELD_IDS)}) AS fid, UNNEST(${ident(FIELD_VALUES)}) AS val ` +
    `FROM ${tableName(kind, query.tier)} WHERE ${where.sql}`;
  const by = ['b', ...groups, 'fid'].join(', ');
  const lo = counters + (query.ids?.from ?? 0);
  const hi = query.ids === undefined ? '' : ` AND fid < ${counters + query.ids.to}`;
  const sql = `SELECT ${by}, SUM(val) FROM (${inner}) WHERE fid >= ${lo}${hi} GROUP BY ${by}`;
  const { rows, cols } = await columns(c, sql, [BigInt(query.bucketSeconds), ...where.params]);
  for (let i = 0; i < rows; i++) {
    sums.add(
      n(cols[0]?.[i]),
      groupBy.map((_, g) => str(cols[1 + g]?.[i])),
      n(cols[1 + groupBy.length]?.[i]) - counters,
      n(cols[2 + groupBy.length]?.[i]),
    );
  }
}
