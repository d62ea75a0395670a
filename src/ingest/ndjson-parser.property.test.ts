/**
 * Property tests of the ingest parser on untrusted input: random valid events come out with
 * exactly their values; random garbage mixed in is reported with its line number and never
 * throws; and the fast scanner always agrees with the JSON.parse reader.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createDictionaries } from '../model/dictionary.ts';
import { eventRows, type EventRow } from './event-rows.ts';
import { parseNdjson, type ParseOptions, type ParseResult } from './ndjson-parser.ts';

const MAX_LINE = 4096;

const CACHE = ['hit', 'miss', 'pass', 'synth', 'error'] as const;
const TLS = ['1.0', '1.1', '1.2', '1.3'] as const;
const HTTP = ['1.0', '1.1', '2', '3'] as const;
const WAF = ['blocked', 'logged', 'passed'] as const;
const PRODUCTS = [
  'edge_application',
  'edge_functions',
  'image_processor',
  'live_streaming',
  'load_balancer',
  'l2_caching',
  'data_streaming',
  'intelligent_dns',
] as const;

const word = (max: number): fc.Arbitrary<string> => fc.stringMatching(new RegExp(`^[A-Za-z0-9_-]{1,${max}}$`));
const byteCount = fc.oneof(fc.nat({ max: 100_000 }), fc.constant(2 ** 40), fc.constant(0));
const millis = fc.oneof(fc.double({ min: 0, max: 1e7, noNaN: true }), fc.nat({ max: 60_000 }));

/** A timestamp as sent, and the second it means. */
const timestamp: fc.Arbitrary<[number | string, number]> = fc.oneof(
  fc.integer({ min: 0, max: 4_000_000_000 }).map((t): [number, number] => [t, t]),
  fc.double({ min: 0, max: 4_000_000_000, noNaN: true }).map((t): [number, number] => [t, Math.floor(t)]),
  fc
    .tuple(fc.integer({ min: 0, max: 4_102_444_800_000 }), fc.integer({ min: -23 * 60 - 59, max: 23 * 60 + 59 }), fc.boolean())
    .filter(([ms, offset]) => ms / 1000 + offset * 60 >= 0 && ms / 1000 - offset * 60 >= 0)
    .map(([ms, offsetMinutes, zulu]): [string, number] => {
      if (zulu) return [new Date(ms).toISOString(), Math.floor(ms / 1000)];
      // The same instant written in local time at the offset.
      const local = new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, -1);
      const abs = Math.abs(offsetMinutes);
      const zone = `${offsetMinutes < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
      return [`${local}${zone}`, Math.floor(ms / 1000)];
    }),
);

const domain = fc
  .tuple(fc.array(fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/), { minLength: 1, maxLength: 4 }), fc.option(fc.integer({ min: 1, max: 65_535 })))
  .map(([labels, port]) => `${labels.join('.')}${port === null ? '' : `:${port}`}`);

/** A random valid event: the object sent, and the row it must become. */
const validEvent: fc.Arbitrary<{ event: Record<string, unknown>; row: EventRow }> = fc
  .record(
    {
      timestamp,
      service: word(64),
      datacenter: word(16),
      domain,
      status: fc.integer({ min: 100, max: 599 }),
      method: fc.stringMatching(/^[A-Z]{1,16}$/),
      cache: fc.constantFrom(...CACHE),
      req_header_bytes: byteCount,
      req_body_bytes: byteCount,
      resp_header_bytes: byteCount,
      resp_body_bytes: byteCount,
      time_ms: millis,
      origin_status: fc.oneof(fc.constant(0), fc.integer({ min: 100, max: 599 })),
      origin_time_ms: millis,
      bereq_header_bytes: byteCount,
      bereq_body_bytes: byteCount,
      beresp_header_bytes: byteCount,
      beresp_body_bytes: byteCount,
      backend: fc.string({ minLength: 1, maxLength: 20, unit: 'grapheme-ascii' }).filter((s) => !/\p{Cc}/u.test(s)),
      shield: fc.boolean(),
      compute: fc.boolean(),
      compute_time_ms: millis,
      compute_cpu_ms: millis,
      tls: fc.constantFrom(...TLS),
      http: fc.constantFrom(...HTTP),
      ipv6: fc.boolean(),
      waf: fc.constantFrom(...WAF),
      product: fc.constantFrom(...PRODUCTS),
      path: fc.string({ maxLength: 30, unit: 'binary' }),
      client_ip: fc.string({ maxLength: 20 }),
      extra: fc.jsonValue({ maxDepth: 2 }),
    },
    { requiredKeys: ['timestamp', 'service', 'datacenter', 'domain', 'status'] },
  )
  .map(({ timestamp: [sent, second], ...rest }) => {
    const event: Record<string, unknown> = { timestamp: sent, ...rest };
    const row: EventRow = {
      second,
      service: rest.service,
      datacenter: rest.datacenter,
      domain: rest.domain.toLowerCase(),
      status: rest.status,
      method: rest.method ?? 'GET',
      cache: rest.cache ?? 'pass',
      req_header_bytes: rest.req_header_bytes ?? 0,
      req_body_bytes: rest.req_body_bytes ?? 0,
      resp_header_bytes: rest.resp_header_bytes ?? 0,
      resp_body_bytes: rest.resp_body_bytes ?? 0,
      time_ms: (rest.time_ms ?? 0) + 0,
      origin_status: rest.origin_status,
      origin_time_ms: (rest.origin_time_ms ?? 0) + 0,
      bereq_header_bytes: rest.bereq_header_bytes ?? 0,
      bereq_body_bytes: rest.bereq_body_bytes ?? 0,
      beresp_header_bytes: rest.beresp_header_bytes ?? 0,
      beresp_body_bytes: rest.beresp_body_bytes ?? 0,
      backend: rest.backend ?? 'default',
      shield: rest.shield ?? false,
      compute: rest.compute ?? false,
      compute_time_ms: (rest.compute_time_ms ?? 0) + 0,
      compute_cpu_ms: (rest.compute_cpu_ms ?? 0) + 0,
      tls: rest.tls,
      http: rest.http ?? '1.1',
      ipv6: rest.ipv6 ?? false,
      waf: rest.waf,
      product: rest.product ?? 'edge_application',
    };
    return { event, row };
  });

/** JSON text of a value with every string character (UTF-16 unit) written as a \u escape. */
function escapedJson(value: unknown): string {
  if (typeof value === 'string') {
    let out = '"';
    for (let i = 0; i < value.length; i++) out += `\\u${value.charCodeAt(i).toString(16).padStart(4, '0')}`;
    return `${out}"`;
  }
  if (Array.isArray(value)) return `[${value.map(escapedJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{${entries.map(([k, v]) => `${escapedJson(k)}:${escapedJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** JSON text with JSON whitespace (space, tab, CR) around every token. */
function spacedJson(value: unknown): string {
  if (Array.isArray(value)) return `[ ${value.map(spacedJson).join(' ,\t')} ]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{ \t${entries.map(([k, v]) => `${JSON.stringify(k)}\r :\t${spacedJson(v)}`).join(' , ')}\r}`;
  }
  return JSON.stringify(value);
}

/** How a valid event is written: compact, spaced, keys shuffled, or every string escaped. */
const serialize = (event: Record<string, unknown>): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constant(JSON.stringify(event)),
    fc.constant(` \t${spacedJson(event)} \r `),
    fc.shuffledSubarray(Object.entries(event), { minLength: Object.keys(event).length }).map((entries) => JSON.stringify(Object.fromEntries(entries))),
    fc.constant(escapedJson(event)),
  );

