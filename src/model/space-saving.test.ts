import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SpaceSaving } from './space-saving.ts';

describe('Space-Saving summary', () => {
  it('keeps its guarantees for any weighted stream: followed values within [count - error, count], others at most min, counts summing to the total', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 9 })), { maxLength: 300 }),
        (capacity, stream) => {
          const s = new SpaceSaving(capacity);
          const exact = new Map<string, number>();
          for (const [v, w] of stream) {
            const value = `v${v}`;
            s.add(value, w);
            exact.set(value, (exact.get(value) ?? 0) + w);
          }
          const entries = s.entries();
          expect(entries.length).toBe(Math.min(capacity, exact.size));
          expect(entries.reduce((a, e) => a + e.count, 0)).toBe(s.total);
          expect(s.total).toBe(stream.reduce((a, [, w]) => a + w, 0));
          const followed = new Map(entries.map((e) => [e.value, e]));
          for (const [value, n] of exact) {
            const e = followed.get(value);
            if (e === undefined) {
              expect(n, `${value} not followed`).toBeLessThanOrEqual(s.min);
            } else {
              expect(n, value).toBeLessThanOrEqual(e.count);
              expect(n, value).toBeGreaterThanOrEqual(e.count - e.error);
              expect(e.error).toBeLessThanOrEqual(s.min);
            }
          }
          if (exact.size <= capacity) for (const e of entries) expect(e).toEqual({ value: e.value, count: exact.get(e.value), error: 0 });
          for (let i = 1; i < entries.length; i++) expect((entries[i - 1] as { count: number }).count).toBeGreaterThanOrEqual((entries[i] as { count: number }).count);
        },
      ),
    );
  });

  it('finds the heavy hitters of a skewed stream exactly enough: every value above total / capacity is followed', () => {
    const s = new SpaceSaving(50);
    const exact = new Map<string, number>();
    let seed = 7;
    for (let i = 0; i < 20_000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      // Zipf-like: value k with weight ~ 1/k.
      const k = Math.floor(1 / Math.max(1e-4, seed / 2 ** 31));
      const value = `/p${k}`;
      s.add(value);
      exact.set(value, (exact.get(value) ?? 0) + 1);
    }
    const followed = new Set(s.entries().map((e) => e.value));
    for (const [value, n] of exact) if (n > s.total / 50) expect(followed.has(value), value).toBe(true);
    expect(s.min).toBeLessThanOrEqual(s.total / 50);
  });
});
