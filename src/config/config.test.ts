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
});
