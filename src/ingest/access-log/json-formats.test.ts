import { describe, expect, it } from 'vitest';
import { cacheOfFastlyState, createFastlyParser, popOfServer } from './fastly.ts';
import { createJsonLinesParser } from './json-lines.ts';
import { FIELD_LIST, LogRecord, type EventField, type FieldValue } from './log-record.ts';
import type { LineParser } from './line-parser.ts';

const fields = (parser: LineParser, line: string): Partial<Record<EventField, FieldValue>> | string => {
  const rec = new LogRecord();
  return parser.parse(line, rec) ?? Object.fromEntries(FIELD_LIST.flatMap((f) => (rec.get(f) === undefined ? [] : [[f, rec.get(f)]])));
};

describe('Fastly JSON log streaming', () => {
  const parser = createFastlyParser({ service: 'shop' });

  it("reads Fastly's recommended format", () => {
    const line = JSON.stringify({
      timestamp: '2023-11-14T22:13:20+0000',
      client_ip: '192.0.2.1',
      geo_country: 'Germany',
      host: 'www.example.com',
      url: '/a?b=1',
      request_method: 'GET',
      request_protocol: 'HTTP/2',
      request_referer: '',
      request_user_agent: 'curl/8',
      response_state: 'HIT-STALE',
      response_status: 200,
      response_reason: null,
      response_body_size: 5120,
      fastly_server: 'cache-fra-eddf8230062-FRA',
      fastly_is_edge: true,
    });
    expect(fields(parser, line)).toEqual({
      timestamp: 1_700_000_000,
      service: 'shop',
      datacenter: 'FRA',
      domain: 'www.example.com',
      status: 200,
      method: 'GET',
      cache: 'hit',
      resp_body_bytes: 5120,
      http: '2',
      path: '/a?b=1',
      client_ip: '192.0.2.1',
    });
  });

  it('reads the optional keys: sizes, time_elapsed, TLS, IPv6, shield, pop', () => {
    const line = JSON.stringify({ timestamp: 1_700_000_000_500, host: 'h', response_status: '304', response_header_size: 300, request_header_size: 700, request_body_size: 10, time_elapsed: 36_500, tls_client_protocol: 'TLSv1.3', is_ipv6: true, fastly_is_edge: false, pop: 'AMS' });
    expect(fields(parser, line)).toMatchObject({ timestamp: 1_700_000_000.5, status: 304, resp_header_bytes: 300, req_header_bytes: 700, req_body_bytes: 10, time_ms: 36.5, tls: '1.3', ipv6: true, shield: true, datacenter: 'AMS' });
  });

  it.each([
    ['HIT', 'hit'],
    ['HIT-SYNTH', 'synth'],
    ['HITPASS', 'pass'],
    ['MISS-CLUSTER', 'miss'],
    ['PASS', 'pass'],
    ['ERROR', 'error'],
  ])('response_state %s is %s', (state, cache) => {
    expect(cacheOfFastlyState(state)).toBe(cache);
  });

  it('takes the POP from server.identity', () => {
    expect(popOfServer('cache-ams-eham1234-AMS')).toBe('AMS');
  });

  it.each([
    ['not JSON', '{"timestamp": ', /not valid JSON/],
    ['an array', '[1]', /must be a JSON object, got an array/],
    ['a bad date', '{"timestamp":"yesterday"}', /timestamp: "yesterday" is not a date-time/],
    ['an unknown state', '{"timestamp":1,"response_state":"WEIRD"}', /response_state/],
  ])('rejects %s', (_n, line, reason) => {
    expect(fields(parser, line)).toMatch(reason);
  });
});

describe('JSON lines with a mapping', () => {
  it('reads events.md lines with no mapping', () => {
    const p = createJsonLinesParser({ service: 'dflt' });
    expect(fields(p, '{"timestamp":"2023-11-14T22:13:20Z","service":"s","datacenter":"FRA","domain":"d","status":200,"shield":true}')).toEqual({ timestamp: 1_700_000_000, service: 's', datacenter: 'FRA', domain: 'd', status: 200, shield: true });
  });

  it('maps keys, nested keys, scales and value tables', () => {
    const p = createJsonLinesParser(
      { service: 'shop', datacenter: 'FRA' },
      { fields: { timestamp: 'ts', domain: 'req.host', time_ms: { from: 'ttfb_s', scale: 1000 }, cache: { from: 'cache', values: { HIT: 'hit' } }, status: 'code' } },
    );
    expect(fields(p, '{"ts":1700000000.25,"req":{"host":"h"},"ttfb_s":0.0365,"cache":"HIT","code":"201"}')).toEqual({ timestamp: 1_700_000_000.25, service: 'shop', datacenter: 'FRA', domain: 'h', time_ms: 36.5, cache: 'hit', status: 201 });
  });

  it('refuses a mapping that names an unknown field', () => {
    expect(() => createJsonLinesParser({ service: 's' }, { fields: { bogus: 'x' } })).toThrow(/"bogus" is not an event field/);
  });

  it('rejects a value of the wrong type', () => {
    expect(fields(createJsonLinesParser({ service: 's' }), '{"status":"abc"}')).toMatch(/status: expected a number for status, got "abc"/);
  });
});
