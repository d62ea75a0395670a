import { describe, expect, it } from 'vitest';
import { LogRecord, FIELD_LIST, type EventField, type FieldValue } from './log-record.ts';
import { createNginxParser } from './nginx.ts';

const fields = (rec: LogRecord): Partial<Record<EventField, FieldValue>> =>
  Object.fromEntries(FIELD_LIST.flatMap((f) => (rec.get(f) === undefined ? [] : [[f, rec.get(f)]])));

const parse = (logFormat: string, line: string, extra: { datacenterVar?: string } = {}): Partial<Record<EventField, FieldValue>> | string => {
  const parser = createNginxParser({ service: 'shop', datacenter: extra.datacenterVar ? undefined : 'FRA', logFormat, ...extra });
  const rec = new LogRecord();
  return parser.parse(line, rec) ?? fields(rec);
};

const T = 1_700_000_000; // 2023-11-14T22:13:20Z

describe('nginx variables to event fields', () => {
  it.each([
    ['$time_local', '14/Nov/2023:23:13:20 +0100', { timestamp: T }],
    ['$time_iso8601', '2023-11-14T22:13:20+00:00', { timestamp: T }],
    ['$msec', '1700000000.123', { timestamp: 1_700_000_000.123 }],
    ['$host', 'WWW.Example.com', { domain: 'WWW.Example.com' }],
    ['$http_host', 'a.example:8443', { domain: 'a.example:8443' }],
    ['$server_name', 'b.example', { domain: 'b.example' }],
    ['$request', 'POST /x?y=1 HTTP/2.0', { method: 'POST', path: '/x?y=1', http: '2' }],
    ['$request_method', 'PUT', { method: 'PUT' }],
    ['$request_uri', '/a?b', { path: '/a?b' }],
    ['$uri', '/a', { path: '/a' }],
    ['$status', '503', { status: 503 }],
    ['$body_bytes_sent', '1234', { resp_body_bytes: 1234 }],
    ['$request_length', '512', { req_header_bytes: 512 }],
    ['$request_time', '0.036', { time_ms: 36 }],
    ['$upstream_cache_status', 'STALE', { cache: 'hit' }],
    ['$upstream_cache_status', 'UPDATING', { cache: 'hit' }],
    ['$upstream_cache_status', 'REVALIDATED', { cache: 'hit' }],
    ['$upstream_cache_status', 'EXPIRED', { cache: 'miss' }],
    ['$upstream_cache_status', 'MISS', { cache: 'miss' }],
    ['$upstream_cache_status', 'BYPASS', { cache: 'pass' }],
    ['$upstream_cache_status', '-', {}],
    ['$upstream_status', '502, 200', { origin_status: 200 }],
    ['$upstream_status', '-', {}],
    ['$upstream_response_time', '0.500, 0.012 : 0.020', { origin_time_ms: 20 }],
    ['$upstream_addr', '10.0.0.1:80, 10.0.0.2:80', { backend: '10.0.0.2:80' }],
    ['$ssl_protocol', 'TLSv1.2', { tls: '1.2' }],
    ['$ssl_protocol', 'TLSv1', { tls: '1.0' }],
    ['$server_protocol', 'HTTP/2.0', { http: '2' }],
    ['$server_protocol', 'HTTP/1.0', { http: '1.0' }],
    ['$remote_addr', '2001:db8::1', { client_ip: '2001:db8::1', ipv6: true }],
    ['$remote_addr', '192.0.2.1', { client_ip: '192.0.2.1' }],
    ['$http_user_agent', 'curl/8', {}],
  ] as const)('%s %s', (variable, value, expected) => {
    expect(parse(`[${variable}]`, `[${value}]`)).toEqual({ service: 'shop', datacenter: 'FRA', ...expected });
  });

  it('derives resp_header_bytes from $bytes_sent minus $body_bytes_sent, and request body from $content_length', () => {
    expect(parse('$bytes_sent $body_bytes_sent $request_length $content_length', '1300 1000 900 100')).toMatchObject({
      resp_body_bytes: 1000,
      resp_header_bytes: 300,
      req_header_bytes: 800,
      req_body_bytes: 100,
    });
  });

  it('prefers $host to $http_host and $upstream_header_time to $upstream_response_time', () => {
    expect(parse('$http_host $host $upstream_response_time $upstream_header_time', 'h:81 h 0.300 0.100')).toMatchObject({ domain: 'h', origin_time_ms: 100 });
  });

  it('reads the POP from --datacenter-var', () => {
    expect(parse('$pop $status', 'AMS 200', { datacenterVar: 'pop' })).toMatchObject({ datacenter: 'AMS', status: 200 });
  });

  it('unescapes \\xHH values and keeps a garbage $request as a request without method', () => {
    expect(parse('"$request" $status', '"\\x16\\x03\\x01\\x02\\x00" 400')).toEqual({ service: 'shop', datacenter: 'FRA', status: 400 });
    expect(parse('["$request_uri"]', '["/caf\\xC3\\xA9\\x22"]')).toMatchObject({ path: '/café"' });
  });

  it('reads escape=json values', () => {
    expect(parse(`log_format j escape=json '{"uri":"$request_uri","s":$status}'`, '{"uri":"/a\\"b","s":200}')).toMatchObject({ path: '/a"b', status: 200 });
  });

  it.each([
    ['a bad date', '[$time_local]', '[32/Nov/2023:22:13:20 +0000]', /\$time_local: "32\/Nov\/2023:22:13:20 \+0000" is not valid/],
    ['a bad status', '$status', 'abc', /\$status: "abc" is not valid/],
    ['an unknown cache status', '$upstream_cache_status', 'WEIRD', /\$upstream_cache_status/],
    ['a negative time', '$request_time', '-1', /\$request_time/],
  ])('rejects %s', (_name, format, line, reason) => {
    expect(parse(format, line)).toMatch(reason);
  });

  it('refuses --datacenter-var naming a variable the format lacks', () => {
    expect(() => createNginxParser({ service: 's', logFormat: '$status', datacenterVar: 'pop' })).toThrow(/has no \$pop/);
  });
});

