import { describe, expect, it } from 'vitest';
import { createFakeClock } from '../../model/clock.ts';
import { storeReadHorizon } from './store-read-horizon.ts';

describe('storeReadHorizon', () => {
  const clock = createFakeClock(1_700_000_010_500);
  let stored = Number.NEGATIVE_INFINITY;
  let settled = false;
  const view = storeReadHorizon({ clock, storedThrough: () => stored, settled: () => settled, delaySeconds: 4 });

  it('publishes a second delaySeconds after its end, no later than this node has stored it', () => {
    // 1_700_000_010.5: the newest second past its end by 4 s is 1_700_000_005.
    settled = true;
    expect(view.latestPublished()).toBe(1_700_000_005);
    settled = false;
    stored = 1_700_000_002;
    expect(view.latestPublished()).toBe(1_700_000_002);
    stored = 1_700_000_009;
    expect(view.latestPublished()).toBe(1_700_000_005);
    clock.set(1_700_000_012_000);
    expect(view.latestPublished()).toBe(1_700_000_007);
  });

  it('holds no second in memory, so the reader asks the store for every range', async () => {
    expect(view.oldestSecond()).toBe(Number.POSITIVE_INFINITY);
    expect(await view.channel('shop', 0, 2e9)).toEqual([]);
  });
});
