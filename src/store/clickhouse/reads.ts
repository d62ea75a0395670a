/**
 * The reads of the ClickHouse metric store: SQL sums per key (sumMap of the sparse map) or per
 * bucket (one sum per asked field, the field picked by index), decoded into the read shapes.
 * Filters are quoted literals (18.16 has no query parameters). Ledger rows (ledger != '') are
 * never part of a result. On a cluster the tables read are the Distributed ones: each shard sums
 * its part and the shard asked adds the partial sums up, exact for sum and sumMap.
 */
import { EDGE_FIELDS, ORIGIN_FIELDS, edgeFieldIndex } from '../../model/fields.ts';
import { DIST_RECORD, PartWriter, StringTableWriter, arityOf, countersOf, RECORD_KIND_NAMES, type Delta, type RecordKind } from '../../model/delta.ts';
import type { DimensionRecord, EdgeRecord, OriginRecord, RecordSet } from '../../model/record.ts';
import { sparsePairsMaxBytes, writeSparsePairs } from '../../model/sparse-vector.ts';
import type { DimensionSumQuery, DimensionSumRow, DistributionQuery, DistributionRow, RecordFilter, RecordQuery, SumQuery, SumRow } from '../store.ts';
import { intLiteral, literal, type ClickHouseConnection } from './client.ts';
import type { Tier } from '../../model/tier.ts';
import { distributedOf, keyColumns, tableOf } from './schema.ts';
import { dimensionNameOf } from '../dimension-name.ts';

/** Where reads go: one connection and the qualified table each kind and tier is read from. */
export interface ReadSource {
  conn: ClickHouseConnection;
  table(kind: RecordKind, tier: Tier): string;
}

/** Reads of one server's own tables (one shard), or of the Distributed tables over a cluster. */
export function readSourceOf(conn: ClickHouseConnection, distributed: boolean): ReadSource {
  return { conn, table: (kind, tier) => `${conn.database}.${distributed ? distributedOf(tableOf(kind, tier)) : tableOf(kind, tier)}` };
}

const FILTER_COLUMNS: readonly (readonly [keyof RecordFilter, string])[] = [
  ['services', 'service'],
  ['datacenters', 'datacenter'],
  ['domains', 'domain'],
  ['products', 'product'],
  ['backends', 'backend'],
];

export const inList = (column: string, values: readonly string[]): string =>
  values.length === 0 ? '0' : `${column} IN (${values.map(literal).join(', ')})`;

/** The WHERE of a query on `kind`'s table (a filter on a column the table lacks is ignored, as on DuckDB). */
export function whereOf(kind: RecordKind, query: Pick<RecordQuery, 'from' | 'to' | 'filter'>): string {
  const parts = [`ledger = ''`, `bucket >= ${intLiteral(query.from)}`, `bucket < ${intLiteral(query.to)}`];
  const keys = keyColumns(kind);
  for (const [filter, column] of FILTER_COLUMNS) {
    const values = query.filter[filter];
    if (values !== undefined && keys.includes(column)) parts.push(inList(column, values));
  }
  return parts.join(' AND ');
}

const vectorOf = (map: unknown, width: number): Float64Array => {
  const out = new Float64Array(width);
  const [ks, vs] = map as [number[], number[]];
  for (let i = 0; i < ks.length; i++) {
    const f = ks[i] as number;
    if (f < width) out[f] = (out[f] as number) + Number(vs[i]);
  }
  return out;
};

/** `SELECT bucket, keys..., sumMap(...)` grouped and ordered by bucket and key. */
async function summedRows(src: ReadSource, kind: RecordKind, query: RecordQuery): Promise<unknown[][]> {
  const keys = keyColumns(kind).join(', ');
  const sql =
    `SELECT bucket, ${keys}, sumMap(fieldsMap.k, fieldsMap.v) FROM ${src.table(kind, query.tier)} ` +
    `WHERE ${whereOf(kind, query)} GROUP BY bucket, ${keys} ORDER BY bucket, ${keys}`;
  return src.conn.rows(sql);
}

const s = (v: unknown): string => String(v);

export async function readRecords<K extends RecordKind>(src: ReadSource, kind: K, query: RecordQuery): Promise<RecordSet[K]> {
  const rows = await summedRows(src, kind, query);
  if (kind === 'edge') {
    return rows.map((r): EdgeRecord => ({ second: Number(r[0]), service: s(r[1]), datacenter: s(r[2]), domain: s(r[3]), product: s(r[4]), values: vectorOf(r[5], EDGE_FIELDS.length) })) as RecordSet[K];
  }
  if (kind === 'origin') {
    return rows.map((r): OriginRecord => ({ second: Number(r[0]), service: s(r[1]), datacenter: s(r[2]), backend: s(r[3]), values: vectorOf(r[4], ORIGIN_FIELDS.length) })) as RecordSet[K];
  }
  return rows.map((r): DimensionRecord => {
    const v = vectorOf(r[6], 2);
    return { second: Number(r[0]), service: s(r[1]), domain: s(r[2]), product: s(r[3]), dimension: dimensionNameOf(s(r[4])), value: s(r[5]), count: v[0] as number, bytes: v[1] as number };
  }) as RecordSet[K];
}

