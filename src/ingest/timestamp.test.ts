import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_SECOND, secondOfNumber, secondOfRfc3339 } from './timestamp.ts';

describe('secondOfRfc3339', () => {
  it.each([
    ['1970-01-01T00:00:00Z', 0],
    ['2024-11-20T10:00:00Z', 1_732_096_800],
    ['2024-11-20T10:00:00.999Z', 1_732_096_800],
    ['2024-11-20T12:00:00+02:00', 1_732_096_800],
    ['2024-11-20T04:30:00-05:30', 1_732_096_800],
    ['2000-02-29T00:00:00Z', 951_782_400],
    ['9999-12-31T23:59:59Z', MAX_SECOND],
  ])('%s is second %d', (text, second) => {
    expect(secondOfRfc3339(text)).toBe(second);
  });

  it.each(['', '2024-11-20', '2024-11-20T10:00:00', '1900-02-29T00:00:00Z', '2024-11-20T10:00:00+02', '0000-01-01T00:00:00Z', '2024-11-20T10:00:00.+02:00', '２０２４-11-20T10:00:00Z'])(
    'rejects %j',
    (text) => {
      expect(secondOfRfc3339(text)).toBe(-1);
    },
  );

  it('agrees with Date for every instant from 1970 to 9999', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date(0), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }), (d) => {
        expect(secondOfRfc3339(d.toISOString())).toBe(Math.floor(d.getTime() / 1000));
      }),
    );
  });
});

describe('secondOfNumber', () => {
  it.each([
    [0, 0],
    [1.9, 1],
    [MAX_SECOND + 0.5, MAX_SECOND],
    [-0.5, -1],
    [MAX_SECOND + 1, -1],
    [Number.NaN, -1],
    [Number.POSITIVE_INFINITY, -1],
  ])('%d -> %d', (t, second) => {
    expect(secondOfNumber(t)).toBe(second);
  });
});
