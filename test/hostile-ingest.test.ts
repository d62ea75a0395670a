/**
 * Hostile bodies through the whole app (issue 5): random mixes of valid lines, lines that are
 * certainly invalid (truncated JSON, wrong types, out-of-range values, NUL bytes, invalid UTF-8,
 * giant lines, deep nesting, non-objects, huge numbers) and lines whose fate the spec leaves
 * open, sent as NDJSON (CRLF or LF, blank lines, gzip, truncated gzip) to POST /ingest and POST
 * /api/metric/v1. Each answer: no crash or hang, every certainly-bad line reported with its
 * number, no certainly-good line reported, accepted + rejected = the lines sent. At the end the
 * store holds exactly the accepted lines (read back through the Fastly API and the ODSL list).
 */
import fc from 'fast-check';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.ts';
import { ADMIN_TOKEN, HARNESS_T0, startHarness, type Harness } from './support/app-harness.ts';
import { answerProblems, withinMs } from './support/fuzz-checks.ts';

const T = Math.floor(HARNESS_T0 / 1000) - 60;
const SECONDS = 40;
const MAX_LINE = 4096;
const RUNS = 60;

/** What the spec says of a line: accepted, rejected, or either (then only the counts must agree). */
type Fate = 'valid' | 'invalid' | 'either';

interface Line {
  bytes: Buffer;
  fate: Fate;
  /** The service (ingest) or metric (ODSL) an accepted line counts for. */
  bucket: string;
}

const b = (s: string): Buffer => Buffer.from(s, 'utf8');
const json = (o: unknown): Buffer => b(JSON.stringify(o));

// ---- /ingest lines -------------------------------------------------------------------------

const second = fc.integer({ min: T, max: T + SECONDS - 1 });

const validEvent = fc.record({
  timestamp: fc.oneof(second, second.map((s) => s + 0.25), second.map((s) => new Date(s * 1000 + 500).toISOString())),
  service: fc.constantFrom('svc-a', 'svc-b'),
  datacenter: fc.constantFrom('FRA', 'LHR', 'x_1-2'),
  domain: fc.constantFrom('www.example.com', 'API.Example.com', 'a.b'),
  status: fc.constantFrom(100, 200, 204, 301, 404, 503, 599),
  cache: fc.constantFrom('hit', 'miss', 'pass', 'synth', 'error'),
  resp_body_bytes: fc.nat({ max: 2 ** 40 }),
  time_ms: fc.double({ min: 0, max: 1e6, noNaN: true }),
});

type Event = Record<string, unknown>;

/** Changes that make any event certainly invalid (events.md section 1). */
const BREAK: ((e: Event) => Buffer)[] = [
  (e) => json({ ...e, status: 600 }),
  (e) => json({ ...e, status: 99 }),
  (e) => json({ ...e, status: 200.5 }),
  (e) => json({ ...e, status: [200] }),
  (e) => json({ ...e, resp_body_bytes: -1 }),
  (e) => json({ ...e, resp_body_bytes: 1.5 }),
  (e) => json({ ...e, resp_body_bytes: { n: 1 } }),
  (e) => json({ ...e, time_ms: -0.5 }),
  (e) => json({ ...e, cache: 'bogus' }),
  (e) => json({ ...e, method: 'get' }),
  (e) => json({ ...e, tls: '1.4' }),
  (e) => json({ ...e, http: '4' }),
  (e) => json({ ...e, product: 'nope' }),
  (e) => json({ ...e, waf: 'maybe' }),
  (e) => json({ ...e, origin_status: 99 }),
  (e) => json({ ...e, service: 'has space' }),
  (e) => json({ ...e, service: 's'.repeat(65) }),
  (e) => json({ ...e, service: 'nul\u0000byte' }),
  (e) => json({ ...e, datacenter: 'D'.repeat(17) }),
  (e) => json({ ...e, domain: 'd'.repeat(254) }),
  (e) => json({ ...e, timestamp: 'yesterday' }),
  (e) => json({ ...e, timestamp: true }),
  (e) => b(JSON.stringify(e).replace(/"status":\d+/, '"status":1e400')),
  (e) => b(JSON.stringify(e).replace(/"resp_body_bytes":\d+/, '"resp_body_bytes":-1e400')),
  ...(['timestamp', 'service', 'datacenter', 'domain', 'status'] as const).map((field) => (e: Event) => {
    const { [field]: _gone, ...rest } = e;
    return json(rest);
  }),
  // Invalid UTF-8 inside the service string.
  () => Buffer.concat([b('{"service":"ab'), Buffer.from([0xc3, 0x28]), b(`","timestamp":${T},"datacenter":"FRA","domain":"x.y","status":200}`)]),
  // A raw NUL byte between tokens.
  (e) => Buffer.concat([b(JSON.stringify(e).slice(0, -1)), Buffer.from([0x00]), b('}')]),
];

