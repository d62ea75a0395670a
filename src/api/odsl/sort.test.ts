import { describe, expect, it } from 'vitest';
import { USAGE_COLUMNS } from './filter.ts';
import { parseSort } from './sort.ts';
import { sortToSql } from '../../store/duckdb/usage-sort-sql.ts';

describe('parseSort', () => {
  it.each([
    ['{"timestamp": -1}', [{ field: 'timestamp', dir: -1 }]],
    ['{"service": 1, "duration": -1}', [{ field: 'service', dir: 1 }, { field: 'duration', dir: -1 }]],
    ['timestamp,-duration', [{ field: 'timestamp', dir: 1 }, { field: 'duration', dir: -1 }]],
    [' +service , -timestamp ', [{ field: 'service', dir: 1 }, { field: 'timestamp', dir: -1 }]],
    ['_id', [{ field: '_id', dir: 1 }]],
  ])('%s', (text, expected) => {
    expect(parseSort(text)).toEqual({ ok: true, sort: expected });
  });

  it.each([
    ['', /empty _sort/],
    ['{}', /empty _sort/],
    ['{"timestamp": "desc"}', /direction of timestamp must be 1 or -1/],
    ['{"timestamp": ', /invalid JSON _sort/],
    ['[1]', /cannot sort by unknown field "\[1\]"/],
    ['colour', /cannot sort by unknown field "colour"/],
    ['timestamp,,duration', /empty field/],
    ['timestamp,-timestamp', /names timestamp twice/],
    ['a,b,c,d,e,f,g,h,i', /at most 8 _sort keys/],
    ['x'.repeat(600), /longer than 512/],
  ])('rejects %s', (text, pattern) => {
    const r = parseSort(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(pattern);
  });
});

describe('sortToSql', () => {
  it('quotes columns, puts missing values last and breaks ties by id', () => {
    expect(sortToSql([{ field: 'timestamp', dir: -1 }, { field: 'httpstatus', dir: 1 }], USAGE_COLUMNS)).toBe(
      '"timestamp_ms" DESC NULLS LAST, "http_status" ASC NULLS LAST, "id" ASC',
    );
    expect(sortToSql([{ field: '_id', dir: -1 }], USAGE_COLUMNS)).toBe('"id" DESC NULLS LAST');
    expect(() => sortToSql([{ field: 'nope', dir: 1 }], USAGE_COLUMNS)).toThrow(/no column/);
  });
});
