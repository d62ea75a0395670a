import { describe, expect, it } from 'vitest';
import type { Principal } from '../../http/auth.ts';
import { adminPrincipal } from '../../http/auth.ts';
import { RtmError } from '../../http/errors.ts';
import { cdnKeyLists, cdnRecordFilter, CDN_FILTER_FIELDS, chooseTier } from './cdn-provider.ts';
import { parseEntityFilter } from './filter.ts';
import { parseCalendar, type Calendar } from './timeseries/calendar.ts';

const cal = (code: string): Calendar => {
  const r = parseCalendar(code);
  if (!r.ok) throw new Error(r.error);
  return r.calendar;
};
const filter = (text: string) => {
  const r = parseEntityFilter(text, { fields: CDN_FILTER_FIELDS });
  if (!r.ok) throw new Error(r.error);
  return r.filter;
};
const reader = (services: string[]): Principal => ({ tokenId: 'tk_r', name: 'r', services: new Set(services), scopes: new Set(['read']) });
const JULY = { from: Date.parse('2024-07-01T00:00:00Z'), to: Date.parse('2024-08-01T00:00:00Z') };
const YEAR = { from: Date.parse('2024-01-01T00:00:00Z'), to: Date.parse('2025-01-01T00:00:00Z') };

describe('CDN tier by calendar and zone', () => {
  it.each([
    ['#P1D', 'UTC', JULY, '1d'],
    ['#P1D', 'Europe/Berlin', YEAR, '1h'],
    ['#P1D', 'Asia/Kolkata', JULY, '1m'],
    ['#PT12H', 'UTC', JULY, '1h'],
    ['#PT6H', 'UTC', JULY, '1h'],
    ['#PT1H', 'UTC', JULY, '1h'],
    ['#PT1H', 'Europe/Berlin', YEAR, '1h'],
    ['#PT1H', 'Asia/Kolkata', JULY, '1m'],
    ['#PT30M', 'UTC', JULY, '1m'],
    ['#PT1M', 'UTC', JULY, '1m'],
  ] as const)('%s in %s reads the %s tier', (code, tz, range, tier) => {
    expect(chooseTier(cal(code), tz, range)).toBe(tier);
  });
});

describe('CDN filters', () => {
  it('turns eq, $in and and into key lists; two conditions on a field intersect', () => {
    expect(cdnKeyLists(filter('{"service": "s1", "domain": {"$in": ["A.example", "b.example"]}}'))).toEqual({
      services: ['s1'],
      domains: ['a.example', 'b.example'],
    });
    expect(cdnKeyLists(filter('datacenter=FRA and service=s1 and service=s2'))).toEqual({ datacenters: ['FRA'], services: [] });
  });

  it.each(['service=s1 or service=s2', '{"service": {"$ne": "s1"}}', '{"service": {"$gt": "a"}}'])(
    'rejects %s with a message that says what is supported',
    (text) => {
      expect(() => cdnKeyLists(filter(text))).toThrowError(RtmError);
      expect(() => cdnKeyLists(filter(text))).toThrowError(/only equality or \$in on service, domain and datacenter/);
    },
  );

  it('rejects other fields at parse time', () => {
    const r = parseEntityFilter('{"application": "api"}', { fields: CDN_FILTER_FIELDS });
    expect(!r.ok && r.error).toContain('unknown field "application"');
  });

  it('limits a token to its services; a service it cannot read matches nothing', () => {
    expect(cdnRecordFilter(undefined, adminPrincipal())).toEqual({});
    expect(cdnRecordFilter(undefined, reader(['s2', 's1']))).toEqual({ services: ['s1', 's2'] });
    expect(cdnRecordFilter(filter('service=s1'), reader(['s1', 's2']))).toEqual({ services: ['s1'] });
    expect(cdnRecordFilter(filter('service=s3'), reader(['s1', 's2']))).toBeUndefined();
    expect(cdnRecordFilter(filter('service=s3'), adminPrincipal())).toEqual({ services: ['s3'] });
    expect(cdnRecordFilter(undefined, reader([]))).toBeUndefined();
  });
});