const NOT_EVENTS: Buffer[] = [
  b('[]'),
  b('1'),
  b('"event"'),
  b('null'),
  b('true'),
  b('{'),
  b('}'),
  b('{"timestamp":'),
  b('#comment'),
  b(`${'['.repeat(2000)}${']'.repeat(2000)}`),
  b(`${'{"a":'.repeat(1000)}1${'}'.repeat(1000)}`),
  Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]),
  Buffer.from([0x00, 0x00, 0x00]),
  Buffer.from([0xc0, 0x80, 0xff]),
];

const invalidIngestLine: fc.Arbitrary<Line> = fc.oneof(
  fc.tuple(validEvent, fc.nat({ max: BREAK.length - 1 })).map(([e, i]) => ({ bytes: (BREAK[i] as (e: Event) => Buffer)(e), fate: 'invalid' as Fate, bucket: '' })),
  // A proper prefix of a JSON object is never JSON.
  fc.tuple(validEvent, fc.double({ min: 0.05, max: 0.95, noNaN: true })).map(([e, f]) => {
    const text = JSON.stringify(e);
    return { bytes: b(text.slice(0, Math.max(1, Math.floor(text.length * f)))), fate: 'invalid' as Fate, bucket: '' };
  }),
  fc.constantFrom(...NOT_EVENTS).map((bytes) => ({ bytes, fate: 'invalid' as Fate, bucket: '' })),
  // Longer than the line limit, however valid it would be.
  validEvent.map((e) => ({ bytes: json({ ...e, pad: 'x'.repeat(MAX_LINE) }), fate: 'invalid' as Fate, bucket: '' })),
  // Random bytes that start with a character no JSON text starts with (no newline inside).
  fc.uint8Array({ minLength: 1, maxLength: 300 }).map((a) => ({ bytes: Buffer.concat([b('~'), Buffer.from(a.filter((x) => x !== 0x0a))]), fate: 'invalid' as Fate, bucket: '' })),
);

/** Lines whose fate events.md does not pin down: they go to svc-x and only the counts must agree. */
const eitherIngestLine: fc.Arbitrary<Line> = validEvent.chain((e) => {
  const x = { ...e, service: 'svc-x' };
  return fc.constantFrom<Buffer>(
    json({ ...x, domain: 'nul\u0000.example' }),
    json({ ...x, domain: 'ünïcödé.example' }),
    json({ ...x, status: '200' }),
    json({ ...x, timestamp: String(T + 1) }),
    json({ ...x, resp_body_bytes: 1e300 }),
    json({ ...x, extra: JSON.parse(`${'['.repeat(500)}${']'.repeat(500)}`) as unknown }),
    json({ ...x, method: null }),
    json({ ...x, shield: 'yes' }),
    b(JSON.stringify(x).replace('{', '{"status":"dup",')),
    Buffer.concat([b(JSON.stringify(x).slice(0, -1)), b(',"note":"'), Buffer.from([0xff]), b('"}')]),
    Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json(x)]),
  ).map((bytes) => ({ bytes, fate: 'either' as Fate, bucket: 'svc-x' }));
});

