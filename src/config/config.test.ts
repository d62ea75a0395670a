import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';

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
  it('reads overrides and rejects nonsense', () => {
    expect(loadConfig({ PORT: '9000', RTM_AGGREGATE_DELAY: '3' }).port).toBe(9000);
    expect(() => loadConfig({ PORT: 'abc' })).toThrow(/PORT/);
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
});
