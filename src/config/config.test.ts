import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';
import { memoryBudget, parseWorkersWithin } from './memory-budget.ts';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig({});
    expect(c.port).toBe(8080);
    expect(c.host).toBe('127.0.0.1');
    expect(c.aggregateDelaySeconds).toBe(1);
    expect(c.windowSeconds).toBe(600);
    expect(c.limits.maxBodyBytes).toBe(64 * 1024 * 1024);
    expect(c.retention.daySeconds).toBe(Number.POSITIVE_INFINITY);
  });
  it('records distributions unless RTM_DISTRIBUTIONS=off', () => {
    expect(loadConfig({}).distributions).toBe(true);
    expect(loadConfig({ RTM_DISTRIBUTIONS: 'off' }).distributions).toBe(false);
    expect(() => loadConfig({ RTM_DISTRIBUTIONS: '0' })).toThrow('RTM_DISTRIBUTIONS must be on or off, got "0"');
  });

  it('counts top values unless RTM_TOP_VALUES=off', () => {
    expect(loadConfig({}).topValues).toBe(true);
    expect(loadConfig({ RTM_TOP_VALUES: 'off' }).topValues).toBe(false);
    expect(loadConfig({ RTM_TOP_VALUES: 'on' }).topValues).toBe(true);
    expect(() => loadConfig({ RTM_TOP_VALUES: 'no' })).toThrow('RTM_TOP_VALUES must be on or off, got "no"');
  });

  it('drops the query string of counted paths unless RTM_PATH_QUERY_STRING=keep', () => {
    expect(loadConfig({}).keepPathQuery).toBe(false);
    expect(loadConfig({ RTM_PATH_QUERY_STRING: 'drop' }).keepPathQuery).toBe(false);
    expect(loadConfig({ RTM_PATH_QUERY_STRING: 'keep' }).keepPathQuery).toBe(true);
    expect(() => loadConfig({ RTM_PATH_QUERY_STRING: 'yes' })).toThrow('RTM_PATH_QUERY_STRING must be drop or keep, got "yes"');
  });

  it('reads overrides and rejects nonsense', () => {
    expect(loadConfig({ PORT: '9000', RTM_AGGREGATE_DELAY: '3' }).port).toBe(9000);
    expect(() => loadConfig({ PORT: 'abc' })).toThrow(/PORT/);
  });
  it('reads the per-service key caps: domains 10,000, datacenters and backends 1,000 by default, 0 or Infinity off', () => {
    const caps = (env: Record<string, string>): number[] => {
      const l = loadConfig(env).limits;
      return [l.domainsPerService, l.datacentersPerService, l.backendsPerService];
    };
    expect(caps({})).toEqual([10_000, 1000, 1000]);
    expect(caps({ RTM_MAX_DOMAINS_PER_SERVICE: '50', RTM_MAX_DATACENTERS_PER_SERVICE: '20', RTM_MAX_BACKENDS_PER_SERVICE: '5' })).toEqual([50, 20, 5]);
    expect(caps({ RTM_MAX_DATACENTERS_PER_SERVICE: '0', RTM_MAX_BACKENDS_PER_SERVICE: 'Infinity' })).toEqual([10_000, 0, Number.POSITIVE_INFINITY]);
    expect(() => loadConfig({ RTM_MAX_DATACENTERS_PER_SERVICE: 'many' })).toThrow('RTM_MAX_DATACENTERS_PER_SERVICE must be a non-negative number, got "many"');
    expect(() => loadConfig({ RTM_MAX_BACKENDS_PER_SERVICE: '-1' })).toThrow('RTM_MAX_BACKENDS_PER_SERVICE must be a non-negative number, got "-1"');
  });
  it('reads the query range per tier, defaults 1 h / 31 d / 400 d / no limit', () => {
    expect(loadConfig({}).limits.maxQueryRangeSeconds).toEqual({ '1s': 3600, '1m': 31 * 86_400, '1h': 400 * 86_400, '1d': Number.POSITIVE_INFINITY });
    const c = loadConfig({ RTM_MAX_QUERY_RANGE_1S: '600', RTM_MAX_QUERY_RANGE_1M: '86400', RTM_MAX_QUERY_RANGE_1H: 'Infinity', RTM_MAX_QUERY_RANGE_1D: '315360000' });
    expect(c.limits.maxQueryRangeSeconds).toEqual({ '1s': 600, '1m': 86_400, '1h': Number.POSITIVE_INFINITY, '1d': 315_360_000 });
    expect(Object.isFrozen(c.limits.maxQueryRangeSeconds)).toBe(true);
    expect(() => loadConfig({ RTM_MAX_QUERY_RANGE_1M: 'a month' })).toThrow('RTM_MAX_QUERY_RANGE_1M must be a non-negative number, got "a month"');
    expect(() => loadConfig({ RTM_MAX_QUERY_RANGE_1H: '-1' })).toThrow(/RTM_MAX_QUERY_RANGE_1H/);
    expect(() => loadConfig({ RTM_MAX_QUERY_RANGE_1S: '0' })).toThrow('RTM_MAX_QUERY_RANGE_1S must be above 0 (Infinity for no limit), got "0"');
  });
  it('splits RTM_MEMORY_BUDGET_BYTES into its shares: the window and DuckDB 1 GiB each at the default of 4 GiB', () => {
    const GiB = 1024 ** 3;
    const d = loadConfig({});
    expect([d.memoryBudget.totalBytes, d.windowMaxBytes, d.duckdbMemoryBytes, d.limits.domainsPerService]).toEqual([4 * GiB, GiB, GiB, 10_000]);
    expect(d.memoryBudget.shares).toEqual({ window: GiB, duckdb: GiB, rollupBuffer: GiB / 16, pending: GiB / 4, catalog: GiB / 4, runtime: 4 * GiB - (GiB + GiB + GiB / 16 + GiB / 2) });
    // The flush is bounded by DuckDB's share (8 KiB of DuckDB memory per flushed row), below the
    // buffer's own share (64 bytes a row: 1M rows).
    expect(d.memoryBudget.rollupBufferRows).toBe(131_072);
    const small = loadConfig({ RTM_MEMORY_BUDGET_BYTES: String(256 * 1024 ** 2), RTM_MAX_DOMAINS_PER_SERVICE: '500' });
    // DuckDB gets 1/4 (64 MiB, its floor); the rollup buffer flushes at 64 MiB / 8 KiB rows.
    expect([small.windowMaxBytes, small.duckdbMemoryBytes, small.memoryBudget.rollupBufferRows, small.limits.domainsPerService]).toEqual([64 * 1024 ** 2, 64 * 1024 ** 2, 10_000, 500]);
    // An explicit window or DuckDB size takes its share's place.
    const explicit = loadConfig({ RTM_WINDOW_MAX_BYTES: '1000000', RTM_DUCKDB_MEMORY_BYTES: String(GiB) });
    expect([explicit.windowMaxBytes, explicit.duckdbMemoryBytes, explicit.memoryBudget.shares.window]).toEqual([1_000_000, GiB, 1_000_000]);
    expect(() => loadConfig({ RTM_MEMORY_BUDGET_BYTES: 'Infinity' })).toThrow(/RTM_MEMORY_BUDGET_BYTES must be a byte count of at least 128 MiB/);
    expect(() => loadConfig({ RTM_MEMORY_BUDGET_BYTES: '1000' })).toThrow(/RTM_MEMORY_BUDGET_BYTES/);
  });
});

describe('RTM_INGEST_WORKERS default', () => {
  const MiB = 1024 ** 2;
  it('is what the runtime share has room for, at ~192 MiB a worker: none at 512 MiB, one at 1 GiB, more at 4 GiB', () => {
    expect(parseWorkersWithin(memoryBudget(512 * MiB))).toBe(0);
    expect(parseWorkersWithin(memoryBudget(1024 * MiB))).toBe(1);
    expect(parseWorkersWithin(memoryBudget(4096 * MiB))).toBe(7);
  });

  it('is the smaller of that and cores - 1; an explicit value is taken as it is', () => {
    const cores = Math.max(0, os.availableParallelism() - 1);
    expect(loadConfig({ RTM_MEMORY_BUDGET_BYTES: String(512 * MiB) }).ingestWorkers).toBe(0);
    expect(loadConfig({ RTM_MEMORY_BUDGET_BYTES: String(4096 * MiB) }).ingestWorkers).toBe(Math.min(7, cores));
    expect(loadConfig({ RTM_MEMORY_BUDGET_BYTES: String(512 * MiB), RTM_INGEST_WORKERS: '2' }).ingestWorkers).toBe(2);
  });
});
