/**
 * The 1 s tier as blocks (schema.ts SECOND_BLOCKS): a store write becomes one row per (second,
 * service), an encoded Delta of that service's rows. SQL selects blocks by second, service and
 * write id; JS decodes them and applies the other filters and the sums with the same code that
 * merges the rollup buffer into rollup reads (buffered-reads.ts), so the two cannot disagree.
 * The APIs read this tier per service over short ranges (the Fastly history, the window refill
 * on start); the bulk scans (Azion, ODSL) read the columnar rollup tiers.
 */
import { BIGINT, BLOB, VARCHAR, DuckDBBlobValue, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { decodeDelta } from '../../model/delta-bytes.ts';
import { concatDeltas, type ServiceBlockBytes } from '../../model/delta-concat.ts';
import { emptyDelta, type Delta } from '../../model/delta.ts';
import type { RecordSet } from '../../model/record.ts';
import type { DimensionSumQuery, DimensionSumRow, DistributionQuery, DistributionRow, RecordQuery, SumQuery, SumRow } from '../store.ts';
import { createDistributionSums } from '../../model/distribution-sums.ts';
import { addDeltaDistributions } from '../delta-distributions.ts';
import { appendTable, type Column } from './append-rows.ts';
import { bufferedFor, mergeDimensionSums, mergeEdgeSums, mergeRecords } from './buffered-reads.ts';
import { SECOND_BLOCKS, SECOND_BLOCKS_TABLE, type RecordKind } from './schema.ts';
import { inList, secondParam, type Where } from './sql.ts';

export interface SecondBlock {
  second: number;
  writeId: number;
  delta: Delta;
}

const blockColumns = (writeId: number): Column<ServiceBlockBytes>[] => {
  const id = BigInt(writeId);
  return [
    { type: BIGINT, value: (r) => BigInt(r.second) },
    { type: VARCHAR, value: (r) => r.service },
    { type: BIGINT, value: () => id },
    { type: BLOB, value: (r) => new DuckDBBlobValue(r.bytes) },
  ];
};

/** Appends a write's blocks (splitToBlockBytes of its delta) under `writeId`; call inside a transaction. */
export async function appendSecondBlocks(c: DuckDBConnection, blocks: readonly ServiceBlockBytes[], writeId: number): Promise<void> {
  await appendTable(c, SECOND_BLOCKS_TABLE, blockColumns(writeId), blocks);
}

/** Blocks whose second is in [from, to) and (when listed) whose service is one of `services`. */
export function blocksWhere(query: Pick<RecordQuery, 'from' | 'to' | 'filter'>): Where {
  const params: DuckDBValue[] = [secondParam(query.from), secondParam(query.to)];
  const parts = ['bucket >= ?', 'bucket < ?'];
  if (query.filter.services !== undefined) parts.push(inList('service', query.filter.services, params));
  return { sql: parts.join(' AND '), params };
}

/** The blocks matching `where`, ordered by second (a damaged block is an error, not skipped). */
export async function readSecondBlocks(c: DuckDBConnection, where: Where): Promise<SecondBlock[]> {
  const reader = await c.runAndReadAll(`SELECT bucket, write_id, block FROM ${SECOND_BLOCKS} WHERE ${where.sql} ORDER BY bucket`, where.params);
  const cols = reader.getColumns();
  const out: SecondBlock[] = [];
  for (let i = 0; i < reader.currentRowCount; i++) {
    const bytes = (cols[2]?.[i] as { bytes: Uint8Array }).bytes;
    out.push({ second: Number(cols[0]?.[i]), writeId: Number(cols[1]?.[i]), delta: decodeDelta(bytes) });
  }
  return out;
}

/** The blocks of a query as one delta (rows additive, not summed). */
export async function readSecondDelta(c: DuckDBConnection, query: Pick<RecordQuery, 'from' | 'to' | 'filter'>): Promise<Delta> {
  const blocks = await readSecondBlocks(c, blocksWhere(query));
  return blocks.length === 0 ? emptyDelta() : concatDeltas(blocks.map((b) => b.delta));
}

/** The query's blocks, as the buffered-read helpers take them. */
async function blockDeltasOf(c: DuckDBConnection, query: RecordQuery): Promise<Delta[]> {
  return (await readSecondBlocks(c, blocksWhere(query))).map((b) => b.delta);
}

/** The 1 s records of `kind` a query covers, summed per key, ordered by second and key. */
export async function readSecondRecords<K extends RecordKind>(c: DuckDBConnection, kind: K, query: RecordQuery): Promise<RecordSet[K]> {
  const rows = bufferedFor(kind, await blockDeltasOf(c, query), query);
  return mergeRecords(kind, [] as RecordSet[K][number][], rows as RecordSet[K][number][]) as RecordSet[K];
}

/** sumEdge on the 1 s tier. */
export async function sumSecondEdge(c: DuckDBConnection, query: SumQuery): Promise<SumRow[]> {
  return mergeEdgeSums(query, [], bufferedFor('edge', await blockDeltasOf(c, query), query));
}

/** sumDimension on the 1 s tier. */
export async function sumSecondDimension(c: DuckDBConnection, query: DimensionSumQuery): Promise<DimensionSumRow[]> {
  return mergeDimensionSums(query, [], bufferedFor('dimension', await blockDeltasOf(c, query), query));
}

/** sumDistribution on the 1 s tier: the blocks' rows, summed in JS. */
export async function sumSecondDistribution(c: DuckDBConnection, query: DistributionQuery): Promise<DistributionRow[]> {
  const sums = createDistributionSums();
  addDeltaDistributions(sums, await blockDeltasOf(c, query), query);
  return sums.rows();
}
