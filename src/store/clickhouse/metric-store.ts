/**
 * The MetricStore on ClickHouse (18.16 and later). A write becomes one insert per (record kind,
 * tier, partition), each with its ledger row (./ledger.ts), sent at once; then the write's
 * published_lsn rows. A write is recorded in the node's spool first (./write-spool.ts), so a node
 * killed mid-write finishes it on start, and a ClickHouse that is away does not hold the caller
 * longer than `deliveryWaitMs` (./write-queue.ts). Layout and reasons: docs/store.md ("ClickHouse").
 *
 * On a cluster (several shards): each insert goes to the local table of the shard its service
 * hashes to (./shard-key.ts), with its own ledger row there; published_lsn and the retention
 * horizon live on the first shard, written only once every shard holds the write; reads go
 * through the Distributed tables (docs/cluster.md, docs/decisions.md).
 */
import { randomUUID } from 'node:crypto';
import type { Retention } from '../../config/config.ts';
import { edgeFieldIndex } from '../../model/fields.ts';
import { deltaSeconds, type Delta } from '../../model/delta.ts';
import { TIER_SECONDS, type Tier } from '../../model/tier.ts';
import type { StoreBacklog, StoreDeliveryStats } from '../engine.ts';
import { TIERS, type GroupDimension, type MetricStore, type RecordQuery } from '../store.ts';
import { intLiteral, literal, type ClickHouseConnection } from './client.ts';
import { insertExactlyOnce, insertIdempotent, type LedgerOptions } from './ledger.ts';
import { readRecords, readSecondsDelta, readSourceOf, sumDimension, sumDistribution, sumEdge } from './reads.ts';
import { createRetentionKeeper } from './retention.ts';
import { ensureSchema, keyColumns, PUBLISHED_LSN } from './schema.ts';
import { writeBatches } from './write-batches.ts';
import { createWriteQueue } from './write-queue.ts';
import { openWriteSpool, type WriteSpool } from './write-spool.ts';
import { spoolBudgetRefusal } from './spool-budget.ts';
import { createUnavailableGuard, guardReads } from './unavailable.ts';

export interface ClickHouseMetricStoreOptions {
  /**
   * One connection per shard, in RTM_CLICKHOUSE_URLS order (the order is part of the shard key:
   * keep it). The first also holds published_lsn and the retention horizon.
   */
  shards: readonly ClickHouseConnection[];
  /** The `remote_servers` name listing the shards; required with more than one. None: reads go to the one shard's own tables. */
  cluster?: string;
  /** This node's identity in published_lsn and in the ledger ids: unique per node. */
  nodeId: string;
  retention: Retention;
  /** Where writes in flight are recorded (the node's data dir); none: a node kill mid-write is not covered. */
  spoolDir?: string;
  /** Bytes the spool may hold before writeRefusal() asks ingest to refuse new events. Default Infinity (none). */
  spoolMaxBytes?: number;
  /** Limit of one insert attempt, ms. Default 30,000. */
  insertTimeoutMs?: number;
  /** Longest wait of an append for its delivery once the write is in the spool, ms. Default 5,000. */
  deliveryWaitMs?: number;
  /** Where failures of background deliveries are reported. */
  onError?: (err: unknown) => void;
  /** First pause between retries, ms. Default 100. */
  retryDelayMs?: number;
  /** Least pause before checking an insert that got no answer, ms. Default 1,000 (ledger.ts). */
  settleMs?: number;
  /** Told each failed insert attempt (data or published-lsn rows) before it is checked and resent. */
  onRetry?: (table: string, err: unknown) => void;
  /** Clock of the delivery lag, ms. Default Date.now. */
  now?: () => number;
}

export interface ClickHouseMetricStore extends MetricStore, StoreBacklog {
  /** Insert attempts that failed and were tried again since start (data rows and published-lsn rows). */
  retries(): number;
  /** Writes accepted (in the spool) and not yet in ClickHouse. */
  undelivered(): number;
  delivery(): StoreDeliveryStats;
}

const GROUP_COLUMNS: ReadonlySet<GroupDimension> = new Set(['service', 'datacenter', 'domain', 'product']);
const SECONDS_CHUNK = 5000;

function checkBucketSeconds(tier: Tier, bucketSeconds: number): void {
  const width = TIER_SECONDS[tier];
  if (!Number.isInteger(bucketSeconds) || bucketSeconds < width || bucketSeconds % width !== 0) {
    throw new RangeError(`bucketSeconds ${bucketSeconds} is not a positive multiple of tier ${tier} (${width} s)`);
  }
}

