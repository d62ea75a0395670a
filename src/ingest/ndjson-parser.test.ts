import { describe, expect, it } from 'vitest';
import { createDictionaries, type Dictionaries } from '../model/dictionary.ts';
import { eventRows, type EventRow } from './event-rows.ts';
import { parseNdjson, type ParseOptions, type ParseResult } from './ndjson-parser.ts';

/** The required fields of a valid event, as JSON text. */
const BASE: Readonly<Record<string, string>> = {
  timestamp: '1700000000',
  service: '"shop"',
  datacenter: '"FRA"',
  domain: '"www.example.com"',
  status: '200',
};

/** A line from BASE with fields replaced (JSON text) or removed (undefined). */
function line(fields: Readonly<Record<string, string | undefined>> = {}): string {
  const merged: Record<string, string | undefined> = { ...BASE, ...fields };
  const parts = Object.entries(merged)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([k, v]) => `${JSON.stringify(k)}:${v}`);
  return `{${parts.join(',')}}`;
}

const MODES = [
  ['fast scanner', false],
  ['JSON.parse only', true],
] as const;

function parse(body: string | Buffer, jsonParseOnly: boolean, extra: Partial<ParseOptions> = {}): { result: ParseResult; rows: EventRow[]; dictionaries: Dictionaries } {
  const dictionaries = createDictionaries();
  const result = parseNdjson(typeof body === 'string' ? Buffer.from(body) : body, {
    dictionaries,
    maxLineBytes: 65_536,
    maxEvents: 1_000,
    jsonParseOnly,
    ...extra,
  });
  return { result, rows: eventRows(result.batch, dictionaries), dictionaries };
}

const long = (n: number, c = 'a'): string => c.repeat(n);

