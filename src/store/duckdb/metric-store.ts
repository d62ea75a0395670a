/**
 * The MetricStore on embedded DuckDB. One connection writes the 1 s tier (appends are
 * serialized, one transaction each), one flushes the buffered rollups (./rollup-buffer.ts), one
 * does compaction and expiry (./compaction.ts), and a small pool serves reads; DuckDB's MVCC
 * keeps them from blocking each other. Layout and the reasons for it: docs/store.md.
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import type { Retention } from '../../config/config.ts';
import { edgeFieldIndex } from '../../model/fields.ts';
import { splitToBlockBytes } from '../../model/delta-concat.ts';
import { deltaSeconds, type Delta } from '../../model/delta.ts';
import type { BlockSplitter } from '../block-splitter.ts';
import type { DimensionRecord, EdgeRecord, OriginRecord, RecordSet } from '../../model/record.ts';
import type { DuckDb } from './database.ts';
import type { GroupDimension, MetricStore, RecordQuery, StoreWrite, Tier } from '../store.ts';
import { bufferedFor, mergeDimensionSums, mergeEdgeSums, mergeRecords } from './buffered-reads.ts';
import { readColumnRecords, sumColumnDimension, sumColumnDistribution, sumColumnEdge } from './column-reads.ts';
import { createDistributionSums } from '../../model/distribution-sums.ts';
import { addDeltaDistributions } from '../delta-distributions.ts';
import { createMaintenance } from './compaction.ts';
import { openRollupBuffer } from './rollup-buffer.ts';
import { denseLayoutProbe, isSparseKind, narrowFieldIdsProbe, OLD_LAYOUT_PROBE, widenFieldIds, RECORD_KINDS, ROLLUP_TIERS, schemaStatements, sparseMigration, type RecordKind } from './schema.ts';
import { appendSecondBlocks, readSecondDelta, readSecondRecords, sumSecondDimension, sumSecondDistribution, sumSecondEdge } from './second-tier.ts';
import { checkBucketSeconds, createConnectionPool, createLock, inTransaction, secondParam } from './sql.ts';

export interface DuckDbMetricStoreOptions {
  retention: Retention;
  /** Connections serving reads concurrently. Default 4. */
  readConnections?: number;
  /** Cuts writes into their 1 s blocks (on a worker thread, or not). Default: in-thread. */
  splitter?: BlockSplitter;
  /** Buffered rollup rows that force a flush. Default 1,000,000. */
  rollupBufferRows?: number;
}

/** The DuckDB store also exposes its compaction backlog, for tests and self-metrics. */
export interface DuckDbMetricStore extends MetricStore {
  /** Dirty (not yet compacted) buckets per tier. */
  compactionBacklog(): Record<Tier, number>;
  /** Buffered rollup rows (as written: a key may have several) not yet in the rollup tables. */
  rollupBacklog(): number;
  /** Writes the buffered rollups to their tables now (compact, expire and close do it too). */
  flushRollups(): Promise<void>;
}

const GROUP_COLUMNS: ReadonlySet<GroupDimension> = new Set(['service', 'datacenter', 'domain', 'product']);
// Bound parameters per statement for long IN / VALUES lists.
const PARAM_CHUNK = 1000;


async function columns(c: DuckDBConnection, sql: string, params: DuckDBValue[]): Promise<{ rows: number; cols: DuckDBValue[][] }> {
  const reader = await c.runAndReadAll(sql, params);
  return { rows: reader.currentRowCount, cols: reader.getColumns() };
}

const n = (v: DuckDBValue | undefined): number => Number(v);

