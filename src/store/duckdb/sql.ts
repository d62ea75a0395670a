/**
 * Small SQL helpers for the DuckDB metric store: WHERE clauses built from bound parameters,
 * a pool of read connections, and a serializing lock for a connection's transactions.
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import type { RecordFilter, RecordQuery, Tier } from '../store.ts';
import { TIER_SECONDS } from '../store.ts';
import { ident, KEY_COLUMNS, type RecordKind } from './schema.ts';

export interface Where {
  sql: string;
  params: DuckDBValue[];
}

/** Each filter list and the key column it restricts. */
export const FILTER_COLUMNS: readonly (readonly [keyof RecordFilter, string])[] = [
  ['services', 'service'],
  ['datacenters', 'datacenter'],
  ['domains', 'domain'],
  ['products', 'product'],
  ['backends', 'backend'],
];

/**
 * `bucket >= from AND bucket < to` plus an IN list per filter that the table has a column for
 * (a filter on a column the table lacks, e.g. domains on origin, is ignored). Values are bound.
 */
export function whereOf(kind: RecordKind, query: RecordQuery): Where {
  const parts = ['bucket >= ?', 'bucket < ?'];
  const params: DuckDBValue[] = [secondParam(query.from), secondParam(query.to)];
  for (const [filter, column] of FILTER_COLUMNS) {
    const values = query.filter[filter];
    if (values === undefined || !KEY_COLUMNS[kind].includes(column)) continue;
    parts.push(inList(column, values, params));
  }
  return { sql: parts.join(' AND '), params };
}

/** A bound BIGINT second; infinite bounds clamp to the safe integer range (open-ended reads). */
/** Runs `work` in one transaction on `c`: committed when it resolves, rolled back when it throws. */
export async function inTransaction(c: DuckDBConnection, work: () => Promise<void>): Promise<void> {
  await c.run('BEGIN TRANSACTION');
  try {
    await work();
    await c.run('COMMIT');
  } catch (err) {
    await c.run('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

export function secondParam(second: number): bigint {
  if (Number.isNaN(second)) throw new RangeError('a time bound is NaN');
  return BigInt(Math.max(Number.MIN_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, Math.ceil(second))));
}

/** `"col" IN (?, ?, ...)` with the values pushed to `params`; FALSE for an empty list. */
export function inList(column: string, values: readonly string[], params: DuckDBValue[]): string {
  if (values.length === 0) return 'FALSE';
  params.push(...values);
  return `${ident(column)} IN (${values.map(() => '?').join(', ')})`;
}

/** Refuses a bucket width that is not a positive multiple of the tier's width. */
export function checkBucketSeconds(tier: Tier, bucketSeconds: number): void {
  const width = TIER_SECONDS[tier];
  if (!Number.isInteger(bucketSeconds) || bucketSeconds < width || bucketSeconds % width !== 0) {
    throw new RangeError(`bucketSeconds ${bucketSeconds} is not a positive multiple of tier ${tier} (${width} s)`);
  }
}

/** Runs tasks one at a time, in call order (a connection runs one transaction at a time). */
export interface Lock {
  run<T>(task: () => Promise<T>): Promise<T>;
}

export function createLock(): Lock {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    run(task) {
      const result = tail.then(task, task);
      tail = result.catch(() => undefined);
      return result;
    },
  };
}

/** Up to `max` connections handed out one caller at a time, so concurrent reads do not share one. */
export interface ConnectionPool {
  use<T>(task: (c: DuckDBConnection) => Promise<T>): Promise<T>;
  /** Waits for the reads in progress, then closes every connection; later uses reject. */
  close(): Promise<void>;
}

export function createConnectionPool(connect: () => Promise<DuckDBConnection>, max: number): ConnectionPool {
  const idle: DuckDBConnection[] = [];
  const all: DuckDBConnection[] = [];
  const waiting: { resolve: (c: DuckDBConnection) => void; reject: (e: Error) => void }[] = [];
  /** Connections handed out (or being opened for a caller). */
  let busy = 0;
  let closed = false;
  let drained: (() => void) | undefined;
  const acquire = async (): Promise<DuckDBConnection> => {
    if (closed) throw new Error('the store is closed');
    const free = idle.pop();
    if (free !== undefined) {
      busy++;
      return free;
    }
    if (all.length < max && busy < max) {
      busy++;
      try {
        const c = await connect();
        all.push(c);
        return c;
      } catch (err) {
        busy--;
        throw err;
      }
    }
    // A releasing caller hands its connection over directly; `busy` stays as it is.
    return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  };
  const release = (c: DuckDBConnection): void => {
    const next = waiting.shift();
    if (next !== undefined) return next.resolve(c);
    busy--;
    idle.push(c);
    if (busy === 0) drained?.();
  };
  return {
    async use(task) {
      const c = await acquire();
      try {
        return await task(c);
      } finally {
        release(c);
      }
    },
    async close() {
      closed = true;
      for (const w of waiting.splice(0)) w.reject(new Error('the store is closed'));
      if (busy > 0) await new Promise<void>((resolve) => (drained = resolve));
      for (const c of all) c.closeSync();
    },
  };
}