/** field, JSON text of the value (undefined = absent), the expected row values. */
const ACCEPTED: [string, string | undefined, Partial<EventRow>][] = [
  ['timestamp', '1700000000', { second: 1_700_000_000 }],
  ['timestamp', '1700000000.999', { second: 1_700_000_000 }],
  ['timestamp', '1.7e9', { second: 1_700_000_000 }],
  ['timestamp', '0', { second: 0 }],
  ['timestamp', '253402300799.5', { second: 253_402_300_799 }],
  ['timestamp', '"2024-11-20T10:00:00Z"', { second: 1_732_096_800 }],
  ['timestamp', '"2024-11-20T10:00:00.123+02:00"', { second: 1_732_089_600 }],
  ['timestamp', '"2024-11-20T10:00:00.999999999-05:30"', { second: 1_732_116_600 }],
  ['timestamp', '"2024-11-20t10:00:00z"', { second: 1_732_096_800 }],
  ['timestamp', '"2024-11-20 10:00:00Z"', { second: 1_732_096_800 }],
  ['timestamp', '"2024-02-29T00:00:00Z"', { second: 1_709_164_800 }],
  ['timestamp', '"2016-12-31T23:59:60Z"', { second: 1_483_228_799 }],
  ['timestamp', '"1970-01-01T00:00:00Z"', { second: 0 }],
  ['timestamp', '"9999-12-31T23:59:59Z"', { second: 253_402_300_799 }],
  ['service', '"a"', { service: 'a' }],
  ['service', '"A-b_9"', { service: 'A-b_9' }],
  ['service', `"${long(64)}"`, { service: long(64) }],
  ['service', '"\\u0073hop"', { service: 'shop' }],
  ['datacenter', `"${long(16, 'X')}"`, { datacenter: long(16, 'X') }],
  ['datacenter', '"fra-2"', { datacenter: 'fra-2' }],
  ['domain', '"Example.COM"', { domain: 'example.com' }],
  ['domain', '"a_b.example.com"', { domain: 'a_b.example.com' }],
  ['domain', '"localhost"', { domain: 'localhost' }],
  ['domain', '"LocalHost:8080"', { domain: 'localhost:8080' }],
  ['domain', '"[2001:DB8::1]:443"', { domain: '[2001:db8::1]:443' }],
  ['domain', '"192.0.2.10"', { domain: '192.0.2.10' }],
  ['domain', `"${[long(63), long(63), long(63), long(61)].join('.')}"`, { domain: [long(63), long(63), long(63), long(61)].join('.') }],
  ['status', '100', { status: 100 }],
  ['status', '599', { status: 599 }],
  ['status', '200.0', { status: 200 }],
  ['status', '2e2', { status: 200 }],
  ['method', undefined, { method: 'GET' }],
  ['method', 'null', { method: 'GET' }],
  ['method', '"POST"', { method: 'POST' }],
  ['method', `"${long(16, 'P')}"`, { method: long(16, 'P') }],
  ['cache', undefined, { cache: 'pass' }],
  ['cache', '"hit"', { cache: 'hit' }],
  ['cache', '"miss"', { cache: 'miss' }],
  ['cache', '"pass"', { cache: 'pass' }],
  ['cache', '"synth"', { cache: 'synth' }],
  ['cache', '"error"', { cache: 'error' }],
  ['origin_status', undefined, { origin_status: undefined }],
  ['origin_status', 'null', { origin_status: undefined }],
  ['origin_status', '0', { origin_status: 0 }],
  ['origin_status', '100', { origin_status: 100 }],
  ['origin_status', '599', { origin_status: 599 }],
  ['backend', undefined, { backend: 'default' }],
  ['backend', '"origin-1"', { backend: 'origin-1' }],
  ['backend', '"My Origin (EU)"', { backend: 'My Origin (EU)' }],
  ['backend', `"${long(128)}"`, { backend: long(128) }],
  ['backend', '"Zürich"', { backend: 'Zürich' }],
  ['tls', undefined, { tls: undefined }],
  ['tls', '"1.0"', { tls: '1.0' }],
  ['tls', '"1.1"', { tls: '1.1' }],
  ['tls', '"1.2"', { tls: '1.2' }],
  ['tls', '"1.3"', { tls: '1.3' }],
  ['http', undefined, { http: '1.1' }],
  ['http', '"1.0"', { http: '1.0' }],
  ['http', '"2"', { http: '2' }],
  ['http', '"3"', { http: '3' }],
  ['waf', undefined, { waf: undefined }],
  ['waf', '"blocked"', { waf: 'blocked' }],
  ['waf', '"logged"', { waf: 'logged' }],
  ['waf', '"passed"', { waf: 'passed' }],
  ['product', undefined, { product: 'edge_application' }],
  ...[
    'edge_application',
    'edge_functions',
    'image_processor',
    'live_streaming',
    'load_balancer',
    'l2_caching',
    'data_streaming',
    'intelligent_dns',
  ].map((p): [string, string, Partial<EventRow>] => ['product', `"${p}"`, { product: p }]),
  ['path', '"/a/b?c=d"', {}],
  ['path', '"/caf\\u00e9/\\"q\\""', {}],
  ['path', '"/café"', {}],
  ['client_ip', '"2001:db8::1"', {}],
  ['client_ip', 'null', {}],
  ['unknown', '{"nested":[1,{"deep":true}]}', {}],
  ['unknown', '"\\ud800"', {}],
];

const BYTE_FIELDS = [
  'req_header_bytes',
  'req_body_bytes',
  'resp_header_bytes',
  'resp_body_bytes',
  'bereq_header_bytes',
  'bereq_body_bytes',
  'beresp_header_bytes',
  'beresp_body_bytes',
] as const;
const MS_FIELDS = ['time_ms', 'origin_time_ms', 'compute_time_ms', 'compute_cpu_ms'] as const;
const FLAG_FIELDS = ['shield', 'compute', 'ipv6'] as const;

for (const f of BYTE_FIELDS) {
  ACCEPTED.push([f, undefined, { [f]: 0 }], [f, '0', { [f]: 0 }], [f, '-0', { [f]: 0 }], [f, '12345', { [f]: 12_345 }]);
  ACCEPTED.push([f, '1099511627776', { [f]: 2 ** 40 }], [f, '1e3', { [f]: 1000 }], [f, 'null', { [f]: 0 }]);
}
for (const f of MS_FIELDS) {
  ACCEPTED.push([f, undefined, { [f]: 0 }], [f, '0', { [f]: 0 }], [f, '1.25', { [f]: 1.25 }], [f, '0.1', { [f]: 0.1 }]);
  ACCEPTED.push([f, '12345.678901234567', { [f]: 12345.678901234567 }], [f, '1E+3', { [f]: 1000 }], [f, '-0.0', { [f]: 0 }]);
}
for (const f of FLAG_FIELDS) {
  ACCEPTED.push([f, undefined, { [f]: false }], [f, 'true', { [f]: true }], [f, 'false', { [f]: false }], [f, 'null', { [f]: false }]);
}