export async function createDuckDbMetricStore(db: DuckDb, opts: DuckDbMetricStoreOptions): Promise<DuckDbMetricStore> {
  const writer = await db.connect();
  if ((await writer.runAndReadAll(OLD_LAYOUT_PROBE)).currentRowCount > 0) {
    writer.closeSync();
    throw new Error('this database holds the 1 s tier in a layout of an earlier development version (a table per record kind); start with a new data dir (docs/store.md)');
  }
  for (const kind of RECORD_KINDS.filter(isSparseKind)) {
    for (const tier of ROLLUP_TIERS) {
      if ((await writer.runAndReadAll(denseLayoutProbe(kind, tier))).currentRowCount === 0) continue;
      await inTransaction(writer, async () => {
        for (const statement of sparseMigration(kind, tier)) await writer.run(statement);
      });
    }
    for (const tier of ROLLUP_TIERS) {
      if ((await writer.runAndReadAll(narrowFieldIdsProbe(kind, tier))).currentRowCount > 0) await writer.run(widenFieldIds(kind, tier));
    }
  }
  for (const statement of schemaStatements()) await writer.run(statement);
  const splitter = opts.splitter;
  const maintenanceConnection = await db.connect();
  const maintenance = await createMaintenance(maintenanceConnection, opts.retention);
  const rollupConnection = await db.connect();
  const rollups = await openRollupBuffer(rollupConnection, {
    onFlushed: (tier, buckets) => maintenance.noteWrite(tier, buckets),
    ...(splitter === undefined ? {} : { sums: (delta: Delta, widths: readonly number[], owned: boolean) => splitter.sums(delta, widths, owned) }),
    ...(opts.rollupBufferRows === undefined ? {} : { maxRows: opts.rollupBufferRows }),
  });
  const readers = createConnectionPool(() => db.connect(), opts.readConnections ?? 4);
  const writeLock = createLock();

  /** A record read: the 1 s table alone, or a rollup table plus the buffered rollups. */
  const readRecords = <K extends RecordKind>(kind: K, query: RecordQuery): Promise<RecordSet[K]> => {
    if (query.tier === '1s') return readers.use((c) => readSecondRecords(c, kind, query));
    return rollups.consistent(async (buffered) => {
      const extra = bufferedFor(kind, buffered, query);
      const stored = await readers.use((c) => readColumnRecords(c, kind, query));
      return mergeRecords<EdgeRecord | OriginRecord | DimensionRecord>(kind, stored, extra) as RecordSet[K];
    });
  };

  return {
    append: (write: StoreWrite) =>
      writeLock.run(async () => {
        const seconds = [...deltaSeconds(write.delta)];
        if (seconds.length === 0) return;
        for (const s of seconds) if (!Number.isSafeInteger(s)) throw new RangeError(`record second ${s} is not an integer`);
        const blocks = await (opts.splitter?.split(write.delta) ?? splitToBlockBytes(write.delta));
        const writeId = rollups.lastWriteId + 1;
        await inTransaction(writer, async () => {
          await appendSecondBlocks(writer, blocks, writeId);
          for (let i = 0; i < seconds.length; i += PARAM_CHUNK) {
            const part = seconds.slice(i, i + PARAM_CHUNK);
            const params = part.flatMap((s) => [secondParam(s), BigInt(write.lsn)]);
            await writer.run(
              `INSERT INTO published_lsn VALUES ${part.map(() => '(?, ?)').join(', ')} ` +
                'ON CONFLICT (second) DO UPDATE SET lsn = greatest(published_lsn.lsn, excluded.lsn)',
              params,
            );
          }
        });
        // A new minute: the buffered minutes are complete, so each gets one row per key. The
        // flush runs on its own connection; a failure keeps the records buffered for the next.
        if (rollups.due(seconds.reduce((a, b) => Math.max(a, b)))) rollups.flush().catch(() => undefined);
        rollups.add(write.delta, writeId);
      }),

    appliedLsn: (seconds) =>
      readers.use(async (c) => {
        const out = new Map<number, number>();
        const unique = [...new Set(seconds)];
        for (let i = 0; i < unique.length; i += PARAM_CHUNK) {
          const part = unique.slice(i, i + PARAM_CHUNK);
          const sql = `SELECT second, lsn FROM published_lsn WHERE second IN (${part.map(() => '?').join(', ')})`;
          const { rows, cols } = await columns(c, sql, part.map(secondParam));
          for (let r = 0; r < rows; r++) out.set(n(cols[0]?.[r]), n(cols[1]?.[r]));
        }
        return out;
      }),

    readSeconds: (from, to) => readers.use((c) => readSecondDelta(c, { from, to, filter: {} })),
    readEdge: (query) => readRecords('edge', query),
    readOrigin: (query) => readRecords('origin', query),
    readDimension: (query) => readRecords('dimension', query),

    sumEdge: async (query) => {
      checkBucketSeconds(query.tier, query.bucketSeconds);
      for (const f of query.fields) if (!edgeFieldIndex.has(f)) throw new RangeError(`unknown edge field ${JSON.stringify(f)}`);
      const groupBy = query.groupBy ?? [];
      for (const g of groupBy) if (!GROUP_COLUMNS.has(g)) throw new RangeError(`cannot group by ${JSON.stringify(g)}`);
      if (query.tier === '1s') return readers.use((c) => sumSecondEdge(c, query));
      return rollups.consistent(async (buffered) => {
        const extra = bufferedFor('edge', buffered, query);
        return mergeEdgeSums(query, await readers.use((c) => sumColumnEdge(c, query)), extra);
      });
    },

    sumDimension: async (query) => {
      checkBucketSeconds(query.tier, query.bucketSeconds);
      if (query.tier === '1s') return readers.use((c) => sumSecondDimension(c, query));
      return rollups.consistent(async (buffered) => {
        const extra = bufferedFor('dimension', buffered, query);
        return mergeDimensionSums(query, await readers.use((c) => sumColumnDimension(c, query)), extra);
      });
    },

    sumDistribution: async (query) => {
      checkBucketSeconds(query.tier, query.bucketSeconds);
      if (query.tier === '1s') return readers.use((c) => sumSecondDistribution(c, query));
      return rollups.consistent(async (buffered) => {
        const sums = createDistributionSums();
        addDeltaDistributions(sums, buffered, query);
        await readers.use((c) => sumColumnDistribution(c, query, sums));
        return sums.rows();
      });
    },

    async compact() {
      await rollups.flush();
      await maintenance.compact();
    },
    async expire(nowSeconds) {
      await rollups.flush();
      await maintenance.expire(nowSeconds);
    },
    compactionBacklog: () => maintenance.pending(),
    rollupBacklog: () => rollups.size,
    flushRollups: () => rollups.flush(),

    async close() {
      await writeLock.run(async () => undefined);
      try {
        // Were this to fail, the next start rebuilds the rollups from the 1 s tier.
        await rollups.flush();
      } finally {
        await maintenance.idle();
        await readers.close();
        writer.closeSync();
        rollupConnection.closeSync();
        maintenanceConnection.closeSync();
      }
    },
  };
}
