import { describe, expect, it } from 'vitest';
import { bucketSecondsFor, MAX_BUCKETS, parseGranularity, planBuckets, tierFor } from './buckets.ts';
import type { AzionRange } from './dates.ts';

const H = 3600;
const D = 86_400;
const T = Date.UTC(2021, 1, 3) / 1000; // a day boundary
const absolute = (from: number, to: number): AzionRange => ({ kind: 'absolute', fromMs: from * 1000, toMs: to * 1000, zone: 'UTC' });

describe('bucket size by range length', () => {
  it.each([
    [60, 60],
    [H, 60],
    [H + 60, 300],
    [6 * H, 300],
    [6 * H + 60, 900],
    [24 * H, 900],
    [24 * H + 60, H],
    [7 * D, H],
    [7 * D + 60, D],
    [30 * D, D],
  ])('%i s -> %i s buckets', (range, size) => expect(bucketSecondsFor(range)).toBe(size));
});

describe('granularity', () => {
  it.each([
    ['minute', 60],
    ['5minutes', 300],
    ['15minutes', 900],
    ['hour', H],
    ['day', D],
    ['', undefined],
    [undefined, undefined],
  ])('%s -> %s', (raw, size) => expect(parseGranularity(raw)).toEqual({ ok: true, value: size }));
  it.each(['Minute', 'week', '10minutes', 'toString', '__proto__'])('refuses %s', (raw) => expect(parseGranularity(raw).ok).toBe(false));
});

describe('tier per bucket size: the coarsest that divides it', () => {
  it.each([
    [60, '1m'],
    [300, '1m'],
    [900, '1m'],
    [H, '1h'],
    [D, '1d'],
    [30, '1s'],
  ] as const)('%i s reads %s', (size, tier) => expect(tierFor(size)).toBe(tier));
});

describe('planBuckets', () => {
  it('covers [from, to) with epoch-aligned whole buckets', () => {
    expect(planBuckets(absolute(T, T + 5 * 60), undefined)).toEqual({ ok: true, value: { start: T, bucketSeconds: 60, count: 5, tier: '1m' } });
    // 00:02 .. 02:02 -> 5-minute buckets from 00:00 to the one holding 02:01
    expect(planBuckets(absolute(T + 120, T + 2 * H + 120), undefined)).toEqual({
      ok: true,
      value: { start: T, bucketSeconds: 300, count: 25, tier: '1m' },
    });
    expect(planBuckets(absolute(T + 90 * 60, T + 3 * D), undefined)).toEqual({ ok: true, value: { start: T + H, bucketSeconds: H, count: 71, tier: '1h' } });
    expect(planBuckets(absolute(T - H, T + 30 * D), undefined)).toEqual({ ok: true, value: { start: T - D, bucketSeconds: D, count: 31, tier: '1d' } });
    expect(planBuckets(absolute(T, T), undefined)).toEqual({ ok: true, value: { start: T, bucketSeconds: 60, count: 0, tier: '1m' } });
  });

  it('relative ranges end with the bucket holding now', () => {
    const now = (T + 10 * H + 34 * 60 + 56.789) * 1000;
    const relative = (seconds: number): AzionRange => ({ kind: 'relative', seconds, nowMs: now, zone: 'UTC' });
    expect(planBuckets(relative(H), undefined)).toEqual({ ok: true, value: { start: T + 9 * H + 35 * 60, bucketSeconds: 60, count: 60, tier: '1m' } });
    expect(planBuckets(relative(24 * H), undefined)).toEqual({ ok: true, value: { start: T - 13 * H - 15 * 60, bucketSeconds: 900, count: 96, tier: '1m' } });
    expect(planBuckets(relative(30 * D), undefined)).toEqual({ ok: true, value: { start: T - 29 * D, bucketSeconds: D, count: 30, tier: '1d' } });
    expect(planBuckets(relative(H), D)).toEqual({ ok: true, value: { start: T, bucketSeconds: D, count: 1, tier: '1d' } });
    expect(planBuckets(relative(30 * D), 60)).toEqual({ ok: true, value: { start: T + 10 * H + 35 * 60 - 30 * D, bucketSeconds: 60, count: 43_200, tier: '1m' } });
  });

  it('refuses more than MAX_BUCKETS buckets', () => {
    const plan = planBuckets(absolute(T, T + (MAX_BUCKETS + 1) * 60), 60);
    expect(plan.ok).toBe(false);
  });

  it('refuses a range longer than its tier allows, before counting buckets', () => {
    const limits = { '1s': 3600, '1m': 2 * H, '1h': 3 * D, '1d': 10 * D };
    expect(planBuckets(absolute(T, T + 2 * H), 60, limits)).toMatchObject({ ok: true, value: { tier: '1m', count: 120 } });
    expect(planBuckets(absolute(T, T + 2 * H + 60), 300, limits)).toEqual({
      ok: false,
      reason: 'the range is 2 hours 1 minute, longer than the 2 hours a query may read from the 1m tier (RTM_MAX_QUERY_RANGE_1M); narrow date_from..date_to or use a coarser granularity (hour or day)',
    });
    expect(planBuckets(absolute(T, T + 3 * D), H, limits)).toMatchObject({ ok: true, value: { tier: '1h', count: 72 } });
    expect(planBuckets(absolute(T, T + 3 * D + H), H, limits)).toMatchObject({ ok: false });
    expect(planBuckets(absolute(T, T + 10 * D), undefined, limits)).toMatchObject({ ok: true, value: { tier: '1d', count: 10 } });
    expect(planBuckets(absolute(T, T + 11 * D), undefined, limits)).toMatchObject({ ok: false, reason: expect.stringContaining('1d tier') as unknown });
  });
});