export async function createClickHouseMetricStore(opts: ClickHouseMetricStoreOptions): Promise<ClickHouseMetricStore> {
  const { shards, nodeId } = opts;
  const conn = shards[0];
  if (conn === undefined) throw new Error('a ClickHouse metric store needs at least one shard');
  if (shards.length > 1 && opts.cluster === undefined) throw new Error(`${shards.length} ClickHouse shards need the cluster (remote_servers) name their Distributed tables read`);
  const cluster = opts.cluster === undefined ? undefined : { name: opts.cluster, shards: shards.length };
  /** A store that fails to open closes its connections (they are its to close). */
  const closingOnFailure = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      for (const s of shards) await s.close().catch(() => undefined);
      throw err;
    }
  };
  // Every shard, at once: each check and CREATE is idempotent, and one failure names its shard.
  await closingOnFailure(() => Promise.all(shards.map((s, i) => ensureSchema(s, nodeId, cluster, i))));
  // Reads that fail because a shard does not answer say so (503 naming it), never a 500.
  const reader = guardReads(conn, createUnavailableGuard({ shards }));
  const source = readSourceOf(reader, cluster !== undefined);
  const retention = await closingOnFailure(() => createRetentionKeeper(conn, shards, opts.retention));
  const spool: WriteSpool | undefined = opts.spoolDir === undefined ? undefined : openWriteSpool(opts.spoolDir, { shards: shards.length });
  const now = opts.now ?? Date.now;
  const spoolMaxBytes = opts.spoolMaxBytes ?? Number.POSITIVE_INFINITY;
  let closed = false;
  let retries = 0;
  /** Rollup partitions written since the last compaction round, by `shard/table/partition`. */
  const dirty = new Map<string, { shard: number; table: string; tier: Tier; partition: number }>();
  const ledger = (checkFirst: boolean): LedgerOptions => ({
    keepTrying: () => !closed,
    checkFirst,
    ...(opts.insertTimeoutMs === undefined ? {} : { insertTimeoutMs: opts.insertTimeoutMs }),
    ...(opts.retryDelayMs === undefined ? {} : { retryDelayMs: opts.retryDelayMs }),
    ...(opts.settleMs === undefined ? {} : { settleMs: opts.settleMs }),
    onRetry: (table, err) => {
      retries++;
      opts.onRetry?.(table, err);
    },
  });

  /** Sends one write whole; every insert is exactly once, so a resend of the same write id is safe. */
  const send = async (writeId: string, lsn: number, delta: Delta, seconds: readonly number[], recovering: boolean): Promise<void> => {
    const batches = writeBatches(delta, shards.length);
    const results = await Promise.allSettled(
      batches.map((b, i) => insertExactlyOnce(shards[b.shard] as ClickHouseConnection, b, `${writeId}/${i}`, keyColumns(b.kind), ledger(recovering))),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    for (const b of batches) {
      if (b.tier !== '1s') dirty.set(`${b.shard}/${b.table}/${b.partition}`, { shard: b.shard, table: b.table, tier: b.tier, partition: b.partition });
    }
    // Only now: appliedLsn must not claim a second before every tier on every shard holds it.
    for (let i = 0; i < seconds.length; i += SECONDS_CHUNK) {
      const rows = seconds.slice(i, i + SECONDS_CHUNK).map((second) => ({ node: nodeId, second, lsn }));
      await insertIdempotent(conn, PUBLISHED_LSN, rows, ledger(false));
    }
  };

  await closingOnFailure(async () => {
    const unfinished = (await spool?.pending()) ?? [];
    const resplit = unfinished.find((w) => w.shards !== shards.length);
    if (resplit !== undefined) {
      throw new Error(
        `${resplit.file} is a write split for ${resplit.shards} ClickHouse shard(s), RTM_CLICKHOUSE_URLS names ${shards.length}; ` +
          'start with the shard list it was written with until the spool is empty, then change the list (docs/cluster.md)',
      );
    }
    for (const w of unfinished) {
      await send(w.writeId, w.lsn, w.delta, [...deltaSeconds(w.delta)], true);
      await spool?.done(w.file);
    }
  });

  const queue = createWriteQueue({
    send: (w) => send(w.writeId, w.lsn, w.delta, w.seconds, false),
    ...(spool === undefined ? {} : { spool }),
    ...(opts.deliveryWaitMs === undefined ? {} : { waitMs: opts.deliveryWaitMs }),
    onError: (err) => opts.onError?.(err),
    now,
  });
  const visible = <Q extends RecordQuery>(query: Q): Q => ({ ...query, from: Math.max(query.from, retention.keepFrom(query.tier)) });
  const open = (): void => {
    if (closed) throw new Error('the store is closed');
  };

  return {
    async append(write) {
      open();
      const seconds = [...deltaSeconds(write.delta)];
      if (seconds.length === 0) return;
      for (const s of seconds) if (!Number.isSafeInteger(s)) throw new RangeError(`record second ${s} is not an integer`);
      if (!Number.isSafeInteger(write.lsn) || write.lsn < 0) throw new RangeError(`write lsn ${write.lsn} is not a non-negative integer`);
      await queue.enqueue({ writeId: `${nodeId}:${randomUUID()}`, lsn: write.lsn, delta: write.delta, seconds });
    },

    async appliedLsn(seconds) {
      open();
      const out = new Map<number, number>();
      const unique = [...new Set(seconds)].filter((s) => Number.isSafeInteger(s));
      for (let i = 0; i < unique.length; i += SECONDS_CHUNK) {
        const part = unique.slice(i, i + SECONDS_CHUNK);
        const rows = await reader.rows(
          `SELECT second, max(lsn) FROM ${conn.database}.${PUBLISHED_LSN} WHERE node = ${literal(nodeId)} ` +
            `AND second IN (${part.map(intLiteral).join(', ')}) GROUP BY second`,
        );
        for (const [s, l] of rows) out.set(Number(s), Number(l));
      }
      return out;
    },

    readSeconds(from, to) {
      open();
      return readSecondsDelta(source, Math.max(from, retention.keepFrom('1s')), to);
    },
    readEdge: (query) => readRecords(source, 'edge', visible(query)),
    readOrigin: (query) => readRecords(source, 'origin', visible(query)),
    readDimension: (query) => readRecords(source, 'dimension', visible(query)),

    async sumEdge(query) {
      checkBucketSeconds(query.tier, query.bucketSeconds);
      for (const f of query.fields) if (!edgeFieldIndex.has(f)) throw new RangeError(`unknown edge field ${JSON.stringify(f)}`);
      for (const g of query.groupBy ?? []) if (!GROUP_COLUMNS.has(g)) throw new RangeError(`cannot group by ${JSON.stringify(g)}`);
      return sumEdge(source, visible(query));
    },
    async sumDimension(query) {
      checkBucketSeconds(query.tier, query.bucketSeconds);
      return sumDimension(source, visible(query));
    },
    async sumDistribution(query) {
      checkBucketSeconds(query.tier, query.bucketSeconds);
      return sumDistribution(source, visible(query));
    },

    expire: (nowSeconds) => retention.expire(nowSeconds),

    async compact() {
      // SummingMergeTree folds rows of a key as it merges; this only asks for the merges of the
      // rollup partitions written since the last round sooner (no FINAL: a merge of what is there).
      // Each shard merges its own partitions.
      for (const [key, { shard, table, partition }] of [...dirty]) {
        dirty.delete(key);
        const on = shards[shard] as ClickHouseConnection;
        await on.command(`OPTIMIZE TABLE ${on.database}.${table} PARTITION ${partition}`);
      }
    },

    retries: () => retries,
    undelivered: () => queue.pending(),
    delivery() {
      const oldest = queue.oldestPendingAt();
      const held = spool?.size() ?? { files: 0, bytes: 0 };
      return {
        undelivered: queue.pending(),
        lagSeconds: oldest === undefined ? 0 : Math.max(0, (now() - oldest) / 1000),
        spoolFiles: held.files,
        spoolBytes: held.bytes,
        spoolMaxBytes,
        retries,
      };
    },
    writeRefusal: () => spoolBudgetRefusal(spool?.size().bytes ?? 0, spoolMaxBytes),
    // Every tier is written with each append: nothing is buffered.
    rollupBacklog: () => 0,
    compactionBacklog() {
      const out = Object.fromEntries(TIERS.map((t) => [t, 0])) as Record<Tier, number>;
      for (const { tier } of dirty.values()) out[tier]++;
      return out;
    },

    async close() {
      if (closed) return;
      // Deliveries in progress stop retrying; what is undelivered stays in the spool for the next start.
      closed = true;
      await queue.idle();
      for (const s of shards) await s.close();
    },
  };
}
