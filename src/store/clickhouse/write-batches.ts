/**
 * A store write cut into its inserts: per record kind and tier, the delta's rows summed per
 * (bucket, key) (model/key-sums.ts), grouped by partition, each group one INSERT (one part, one
 * atomic rename: FACTS.md) that ends with its ledger row. The store writes every tier itself,
 * not through materialized views: a view's parts commit after the main part, so a kill between
 * them leaves the tiers disagreeing. On a cluster each group is split again by shard (the hash
 * of the row's service, ./shard-key.ts): one insert per (table, shard, partition).
 */
import { arityOf, RECORD_KIND_NAMES, type Delta, type RecordKind } from '../../model/delta.ts';
import { sumByKey } from '../../model/key-sums.ts';
import { TIERS, TIER_SECONDS, type Tier } from '../../model/tier.ts';
import { keyColumns, partitionOf, tableOf } from './schema.ts';
import { shardOfService } from './shard-key.ts';

export type InsertRow = Record<string, string | number | number[]>;

export interface InsertBatch {
  /** Table name without the database. */
  table: string;
  tier: Tier;
  partition: number;
  /** Index of the shard (in RTM_CLICKHOUSE_URLS order) whose local table the rows go to. */
  shard: number;
  /** Data rows as JSONEachRow lines; the ledger row is added by the ledger protocol. */
  lines: string[];
  /** The lowest bucket of the rows: where the ledger row goes (same partition, found by index). */
  firstBucket: number;
  kind: RecordKind;
}

/** Rows one insert holds at most (kept below max_insert_block_size, so one insert is one part). */
export const MAX_BATCH_ROWS = 500_000;

/**
 * The inserts of one write, every kind and tier, over `shardCount` shards (default 1); empty
 * parts give none. The same delta and shard count give the same batches in the same order (the
 * ledger ids of a write resent from the spool are their indexes).
 */
export function writeBatches(delta: Delta, shardCount = 1): InsertBatch[] {
  const out: InsertBatch[] = [];
  for (const kind of RECORD_KIND_NAMES) {
    const part = delta[kind];
    if (part.rows === 0) continue;
    const perSecond = encodeRows(delta, kind, 1, shardCount);
    for (const tier of TIERS) {
      let rows = perSecond;
      if (tier !== '1s') {
        // The usual write (its seconds within one bucket of the tier): the tier's rows are the
        // 1 s rows under that bucket (a key of two seconds twice: rows add up); no second pass.
        const only = singleBucket(part.second, TIER_SECONDS[tier]);
        rows =
          only === undefined
            ? encodeRows(delta, kind, TIER_SECONDS[tier], shardCount)
            : { buckets: new Float64Array(perSecond.tails.length).fill(only), tails: perSecond.tails, shards: perSecond.shards };
      }
      out.push(...batchesOf(kind, tier, rows));
    }
  }
  return out;
}

const floorTo = (second: number, width: number): number => second - (((second % width) + width) % width);

/** The one bucket of `width` all these seconds fall in, or undefined. */
function singleBucket(seconds: Float64Array, width: number): number | undefined {
  const first = floorTo(seconds[0] as number, width);
  for (let i = 1; i < seconds.length; i++) if (floorTo(seconds[i] as number, width) !== first) return undefined;
  return first;
}

interface EncodedRows {
  buckets: Float64Array;
  /** Each row's JSON line after `{"bucket":N,`. */
  tails: string[];
  /** Each row's shard. */
  shards: Uint16Array;
}

/**
 * Hot path (every key of every write): each sum row already lists its non-zero fields (sumByKey
 * is sparse), and is written as JSON by hand; only the key strings go through JSON.stringify.
 */
function encodeRows(delta: Delta, kind: RecordKind, bucketSeconds: number, shardCount: number): EncodedRows {
  const keys = keyColumns(kind);
  const arity = arityOf(kind);
  const serviceAt = keys.indexOf('service');
  const prefixes = keys.map((k, i) => `${i === 0 ? '' : ','}"${k}":`);
  const buckets: number[] = [];
  const tails: string[] = [];
  const shards: number[] = [];
  for (const chunk of sumByKey(delta, kind, bucketSeconds)) {
    const quoted = chunk.names.map((n) => JSON.stringify(n));
    // Per name, not per row: a chunk's rows share few services.
    const shardOfName = chunk.names.map((n) => shardOfService(n, shardCount));
    for (let r = 0; r < chunk.rows; r++) {
      shards.push(shardOfName[chunk.keys[r * arity + serviceAt] as number] as number);
      let line = '';
      for (let k = 0; k < arity; k++) line += prefixes[k] + (quoted[chunk.keys[r * arity + k] as number] as string);
      const from = chunk.fieldStart[r] as number;
      const to = chunk.fieldStart[r + 1] as number;
      line += `,"ledger":"","rows":1,"fieldsMap.k":[${chunk.ids.subarray(from, to).join(',')}],"fieldsMap.v":[${Array.from(chunk.sums.subarray(from, to)).join(',')}]}`;
      buckets.push(chunk.bucket[r] as number);
      tails.push(line);
    }
  }
  return { buckets: Float64Array.from(buckets), tails, shards: Uint16Array.from(shards) };
}

function batchesOf(kind: RecordKind, tier: Tier, rows: EncodedRows): InsertBatch[] {
  const byPartition = new Map<string, InsertBatch[]>();
  for (let i = 0; i < rows.tails.length; i++) {
    const bucket = rows.buckets[i] as number;
    const partition = partitionOf(tier, bucket);
    const shard = rows.shards[i] as number;
    const group = `${shard}/${partition}`;
    let list = byPartition.get(group);
    if (list === undefined) byPartition.set(group, (list = []));
    let batch = list[list.length - 1];
    if (batch === undefined || batch.lines.length >= MAX_BATCH_ROWS) {
      batch = { table: tableOf(kind, tier), tier, partition, shard, lines: [], firstBucket: bucket, kind };
      list.push(batch);
    }
    batch.lines.push(`{"bucket":${bucket},${rows.tails[i] as string}`);
    if (bucket < batch.firstBucket) batch.firstBucket = bucket;
  }
  return [...byPartition.values()].flat();
}