type Line = { kind: 'good'; text: Buffer; row: EventRow } | { kind: 'bad'; text: Buffer };

const goodLine: fc.Arbitrary<Line> = validEvent.chain(({ event, row }) =>
  serialize(event)
    .filter((text) => Buffer.byteLength(text) <= MAX_LINE)
    .map((text): Line => ({ kind: 'good', text: Buffer.from(text), row })),
);

const insertByte = (text: string, byte: number): fc.Arbitrary<Buffer> =>
  fc.nat({ max: Buffer.byteLength(text) }).map((at) => {
    const b = Buffer.from(text);
    return Buffer.concat([b.subarray(0, at), Buffer.from([byte]), b.subarray(at)]);
  });

const REQUIRED = ['timestamp', 'service', 'datacenter', 'domain', 'status'] as const;
const wrongValue = fc.constantFrom<unknown>(true, false, null, {}, [], [1, 2], { a: 1 }, -5);

const badLine: fc.Arbitrary<Line> = validEvent.chain(({ event }) => {
  const text = JSON.stringify(event);
  const bad = (b: fc.Arbitrary<Buffer | string>): fc.Arbitrary<Line> =>
    b.map((t): Line => ({ kind: 'bad', text: typeof t === 'string' ? Buffer.from(t) : t }));
  return fc.oneof(
    // a required field with a wrong type
    bad(fc.tuple(fc.constantFrom(...REQUIRED), wrongValue).map(([k, v]) => JSON.stringify({ ...event, [k]: v }))),
    // a required field missing
    bad(fc.constantFrom(...REQUIRED).map((k) => JSON.stringify({ ...event, [k]: undefined }))),
    // numbers JSON can write but no field takes
    bad(
      fc
        .tuple(fc.constantFrom('status', 'resp_body_bytes', 'time_ms', 'timestamp'), fc.constantFrom('1e400', '-1e400', '1152921504606846976', '-1', '1e16'))
        .filter(([k, v]) => !(k === 'time_ms' && (v === '1152921504606846976' || v === '1e16')))
        .map(([k, v]) => `${text.slice(0, -1)},"${k}":${v}}`),
    ),
    // deep nesting where a string is required
    bad(fc.integer({ min: 1, max: 1000 }).map((depth) => `${text.slice(0, -1)},"service":${'['.repeat(depth)}${']'.repeat(depth)}}`)),
    // truncated JSON
    bad(fc.integer({ min: 1, max: text.length - 1 }).map((at) => text.slice(0, at))),
    // invalid UTF-8 and NUL bytes anywhere
    bad(fc.constantFrom(0xff, 0xc0, 0x80, 0xfe).chain((byte) => insertByte(text, byte))),
    bad(insertByte(text, 0x00)),
    // longer than maxLineBytes
    bad(fc.constant(`${text.slice(0, -1)},"path":"${'p'.repeat(MAX_LINE)}"}`)),
    // random bytes that are not blank
    bad(
      fc
        .uint8Array({ minLength: 1, maxLength: 200 })
        .map((bytes) => Buffer.from(bytes.filter((b) => b !== 10)))
        .filter((b) => b.some((c) => c !== 0x20 && c !== 0x09 && c !== 0x0d) && !b.toString('latin1').trim().startsWith('{')),
    ),
  );
});

