import { describe, expect, it } from 'vitest';
import type { FilterNode } from '../../model/usage.ts';
import { andFilters, compareStrings, filterFromParams, filterToSql, matchesFilter, parseEntityFilter } from './filter.ts';

const ok = (text: string): FilterNode => {
  const r = parseEntityFilter(text);
  if (!r.ok) throw new Error(`expected ${text} to parse: ${r.error}`);
  return r.filter;
};
const err = (text: string): string => {
  const r = parseEntityFilter(text);
  if (r.ok) throw new Error(`expected ${text} to fail, got ${JSON.stringify(r.filter)}`);
  return r.error;
};

const eq = (field: string, value: string | number): FilterNode => ({ op: 'eq', field, value });

describe('parseEntityFilter, JSON form', () => {
  it.each<[string, FilterNode]>([
    ['{"application": "api"}', eq('application', 'api')],
    ['{"httpstatus": 404}', eq('httpstatus', 404)],
    ['{"httpstatus": "404"}', eq('httpstatus', 404)],
    ['{"user": 42}', eq('user', '42')],
    ['{"httpstatus": {"$eq": 200}}', eq('httpstatus', 200)],
    ['{"httpstatus": {"$ne": 200}}', { op: 'ne', field: 'httpstatus', value: 200 }],
    ['{"httpstatus": {"$gt": 200}}', { op: 'gt', field: 'httpstatus', value: 200 }],
    ['{"httpstatus": {"$gte": 400}}', { op: 'gte', field: 'httpstatus', value: 400 }],
    ['{"duration": {"$lt": 2.5}}', { op: 'lt', field: 'duration', value: 2.5 }],
    ['{"responseSize": {"$lte": 1024}}', { op: 'lte', field: 'responseSize', value: 1024 }],
    ['{"service": {"$in": ["object", "data"]}}', { op: 'in', field: 'service', values: ['object', 'data'] }],
    ['{"service": {"$nin": ["object"]}}', { op: 'nin', field: 'service', values: ['object'] }],
    ['{"timestamp": {"$gte": "2024-11-20"}}', { op: 'gte', field: 'timestamp', value: Date.UTC(2024, 10, 20) }],
    ['{"timestamp": {"$lt": "2024-11-20T01:00:00+01:00"}}', { op: 'lt', field: 'timestamp', value: Date.UTC(2024, 10, 20) }],
    ['{"timestamp": 1732060800000}', eq('timestamp', 1732060800000)],
    [
      '{"httpstatus": {"$gte": 400, "$lt": 500}, "service": "object"}',
      {
        op: 'and',
        args: [
          { op: 'gte', field: 'httpstatus', value: 400 },
          { op: 'lt', field: 'httpstatus', value: 500 },
          eq('service', 'object'),
        ],
      },
    ],
    [
      '{"$or": [{"service": "object"}, {"service": "data"}]}',
      { op: 'or', args: [eq('service', 'object'), eq('service', 'data')] },
    ],
    [
      '{"$and": [{"$or": [{"user": "a"}, {"user": "b"}]}, {"method": "get"}]}',
      { op: 'and', args: [{ op: 'or', args: [eq('user', 'a'), eq('user', 'b')] }, eq('method', 'get')] },
    ],
    ['{}', { op: 'and', args: [] }],
  ])('%s', (text, expected) => {
    expect(ok(text)).toEqual(expected);
  });
});

describe('parseEntityFilter, expression form', () => {
  it.each<[string, FilterNode]>([
    ['service=object', eq('service', 'object')],
    ['service == object', eq('service', 'object')],
    ['httpstatus=200', eq('httpstatus', 200)],
    ['httpstatus != 200', { op: 'ne', field: 'httpstatus', value: 200 }],
    ['httpstatus <> 200', { op: 'ne', field: 'httpstatus', value: 200 }],
    ['httpstatus>399', { op: 'gt', field: 'httpstatus', value: 399 }],
    ['httpstatus>=400', { op: 'gte', field: 'httpstatus', value: 400 }],
    ['duration<10.5', { op: 'lt', field: 'duration', value: 10.5 }],
    ['duration<=-1', { op: 'lte', field: 'duration', value: -1 }],
    ['detail=007', eq('detail', '007')],
    ["application='my app'", eq('application', 'my app')],
    ['application="say \'hi\'"', eq('application', "say 'hi'")],
    ['timestamp>=2024-11-20T00:00:00Z', { op: 'gte', field: 'timestamp', value: Date.UTC(2024, 10, 20) }],
    [
      '(service=object or service=data) and httpstatus=200',
      { op: 'and', args: [{ op: 'or', args: [eq('service', 'object'), eq('service', 'data')] }, eq('httpstatus', 200)] },
    ],
    [
      'service=a OR service=b AND user=c',
      { op: 'or', args: [eq('service', 'a'), { op: 'and', args: [eq('service', 'b'), eq('user', 'c')] }] },
    ],
    ['((user=x))', eq('user', 'x')],
    // A keyword in value position is a value.
    ['action=and', eq('action', 'and')],
    ['service="or" and user=1', { op: 'and', args: [eq('service', 'or'), eq('user', '1')] }],
  ])('%s', (text, expected) => {
    expect(ok(text)).toEqual(expected);
  });
});

