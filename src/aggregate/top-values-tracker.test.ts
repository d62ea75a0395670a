import { describe, expect, it } from 'vitest';
import { deltaToRecordSet } from '../model/delta.ts';
import { parseNdjson } from '../ingest/ndjson-parser.ts';
import { createDictionaries } from '../model/dictionary.ts';
import type { DimensionRecord } from '../model/record.ts';
import { countTopValues, dropTopValueServices, topValueEntries } from './top-value-counts.ts';
import { createTopValuesTracker } from './top-values-tracker.ts';

const M = 1_700_000_040; // a minute start

function countsOf(events: { s: string; t: number; path?: string; ip?: string }[]): ReturnType<typeof countTopValues> {
  const body = Buffer.from(
    events.map((e) => JSON.stringify({ timestamp: e.t, service: e.s, datacenter: 'FRA', domain: 'a.example', status: 200, ...(e.path === undefined ? {} : { path: e.path }), ...(e.ip === undefined ? {} : { client_ip: e.ip }) })).join('\n'),
  );
  const dictionaries = createDictionaries();
  const r = parseNdjson(body, { dictionaries, maxLineBytes: 10_000, maxEvents: 100_000 });
  expect(r.rejected).toBe(0);
  return countTopValues(r.batch, r.topNames, dictionaries.service);
}

/** The path rows of a written part (the client_ip part has its bound row too). */
const rowsOf = (d: ReturnType<ReturnType<typeof createTopValuesTracker>['takeAll']>): DimensionRecord[] =>
  d === undefined ? [] : deltaToRecordSet(d).dimension.filter((r) => r.dimension === 'path').sort((a, b) => a.second - b.second || a.service.localeCompare(b.service) || a.dimension.localeCompare(b.dimension) || b.count - a.count || a.value.localeCompare(b.value));

describe('top values of a body and of a minute', () => {
  it('counts each body per (service, minute, value), paths without their query string', () => {
    const counts = countsOf([
      { s: 'a', t: M + 1, path: '/x?q=1', ip: '10.0.0.1' },
      { s: 'a', t: M + 2, path: '/x?q=2', ip: '10.0.0.1' },
      { s: 'a', t: M + 61, path: '/y' },
      { s: 'b', t: M + 3, path: '' },
      { s: 'b', t: M + 4 },
    ]);
    const entries = [...topValueEntries(counts)].sort((x, y) => x.service.localeCompare(y.service) || x.minute - y.minute || x.dimension.localeCompare(y.dimension));
    const byKey = (x: { value: string; count: number }, y: { value: string; count: number }): number => x.value.localeCompare(y.value);
    // Each (service, minute) also counts its events (the value ''), per dimension, with a path or address or not.
    expect(entries.sort((x, y) => x.service.localeCompare(y.service) || x.minute - y.minute || x.dimension.localeCompare(y.dimension) || byKey(x, y))).toEqual([
      { service: 'a', minute: M, dimension: 'client_ip', value: '', count: 2 },
      { service: 'a', minute: M, dimension: 'client_ip', value: '10.0.0.1', count: 2 },
      { service: 'a', minute: M, dimension: 'path', value: '', count: 2 },
      { service: 'a', minute: M, dimension: 'path', value: '/x', count: 2 },
      { service: 'a', minute: M + 60, dimension: 'client_ip', value: '', count: 1 },
      { service: 'a', minute: M + 60, dimension: 'path', value: '', count: 1 },
      { service: 'a', minute: M + 60, dimension: 'path', value: '/y', count: 1 },
      { service: 'b', minute: M, dimension: 'client_ip', value: '', count: 2 },
      { service: 'b', minute: M, dimension: 'path', value: '', count: 2 },
    ]);
    expect([...topValueEntries(dropTopValueServices(counts, new Set(['a'])))].map((e) => e.service)).toEqual(['b', 'b']);
  });

  it('counts the values its summaries follow, at most their capacity, across adds and takes', () => {
    const t = createTopValuesTracker({ graceSeconds: 5, capacity: 10 });
    t.add(countsOf(Array.from({ length: 15 }, (_, i) => ({ s: 'a', t: M + 1, path: `/p${i}` }))));
    t.add(countsOf([{ s: 'b', t: M + 61, path: '/q' }, { s: 'b', t: M + 62, path: '/q' }]));
    expect(t.size()).toBe(10 + 1);
    t.takeDue(M + 65);
    expect(t.size()).toBe(1);
    t.takeDue(M + 125);
    expect(t.size()).toBe(0);
  });

  it('writes a minute once it is over: every value with exact counts while they fit, and a bound row; late events make a second part', () => {
    const t = createTopValuesTracker({ graceSeconds: 5, listed: 2, capacity: 10 });
    t.add(countsOf([{ s: 'a', t: M + 1, path: '/x' }, { s: 'a', t: M + 2, path: '/x' }, { s: 'a', t: M + 3, path: '/y' }]));
    // The values followed: /x and /y.
    expect(t.size()).toBe(2);
    expect(t.takeDue(M + 64)).toBeUndefined();
    const first = rowsOf(t.takeDue(M + 65));
    const key = { second: M, service: 'a', domain: '', product: '', dimension: 'path' };
    expect(first).toEqual([
      { ...key, value: '', count: 3, bytes: 0 },
      { ...key, value: '/x', count: 2, bytes: 0 },
      { ...key, value: '/y', count: 1, bytes: 0 },
    ].sort((a, b) => b.count - a.count));
    expect(t.size()).toBe(0);
    // A late event of the same minute: a part of its own.
    t.add(countsOf([{ s: 'a', t: M + 30, path: '/z' }]));
    expect(t.size()).toBe(1);
    expect(rowsOf(t.takeDue(M + 70))).toEqual([
      { ...key, value: '', count: 1, bytes: 0 },
      { ...key, value: '/z', count: 1, bytes: 0 },
    ]);
  });

  it('lists the largest counts only, and bounds the rest by the first count it leaves out', () => {
    const t = createTopValuesTracker({ graceSeconds: 0, listed: 2, capacity: 10 });
    t.add(countsOf(['/a', '/a', '/a', '/b', '/b', '/c', '/d'].map((path, i) => ({ s: 'a', t: M + i, path }))));
    const rows = rowsOf(t.takeAll());
    expect(rows.map((r) => [r.value, r.count, r.bytes])).toEqual([
      ['', 7, 1],
      ['/a', 3, 0],
      ['/b', 2, 0],
    ]);
  });

  it('keeps Space-Saving bounds past its capacity', () => {
    const t = createTopValuesTracker({ graceSeconds: 0, listed: 3, capacity: 3 });
    t.add(countsOf(['/a', '/a', '/a', '/a', '/b', '/b', '/b', '/c', '/d', '/e'].map((path, i) => ({ s: 'a', t: M + i, path }))));
    const rows = rowsOf(t.takeAll());
    const bound = rows.find((r) => r.value === '') as DimensionRecord;
    expect(bound.count).toBe(10);
    const exact: Record<string, number> = { '/a': 4, '/b': 3, '/c': 1, '/d': 1, '/e': 1 };
    for (const [value, n] of Object.entries(exact)) {
      const r = rows.find((x) => x.value === value);
      if (r === undefined) expect(n, value).toBeLessThanOrEqual(bound.bytes);
      else {
        expect(n, value).toBeLessThanOrEqual(r.count);
        expect(n, value).toBeGreaterThanOrEqual(r.count - r.bytes);
      }
    }
    expect(rows.find((r) => r.value === '/a')).toMatchObject({ count: 4, bytes: 0 });
  });
});