const blankLine = fc.constantFrom('', ' ', '\t', '\r', '  \r');

function parseBoth(body: Buffer, opts: Partial<ParseOptions> = {}): [ParseResult, ParseResult, EventRow[]] {
  const run = (jsonParseOnly: boolean): ParseResult & { rows: EventRow[] } => {
    const dictionaries = createDictionaries();
    const result = parseNdjson(body, { dictionaries, maxLineBytes: MAX_LINE, maxEvents: 100_000, jsonParseOnly, ...opts });
    return { ...result, rows: eventRows(result.batch, dictionaries) };
  };
  const fast = run(false);
  const slow = run(true);
  return [fast, slow, fast.rows];
}

/** The batch as plain arrays, for deep equality (ids included). */
function columns(result: ParseResult): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [key, value] of Object.entries(result.batch)) {
    if (ArrayBuffer.isView(value)) out[key] = Array.from((value as Float64Array).subarray(0, result.batch.length));
  }
  return out;
}

/** The paths and client addresses a parse interned, in id order (what batch.path / .clientIp mean). */
const topNamesOf = (result: ParseResult): Record<string, string[]> => ({
  path: Array.from({ length: result.topNames.path.size }, (_, i) => result.topNames.path.name(i)),
  clientIp: Array.from({ length: result.topNames.clientIp.size }, (_, i) => result.topNames.clientIp.name(i)),
});

