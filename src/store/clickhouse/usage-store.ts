/**
 * Usage entities shared by every node of a cluster, in one append-only table on the first shard
 * (./usage-tables.ts): an entity posted on one node, or recorded by its self-metering, is listed
 * on every node by the next read. Filters and sorts are the DuckDB store's, in ClickHouse SQL
 * (./usage-sql.ts); both engines pass one conformance suite. Retention: reads leave out entities
 * older than the retention by the clock, and expire() drops the day partitions wholly past it.
 */
import type { Clock } from '../../model/clock.ts';
import { DEFAULT_SORT, type UsageStore } from '../usage-store.ts';
import { intLiteral, literal, type ClickHouseConnection } from './client.ts';
import { usageFilterSql, usageSortSql } from './usage-sql.ts';
import { DAY_MS, dropUsagePartition, ensureUsageTable, insertUsageEntities, rowToEntity, USAGE_SELECT, USAGE_TABLE, usagePartitions } from './usage-tables.ts';

export interface ClickHouseUsageStoreOptions {
  /** The first shard (the table lives there only). The store closes it. */
  conn: ClickHouseConnection;
  /** Times the retention cut of every read. */
  clock: Clock;
  /** Names this node in the rows it writes. */
  nodeId: string;
  /** Seconds to keep entities (Config.retention.usageSeconds; default there 13 months). Infinity keeps all. */
  retentionSeconds: number;
  /** Limit of each statement, ms. Default 10,000. */
  requestTimeoutMs?: number;
}

/** usageEntityBytes (../usage-store.ts) of a stored row, in SQL: the same sum, so quotas agree. */
const ENTITY_BYTES_SQL = [
  '16',
  ...['provider', 'metric'].map((c) => `length(${c})`),
  ...['type', 'action', 'application', 'detail', 'environment', 'invocation_id', 'method', 'service', 'user_id'].map((c) => `length(ifNull(${c}, ''))`),
  ...['duration', 'http_status', 'response_size'].map((c) => `if(isNull(${c}), 0, 8)`),
].join(' + ');

export async function createClickHouseUsageStore(opts: ClickHouseUsageStoreOptions): Promise<UsageStore> {
  const { conn, clock, nodeId, retentionSeconds } = opts;
  const options = { timeoutMs: opts.requestTimeoutMs ?? 10_000 };
  try {
    await ensureUsageTable(conn);
  } catch (err) {
    await conn.close().catch(() => undefined);
    throw err;
  }
  const table = `${conn.database}.${USAGE_TABLE}`;
  let closed = false;
  const inFlight = new Set<Promise<unknown>>();
  /** Runs one operation, so close() can wait for it. */
  const tracked = <T>(work: () => Promise<T>): Promise<T> => {
    if (closed) return Promise.reject(new Error('the usage store is closed'));
    const p = work();
    inFlight.add(p);
    const forget = (): void => void inFlight.delete(p);
    p.then(forget, forget);
    return p;
  };
  /** WHERE of a read: the retention cut, the owner, then the given conditions. */
  const where = (owner: string | undefined, ...conditions: string[]): string => {
    const parts = [...conditions];
    if (owner !== undefined) parts.unshift(`owner = ${literal(owner)}`);
    // Rows of a partly expired day stay until its partition is dropped: reads leave them out, as
    // DuckDB's expire() deletes them, so no answer depends on when expire() last ran.
    if (Number.isFinite(retentionSeconds)) parts.unshift(`timestamp_ms >= ${intLiteral(clock.now() - retentionSeconds * 1000)}`);
    return parts.length > 0 ? ` WHERE ${parts.join(' AND ')}` : '';
  };
  const strings = async (sql: string): Promise<string[]> => (await conn.rows(sql, options)).map((r) => String(r[0]));

  return {
    insert: (entities) => tracked(async () => (entities.length > 0 ? insertUsageEntities(conn, entities, nodeId, options) : undefined)),

    ownerTotals: (owner, excludeProviders) =>
      tracked(async () => {
        const notIn = excludeProviders.length > 0 ? [`provider NOT IN (${excludeProviders.map(literal).join(', ')})`] : [];
        const [row] = await conn.rows(`SELECT count(), sum(${ENTITY_BYTES_SQL}) FROM ${table}${where(owner, ...notIn)}`, options);
        return { entities: Number(row?.[0] ?? 0), bytes: Number(row?.[1] ?? 0) };
      }),

    list: ({ owner, filter, sort, limit, skip }) =>
      tracked(async () => {
        const w = where(owner, ...(filter ? [usageFilterSql(filter)] : []));
        const order = usageSortSql(sort && sort.length > 0 ? sort : DEFAULT_SORT);
        const page = `LIMIT ${intLiteral(Math.max(0, Math.trunc(skip)))}, ${intLiteral(Math.max(0, Math.trunc(limit)))}`;
        const [count, rows] = await Promise.all([
          conn.rows(`SELECT count() FROM ${table}${w}`, options),
          conn.rows(`SELECT ${USAGE_SELECT} FROM ${table}${w} ORDER BY ${order} ${page}`, options),
        ]);
        return { total: Number(count[0]?.[0] ?? 0), items: rows.map(rowToEntity) };
      }),

    get: (id, owner) =>
      tracked(async () => {
        const rows = await conn.rows(`SELECT ${USAGE_SELECT} FROM ${table}${where(owner, `id = ${literal(id)}`)} LIMIT 1`, options);
        return rows[0] ? rowToEntity(rows[0]) : undefined;
      }),

    providers: (owner) => tracked(() => strings(`SELECT DISTINCT provider FROM ${table}${where(owner)} ORDER BY provider`)),

    metrics: (provider, owner) => tracked(() => strings(`SELECT DISTINCT metric FROM ${table}${where(owner, `provider = ${literal(provider)}`)} ORDER BY metric`)),

    points: ({ provider, metric, owner, filter, from, to }) =>
      tracked(async () => {
        const conditions = [`provider = ${literal(provider)}`, `metric = ${literal(metric)}`, `timestamp_ms >= ${intLiteral(from)}`, `timestamp_ms < ${intLiteral(to)}`];
        if (filter) conditions.push(usageFilterSql(filter));
        const rows = await conn.rows(`SELECT timestamp_ms, value FROM ${table}${where(owner, ...conditions)} ORDER BY timestamp_ms, id`, options);
        return rows.map((r) => ({ timestamp: Number(r[0]), value: Number(r[1]) }));
      }),

    expire: (nowMs) =>
      tracked(async () => {
        if (!Number.isFinite(retentionSeconds)) return;
        const cutoff = nowMs - retentionSeconds * 1000;
        // Day d holds [d, d + 1) days (intDiv truncates, so day 0 also holds the negative ones):
        // wholly past the cut once its end is.
        for (const day of await usagePartitions(conn, options)) if ((day + 1) * DAY_MS <= cutoff) await dropUsagePartition(conn, day, options);
      }),

    async close() {
      if (closed) return;
      closed = true;
      await Promise.allSettled([...inFlight]);
      await conn.close();
    },
  };
}
