/**
 * Query and path parameters of every dialect, fuzzed (issue 5): fast-check mixes valid values
 * (so requests reach deep into parsing and the store) with hostile ones (huge and negative
 * numbers, NaN text, unicode, NUL, invalid percent-encoding and UTF-8, SQL fragments, very long
 * strings, repeated parameters). Every answer: no 5xx, no hang, a 4xx in the dialect's envelope
 * with a registry code, no database text. The data stays intact afterwards.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.ts';
import { ADMIN_TOKEN, HARNESS_T0, startHarness, type Harness } from './support/app-harness.ts';
import { answerProblems, withinMs } from './support/fuzz-checks.ts';

const T = Math.floor(HARNESS_T0 / 1000) - 40;
const RUNS = 250;
const EVENTS = 40;

let h: Harness;
let reader = '';
/** Catalog ids of alpha and one of its domains (valid Azion configuration ids). */
let confIds: string[] = ['1', '2', '999999'];

const SQL = ["' OR 1=1 --", '"; DROP TABLE usage_entity; --', "1; SELECT * FROM api_tokens", "') UNION SELECT 1 --", '$1', '?', '\\', "''", '%', '_'];
const NUMBERS = ['0', '-0', '-1', '1e308', '1e309', '-1e309', '9'.repeat(400), '9007199254740993', 'NaN', 'Infinity', '-Infinity', '0x1F', '1.5', ' 7 ', '+5', '1_000', '٣'];
const TEXT = ['', ' ', 'null', 'undefined', 'true', '[]', '{}', '{"$gt":1}', '{"__proto__":{"x":1}}', '__proto__', 'constructor', '\u0000', 'a\u0000b', '\uFFFF', '\uD800', '😀'.repeat(20), '\u202E', 'x'.repeat(20_000), '(((((((((((((((((((((((((((((((((', ')', '#', '/', '..', '../../etc/passwd'];
/** Raw URL text, not percent-encoded by us: bad escapes and invalid UTF-8. */
const RAW = ['%', '%Z', '%ZZ', '%C0%80', '%FF%FE', '%ED%A0%80', '%00', '%E2%80', '+', '%2B', '%26', '%3D', '%23'];

/** Percent-encodes the UTF-8 of `s` (a lone surrogate becomes U+FFFD, as a browser would send). */
function enc(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The text a URL carries, decoding each valid escape run and leaving invalid ones as they are. */
function lenientDecode(url: string): string {
  return url.replace(/\+/g, ' ').replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}

/** A URL component: an encoded string (valid or hostile) or raw hostile URL text. */
function component(valid: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    // Mostly valid, so that requests with one or two hostile values reach deep into the handlers.
    { weight: 12, arbitrary: fc.constantFrom(...valid).map(enc) },
    { weight: 2, arbitrary: fc.constantFrom(...SQL, ...NUMBERS, ...TEXT).map(enc) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }).map(enc) },
    { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.double(), fc.bigInt()).map((n) => enc(String(n))) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...valid), fc.constantFrom(...RAW)).map(([v, raw]) => `${enc(v)}${raw}`) },
  );
}

/** `name=v` once, or repeated (`a=1&a=2`), or left out. */
function param(name: string, valid: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constant('') },
    { weight: 6, arbitrary: component(valid).map((v) => `${name}=${v}`) },
    { weight: 1, arbitrary: fc.array(component(valid), { minLength: 2, maxLength: 3 }).map((vs) => vs.map((v) => `${name}=${v}`).join('&')) },
    { weight: 1, arbitrary: fc.constantFrom(`${name}`, `${name}=`, `${name}[]=1`, `${name}[a]=1`) },
  );
}

function query(params: Record<string, readonly string[]>): fc.Arbitrary<string> {
  return fc
    .tuple(...Object.entries(params).map(([name, valid]) => param(name, valid)), fc.option(fc.constantFrom(...RAW, '&&', '==', '&=x', 'x=%')))
    .map((parts) => {
      const q = parts.filter((p): p is string => typeof p === 'string' && p !== '').join('&');
      return q === '' ? '' : `?${q}`;
    });
}

const RANGES = ['2026-01-01', '2026-01', 'from(2025-12-31)', 'between(2025-12-31,2026-01-02)', 'last(3)', 'T-1Dh0m0s0', 'between(2026-01-02,2025-12-31)', 'from(1970-01-01)'];
const CALENDARS = ['#PT1M', '#PT5M', '#PT1H', '#P1D', '%23PT1H', 'PT1H', '#PT0M'];
const OBSERVED = ['summed', 'sum', 'averaged', 'high', 'low', 'beginning', 'end', 'delta', 'none'];
const FILTERS = ['service=alpha', '{"httpstatus":{"$gte":400}}', '(service=object or service=data) and httpstatus=200', '{"service":{"$in":["alpha","x"]}}', 'domain=www.alpha.example', 'timestamp>2025-01-01', '{"timestamp":{"$gt":"x"}}', '{"responseSize":{"$lt":1e308}}', '{"duration":{"$in":[1,"a",null]}}'];
const TIMESERIES = {
  _metric: ['CDN/Requests', 'CDN/BytesDelivered', 'RTMRequest/ReadRequests', 'RTMRequest/ReadRequestDuration', 'Nope/Nothing', 'CDN'],
  _calendar: CALENDARS,
  _observed: OBSERVED,
  _range: RANGES,
  _filter: FILTERS,
};