const ingestLine: fc.Arbitrary<Line> = fc.oneof(
  { weight: 6, arbitrary: validEvent.chain((e) => fc.constantFrom(json(e), json({ ...e, unknown_field: { deep: [1, { x: null }] } }), b(` ${JSON.stringify(e)}\t`)).map((bytes) => ({ bytes, fate: 'valid' as Fate, bucket: e.service }))) },
  { weight: 4, arbitrary: invalidIngestLine },
  { weight: 1, arbitrary: eitherIngestLine },
);

// ---- /api/metric/v1 lines ------------------------------------------------------------------

const isoDay = fc.integer({ min: 0, max: 86_399_999 }).map((ms) => Date.UTC(2026, 0, 1) + ms);
const validEntity = fc.record(
  {
    provider: fc.constant('Fuzz'),
    metric: fc.constant('Valid'),
    timestamp: fc.oneof(isoDay, isoDay.map((ms) => new Date(ms).toISOString())),
    value: fc.integer({ min: -1000, max: 1000 }),
    service: fc.constantFrom('billing', 'ünï'),
    httpstatus: fc.integer({ min: 100, max: 599 }),
    responseSize: fc.nat(),
    duration: fc.double({ min: 0, max: 1e6, noNaN: true }),
  },
  { requiredKeys: ['provider', 'metric', 'timestamp'] },
);

const BREAK_ENTITY: ((e: Event) => Buffer)[] = [
  (e) => json({ ...e, provider: undefined }),
  (e) => json({ ...e, metric: undefined }),
  (e) => json({ ...e, timestamp: undefined }),
  (e) => json({ ...e, provider: 'a/b' }),
  (e) => json({ ...e, provider: '' }),
  (e) => json({ ...e, metric: 'm'.repeat(129) }),
  (e) => json({ ...e, timestamp: 'not a time' }),
  (e) => json({ ...e, timestamp: -1 }),
  (e) => json({ ...e, timestamp: 1e300 }),
  (e) => json({ ...e, value: 'one' }),
  (e) => json({ ...e, value: [1] }),
  (e) => json({ ...e, httpstatus: 99 }),
  (e) => json({ ...e, httpstatus: 200.5 }),
  (e) => json({ ...e, responseSize: 1.5 }),
  (e) => json({ ...e, responseSize: -1 }),
  (e) => json({ ...e, duration: -1 }),
  (e) => json({ ...e, detail: 'd'.repeat(4097) }),
  (e) => json({ ...e, service: 7 }),
  (e) => json({ ...e, _id: 'mine' }),
  (e) => json({ ...e, owner: 'someone-else' }),
  (e) => json({ ...e, unknown: 1 }),
  (e) => b(JSON.stringify({ ...e, value: undefined }).replace('"provider":"Fuzz"', '"provider":"Fuzz","value":1e400')),
];

const invalidEntityLine: fc.Arbitrary<Line> = fc.oneof(
  fc.tuple(validEntity, fc.nat({ max: BREAK_ENTITY.length - 1 })).map(([e, i]) => ({ bytes: (BREAK_ENTITY[i] as (e: Event) => Buffer)(e), fate: 'invalid' as Fate, bucket: '' })),
  fc.tuple(validEntity, fc.double({ min: 0.05, max: 0.95, noNaN: true })).map(([e, f]) => {
    const text = JSON.stringify(e);
    return { bytes: b(text.slice(0, Math.max(1, Math.floor(text.length * f)))), fate: 'invalid' as Fate, bucket: '' };
  }),
  fc.constantFrom(...NOT_EVENTS).map((bytes) => ({ bytes, fate: 'invalid' as Fate, bucket: '' })),
  validEntity.map((e) => ({ bytes: json({ ...e, detail: 'x'.repeat(70 * 1024) }), fate: 'invalid' as Fate, bucket: '' })),
  fc.uint8Array({ minLength: 1, maxLength: 300 }).map((a) => ({ bytes: Buffer.concat([b('~'), Buffer.from(a.filter((x) => x !== 0x0a))]), fate: 'invalid' as Fate, bucket: '' })),
);

