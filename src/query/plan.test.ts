import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_QUERY_RANGE_SECONDS } from '../config/config.ts';
import { chooseGranularity, planQuery } from './plan.ts';

const limits = DEFAULT_MAX_QUERY_RANGE_SECONDS;
const D = 86_400;
const base = 20_000 * D;

describe('planQuery', () => {
  it('reads the aligned middle from the coarsest tier, the edges from finer ones, the recent seconds from the window', () => {
    const from = base - 3 * D + 3600 + 125; // 01:02:05 three days back
    const plan = planQuery({ from, to: base + 1000, granularity: 'all', finalThrough: base + 500, windowFrom: base + 400, limits });
    expect(plan.parts.map((p) => [p.source, p.tier, p.from - base, p.to - base])).toEqual([
      ['store', '1s', from - base, from - base + 55],
      ['store', '1m', from - base + 55, -3 * D + 7200],
      ['store', '1h', -3 * D + 7200, -2 * D],
      ['store', '1d', -2 * D, 0],
      ['store', '1m', 0, 360],
      ['store', '1s', 360, 400],
      ['window', '1s', 400, 501],
    ]);
    expect(plan.bucketSeconds).toBeUndefined();
  });

  it('uses only tiers whose buckets nest in the granularity', () => {
    const plan = planQuery({ from: base, to: base + 2 * D, granularity: '1h', finalThrough: base + 10 * D, windowFrom: undefined, limits });
    expect(plan.parts.map((p) => p.tier)).toEqual(['1h']);
    expect(plan.bucketSeconds).toBe(3600);
  });

  it('refuses a part longer than its tier may read, naming the tier', () => {
    expect(() => planQuery({ from: base, to: base + 7200, granularity: '1s', finalThrough: base + D, windowFrom: undefined, limits })).toThrow(/1s tier/);
  });

  it('auto takes the finest granularity with at most 1500 buckets', () => {
    expect(chooseGranularity(0, 900, limits)).toBe('1s');
    expect(chooseGranularity(0, 24 * 3600, limits)).toBe('1m');
    expect(chooseGranularity(0, 30 * D, limits)).toBe('1h');
    expect(chooseGranularity(0, 365 * D, limits)).toBe('1d');
  });

  it('stops at the last final second', () => {
    const plan = planQuery({ from: base, to: base + 100, granularity: '1s', finalThrough: base - 1, windowFrom: base - 50, limits });
    expect(plan.parts).toEqual([]);
  });
});
