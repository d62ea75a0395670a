import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planCursor, type CursorRequest, type FastlyLimits } from './cursor.ts';

/** Runs a plan against "every second in `data` has an entry". */
function answer(req: CursorRequest, published: number, delay: number, data: readonly number[], limits?: FastlyLimits) {
  const plan = planCursor(req, published, delay, limits);
  const seconds = data.filter((s) => s >= plan.from && s < plan.to).map((second) => ({ second }));
  const { entries, timestamp } = plan.pick(seconds);
  return { from: plan.from, to: plan.to, seconds: entries.map((e) => e.second), timestamp };
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const P = 1_700_000_000;
const every = range(P - 5000, P);

describe('planCursor', () => {
  const cases: { name: string; req: CursorRequest; delay?: number; data?: number[]; seconds: number[]; timestamp: number }[] = [
    { name: 'ts/0: the newest published second', req: { kind: 'latest' }, seconds: [P], timestamp: P + 1 },
    { name: 'ts/0 with no data in P', req: { kind: 'latest' }, data: range(P - 10, P - 1), seconds: [], timestamp: P + 1 },
    { name: 'ts/t: repeats [t - D, t) then every new second', req: { kind: 'since', t: P - 2 }, delay: 2, seconds: range(P - 4, P), timestamp: P + 1 },
    { name: 'ts/t caught up: only the repeats', req: { kind: 'since', t: P + 1 }, delay: 1, seconds: [P], timestamp: P + 1 },
    { name: 'ts/t with D = 0: no repeats', req: { kind: 'since', t: P }, delay: 0, seconds: [P], timestamp: P + 1 },
    { name: 'ts/t in the future: nothing, cursor kept', req: { kind: 'since', t: P + 50 }, seconds: [], timestamp: P + 50 },
    {
      name: 'ts/t/limit/n: repeats plus the oldest n new seconds, cursor after them',
      req: { kind: 'since', t: P - 9, limit: 3 },
      delay: 2,
      seconds: range(P - 11, P - 7),
      timestamp: P - 6,
    },
    {
      name: 'ts/t far back: at most maxSecondsPerResponse new seconds',
      req: { kind: 'since', t: P - 1000 },
      seconds: range(P - 1001, P - 881),
      timestamp: P - 880,
    },
    {
      name: 'ts/t older than the lookback starts at P - 3599',
      req: { kind: 'since', t: 5 },
      seconds: range(P - 3599, P - 3480),
      timestamp: P - 3479,
    },
    { name: 'ts/h: the last 120 seconds', req: { kind: 'history' }, seconds: range(P - 119, P), timestamp: P + 1 },
    { name: 'ts/h/limit/5: the newest 5, ascending', req: { kind: 'history', limit: 5 }, seconds: range(P - 4, P), timestamp: P + 1 },
    {
      name: 'ts/h/limit counts entries, not seconds, on sparse data',
      req: { kind: 'history', limit: 2 },
      data: [P - 100, P - 50, P - 7],
      seconds: [P - 50, P - 7],
      timestamp: P + 1,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = answer(c.req, P, c.delay ?? 1, c.data ?? every);
      expect({ seconds: got.seconds, timestamp: got.timestamp }).toEqual({ seconds: c.seconds, timestamp: c.timestamp });
    });
  }

  it('ts/h reads exactly [P - 119, P]', () => {
    expect(answer({ kind: 'history' }, P, 1, [])).toMatchObject({ from: P - 119, to: P + 1 });
  });

  it('a polling client sees every second once, in order, plus only AggregateDelay repeats (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5 }),
        fc.array(fc.integer({ min: 0, max: 400 }), { maxLength: 60 }),
        fc.array(fc.integer({ min: 0, max: 150 }), { minLength: 1, maxLength: 40 }),
        fc.option(fc.integer({ min: 1, max: 120 }), { nil: undefined }),
        (delay, offsets, steps, limit) => {
          const start = P - 200;
          const data = [...new Set(offsets.map((o) => start + o))].sort((a, b) => a - b);
          let published = start;
          let cursor = answer({ kind: 'latest' }, published, delay, data).timestamp;
          const fresh: number[] = [];
          for (const step of steps) {
            published += step;
            const req: CursorRequest = limit === undefined ? { kind: 'since', t: cursor } : { kind: 'since', t: cursor, limit };
            // The lookback is the one documented gap; the property is about everything inside it.
            const got = answer(req, published, delay, data, { maxSecondsPerResponse: 120, maxLookbackSeconds: 1e9 });
            expect(got.seconds).toEqual([...got.seconds].sort((a, b) => a - b));
            for (const s of got.seconds) {
              // A second seen before may only come back as a repeat of [t - D, t).
              if (s < cursor) expect(s).toBeGreaterThanOrEqual(cursor - delay);
              else fresh.push(s);
            }
            expect(got.timestamp).toBeGreaterThanOrEqual(cursor);
            cursor = got.timestamp;
          }
          // No gap: every data second in (start, cursor) was delivered as new, exactly once.
          const expected = data.filter((s) => s > start && s < cursor);
          expect(fresh).toEqual(expected);
        },
      ),
    );
  });
});
