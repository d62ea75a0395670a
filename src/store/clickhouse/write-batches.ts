/**
 * A store write cut into its inserts: per record kind and tier, the delta's rows summed per
 * (bucket, key) (model/key-sums.ts), grouped by partition, each group one INSERT (one part, one
 * atomic rename: FACTS.md) that ends with its ledger row. The store writes every tier itself,
 * not through materialized views: a view's parts commit after the main part, so a kill between
 * them leaves the tiers disagreeing.
 */
import { arityOf, widthOf, RECORD_KIND_NAMES, type Delta, type RecordKind } from '../../model/delta.ts';
import { sumByKey } from '../../model/key-sums.ts';
import { TIERS, TIER_SECONDS, type Tier } from '../../model/tier.ts';
import { keyColumns, partitionOf, tableOf } from './schema.ts';

export type InsertRow = Record<string, string | number | number[]>;

export interface InsertBatch {
  /** Table name without the database. */
  table: string;
  tier: Tier;
  partition: number;
  /** Data rows; the ledger row is added by the ledger protocol. */
  rows: InsertRow[];
  /** The lowest bucket of the rows: where the ledger row goes (same partition, found by index). */
  firstBucket: number;
  kind: RecordKind;
}

/** Rows one insert holds at most (kept below max_insert_block_size, so one insert is one part). */
export const MAX_BATCH_ROWS = 500_000;

/** The inserts of one write, every kind and tier; empty parts give none. */
export function writeBatches(delta: Delta): InsertBatch[] {
  const out: InsertBatch[] = [];
  for (const kind of RECORD_KIND_NAMES) {
    if (delta[kind].rows === 0) continue;
    for (const tier of TIERS) out.push(...kindTierBatches(delta, kind, tier));
  }
  return out;
}

function kindTierBatches(delta: Delta, kind: RecordKind, tier: Tier): InsertBatch[] {
  const keys = keyColumns(kind);
  const arity = arityOf(kind);
  const width = widthOf(kind);
  const byPartition = new Map<number, InsertBatch[]>();
  for (const chunk of sumByKey(delta, kind, TIER_SECONDS[tier])) {
    for (let r = 0; r < chunk.rows; r++) {
      const bucket = chunk.bucket[r] as number;
      const row: InsertRow = { bucket };
      for (let k = 0; k < arity; k++) row[keys[k] as string] = chunk.names[chunk.keys[r * arity + k] as number] as string;
      row['ledger'] = '';
      row['rows'] = 1;
      const ks: number[] = [];
      const vs: number[] = [];
      for (let f = 0; f < width; f++) {
        const v = chunk.columns[f * chunk.stride + r] as number;
        if (v !== 0) {
          ks.push(f);
          vs.push(v);
        }
      }
      row['fieldsMap.k'] = ks;
      row['fieldsMap.v'] = vs;
      const partition = partitionOf(tier, bucket);
      let list = byPartition.get(partition);
      if (list === undefined) byPartition.set(partition, (list = []));
      let batch = list[list.length - 1];
      if (batch === undefined || batch.rows.length >= MAX_BATCH_ROWS) {
        batch = { table: tableOf(kind, tier), tier, partition, rows: [], firstBucket: bucket, kind };
        list.push(batch);
      }
      batch.rows.push(row);
      if (bucket < batch.firstBucket) batch.firstBucket = bucket;
    }
  }
  return [...byPartition.values()].flat();
}