interface Target {
  name: string;
  request: fc.Arbitrary<{ method: 'GET' | 'POST' | 'DELETE'; url: string; payload?: unknown }>;
}

const get = (url: fc.Arbitrary<string>) => url.map((u) => ({ method: 'GET' as const, url: u }));

function targets(): Target[] {
  const service = component(['alpha', 'beta', 'ghost']);
  const fastly = ['channel', 'domains', 'origins'];
  return [
    {
      name: 'Fastly ts/{ts}[/limit/{n}]',
      request: get(
        fc
          .tuple(fc.constantFrom(...fastly), service, component(['0', 'h', String(T), String(T - 5), '1']), fc.option(component(['1', '5', '120', '121'])), query({ x: ['1'] }))
          .map(([api, s, ts, n, q]) => `/v1/${api}/${s}/ts/${ts}${n === null ? '' : `/limit/${n}`}${q}`),
      ),
    },
    {
      name: 'Azion configurations',
      request: get(fc.tuple(component(['1441740010', '1441740004', '1563390045', '0']), query({ page: ['1'] })).map(([p, q]) => `/metrics/products/${p}/configurations${q}`)),
    },
    {
      name: 'Azion metrics and dimensions',
      request: get(
        fc
          .tuple(
            component(['1441740010', '1441740010', '1498670028', '1563390045']),
            component(confIds),
            component(['data_transferred', 'status_code', 'bandwidth', 'cdn_requests', 'requests_per_second', 'http_method', 'waf', 'hosted_zones']),
            fc.option(component(['total', 'in', 'out', '404', '2xx', 'GET', 'blocked'])),
            query({
              date_from: ['last-hour', 'last-30-days', '2026-01-01T00:00', '2026-01-01 00:00Z', '2025-12-31T23:00Z', 'last-15-days'],
              date_to: ['now', '2026-01-01T01:00Z', '2026-01-01T00:05'],
              granularity: ['minute', '5minutes', '15minutes', 'hour', 'day'],
              human_readable: ['true', 'TRUE', 'false', 'True'],
            }),
          )
          .map(([p, c, m, d, q]) => `/metrics/products/${p}/configurations/${c}/metrics/${m}${d === null ? '' : `/dimensions/${d}`}${q}`),
      ),
    },
    {
      name: 'ODSL metric list',
      request: get(
        query({
          _filter: FILTERS,
          _sort: ['{"timestamp":-1}', 'timestamp,-duration', '+service', '{"nope":1}', 'timestamp,timestamp'],
          _limit: ['1', '100', '10000', '10001'],
          _skip: ['0', '5', '100000000'],
          service: ['alpha', 'fastly'],
          httpstatus: ['200', '404'],
          timestamp: ['2026-01-01T00:00:00Z'],
          duration: ['1.5'],
        }).map((q) => `/api/metric/v1${q}`),
      ),
    },
    {
      name: 'ODSL listMetrics',
      request: get(query({ provider: ['RTMRequest', 'CDN', 'Nope'] }).map((q) => `/api/metric/v1?_function=listMetrics${q.replace('?', '&')}`)),
    },
    {
      name: 'ODSL virtual timeseries',
      request: get(query(TIMESERIES).map((q) => `/api/metric/v1?_metric=CDN%2FRequests${q.replace('?', '&')}`)),
    },
    {
      name: 'ODSL one entity',
      request: get(fc.tuple(component(['0123456789abcdef01234567', 'x']), query({ _x: ['1'] })).map(([id, q]) => `/api/metric/v1/${id}${q}`)),
    },
    {
      name: 'ODSL build info',
      request: get(query({ x: ['1'] }).map((q) => `/api/metric${q}`)),
    },
    {
      name: 'ODSL objects and their timeseries',
      request: fc
        .tuple(
          fc.constantFrom('list', 'get', 'property', 'delete'),
          component(['fuzz-object', 'other', '_id']),
          component(['traffic', 'usage', 'note', '_id', 'constructor', '__proto__']),
          query({ _limit: ['1', '100', '1000', '1001'], _skip: ['0', '7'], ...TIMESERIES }),
        )
        .map(([kind, id, prop, q]) => {
          if (kind === 'list') return { method: 'GET' as const, url: `/api/object/v1${q}` };
          if (kind === 'get') return { method: 'GET' as const, url: `/api/object/v1/${id}${q}` };
          if (kind === 'property') return { method: 'GET' as const, url: `/api/object/v1/${id}/${prop}${q}` };
          // Only the fuzz object's namespace is at stake: it is recreated when deleted.
          return { method: 'DELETE' as const, url: `/api/object/v1/${id === 'fuzz-object' ? 'other' : id}${q}` };
        }),
    },
    {
      name: 'native services and live',
      request: get(
        fc
          .tuple(
            fc.boolean(),
            service,
            query({ seconds: ['1', '120', '3600', '3601'], fields: ['requests,hits', 'edge_hit_ratio', 'requests,,', 'nope', 'requests,'.repeat(500)] }),
          )
          .map(([list, s, q]) => (list ? `/rtm/v1/services${q}` : `/rtm/v1/services/${s}/live${q}`)),
      ),
    },
    {
      name: 'admin tokens and services',
      request: fc
        .tuple(fc.constantFrom('list', 'delete', 'rename', 'services'), component(['tk_000000000000', 'ghost', 'admin']), fc.oneof(fc.jsonValue(), fc.record({ name: fc.constantFrom(...TEXT, ...SQL) })), query({ x: ['1'] }))
        .map(([kind, id, body, q]) => {
          if (kind === 'list') return { method: 'GET' as const, url: `/admin/tokens${q}` };
          if (kind === 'services') return { method: 'GET' as const, url: `/admin/services${q}` };
          if (kind === 'delete') return { method: 'DELETE' as const, url: `/admin/tokens/${id}${q}` };
          // Renames only services that do not exist (alpha keeps its name).
          return { method: 'POST' as const, url: `/admin/services/${id}/rename${q}`, payload: body };
        }),
    },
  ];
}

