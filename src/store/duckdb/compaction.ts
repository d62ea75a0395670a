/**
 * Background upkeep of the metric tables, on a connection of its own: compaction folds the delta
 * rows of a key into one row, and expiry drops buckets past each tier's retention.
 *
 * Why compaction is needed: every rollup flush (rollup-buffer.ts, about once a minute) appends one
 * row per key to each rollup bucket it touches, so an hour bucket collects ~60 rows per key and a
 * day bucket ~1440, and late events add more. Which buckets need it is tracked in memory: a write
 * to a bucket at or below the highest bucket written before may meet rows already there, so that
 * bucket is marked dirty. After a restart the latest buckets of each tier are marked dirty once,
 * since the previous process may not have compacted them. The 1 s tier is not compacted: its
 * blocks are BLOBs SQL cannot sum, and a (second, service) only gets a second block from late
 * events or a second store write.
 *
 * Both jobs work in bounded ranges, one short transaction each. DuckDB's MVCC lets store writes
 * (appends) and reads run meanwhile: a compaction transaction neither sees nor deletes rows
 * appended after it began, so a concurrent late row survives and is folded in the next round.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Retention } from '../../config/config.ts';
import { TIER_SECONDS, TIERS, type Tier } from '../store.ts';
import { isSparseKind, keyColumns, RECORD_KINDS, sparseFieldSums, sumColumns, tableName, tablesOf } from './schema.ts';
import { createLock, inTransaction, secondParam } from './sql.ts';

export interface Maintenance {
  /** Records that a committed write touched these buckets of `tier`. */
  noteWrite(tier: Tier, buckets: Iterable<number>): void;
  /** Folds the rows of every dirty bucket into one row per key. */
  compact(): Promise<void>;
  /** Deletes buckets that ended more than the tier's retention before `nowSeconds`. */
  expire(nowSeconds: number): Promise<void>;
  /** Resolves once no compaction or expiry is running. */
  idle(): Promise<void>;
  /** Dirty buckets per tier (for tests and self-metrics). */
  pending(): Record<Tier, number>;
}

/** The tiers compaction folds. */
const COMPACTED: readonly Tier[] = ['1m', '1h', '1d'];
/** Widest bucket range one compaction transaction covers. */
const COMPACT_SPAN: Readonly<Record<Tier, number>> = { '1s': 300, '1m': 3600, '1h': 86_400, '1d': 31 * 86_400 };
/** Widest bucket range one expiry transaction deletes. */
const EXPIRE_SPAN: Readonly<Record<Tier, number>> = { '1s': 3600, '1m': 86_400, '1h': 30 * 86_400, '1d': 365 * 86_400 };
/** How many of the latest buckets of a tier are re-compacted after a restart. */
const RECHECK_ON_OPEN: Readonly<Record<Tier, number>> = { '1s': 600, '1m': 60, '1h': 2, '1d': 2 };

export const retentionOf = (retention: Retention, tier: Tier): number =>
  ({ '1s': retention.secondSeconds, '1m': retention.minuteSeconds, '1h': retention.hourSeconds, '1d': retention.daySeconds })[tier];

const num = (v: unknown): number | undefined => (v === null || v === undefined ? undefined : Number(v));

async function scalar(c: DuckDBConnection, sql: string, params: bigint[] = []): Promise<number | undefined> {
  const reader = await c.runAndReadAll(sql, params);
  return num(reader.getRows()[0]?.[0]);
}


/** Consecutive buckets grouped into [from, to) ranges no wider than `span`. */
function rangesOf(buckets: readonly number[], width: number, span: number): [number, number][] {
  const out: [number, number][] = [];
  for (const b of [...buckets].sort((x, y) => x - y)) {
    const last = out[out.length - 1];
    if (last !== undefined && b + width - last[0] <= span) last[1] = Math.max(last[1], b + width);
    else out.push([b, b + width]);
  }
  return out;
}