/** One field's sum, picked by index (indexOf is 0 when absent, and [0] is the default 0). */
const fieldSum = (index: number): string => `sum(fieldsMap.v[indexOf(fieldsMap.k, ${index})])`;

export async function sumEdge(src: ReadSource, query: SumQuery): Promise<SumRow[]> {
  const groupBy = query.groupBy ?? [];
  const sums = query.fields.map((f) => fieldSum(edgeFieldIndex.get(f) as number));
  const groups = ['b', ...groupBy].join(', ');
  const b = query.bucketSeconds;
  const sql =
    `SELECT intDiv(bucket, ${b}) * ${b} AS b, ${[...groupBy, ...sums].join(', ')} FROM ${src.table('edge', query.tier)} ` +
    `WHERE ${whereOf('edge', query)} GROUP BY ${groups} ORDER BY ${groups}`;
  const rows = await src.conn.rows(sql);
  return rows.map((r) => ({
    bucket: Number(r[0]),
    group: groupBy.map((_, g) => s(r[1 + g])),
    values: query.fields.map((_, f) => Number(r[1 + groupBy.length + f])),
  }));
}

export async function sumDimension(src: ReadSource, query: DimensionSumQuery): Promise<DimensionSumRow[]> {
  const b = query.bucketSeconds;
  const values = query.values === undefined ? '' : ` AND ${inList('value', query.values)}`;
  const sql =
    `SELECT intDiv(bucket, ${b}) * ${b} AS b, value, ${fieldSum(0)}, ${fieldSum(1)} FROM ${src.table('dimension', query.tier)} ` +
    `WHERE ${whereOf('dimension', query)} AND dimension = ${literal(query.dimension)}${values} GROUP BY b, value ORDER BY b, value`;
  return (await src.conn.rows(sql)).map((r) => ({ bucket: Number(r[0]), value: s(r[1]), count: Number(r[2]), bytes: Number(r[3]) }));
}

/**
 * Distribution bucket counts per time bucket and group: sumMap over the rows' field maps
 * (ascending ids), the counters dropped and the buckets numbered from 0 (model/delta.ts).
 */
export async function sumDistribution(src: ReadSource, query: DistributionQuery): Promise<DistributionRow[]> {
  const kind = DIST_RECORD[query.kind];
  const counters = countersOf(kind);
  const groupBy = query.groupBy ?? [];
  const keys = keyColumns(kind);
  for (const g of groupBy) if (!keys.includes(g)) throw new RangeError(`${query.kind} cannot be grouped by ${JSON.stringify(g)}`);
  const b = query.bucketSeconds;
  const groups = ['b', ...groupBy].join(', ');
  const lo = counters + (query.ids?.from ?? 0);
  const wanted = query.ids === undefined ? `k >= ${lo}` : `k >= ${lo} AND k < ${counters + query.ids.to}`;
  const sql =
    `SELECT intDiv(bucket, ${b}) * ${b} AS b${groupBy.map((g) => `, ${g}`).join('')}, ` +
    `sumMap(arrayFilter(k -> ${wanted}, fieldsMap.k), arrayFilter((v, k) -> ${wanted}, fieldsMap.v, fieldsMap.k)) ` +
    `FROM ${src.table(kind, query.tier)} WHERE ${whereOf(kind, query)} GROUP BY ${groups} ORDER BY ${groups}`;
  const out: DistributionRow[] = [];
  for (const r of await src.conn.rows(sql)) {
    const [ids, values] = r[1 + groupBy.length] as [unknown[], unknown[]];
    const keep = ids.map((_, k) => k).filter((k) => Number(ids[k]) >= counters && Number(values[k]) !== 0);
    if (keep.length === 0) continue;
    out.push({
      bucket: Number(r[0]),
      group: groupBy.map((_, g) => s(r[1 + g])),
      ids: Uint32Array.from(keep, (k) => Number(ids[k]) - counters),
      counts: Float64Array.from(keep, (k) => Number(values[k])),
    });
  }
  return out;
}

/** The 1 s tier of [from, to) as one Delta (rows summed per key: still additive rows). */
export async function readSecondsDelta(src: ReadSource, from: number, to: number): Promise<Delta> {
  const strings = new StringTableWriter();
  const parts = {} as Record<RecordKind, ReturnType<PartWriter['finish']>>;
  for (const kind of RECORD_KIND_NAMES) {
    const rows = await summedRows(src, kind, { tier: '1s', from, to, filter: {} });
    const arity = arityOf(kind);
    const w = new PartWriter(arity);
    for (const r of rows) {
      // sumMap gives the fields ascending: written as pairs, never as a dense vector (the distribution kinds are ~10,000 wide).
      const [ids, values] = r[1 + arity] as [number[], unknown[]];
      const sums = Float64Array.from(values, Number);
      w.reserve(sparsePairsMaxBytes(ids.length));
      for (let k = 0; k < arity; k++) w.keys[w.rows * arity + k] = strings.id(s(r[1 + k]));
      w.vecLength = writeSparsePairs(w.vec, w.vecLength, ids.map(Number), sums, ids.length);
      w.endRow(Number(r[0]));
    }
    parts[kind] = w.finish();
  }
  return { ...strings.finish(), edge: parts.edge, origin: parts.origin, dimension: parts.dimension };
}
