import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCalendar, type Calendar } from './calendar.ts';
import { evaluateDateRule } from './date-rule.ts';
import { parseRange } from './range.ts';

const cal = (code: string): Calendar => {
  const r = parseCalendar(code);
  if (!r.ok) throw new Error(r.error);
  return r.calendar;
};
const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
// The reference time of the ODSL date-rule documentation: 8 July 2024 16:23:07 (UTC).
const NOW = Date.parse('2024-07-08T16:23:07.250Z');

describe('date rules (ODSL documentation examples, UTC)', () => {
  it.each([
    ['T', '2024-07-08T16:23:07Z'],
    ['T-1Y', '2023-07-08T16:23:07Z'],
    ['T-1Yh0m0s0', '2023-07-08T00:00:00Z'],
    ['T-M1D1h0m0s0', '2024-01-01T00:00:00Z'],
    ['T-5D', '2024-07-03T16:23:07Z'],
    ['T+5D', '2024-07-13T16:23:07Z'],
    ['T-1YQ4D1h0m0s0', '2023-10-01T00:00:00Z'],
    ['T-1Dh0m0s0', '2024-07-07T00:00:00Z'],
    ['T-1Dh23m59s59', '2024-07-07T23:59:59Z'],
    ['T-1Y2M', '2023-05-08T16:23:07Z'],
    ['T-2W', '2024-06-24T16:23:07Z'],
    ['T+1h30m', '2024-07-08T17:53:07Z'],
    ['Th0m0s0', '2024-07-08T00:00:00Z'],
    ['T-W1h0m0s0', '2024-01-01T00:00:00Z'],
    ['T-Y2020M2D31h0m0s0', '2020-02-29T00:00:00Z'],
  ])('%s = %s', (rule, expected) => {
    const r = evaluateDateRule(rule, NOW, 'UTC');
    expect(r.ok && iso(r.ms)).toBe(expected);
  });

  it('clamps the day when moving by months', () => {
    const r = evaluateDateRule('T-1M', Date.parse('2024-03-31T12:00:00Z'), 'UTC');
    expect(r.ok && iso(r.ms)).toBe('2024-02-29T12:00:00Z');
  });

  it('moves by local days across a DST change (Europe/Berlin)', () => {
    // 14:00 CEST on the day clocks went forward: yesterday 14:00 was CET.
    const r = evaluateDateRule('T-1D', Date.parse('2024-03-31T12:00:00Z'), 'Europe/Berlin');
    expect(r.ok && iso(r.ms)).toBe('2024-03-30T13:00:00Z');
    const midnight = evaluateDateRule('Th0m0s0', Date.parse('2024-03-31T12:00:00Z'), 'Europe/Berlin');
    expect(midnight.ok && iso(midnight.ms)).toBe('2024-03-30T23:00:00Z');
  });

  it.each([
    ['T1D', 'needs a sign'],
    ['T-1X', 'expected T[+|-]'],
    ['T-M13', 'M13 out of range 1-12'],
    ['T-h24', 'h24 out of range 0-23'],
    ['T-Q5', 'Q5 out of range 1-4'],
    ['T-D1M1', 'expected T[+|-]'],
  ])('rejects %s (%s)', (rule, message) => {
    const r = evaluateDateRule(rule, NOW, 'UTC');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toContain(message);
  });
});

