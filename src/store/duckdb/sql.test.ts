import type { DuckDBConnection } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { createConnectionPool, createLock, whereOf } from './sql.ts';

describe('store SQL helpers', () => {
  it('binds every filter value and ignores filters the table has no column for', () => {
    const w = whereOf('origin', { tier: '1s', from: 10, to: 20, filter: { services: ["a'b"], domains: ['x'], backends: [] } });
    expect(w.sql).toBe('bucket >= ? AND bucket < ? AND "service" IN (?) AND FALSE');
    expect(w.params).toEqual([10n, 20n, "a'b"]);
    expect(whereOf('edge', { tier: '1s', from: Number.NEGATIVE_INFINITY, to: Number.POSITIVE_INFINITY, filter: {} }).params).toEqual([
      BigInt(Number.MIN_SAFE_INTEGER),
      BigInt(Number.MAX_SAFE_INTEGER),
    ]);
  });

  it('runs locked tasks one at a time, in order, past failures', async () => {
    const lock = createLock();
    const log: string[] = [];
    const task = (name: string, fail = false) => async () => {
      log.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, 5));
      log.push(`end ${name}`);
      if (fail) throw new Error(name);
    };
    const results = await Promise.allSettled([lock.run(task('a', true)), lock.run(task('b'))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled']);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b']);
  });

  it('never hands one connection to two readers at once, and waits for readers on close', async () => {
    let opened = 0;
    const closed: number[] = [];
    const connect = async () => {
      const id = opened++;
      return { closeSync: () => closed.push(id) } as unknown as DuckDBConnection;
    };
    const pool = createConnectionPool(connect, 2);
    const inUse = new Set<DuckDBConnection>();
    let maxConcurrent = 0;
    const read = () =>
      pool.use(async (c) => {
        expect(inUse.has(c)).toBe(false);
        inUse.add(c);
        maxConcurrent = Math.max(maxConcurrent, inUse.size);
        await new Promise((r) => setTimeout(r, 2));
        inUse.delete(c);
      });
    await Promise.all(Array.from({ length: 10 }, read));
    expect(opened).toBe(2);
    expect(maxConcurrent).toBe(2);
    const pending = read();
    await pool.close();
    await pending;
    expect(closed.sort()).toEqual([0, 1]);
    await expect(read()).rejects.toThrow(/closed/);
  });
});
