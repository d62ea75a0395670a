import { describe, expect, it } from 'vitest';
import { compileLogFormat, unescapeValue } from './format-string.ts';

const split = (format: string, line: string): Record<string, string> | string => {
  const f = compileLogFormat(format);
  const out: string[] = [];
  const reason = f.split(line, out);
  if (reason !== undefined) return reason;
  return Object.fromEntries(f.variables.map((v, i) => [v, out[i] as string]));
};

describe('compileLogFormat', () => {
  it('reads the combined preset', () => {
    expect(split('combined', '1.2.3.4 - bob [10/Oct/2000:13:55:36 -0700] "GET /a b HTTP/1.1" 200 2326 "-" "curl/8 (x; y)"')).toEqual({
      remote_addr: '1.2.3.4',
      remote_user: 'bob',
      time_local: '10/Oct/2000:13:55:36 -0700',
      request: 'GET /a b HTTP/1.1',
      status: '200',
      body_bytes_sent: '2326',
      http_referer: '-',
      http_user_agent: 'curl/8 (x; y)',
    });
  });

  it.each([
    ['nginx.conf quoted parts', `'$remote_addr [$time_local] '\n    '"$request" $status';`],
    ['a log_format directive', `log_format main '$remote_addr [$time_local] "$request" $status';`],
    ['bare text', '$remote_addr [$time_local] "$request" $status'],
    ['${var} braces', '${remote_addr} [${time_local}] "${request}" ${status}'],
  ])('accepts %s', (_name, format) => {
    expect(split(format, '::1 [10/Oct/2000:13:55:36 +0000] "GET / HTTP/2.0" 404')).toEqual({
      remote_addr: '::1',
      time_local: '10/Oct/2000:13:55:36 +0000',
      request: 'GET / HTTP/2.0',
      status: '404',
    });
  });

  it('reads a bare format that starts with a quote as text', () => {
    expect(split('"$request" $status', '"GET / HTTP/1.1" 200')).toEqual({ request: 'GET / HTTP/1.1', status: '200' });
  });

  it('reads escape=json from the directive', () => {
    const f = compileLogFormat(`log_format j escape=json '{"ua":"$http_user_agent","s":$status}';`);
    expect(f.escape).toBe('json');
    const out: string[] = [];
    expect(f.split('{"ua":"a \\"q\\" b","s":200}', out)).toBeUndefined();
    expect(out).toEqual(['a \\"q\\" b', '200']);
  });

  it('keeps upstream lists whole: a, b : c', () => {
    expect(split('$upstream_status $upstream_response_time $upstream_addr $status', '502, 504 : 200 0.001, 0.002 : 0.010 10.0.0.1:80, 10.0.0.2:80 : app 200')).toEqual({
      upstream_status: '502, 504 : 200',
      upstream_response_time: '0.001, 0.002 : 0.010',
      upstream_addr: '10.0.0.1:80, 10.0.0.2:80 : app',
      status: '200',
    });
  });

  it.each([
    ['a missing bracket', '1.2.3.4 - - 10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1 "-" "-"', /" \[" after \$remote_user not found/],
    ['a truncated line', '1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTT', /after \$request not found \(truncated or wrong quoting\?\)/],
    ['trailing garbage', '1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1 "-" "-" extra', /unexpected characters at column/],
  ])('says why %s does not match', (_name, line, reason) => {
    const r = split('combined', line);
    expect(typeof r).toBe('string');
    expect(r).toMatch(reason);
  });

  it.each([
    ['no variable', 'just text', /no \$variable/],
    ['two variables back to back', '$status$body_bytes_sent', /nothing between them/],
  ])('refuses a format with %s', (_name, format, reason) => {
    expect(() => compileLogFormat(format)).toThrow(reason);
  });
});

describe('unescapeValue', () => {
  it.each([
    ['default', 'caf\\xC3\\xA9 \\x22q\\x22', 'café "q"'],
    ['default', 'plain', 'plain'],
    ['json', 'a \\"q\\" \\u00e9', 'a "q" é'],
    ['none', 'a\\x22', 'a\\x22'],
  ] as const)('escape=%s: %s', (mode, value, expected) => {
    expect(unescapeValue(value, mode)).toBe(expected);
  });
});