describe('_range with a fixed clock', () => {
  const cases: [string, string, string, string, string, string?][] = [
    // zone, calendar, _range, from, to, zone of the answer
    ['UTC', '#PT1H', 'from(2024-07-01)', '2024-07-01T00:00:00Z', '2024-07-08T17:00:00Z'],
    ['UTC', '#PT1H', 'between(T-1Dh0m0s0,T-1Dh23m59s59)', '2024-07-07T00:00:00Z', '2024-07-08T00:00:00Z'],
    ['UTC', '#PT1H', '2024-07-08', '2024-07-08T00:00:00Z', '2024-07-09T00:00:00Z'],
    ['UTC', '#PT1H', '2024-10', '2024-10-01T00:00:00Z', '2024-11-01T00:00:00Z'],
    ['UTC', '#PT1H', '2024', '2024-01-01T00:00:00Z', '2025-01-01T00:00:00Z'],
    ['UTC', '#PT1H', '2024-02', '2024-02-01T00:00:00Z', '2024-03-01T00:00:00Z'],
    ['UTC', '#PT1H', '2024-07-08T10', '2024-07-08T10:00:00Z', '2024-07-08T11:00:00Z'],
    ['UTC', '#PT1H', '2024-07-08T10:15', '2024-07-08T10:15:00Z', '2024-07-08T10:16:00Z'],
    ['UTC', '#PT1H', '2024-07-08T10:15:30', '2024-07-08T10:15:30Z', '2024-07-08T10:15:31Z'],
    ['UTC', '#PT1H', '2024-07-08T10:00+05:30', '2024-07-08T04:30:00Z', '2024-07-08T04:31:00Z'],
    ['UTC', '#PT1H', 'within(2024-07)', '2024-07-01T00:00:00Z', '2024-08-01T00:00:00Z'],
    ['UTC', '#PT1H', 'between(2024-12,2024-12)', '2024-12-01T00:00:00Z', '2025-01-01T00:00:00Z'],
    ['UTC', '#PT1H', 'between("2024-07-01", "2024-07-02")', '2024-07-01T00:00:00Z', '2024-07-03T00:00:00Z'],
    ['UTC', '#PT1H', 'last(3)', '2024-07-08T14:00:00Z', '2024-07-08T17:00:00Z'],
    ['UTC', '#P1D', 'last(1)', '2024-07-08T00:00:00Z', '2024-07-09T00:00:00Z'],
    ['UTC', '#PT15M', 'from(T-1h)', '2024-07-08T15:23:07Z', '2024-07-08T16:30:00Z'],
    ['UTC', '#PT1H', 'within(2024-07-08, Europe/Berlin)', '2024-07-07T22:00:00Z', '2024-07-08T22:00:00Z', 'Europe/Berlin'],
    ['UTC', '#PT1H', 'from(2024-07-08,Europe/Berlin)', '2024-07-07T22:00:00Z', '2024-07-08T17:00:00Z', 'Europe/Berlin'],
    // Europe/Berlin: +02:00 in July, the clock reads 18:23:07.
    ['Europe/Berlin', '#PT1H', 'between(T-1Dh0m0s0,T-1Dh23m59s59)', '2024-07-06T22:00:00Z', '2024-07-07T22:00:00Z'],
    ['Europe/Berlin', '#PT1H', '2024-07-08', '2024-07-07T22:00:00Z', '2024-07-08T22:00:00Z'],
    ['Europe/Berlin', '#PT1H', '2024-03-31', '2024-03-30T23:00:00Z', '2024-03-31T22:00:00Z'],
    ['Europe/Berlin', '#PT1H', '2024-10-27', '2024-10-26T22:00:00Z', '2024-10-27T23:00:00Z'],
    ['Europe/Berlin', '#PT1H', '2024', '2023-12-31T23:00:00Z', '2024-12-31T23:00:00Z'],
    ['Europe/Berlin', '#P1D', 'last(2)', '2024-07-06T22:00:00Z', '2024-07-08T22:00:00Z'],
    ['Europe/Berlin', '#P1D', 'from(T-1D)', '2024-07-07T16:23:07Z', '2024-07-08T22:00:00Z'],
    ['Europe/Berlin', '#PT1H', 'within(2024-07-08, UTC)', '2024-07-08T00:00:00Z', '2024-07-09T00:00:00Z', 'UTC'],
  ];

  it.each(cases)('%s %s %s = [%s, %s)', (zone, calendar, text, from, to, answerZone) => {
    const r = parseRange(text, { nowMs: NOW, timeZone: zone, calendar: cal(calendar) });
    expect(r.ok ? { from: iso(r.range.from), to: iso(r.range.to), zone: r.timeZone } : r.error).toEqual({
      from,
      to,
      zone: answerZone ?? zone,
    });
  });

  it.each([
    ['', 'empty _range'],
    ['foo(1)', 'unknown range function "foo"'],
    ['between(2024-01-02)', 'between() takes 2 or 3 arguments'],
    ['last(0)', 'last(n) expects a whole number'],
    ['last(x)', 'last(n) expects a whole number'],
    ['last(100001)', 'last(n) expects a whole number'],
    ['2024-13', 'month out of range'],
    ['2024-02-30', 'day out of range for 2024-02'],
    ['1969', 'year out of range'],
    ['2024-07-08T24', 'time out of range'],
    ['20240708', 'invalid date "20240708"'],
    ['between(2024-02,2024-01)', 'its end is not after its start'],
    ['from(2025-01-01)', 'starts in the future'],
    ['within(2024, Mars/Base)', 'unknown time zone "Mars/Base"'],
    ['from(T-1X)', 'invalid date rule "T-1X"'],
    ['x'.repeat(300), 'longer than 200 characters'],
  ])('rejects %j: %s', (text, message) => {
    const r = parseRange(text, { nowMs: NOW, timeZone: 'UTC', calendar: cal('#PT1H') });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toContain(message);
  });

  it('never throws on arbitrary input, and an accepted range is not empty', () => {
    const pieces = fc.constantFrom('from(', 'between(', 'last(', 'within(', ')', ',', 'T', '-', '+', '1', '2024', '-07', 'D', 'h0', 'M', 'Europe/Berlin', ' ');
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.array(pieces, { maxLength: 12 }).map((p) => p.join(''))), (text) => {
        const r = parseRange(text, { nowMs: NOW, timeZone: 'Europe/Berlin', calendar: cal('#PT1H') });
        if (r.ok) expect(r.range.to).toBeGreaterThan(r.range.from);
        else expect(r.error.length).toBeGreaterThan(0);
      }),
    );
  });
});