/** field, JSON text of the value (undefined = absent), a part of the reason. */
const REJECTED: [string, string | undefined, string][] = [
  ['timestamp', undefined, 'timestamp: required'],
  ['timestamp', 'null', 'timestamp: must be Unix seconds'],
  ['timestamp', '-1', 'got -1'],
  ['timestamp', '253402300800', 'got 253402300800'],
  ['timestamp', '1700000000000', 'got 1700000000000'],
  ['timestamp', '1e400', 'got a number too large to represent'],
  ['timestamp', '"1700000000"', 'got "1700000000"'],
  ['timestamp', '"2024-11-20"', 'RFC 3339'],
  ['timestamp', '"2024-11-20T10:00:00"', 'got "2024-11-20T10:00:00"'],
  ['timestamp', '"2024-11-20T10:00Z"', 'timestamp:'],
  ['timestamp', '"2024-02-30T00:00:00Z"', 'timestamp:'],
  ['timestamp', '"2023-02-29T00:00:00Z"', 'timestamp:'],
  ['timestamp', '"2024-13-01T00:00:00Z"', 'timestamp:'],
  ['timestamp', '"2024-11-20T24:00:00Z"', 'timestamp:'],
  ['timestamp', '"2024-11-20T10:60:00Z"', 'timestamp:'],
  ['timestamp', '"2024-11-20T10:00:61Z"', 'timestamp:'],
  ['timestamp', '"2024-11-20T10:00:00+24:00"', 'timestamp:'],
  ['timestamp', '"2024-11-20T10:00:00+0200"', 'timestamp:'],
  ['timestamp', '"2024-11-20T10:00:00.Z"', 'timestamp:'],
  ['timestamp', '"2024-11-20T10:00:00Zjunk"', 'timestamp:'],
  ['timestamp', '"1969-12-31T23:59:59Z"', 'timestamp:'],
  ['timestamp', '"1970-01-01T00:30:00+01:00"', 'timestamp:'],
  ['timestamp', 'true', 'got true'],
  ['timestamp', '{}', 'got an object'],
  ['timestamp', '[]', 'got an array'],
  ['service', undefined, 'service: required'],
  ['service', 'null', 'service: must be a string matching [A-Za-z0-9_-]{1,64}, got null'],
  ['service', '""', 'service: must be a string matching'],
  ['service', `"${long(65)}"`, `got "${long(64)}"... (65 characters)`],
  ['service', '"a b"', 'got "a b"'],
  ['service', '"a.b"', 'got "a.b"'],
  ['service', '"é"', 'got "é"'],
  ['service', '7', 'got 7'],
  ['datacenter', undefined, 'datacenter: required'],
  ['datacenter', `"${long(17)}"`, 'datacenter: must be a string matching [A-Za-z0-9_-]{1,16}'],
  ['datacenter', '"F R A"', 'datacenter:'],
  ['domain', undefined, 'domain: required'],
  ['domain', '""', 'domain: must be a host name'],
  ['domain', '"a..b"', 'got "a..b"'],
  ['domain', '".a"', 'domain:'],
  ['domain', '"a."', 'domain:'],
  ['domain', '"exa mple.com"', 'domain:'],
  ['domain', '"example.com:0"', 'domain:'],
  ['domain', '"example.com:65536"', 'domain:'],
  ['domain', '"example.com:"', 'domain:'],
  ['domain', '"http://example.com"', 'domain:'],
  ['domain', `"${long(64)}.com"`, 'domain:'],
  ['domain', `"${[long(63), long(63), long(63), long(62)].join('.')}"`, 'at most 253 characters'],
  ['domain', '"\\u212Aelvin.example"', 'domain:'],
  ['domain', '1', 'domain:'],
  ['status', undefined, 'status: required'],
  ['status', '99', 'status: must be an integer 100..599, got 99'],
  ['status', '600', 'status: must be an integer 100..599, got 600'],
  ['status', '200.5', 'got 200.5'],
  ['status', '"200"', 'got "200"'],
  ['status', 'null', 'got null'],
  ['status', 'true', 'got true'],
  ['method', '"get"', 'method: must be a string matching [A-Z]{1,16}, got "get"'],
  ['method', '""', 'method:'],
  ['method', `"${long(17, 'P')}"`, 'method:'],
  ['method', '1', 'method:'],
  ['cache', '"HIT"', 'cache: must be one of "hit", "miss", "pass", "synth", "error", got "HIT"'],
  ['cache', '""', 'cache:'],
  ['cache', '1', 'cache:'],
  ['origin_status', '99', 'origin_status: must be 0 or an integer 100..599, got 99'],
  ['origin_status', '600', 'origin_status:'],
  ['origin_status', '1.5', 'origin_status:'],
  ['origin_status', '"200"', 'origin_status:'],
  ['backend', '""', 'backend: must be a string of 1..128 characters'],
  ['backend', `"${long(129)}"`, 'backend:'],
  ['backend', '"a\\tb"', 'backend:'],
  ['backend', '"a\\u007fb"', 'backend:'],
  ['backend', '1', 'backend:'],
  ['tls', '"1.4"', 'tls: must be one of "1.0", "1.1", "1.2", "1.3" (a string), got "1.4"'],
  ['tls', '1.2', 'tls:'],
  ['tls', '""', 'tls:'],
  ['tls', '"TLSv1.3"', 'tls:'],
  ['http', '2', 'http: must be one of "1.0", "1.1", "2", "3" (a string), got 2'],
  ['http', '"2.0"', 'http:'],
  ['http', '"HTTP/2"', 'http:'],
  ['waf', '"block"', 'waf: must be one of "blocked", "logged", "passed", got "block"'],
  ['waf', 'true', 'waf:'],
  ['product', '"cdn"', 'product: must be one of "edge_application"'],
  ['path', '1', 'path: must be a string, got 1'],
  ['path', '{}', 'path: must be a string, got an object'],
  ['client_ip', '[]', 'client_ip: must be a string, got an array'],
];
for (const f of BYTE_FIELDS) {
  REJECTED.push(
    [f, '-1', `${f}: must be an integer >= 0 (at most 1099511627776, 1 TiB per event), got -1`],
    [f, '1.5', `${f}: must be an integer >= 0`],
    [f, '9007199254740992', `${f}: must be an integer >= 0`],
    [f, '1099511627777', `${f}: must be an integer >= 0 (at most 1099511627776, 1 TiB per event), got 1099511627777`],
    [f, '1152921504606846976', `${f}: must be an integer >= 0`],
    [f, '1e400', `${f}: must be an integer >= 0 (at most 1099511627776, 1 TiB per event), got a number too large to represent`],
    [f, '"10"', `${f}: must be an integer >= 0`],
    [f, 'true', `${f}: must be an integer >= 0`],
  );
}
for (const f of MS_FIELDS) {
  REJECTED.push(
    [f, '-0.5', `${f}: must be a finite number >= 0, got -0.5`],
    [f, '1e400', `${f}: must be a finite number >= 0`],
    [f, '-1e400', `${f}: must be a finite number >= 0`],
    [f, '"1"', `${f}: must be a finite number >= 0`],
    [f, '[1]', `${f}: must be a finite number >= 0, got an array`],
  );
}
for (const f of FLAG_FIELDS) {
  REJECTED.push([f, '"true"', `${f}: must be true or false, got "true"`], [f, '1', `${f}: must be true or false, got 1`], [f, '0', `${f}:`]);
}