export async function createMaintenance(c: DuckDBConnection, retention: Retention): Promise<Maintenance> {
  const lock = createLock();
  const dirty = new Map<Tier, Set<number>>(TIERS.map((t) => [t, new Set<number>()]));
  const highWater = new Map<Tier, number>();
  for (const tier of COMPACTED) {
    let high = Number.NEGATIVE_INFINITY;
    for (const k of RECORD_KINDS) high = Math.max(high, (await scalar(c, `SELECT max(bucket) FROM ${tableName(k, tier)}`)) ?? high);
    if (!Number.isFinite(high)) continue;
    highWater.set(tier, high);
    for (let i = 0; i < RECHECK_ON_OPEN[tier]; i++) dirty.get(tier)?.add(high - i * TIER_SECONDS[tier]);
  }

  /**
   * Folds [from, to) of every table of a tier, one service at a time, each in a transaction of
   * its own: a fold's memory is one service's keys (a GROUP BY of every key of a busy hour or
   * day ran DuckDB out of its memory limit at the peers' cardinality), and every commit keeps
   * every sum (its DELETE and INSERT cover the same rows).
   */
  const compactRange = async (tier: Tier, from: number, to: number): Promise<void> => {
    const range = [secondParam(from), secondParam(to)];
    for (const kind of RECORD_KINDS) {
      const table = tableName(kind, tier);
      const services = (await c.runAndReadAll(`SELECT DISTINCT service FROM ${table} WHERE bucket >= ? AND bucket < ?`, range)).getRows().map((r) => String(r[0]));
      const where = 'bucket >= ? AND bucket < ? AND service = ?';
      // The field lists need no order: every reader finds a field by its id (schema.ts).
      const folded = isSparseKind(kind)
        ? `SELECT bucket, ${keyColumns(kind)}, coalesce(list(fid) FILTER (WHERE fid IS NOT NULL), []::UINTEGER[]), coalesce(list(s) FILTER (WHERE fid IS NOT NULL), []::DOUBLE[]) ` +
          `FROM (${sparseFieldSums(kind, tier, where)}) GROUP BY bucket, ${keyColumns(kind)}`
        : `SELECT bucket, ${keyColumns(kind)}, ${sumColumns(kind)} FROM ${table} WHERE ${where} GROUP BY bucket, ${keyColumns(kind)}`;
      for (const service of services) {
        const params = [...range, service];
        await inTransaction(c, async () => {
          await c.run(`CREATE OR REPLACE TEMP TABLE rtm_compact AS ${folded}`, params);
          await c.run(`DELETE FROM ${table} WHERE ${where}`, params);
          await c.run(`INSERT INTO ${table} SELECT * FROM rtm_compact`);
          await c.run('DROP TABLE rtm_compact');
        });
      }
    }
  };

  const expireTier = async (tier: Tier, limit: number): Promise<void> => {
    // 1 s rows the rollup tiers do not hold yet stay: a restart rebuilds the rollups from them.
    const rolledUp = tier === '1s' ? " AND write_id <= (SELECT coalesce(max(value), -1) FROM store_state WHERE name = 'rolled_up_write_id')" : '';
    for (;;) {
      // One statement at a time: a connection runs a single query.
      let lowest = Number.POSITIVE_INFINITY;
      for (const table of tablesOf(tier)) {
        const min = await scalar(c, `SELECT min(bucket) FROM ${table} WHERE bucket < ?${rolledUp}`, [secondParam(limit)]);
        lowest = Math.min(lowest, min ?? lowest);
      }
      if (!Number.isFinite(lowest)) return;
      const params = [secondParam(Math.min(limit, lowest + EXPIRE_SPAN[tier]))];
      await inTransaction(c, async () => {
        for (const table of tablesOf(tier)) await c.run(`DELETE FROM ${table} WHERE bucket < ?${rolledUp}`, params);
      });
    }
  };

  return {
    noteWrite(tier, buckets) {
      if (!COMPACTED.includes(tier)) return;
      const high = highWater.get(tier) ?? Number.NEGATIVE_INFINITY;
      let newHigh = high;
      const set = dirty.get(tier);
      for (const b of buckets) {
        if (b <= high) set?.add(b);
        if (b > newHigh) newHigh = b;
      }
      highWater.set(tier, newHigh);
    },
    compact: () =>
      lock.run(async () => {
        for (const tier of COMPACTED) {
          const set = dirty.get(tier) ?? new Set<number>();
          const buckets = [...set];
          set.clear();
          const ranges = rangesOf(buckets, TIER_SECONDS[tier], COMPACT_SPAN[tier]);
          for (let i = 0; i < ranges.length; i++) {
            const [from, to] = ranges[i] as [number, number];
            try {
              await compactRange(tier, from, to);
            } catch (err) {
              // Keep what is left for the next round; the failed range stays summable meanwhile.
              for (const b of buckets) if (b >= from) set.add(b);
              throw err;
            }
          }
        }
      }),
    expire: (nowSeconds) =>
      lock.run(async () => {
        for (const tier of TIERS) {
          const keep = retentionOf(retention, tier);
          if (!Number.isFinite(keep)) continue;
          // A bucket goes once all of it is older than the retention: bucket + width <= now - keep.
          const limit = nowSeconds - keep - TIER_SECONDS[tier] + 1;
          await expireTier(tier, limit);
          const set = dirty.get(tier);
          for (const b of set ?? []) if (b < limit) set?.delete(b);
        }
        if (Number.isFinite(retention.secondSeconds)) {
          // Replay only asks about seconds still in the WAL; seconds this old have left it long ago.
          await c.run('DELETE FROM published_lsn WHERE second < ?', [secondParam(nowSeconds - retention.secondSeconds)]);
        }
      }),
    idle: () => lock.run(async () => undefined),
    pending: () => Object.fromEntries(TIERS.map((t) => [t, dirty.get(t)?.size ?? 0])) as Record<Tier, number>,
  };
}