describe('parseEntityFilter errors', () => {
  it.each<[string, RegExp]>([
    ['', /empty filter/],
    ['{"nope": 1}', /unknown field "nope"/],
    ['nope=1', /unknown field "nope".*column 1/],
    ['{"httpstatus": "abc"}', /httpstatus expects a number, got "abc"/],
    ['{"timestamp": "yesterday"}', /timestamp expects an ISO-8601 time/],
    ['{"httpstatus": {"$regex": "x"}}', /unknown operator \$regex/],
    ['{"$nor": []}', /unknown operator \$nor/],
    ['{"$or": []}', /\$or expects a non-empty array/],
    ['{"service": {"$in": "a"}}', /\$in of service expects an array/],
    ['{"service": null}', /service expects a string, got null/],
    ['{"service": {}}', /no operator given for service/],
    ['{"service": ', /invalid JSON filter/],
    ['[1]', /a filter must be a JSON object, got an array/],
    ['service=', /expected a value after "=" at column 8/],
    ['service object', /expected an operator/],
    ['(service=a', /expected "\)" to close column 1/],
    ['service=a)', /unexpected "\)" at column 10/],
    ['service=a user=b', /unexpected "user" at column 11/],
    ['service="a', /unterminated quote at column 9/],
    ['service=a and', /expected a field name, got end of filter/],
    ['service=a & user=b', /unexpected "&"|unexpected/],
  ])('%s', (text, pattern) => {
    expect(err(text)).toMatch(pattern);
  });

  it('bounds hostile input: length, depth and terms', () => {
    expect(err(`service=${'a'.repeat(9000)}`)).toMatch(/longer than 8192/);
    expect(err(`${'('.repeat(40)}service=a${')'.repeat(40)}`)).toMatch(/nested deeper than 16/);
    let nested = '{"service": "a"}';
    for (let i = 0; i < 40; i++) nested = `{"$and": [${nested}]}`;
    expect(err(nested)).toMatch(/nested deeper than 16/);
    expect(err(Array.from({ length: 600 }, () => 'user=a').join(' or '))).toMatch(/too many terms/);
    expect(err(`{"user": {"$in": [${Array.from({ length: 600 }, () => '"a"').join(',')}]}}`)).toMatch(/too many terms/);
  });

  it('accepts extra fields when the caller names them (the CDN provider)', () => {
    const r = parseEntityFilter('datacenter=FRA and domain="www.example.com"', { fields: { datacenter: 'string', domain: 'string' } });
    expect(r).toEqual({ ok: true, filter: { op: 'and', args: [eq('datacenter', 'FRA'), eq('domain', 'www.example.com')] } });
  });
});

describe('matchesFilter', () => {
  const e = { _id: 'x', service: 'object', httpstatus: 404, user: 'tok1', timestamp: 1000 };
  it.each<[string, boolean]>([
    ['service=object', true],
    ['service!=object', false],
    ['httpstatus>=400 and httpstatus<500', true],
    ['httpstatus>404', false],
    ['httpstatus<=404', true],
    ['(service=data or service=object) and user=tok1', true],
    ['application=api', false],
    // Missing fields: ne and nin match (as MongoDB), the rest do not.
    ['application!=api', true],
    ['duration<5', false],
    ['{"application": {"$nin": ["api"]}}', true],
    ['{"application": {"$in": ["api"]}}', false],
    ['{"service": {"$in": ["data", "object"]}}', true],
    ['{}', true],
  ])('%s -> %s', (text, expected) => {
    expect(matchesFilter(e, ok(text))).toBe(expected);
  });

  it('orders strings by code point, as DuckDB does', () => {
    expect(compareStrings('\uffff', '\u{10000}')).toBe(-1);
    expect('\uffff' < '\u{10000}').toBe(false);
    expect(compareStrings('a', 'ab')).toBe(-1);
    expect(compareStrings('b', 'ab')).toBe(1);
  });
});

describe('filterToSql', () => {
  it('binds every value and quotes checked columns', () => {
    expect(filterToSql(ok(`(service=object or user="x'; DROP TABLE t") and httpstatus>=400`))).toEqual({
      sql: '((COALESCE("service" = ?, FALSE) OR COALESCE("user_id" = ?, FALSE)) AND COALESCE("http_status" >= ?, FALSE))',
      params: ['object', "x'; DROP TABLE t", 400],
    });
    expect(filterToSql(ok('{"service": {"$nin": ["a", "b"]}, "_id": {"$ne": "z"}}'))).toEqual({
      sql: '(NOT COALESCE("service" IN (?, ?), FALSE) AND ("id" IS DISTINCT FROM ?))',
      params: ['a', 'b', 'z'],
    });
    expect(filterToSql({ op: 'in', field: 'service', values: [] }).sql).toBe('FALSE');
    expect(filterToSql({ op: 'and', args: [] }).sql).toBe('TRUE');
  });

  it('refuses a field without a safe column', () => {
    expect(() => filterToSql(eq('x"; --', 'a'))).toThrow(/no column/);
  });
});

describe('filterFromParams and andFilters', () => {
  it('turns plain parameters into eq (and repeated ones into in), skipping _ parameters', () => {
    expect(filterFromParams({ service: 'object', httpstatus: '200', _limit: '5' })).toEqual({
      ok: true,
      filter: { op: 'and', args: [eq('service', 'object'), eq('httpstatus', 200)] },
    });
    expect(filterFromParams({ user: ['a', 'b'] })).toEqual({ ok: true, filter: { op: 'in', field: 'user', values: ['a', 'b'] } });
    expect(filterFromParams({ _id: 'abc' })).toEqual({ ok: true, filter: eq('_id', 'abc') });
    expect(filterFromParams({ _limit: '5' })).toBeUndefined();
    expect(filterFromParams({ colour: 'red' })).toMatchObject({ ok: false, error: expect.stringMatching(/unknown field "colour"/) });
  });

  it('combines parts', () => {
    expect(andFilters(undefined, eq('a', 1))).toEqual(eq('a', 1));
    expect(andFilters(undefined, undefined)).toBeUndefined();
    expect(andFilters(eq('a', 1), eq('b', 2))).toEqual({ op: 'and', args: [eq('a', 1), eq('b', 2)] });
  });
});
