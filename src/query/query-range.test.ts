import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkQueryRange, DEFAULT_MAX_QUERY_RANGE_SECONDS, formatSeconds, queryRangeProblem } from './query-range.ts';
import { RtmError } from '../http/errors.ts';

const advice = { narrow: 'narrow it', coarser: 'go coarser' };

describe('formatSeconds', () => {
  it.each([
    [0, '0 seconds'],
    [1, '1 second'],
    [90, '1 minute 30 seconds'],
    [3600, '1 hour'],
    [31 * 86_400, '31 days'],
    [31 * 86_400 + 60, '31 days 1 minute'],
    [3600.5, '1 hour 0.5 seconds'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
  ])('%d -> %s', (seconds, text) => expect(formatSeconds(seconds)).toBe(text));

  it('never prints a range over a limit the same as the limit (whole seconds)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 1e9 }), (limit) => formatSeconds(limit + 1) !== formatSeconds(limit)));
  });
});

describe('queryRangeProblem', () => {
  it('accepts a range equal to the limit and refuses one a millisecond over', () => {
    expect(queryRangeProblem(3600, '1s', DEFAULT_MAX_QUERY_RANGE_SECONDS, advice)).toBeUndefined();
    expect(queryRangeProblem(3600.001, '1s', DEFAULT_MAX_QUERY_RANGE_SECONDS, advice)).toBe(
      'the range is 1 hour 0.001 seconds, longer than the 1 hour a query may read from the 1s tier (RTM_MAX_QUERY_RANGE_1S); narrow it or go coarser',
    );
  });

  it('has no limit on the 1d tier by default, and no coarser advice for it', () => {
    expect(queryRangeProblem(1e12, '1d', DEFAULT_MAX_QUERY_RANGE_SECONDS, advice)).toBeUndefined();
    expect(queryRangeProblem(11, '1d', { ...DEFAULT_MAX_QUERY_RANGE_SECONDS, '1d': 10 }, advice)).toMatch(/; narrow it$/);
  });

  it('throws RTM_ERR_QUERY_RANGE_TOO_LARGE (400) from checkQueryRange', () => {
    let thrown: unknown;
    try {
      checkQueryRange(40 * 86_400, '1m', DEFAULT_MAX_QUERY_RANGE_SECONDS, advice);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(RtmError);
    expect((thrown as RtmError).def.code).toBe('RTM_ERR_QUERY_RANGE_TOO_LARGE');
    expect((thrown as RtmError).status).toBe(400);
    expect((thrown as RtmError).detail).toContain('the range is 40 days, longer than the 31 days');
  });
});