const eitherEntityLine: fc.Arbitrary<Line> = validEntity.chain((e) => {
  const x = { ...e, metric: 'Either' };
  return fc.constantFrom<Buffer>(
    json({ ...x, detail: 'nul\u0000inside' }),
    json({ ...x, value: 1e300 }),
    json({ ...x, value: '1' }),
    json({ ...x, httpstatus: null }),
    json({ ...x, timestamp: '2026-01-01' }),
    Buffer.concat([b(JSON.stringify(x).slice(0, -1)), b(',"detail":"'), Buffer.from([0xff, 0xfe]), b('"}')]),
    Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json(x)]),
  ).map((bytes) => ({ bytes, fate: 'either' as Fate, bucket: 'Either' }));
});

const entityLine: fc.Arbitrary<Line> = fc.oneof(
  { weight: 6, arbitrary: validEntity.map((e) => ({ bytes: json(e), fate: 'valid' as Fate, bucket: 'Valid' })) },
  { weight: 4, arbitrary: invalidEntityLine },
  { weight: 1, arbitrary: eitherEntityLine },
);

// ---- bodies --------------------------------------------------------------------------------

type Encoding = 'plain' | 'gzip' | 'truncated-gzip';

interface Body {
  lines: Line[];
  /** Line number (1-based, blank lines included) of each entry of `lines`. */
  numbers: number[];
  payload: Buffer;
  encoding: Encoding;
}

function body(line: fc.Arbitrary<Line>): fc.Arbitrary<Body> {
  return fc
    .record({
      lines: fc.array(line, { minLength: 1, maxLength: 60 }),
      blanks: fc.array(fc.constantFrom('', ' ', '\t', '\r'), { maxLength: 5 }),
      crlf: fc.boolean(),
      trailingNewline: fc.boolean(),
      encoding: fc.constantFrom<Encoding>('plain', 'plain', 'gzip', 'truncated-gzip'),
      cut: fc.double({ min: 0, max: 0.99, noNaN: true }),
    })
    .map(({ lines, blanks, crlf, trailingNewline, encoding, cut }) => {
      const parts: Buffer[] = [];
      const numbers: number[] = [];
      lines.forEach((l, i) => {
        const blank = blanks[i];
        if (blank !== undefined) parts.push(b(blank));
        parts.push(l.bytes);
        numbers.push(parts.length);
      });
      const sep = b(crlf ? '\r\n' : '\n');
      let raw = Buffer.concat(parts.flatMap((p, i) => (i === 0 ? [p] : [sep, p])));
      if (trailingNewline) raw = Buffer.concat([raw, sep]);
      let payload = raw;
      if (encoding !== 'plain') payload = zlib.gzipSync(raw);
      // At least one byte, and never the whole: the trailer is always cut.
      if (encoding === 'truncated-gzip') payload = payload.subarray(0, Math.max(1, Math.floor((payload.length - 1) * cut)));
      return { lines, numbers, payload, encoding };
    });
}

interface Answer {
  accepted: number;
  rejected: number;
  errors: { line: number; reason: string }[];
}

let h: Harness;
/** Accepted lines per service (ingest) or metric (ODSL), what the store must hold at the end. */
const counted = new Map<string, number>();
const count = (key: string, n = 1): void => {
  counted.set(key, (counted.get(key) ?? 0) + n);
};

