import { describe, expect, it } from 'vitest';
import { parseAzionDate, parseAzionRange } from './dates.ts';

const BERLIN = 'Europe/Berlin';
const NOW = Date.UTC(2021, 1, 3, 12, 34, 56, 789);

describe('parseAzionDate: accepted forms', () => {
  // [text, zone, instant (UTC), zone of the text]
  const cases: [string, string, string, string][] = [
    ['2021-02-03T01:00', BERLIN, '2021-02-03T00:00Z', BERLIN],
    ['2021-02-03 01:00', BERLIN, '2021-02-03T00:00Z', BERLIN],
    ['2021-07-01T12:00', BERLIN, '2021-07-01T10:00Z', BERLIN],
    ['2021-02-03T01:00Z', BERLIN, '2021-02-03T01:00Z', 'UTC'],
    ['2021-02-03 01:00Z', BERLIN, '2021-02-03T01:00Z', 'UTC'],
    ['2021-02-03T01:00', 'UTC', '2021-02-03T01:00Z', 'UTC'],
    ['2021-02-03T01:00', 'America/Sao_Paulo', '2021-02-03T04:00Z', 'America/Sao_Paulo'],
    ['2024-02-29T00:00Z', BERLIN, '2024-02-29T00:00Z', 'UTC'],
    ['1970-01-01T00:00Z', BERLIN, '1970-01-01T00:00Z', 'UTC'],
    ['2021-12-31T23:59', BERLIN, '2021-12-31T22:59Z', BERLIN],
    // Berlin, spring forward 2021-03-28 02:00 -> 03:00
    ['2021-03-28T01:59', BERLIN, '2021-03-28T00:59Z', BERLIN],
    ['2021-03-28T02:30', BERLIN, '2021-03-28T01:30Z', BERLIN], // in the gap: read as 03:30 CEST
    ['2021-03-28T03:00', BERLIN, '2021-03-28T01:00Z', BERLIN],
    // Berlin, fall back 2021-10-31 03:00 -> 02:00: 02:30 happens twice, the earlier wins
    ['2021-10-31T01:59', BERLIN, '2021-10-30T23:59Z', BERLIN],
    ['2021-10-31T02:30', BERLIN, '2021-10-31T00:30Z', BERLIN],
    ['2021-10-31T03:00', BERLIN, '2021-10-31T02:00Z', BERLIN],
  ];
  it.each(cases)('%s in %s is %s', (text, zone, instant, textZone) => {
    const parsed = parseAzionDate(text, zone);
    expect(parsed).toEqual({ ok: true, value: { epochMs: Date.parse(instant), zone: textZone } });
  });
});

describe('parseAzionDate: rejected forms', () => {
  const rejected = [
    '',
    '2021-02-03',
    '2021-02-03T00',
    '2021-02-03T00:00:00',
    '2021-02-03T00:00:00Z',
    '2021-02-03T00:00+01:00',
    '2021-02-03T00:00z',
    '2021-02-03t00:00',
    '2021-02-03_00:00',
    '2021-2-3T00:00',
    '21-02-03T00:00',
    ' 2021-02-03T00:00',
    '2021-02-03T00:00 ',
    '2021-02-30T00:00',
    '2021-02-29T00:00',
    '2021-13-01T00:00',
    '2021-00-01T00:00',
    '2021-01-00T00:00',
    '2021-02-03T24:00',
    '2021-02-03T23:60',
    '1969-12-31T23:59Z',
    '1612310400000',
    'now',
    'last-hour',
  ];
  it.each(rejected)('"%s"', (text) => {
    const parsed = parseAzionDate(text, BERLIN);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toContain(text === '' ? '""' : text);
  });
});

describe('parseAzionRange', () => {
  it.each([
    ['last-hour', 3600],
    ['last-3-hours', 3 * 3600],
    ['last-6-hours', 6 * 3600],
    ['last-24-hours', 86_400],
    ['last-3-days', 3 * 86_400],
    ['last-7-days', 7 * 86_400],
    ['last-15-days', 15 * 86_400],
    ['last-30-days', 30 * 86_400],
  ])('%s is the %i seconds up to now, whatever date_to says', (text, seconds) => {
    expect(parseAzionRange({ date_from: text, date_to: 'nonsense' }, NOW, BERLIN)).toEqual({
      ok: true,
      value: { kind: 'relative', seconds, nowMs: NOW, zone: BERLIN },
    });
  });

  it('date_to defaults to now, and accepts "now" and the date forms', () => {
    const from = Date.UTC(2021, 1, 3, 0, 0);
    const absolute = (toMs: number, zone = BERLIN) => ({ ok: true, value: { kind: 'absolute', fromMs: from, toMs, zone } });
    expect(parseAzionRange({ date_from: '2021-02-03T01:00' }, NOW, BERLIN)).toEqual(absolute(NOW));
    expect(parseAzionRange({ date_from: '2021-02-03T01:00', date_to: '' }, NOW, BERLIN)).toEqual(absolute(NOW));
    expect(parseAzionRange({ date_from: '2021-02-03T01:00', date_to: 'now' }, NOW, BERLIN)).toEqual(absolute(NOW));
    expect(parseAzionRange({ date_from: '2021-02-03T01:00', date_to: '2021-02-03T05:00Z' }, NOW, BERLIN)).toEqual(
      absolute(Date.UTC(2021, 1, 3, 5, 0)),
    );
    // the zone of the answer's human-readable times is date_from's
    expect(parseAzionRange({ date_from: '2021-02-03T00:00Z', date_to: '2021-02-03 07:00' }, NOW, BERLIN)).toEqual(
      absolute(Date.UTC(2021, 1, 3, 6, 0), 'UTC'),
    );
    expect(parseAzionRange({ date_from: '2021-02-03T00:00Z', date_to: '2021-02-03T00:00Z' }, NOW, BERLIN)).toEqual(absolute(from, 'UTC'));
  });

  it.each([
    [{}, 'date_from is required'],
    [{ date_from: '' }, 'date_from is required'],
    [{ date_from: 'now' }, 'date_from "now" is not'],
    [{ date_from: 'last-2-hours' }, 'date_from "last-2-hours" is not'],
    [{ date_from: 'LAST-HOUR' }, 'date_from "LAST-HOUR" is not'],
    [{ date_from: '2021-02-03T00:00Z', date_to: 'last-hour' }, 'date_to "last-hour" is not'],
    [{ date_from: '2021-02-03T00:00Z', date_to: 'NOW' }, 'date_to "NOW" is not'],
    [{ date_from: '2021-02-03T00:00Z', date_to: '2021-02-02T23:59Z' }, 'date_from is after date_to'],
    [{ date_from: '2021-02-03T01:31', date_to: '2021-02-03T00:30Z' }, 'date_from is after date_to'],
    [{ date_from: '2021-02-04T00:00Z' }, 'date_from is after date_to'],
  ])('%j is refused: %s', (params, reason) => {
    const parsed = parseAzionRange(params, NOW, BERLIN);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toContain(reason);
  });
});