describe('the hand-written checks of the hot path agree with the patterns they replaced', () => {
  // The reference: what the parser did before (regular expressions, Number, toUpperCase lookup).
  const DEFAULTS = { service: 'shop', datacenter: 'FRA' };
  const REF_CACHE: Readonly<Record<string, string>> = { HIT: 'hit', STALE: 'hit', UPDATING: 'hit', REVALIDATED: 'hit', MISS: 'miss', EXPIRED: 'miss', BYPASS: 'pass', PASS: 'pass' };
  const refTime = (v: string): Partial<Record<EventField, FieldValue>> | string =>
    /^\d+(\.\d+)?$/.test(v) ? { ...DEFAULTS, time_ms: Math.round(Number(v) * 1e6) / 1e3 } : `$request_time: ${JSON.stringify(v)} is not valid`;
  const refMethod = (v: string): boolean => /^[A-Z]{1,16}$/.test(v);
  const refCache = (v: string): Partial<Record<EventField, FieldValue>> | string => {
    const c = REF_CACHE[v.toUpperCase()];
    return c === undefined ? `$upstream_cache_status: ${JSON.stringify(v)} is not valid` : { ...DEFAULTS, cache: c };
  };
  // Generated values around every edge: digits, dots, signs, exponents, spaces, letters.
  let x = 7;
  const rnd = (n: number): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8) % n;
  };
  const pick = (alphabet: string, max: number): string => Array.from({ length: 1 + rnd(max) }, () => alphabet[rnd(alphabet.length)]).join('');

  it('$request_time: 2,000 generated values', () => {
    const values = ['0', '0.036', '12.5', '1.', '.5', '1..2', '1.2.3', '-1', '+1', '1e3', '0x10', ' 1', '1 ', '00.000', '123456789012.123456'];
    for (let i = 0; i < 2000; i++) values.push(pick('0123456789.', 8), pick('0123456789.e-+x ', 6));
    for (const v of values) expect(parse('$request_time', v), v).toEqual(v === '-' ? DEFAULTS : refTime(v)); // '-' is nginx's "no value"
  });

  it('$request method: 2,000 generated methods', () => {
    const values = ['GET', 'get', 'G3T', 'ABCDEFGHIJKLMNOP', 'ABCDEFGHIJKLMNOPQ', 'É', '@', '[', 'Z'];
    for (let i = 0; i < 2000; i++) values.push(pick('AZGETaz@[`{0É', 18));
    for (const v of values) {
      const got = parse('$request', `${v} /p HTTP/1.1`);
      expect(typeof got === 'object' && got.method === v, v).toBe(refMethod(v));
    }
  });

  it('$upstream_cache_status: the names in any case, and names of Object.prototype', () => {
    const values = ['HIT', 'hit', 'Hit', 'miss', 'Expired', 'bypass', 'pass', 'constructor', 'toString', '__proto__', 'hasOwnProperty', 'HITS', ''];
    for (const v of values) expect(parse('$upstream_cache_status', v), v).toEqual(v === '' ? DEFAULTS : refCache(v));
  });
});