/** Sends one body and checks the answer line by line; returns the problems found. */
async function send(url: string, contentType: string, sent: Body): Promise<string[]> {
  const res = await withinMs(
    h.inject({
      method: 'POST',
      url,
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        'content-type': contentType,
        ...(sent.encoding === 'plain' ? {} : { 'content-encoding': 'gzip' }),
      },
      payload: sent.payload,
    }),
    30_000,
    `POST ${url}`,
  );
  const problems = answerProblems(url, res, '');
  if (sent.encoding === 'truncated-gzip') {
    if (res.statusCode !== 400 || !res.body.includes('RTM_ERR_INGEST_BAD_ENCODING')) problems.push(`truncated gzip answered ${res.statusCode} ${res.body.slice(0, 200)}`);
    return problems;
  }
  if (res.statusCode !== 200) return [...problems, `answered ${res.statusCode}: ${res.body.slice(0, 300)}`];
  const answer = res.json() as Answer;
  const reported = new Map(answer.errors.map((e) => [e.line, e.reason]));
  if (answer.accepted + answer.rejected !== sent.lines.length) problems.push(`accepted ${answer.accepted} + rejected ${answer.rejected} != ${sent.lines.length} lines`);
  if (answer.errors.length !== answer.rejected) problems.push(`${answer.rejected} rejected but ${answer.errors.length} errors listed`);
  const lineNumbers = answer.errors.map((e) => e.line);
  if (lineNumbers.some((n, i) => i > 0 && n <= (lineNumbers[i - 1] ?? 0))) problems.push(`error lines not strictly ascending: ${lineNumbers.join(',')}`);
  sent.lines.forEach((line, i) => {
    const n = sent.numbers[i] as number;
    const reason = reported.get(n);
    if (line.fate === 'invalid' && reason === undefined) problems.push(`line ${n} is invalid but was accepted: ${line.bytes.toString('utf8').slice(0, 200)}`);
    if (line.fate === 'valid' && reason !== undefined) problems.push(`line ${n} is valid but was rejected (${reason}): ${line.bytes.toString('utf8').slice(0, 200)}`);
    if (reason !== undefined && (reason.trim() === '' || /undefined|\bat [\w.]+ \(/.test(reason))) problems.push(`line ${n}: unhelpful reason ${JSON.stringify(reason)}`);
  });
  const known = new Set(sent.numbers);
  for (const n of reported.keys()) if (!known.has(n)) problems.push(`error reported for line ${n}, which is blank or absent`);
  // What the server kept, counted even when this body has problems (fast-check shrinks by sending more).
  sent.lines.forEach((line, i) => {
    if (!reported.has(sent.numbers[i] as number)) count(line.bucket);
  });
  return problems;
}

beforeAll(async () => {
  const limits = { ...loadConfig({}).limits, maxLineBytes: MAX_LINE, requestsPerTokenPerSecond: 0 };
  h = await startHarness({ config: { limits } });
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe('hostile bodies through the app', () => {
  it('POST /ingest: bad lines reported by number, good lines kept', async () => {
    await fc.assert(
      fc.asyncProperty(body(ingestLine), async (sent) => {
        const problems = await send('/ingest', 'application/x-ndjson', sent);
        if (problems.length > 0) throw new Error(problems.join('\n'));
      }),
      { numRuns: RUNS },
    );
  }, 120_000);

  it('POST /api/metric/v1: bad entities reported by number, good ones kept', async () => {
    await fc.assert(
      fc.asyncProperty(body(entityLine), async (sent) => {
        const problems = await send('/api/metric/v1', 'application/x-ndjson', sent);
        if (problems.length > 0) throw new Error(problems.join('\n'));
      }),
      { numRuns: RUNS },
    );
  }, 120_000);

  it('the store holds every accepted event and entity exactly once', async () => {
    await h.publishThrough(T + SECONDS);
    for (const service of ['svc-a', 'svc-b', 'svc-x']) {
      const res = await h.inject({ method: 'GET', url: `/v1/channel/${service}/ts/${T - 1}/limit/120`, headers: { 'fastly-key': ADMIN_TOKEN } });
      expect(res.statusCode).toBe(200);
      const data = (res.json() as { Data: { recorded: number; aggregated: { requests?: number } }[] }).Data;
      const stored = data.reduce((s, d) => s + (d.aggregated.requests ?? 0), 0);
      expect(stored, service).toBe(counted.get(service) ?? 0);
    }
    expect(counted.get('svc-a') ?? 0).toBeGreaterThan(0);

    await h.services.usageRecorder.flush();
    for (const metric of ['Valid', 'Either']) {
      const res = await h.inject({ method: 'GET', url: `/api/metric/v1?provider=Fuzz&metric=${metric}&_limit=1`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(res.statusCode).toBe(200);
      expect(Number(res.headers['x-total-count']), metric).toBe(counted.get(metric) ?? 0);
    }
    expect(counted.get('Valid') ?? 0).toBeGreaterThan(0);
  });
});
