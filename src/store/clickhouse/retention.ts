/**
 * Retention on 18.16, which has no TTL: whole partitions past retention are dropped
 * (`ALTER TABLE ... DROP PARTITION`), and reads leave out the buckets of a partition that is only
 * partly past it (a horizon per tier), so a bucket disappears exactly when all of it is past
 * retention, as on DuckDB, without rewriting parts (a DELETE mutation rewrites whole parts).
 * The horizon is kept in `retention_horizon` (the highest wins), read on open and after each
 * round, so a restarted node and the other nodes hide the same rows. On a cluster the horizon
 * lives on the first shard (with published_lsn) and every shard drops its own partitions.
 */
import type { Retention } from '../../config/config.ts';
import { TIERS, TIER_SECONDS, type Tier } from '../../model/tier.ts';
import { literal, type ClickHouseConnection } from './client.ts';
import { PARTITION_SECONDS, PUBLISHED_LSN, RETENTION_HORIZON, tablesOf } from './schema.ts';

export const retentionOf = (r: Retention, tier: Tier): number =>
  ({ '1s': r.secondSeconds, '1m': r.minuteSeconds, '1h': r.hourSeconds, '1d': r.daySeconds })[tier];

export interface RetentionKeeper {
  /** The lowest bucket of `tier` still visible. */
  keepFrom(tier: Tier): number;
  expire(nowSeconds: number): Promise<void>;
}

/** `meta`: the shard holding the horizon; `shards`: every shard (meta among them), whose partitions are dropped. */
export async function createRetentionKeeper(meta: ClickHouseConnection, shards: readonly ClickHouseConnection[], retention: Retention): Promise<RetentionKeeper> {
  const horizon = new Map<Tier, number>(TIERS.map((t) => [t, Number.NEGATIVE_INFINITY]));
  const raise = (tier: Tier, keepFrom: number): void => {
    horizon.set(tier, Math.max(horizon.get(tier) ?? Number.NEGATIVE_INFINITY, keepFrom));
  };
  const load = async (): Promise<void> => {
    for (const [tier, keepFrom] of await meta.rows(`SELECT tier, max(keep_from) FROM ${meta.database}.${RETENTION_HORIZON} GROUP BY tier`)) {
      if (TIERS.includes(tier as Tier)) raise(tier as Tier, Number(keepFrom));
    }
  };
  await load();
  const dropPast = async (shard: ClickHouseConnection, table: string, partitionSeconds: number, cutoff: number): Promise<void> => {
    const rows = await shard.rows(
      `SELECT DISTINCT partition FROM system.parts WHERE database = ${literal(shard.database)} AND table = ${literal(table)} AND active`,
    );
    for (const [p] of rows) {
      const id = String(p);
      // intDiv(bucket, N) partitions: the id is that integer.
      if (!/^-?\d+$/.test(id)) continue;
      if ((Number(id) + 1) * partitionSeconds <= cutoff) await shard.command(`ALTER TABLE ${shard.database}.${table} DROP PARTITION ${id}`);
    }
  };
  return {
    keepFrom: (tier) => horizon.get(tier) ?? Number.NEGATIVE_INFINITY,
    async expire(nowSeconds) {
      for (const tier of TIERS) {
        const keep = retentionOf(retention, tier);
        if (!Number.isFinite(keep)) continue;
        // A bucket b of width w is past retention once b + w <= now - keep.
        const cutoff = nowSeconds - keep;
        const keepFrom = cutoff - TIER_SECONDS[tier] + 1;
        if (keepFrom > (horizon.get(tier) ?? Number.NEGATIVE_INFINITY)) {
          // Recorded before any row goes, so no node shows a bucket after it was dropped.
          await meta.insert(`${meta.database}.${RETENTION_HORIZON}`, [{ tier, keep_from: keepFrom }]);
          raise(tier, keepFrom);
        }
        for (const shard of shards) for (const table of tablesOf(tier)) await dropPast(shard, table, PARTITION_SECONDS[tier], cutoff);
        if (tier === '1s') await dropPast(meta, PUBLISHED_LSN, PARTITION_SECONDS['1s'], cutoff);
      }
      await load();
    },
  };
}