beforeAll(async () => {
  // Thousands of requests in a few seconds: the per-token rate limit is not what is tested here.
  h = await startHarness({ config: { limits: { ...loadConfig({}).limits, requestsPerTokenPerSecond: 0 } } });
  reader = (await h.token('fuzz-reader', 'all', ['read'])).secret;
  const lines = Array.from({ length: EVENTS }, (_, i) =>
    JSON.stringify({ timestamp: T + (i % 20), service: 'alpha', datacenter: i % 2 ? 'FRA' : 'LHR', domain: 'www.alpha.example', status: i % 5 ? 200 : 404, cache: 'miss', origin_status: 200, resp_body_bytes: 100 }),
  );
  await h.ingest(ADMIN_TOKEN, `${lines.join('\n')}\n`);
  await h.publishThrough(T + 20);
  await h.waitForCatalog(['alpha']);
  const alpha = (await h.services.catalog.services()).find((s) => s.service === 'alpha');
  confIds = [String(alpha?.id), String(alpha?.domains[0]?.id), '999999'];
  const object = await h.inject({
    method: 'POST',
    url: '/api/object/v1',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    payload: {
      _id: 'fuzz-object',
      note: 'plain',
      traffic: { _type: 'VarMetricTimeSeries', provider: 'CDN', metric: 'Requests', calendar: '#PT1H' },
      usage: { _type: 'VarMetricTimeSeries', provider: 'RTMRequest', metric: 'ReadRequests', calendar: '#P1D', observed: 'summed' },
    },
  });
  expect(object.statusCode).toBe(201);
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe('query and path parameter fuzzing', () => {
  // Built again inside each test: the configuration ids are known only after beforeAll.
  it.each(targets().map((t) => t.name))('%s', async (name) => {
    const target = targets().find((t) => t.name === name) as Target;
    await fc.assert(
      fc.asyncProperty(target.request, fc.constantFrom(ADMIN_TOKEN, 'reader'), async (req, who) => {
        const token = who === 'reader' ? reader : ADMIN_TOKEN;
        const res = await withinMs(
          h.inject({ method: req.method, url: req.url, headers: { authorization: `Bearer ${token}`, 'fastly-key': token }, ...(req.payload === undefined ? {} : { payload: req.payload as object }) }),
          30_000,
          `${req.method} ${req.url.slice(0, 200)}`,
        );
        const sent = `${lenientDecode(req.url)} ${JSON.stringify(req.payload ?? '')}`;
        const problems = answerProblems(req.url, res, sent);
        if (problems.length > 0) throw new Error(`${req.method} ${req.url.slice(0, 300)} -> ${problems.join('; ')}`);
      }),
      { numRuns: RUNS },
    );
  }, 120_000);

  it('leaves the data intact: every event still counted once', async () => {
    const res = await h.inject({ method: 'GET', url: `/v1/channel/alpha/ts/${T - 1}/limit/120`, headers: { 'fastly-key': ADMIN_TOKEN } });
    const data = (res.json() as { Data: { aggregated: { requests?: number } }[] }).Data;
    expect(data.reduce((s, d) => s + (d.aggregated.requests ?? 0), 0)).toBe(EVENTS);
    const services = (await h.services.catalog.services()).map((s) => [s.service, s.name]);
    expect(services).toEqual([['alpha', 'alpha']]);
    const tokens = await h.services.tokenStore.list();
    expect(tokens.map((t) => t.name)).toEqual(['fuzz-reader']);
  });
});