describe('parseNdjson properties', () => {
  it('accepts every random valid event with exactly its values', () => {
    fc.assert(
      fc.property(fc.array(goodLine, { minLength: 1, maxLength: 30 }), (lines) => {
        const body = Buffer.concat(lines.flatMap((l) => [l.text, Buffer.from('\n')]));
        const [fast, slow, rows] = parseBoth(body);
        expect(fast.errors).toEqual([]);
        expect(rows).toEqual(lines.map((l) => (l.kind === 'good' ? l.row : undefined)));
        expect(columns(fast)).toEqual(columns(slow));
      }),
      { numRuns: 300 },
    );
  });

  it('reports every bad line with its line number, keeps every good one, never throws, and both readers agree', () => {
    const item = fc.oneof({ weight: 3, arbitrary: goodLine }, { weight: 2, arbitrary: badLine }, { weight: 1, arbitrary: blankLine });
    fc.assert(
      fc.property(fc.array(item, { maxLength: 25 }), fc.boolean(), (items, crlf) => {
        const body = Buffer.concat(
          items.map((it, i) => {
            const text = typeof it === 'string' ? Buffer.from(it) : it.text;
            return i === items.length - 1 ? text : Buffer.concat([text, Buffer.from(crlf ? '\r\n' : '\n')]);
          }),
        );
        const [fast, slow, rows] = parseBoth(body);
        const good = items.filter((it): it is Extract<Line, { kind: 'good' }> => typeof it !== 'string' && it.kind === 'good');
        const badLines = items.flatMap((it, i) => (typeof it !== 'string' && it.kind === 'bad' ? [i + 1] : []));
        expect(fast.errors.map((e) => e.line)).toEqual(badLines);
        expect(fast.rejected).toBe(badLines.length);
        expect(fast.accepted).toBe(good.length);
        expect(rows).toEqual(good.map((g) => g.row));
        expect({ ...fast, batch: columns(fast), topNames: topNamesOf(fast) }).toEqual({ ...slow, batch: columns(slow), topNames: topNamesOf(slow) });
      }),
      { numRuns: 300 },
    );
  });

  it('the fast scanner reads any number text exactly as JSON.parse', () => {
    const digits = (min: number, max: number): fc.Arbitrary<string> => fc.stringMatching(new RegExp(`^[0-9]{${min},${max}}$`));
    const numberText = fc.oneof(
      fc.tuple(fc.constantFrom('', '-', '+'), digits(1, 25), fc.option(digits(0, 25)), fc.option(fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), digits(0, 5)))).map(
        ([sign, int, frac, exp]) => `${sign}${int}${frac === null ? '' : `.${frac}`}${exp === null ? '' : exp.join('')}`,
      ),
      fc.double().map((d) => JSON.stringify(d)),
      fc.constantFrom('.5', '-', '1.', '01', '-01', '1e', '1e+', '0x10', 'Infinity', 'NaN', '1_000', '٣'),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('time_ms', 'status', 'timestamp', 'resp_body_bytes', 'unknown'), numberText), { minLength: 1, maxLength: 10 }), (pairs) => {
        const lines = pairs.map(([field, text]) => `{"timestamp":1700000000,"service":"s","datacenter":"d","domain":"h","status":200,"${field}":${text}}`);
        const [fast, slow] = parseBoth(Buffer.from(lines.join('\n')));
        expect({ ...fast, batch: columns(fast), topNames: topNamesOf(fast) }).toEqual({ ...slow, batch: columns(slow), topNames: topNamesOf(slow) });
      }),
      { numRuns: 500 },
    );
  });

  it('the fast scanner agrees with JSON.parse on random mutations of valid lines', () => {
    const mutated = validEvent.chain(({ event }) => {
      const text = JSON.stringify(event);
      return fc
        .array(
          fc.tuple(fc.nat({ max: text.length }), fc.oneof(fc.constantFrom('"', '\\', ',', ':', '{', '}', '[', ']', ' ', 'e', '-', '.', '0', '\u00e9', '\\u0041', '\\x'), fc.string({ maxLength: 3 }))),
          { minLength: 1, maxLength: 3 },
        )
        .map((edits) => edits.reduce((t, [at, s]) => `${t.slice(0, at)}${s}${t.slice(at + (s.length % 2))}`, text));
    });
    fc.assert(
      fc.property(fc.array(mutated, { minLength: 1, maxLength: 10 }), (lines) => {
        const [fast, slow] = parseBoth(Buffer.from(lines.join('\n')));
        expect({ ...fast, batch: columns(fast), topNames: topNamesOf(fast) }).toEqual({ ...slow, batch: columns(slow), topNames: topNamesOf(slow) });
      }),
      { numRuns: 500 },
    );
  });
});