describe.each(MODES)('parseNdjson (%s)', (_mode, jsonParseOnly) => {
  it.each(ACCEPTED)('accepts %s = %s', (field, value, expected) => {
    const body = `${line({ status: '204' })}\n${line({ [field]: value })}\n`;
    const { result, rows } = parse(body, jsonParseOnly);
    expect(result.errors).toEqual([]);
    expect(result.accepted).toBe(2);
    expect(rows[1]).toMatchObject(expected);
    // Everything not under test keeps its value or default.
    const defaults: Partial<EventRow> = { service: 'shop', datacenter: 'FRA', domain: 'www.example.com', status: 200, method: 'GET', cache: 'pass' };
    for (const [k, v] of Object.entries(defaults)) if (!(k in expected) && k !== field) expect(rows[1]?.[k as keyof EventRow]).toBe(v);
  });

  it.each(REJECTED)('rejects %s = %s', (field, value, reason) => {
    const body = `${line()}\n\n${line({ [field]: value })}\n${line({ status: '201' })}`;
    const { result, rows } = parse(body, jsonParseOnly);
    expect(result.rejected).toBe(1);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]?.line).toBe(3);
    expect(result.errors[0]?.reason).toContain(reason);
    expect(result.errors[0]?.reason.startsWith(`${field}:`)).toBe(true);
    expect(rows.map((r) => r.status)).toEqual([200, 201]);
  });

  it('reads every field of a full event', () => {
    const full = {
      timestamp: 1_732_096_800.25,
      service: 'svc_1',
      datacenter: 'AMS',
      domain: 'CDN.Example.org',
      status: 206,
      method: 'HEAD',
      cache: 'miss',
      req_header_bytes: 1,
      req_body_bytes: 2,
      resp_header_bytes: 3,
      resp_body_bytes: 4,
      time_ms: 5.5,
      origin_status: 503,
      origin_time_ms: 6.25,
      bereq_header_bytes: 7,
      bereq_body_bytes: 8,
      beresp_header_bytes: 9,
      beresp_body_bytes: 10,
      backend: 'eu-origin',
      shield: true,
      compute: true,
      compute_time_ms: 11.5,
      compute_cpu_ms: 12.75,
      tls: '1.2',
      http: '3',
      ipv6: true,
      waf: 'logged',
      product: 'image_processor',
      path: '/x',
      client_ip: '192.0.2.1',
    };
    const { result, rows } = parse(JSON.stringify(full), jsonParseOnly);
    expect(result.errors).toEqual([]);
    expect(rows).toEqual([
      {
        ...full,
        path: undefined,
        client_ip: undefined,
        timestamp: undefined,
        second: 1_732_096_800,
        domain: 'cdn.example.org',
      },
    ].map(({ path: _p, client_ip: _c, timestamp: _t, ...row }) => row));
  });

  it('rejects lines that are not one JSON object, with their line numbers, and keeps the others', () => {
    const lines = [
      line(), // 1
      'not json', // 2
      '{"timestamp": 1700000000, "service": "shop"', // 3: truncated
      '[1,2]', // 4
      '42', // 5
      '"str"', // 6
      'null', // 7
      '{"a":1}{"b":2}', // 8
      line({ status: '301' }), // 9
      '{"timestamp":1700000000,,}', // 10
      `{${'"a":1,'.repeat(3)}}`, // 11: trailing comma
      line({ status: '302' }), // 12
    ];
    const { result, rows } = parse(lines.join('\n'), jsonParseOnly);
    expect(rows.map((r) => r.status)).toEqual([200, 301, 302]);
    expect(result.errors.map((e) => e.line)).toEqual([2, 3, 4, 5, 6, 7, 8, 10, 11]);
    expect(result.errors[0]?.reason).toMatch(/^not valid JSON: /);
    expect(result.errors[1]?.reason).toMatch(/^not valid JSON: /);
    expect(result.errors[2]?.reason).toBe('must be a JSON object, got an array');
    expect(result.errors[3]?.reason).toBe('must be a JSON object, got a number');
    expect(result.errors[4]?.reason).toBe('must be a JSON object, got a string');
    expect(result.errors[5]?.reason).toBe('must be a JSON object, got null');
    expect(result.accepted).toBe(3);
    expect(result.rejected).toBe(9);
  });

  it('rejects invalid UTF-8 and NUL bytes, with their line numbers', () => {
    const body = Buffer.concat([
      Buffer.from(`${line()}\n`),
      Buffer.from(`${line({ path: '"/a' }).slice(0, -1)}`),
      Buffer.from([0xc3, 0x28]), // invalid 2-byte sequence
      Buffer.from('"}\n'),
      Buffer.from(`${line({ path: '"/b' }).slice(0, -1)}`),
      Buffer.from([0x00]),
      Buffer.from('"}\n'),
      Buffer.from([0x00, 0x00, 0x0a]),
      Buffer.from(line({ status: '404' })),
    ]);
    const { result, rows } = parse(body, jsonParseOnly);
    expect(result.errors).toEqual([
      { line: 2, reason: 'not valid UTF-8' },
      { line: 3, reason: expect.stringMatching(/^not valid JSON/) as unknown },
      { line: 4, reason: expect.stringMatching(/^not valid JSON/) as unknown },
    ]);
    expect(rows.map((r) => r.status)).toEqual([200, 404]);
  });

  it('skips blank lines silently but counts them in line numbers; handles CRLF, a BOM and a last line without newline', () => {
    const body = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from(`${line()}\r\n\r\n   \t \n\n${line({ status: 'x' })}\r\n${line({ status: '500' })}`),
    ]);
    const { result, rows } = parse(body, jsonParseOnly);
    expect(rows.map((r) => r.status)).toEqual([200, 500]);
    expect(result.errors.map((e) => e.line)).toEqual([5]);
    expect(result.accepted + result.rejected).toBe(3);
  });

  it('rejects a BOM that is not at the start of the body', () => {
    const { result } = parse(`${line()}\n\uFEFF${line()}`, jsonParseOnly);
    expect(result.accepted).toBe(1);
    expect(result.errors[0]?.line).toBe(2);
  });

  it('keeps the last of duplicated keys, like JSON.parse', () => {
    const { result, rows } = parse(`${line().slice(0, -1)},"status":404,"service":"other"}`, jsonParseOnly);
    expect(result.errors).toEqual([]);
    expect(rows[0]).toMatchObject({ status: 404, service: 'other' });
  });

  it('rejects a line longer than maxLineBytes (CR and LF not counted)', () => {
    const ok = line({ path: `"${long(100)}"` });
    const tooLong = line({ path: `"${long(101)}"` });
    const { result } = parse(`${ok}\r\n${tooLong}\r\n${ok}`, jsonParseOnly, { maxLineBytes: ok.length });
    expect(result.accepted).toBe(2);
    expect(result.errors).toEqual([{ line: 2, reason: `line is ${ok.length + 1} bytes, longer than the limit of ${ok.length} bytes` }]);
  });

  it('survives 10k levels of nesting and giant lines', () => {
    const deep = `{"x":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
    const deepBad = `{"x":${'['.repeat(10_000)}}`;
    const giant = line({ path: `"${long(200_000)}"` });
    const { result } = parse([deep, deepBad, giant, line({ extra: `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}` })].join('\n'), jsonParseOnly, { maxLineBytes: 1_000_000 });
    expect(result.errors.map((e) => [e.line, e.reason.split(':')[0]])).toEqual([
      [1, 'timestamp'],
      [2, 'not valid JSON'],
    ]);
    expect(result.accepted).toBe(2);
  });

  it('stops at maxEvents non-blank lines and says so', () => {
    const body = [line(), '', line(), 'junk', line()].join('\n');
    // Four events: the blank line does not count, the junk line does.
    expect(parse(body, jsonParseOnly, { maxEvents: 4 }).result).toMatchObject({ tooManyEvents: false, accepted: 3, rejected: 1 });
    expect(parse(body, jsonParseOnly, { maxEvents: 3 }).result.tooManyEvents).toBe(true);
  });

  it('rejects the lines of services acceptService refuses, with its reason', () => {
    const body = [line(), line({ service: '"secret"' }), line({ service: '"shop"' })].join('\n');
    const { result, rows, dictionaries } = parse(body, jsonParseOnly, {
      acceptService: (s) => (s === 'secret' ? `service "${s}": no` : undefined),
    });
    expect(result.errors).toEqual([{ line: 2, reason: 'service "secret": no' }]);
    expect(rows).toHaveLength(2);
    expect(dictionaries.service.size).toBe(1);
  });

  it('interns no name of a rejected line', () => {
    const { dictionaries } = parse(line({ service: '"x"', datacenter: '"Y"', domain: '"z.example"', status: '700' }), jsonParseOnly);
    expect([dictionaries.service.size, dictionaries.datacenter.size, dictionaries.domain.size]).toEqual([0, 0, 0]);
  });

  it('keeps maxErrors errors but counts every rejected line', () => {
    const { result } = parse(Array.from({ length: 10 }, () => 'x').join('\n'), jsonParseOnly, { maxErrors: 3 });
    expect(result.rejected).toBe(10);
    expect(result.errors.map((e) => e.line)).toEqual([1, 2, 3]);
  });

  it('grows the batch past its first guess', () => {
    const short = '{"timestamp":1,"service":"s","datacenter":"d","domain":"h","status":200}';
    const { result, rows } = parse(Array.from({ length: 5000 }, () => short).join('\n'), jsonParseOnly, { maxEvents: 10_000 });
    expect(result.accepted).toBe(5000);
    expect(rows[4999]).toMatchObject({ second: 1, service: 's', status: 200 });
  });

  it('answers an empty body with nothing', () => {
    const { result } = parse('', jsonParseOnly);
    expect(result).toMatchObject({ accepted: 0, rejected: 0, errors: [], tooManyEvents: false });
  });
});
