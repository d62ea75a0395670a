import { describe, expect, it } from 'vitest';
import { createPublishedSeconds } from './published-seconds.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('published-seconds notifier', () => {
  it('tells listeners of each new second, and survives a failing source and a throwing listener', async () => {
    let latest = 10;
    let failing = false;
    const errors: unknown[] = [];
    const seen: number[] = [];
    const notifier = createPublishedSeconds({
      source: {
        latestPublished: () => {
          if (failing) throw new Error('window unavailable');
          return latest;
        },
      },
      pollMs: 5,
      onError: (err) => errors.push(err),
    });
    notifier.subscribe(() => {
      throw new Error('listener bug');
    });
    notifier.subscribe((s) => seen.push(s));
    latest = 11;
    await sleep(30);
    failing = true;
    await sleep(30);
    failing = false;
    latest = 12;
    await sleep(30);
    notifier.close();
    expect(seen).toEqual([11, 12, Number.POSITIVE_INFINITY]);
    expect(errors.some((e) => (e as Error).message === 'window unavailable')).toBe(true);
    // Seconds 11 and 12, then close() telling every listener to stop waiting.
    expect(errors.filter((e) => (e as Error).message === 'listener bug')).toHaveLength(3);
  });
});
