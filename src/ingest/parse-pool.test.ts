import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { createDictionaries } from '../model/dictionary.ts';
import { eventRows } from './event-rows.ts';
import { parseNdjson, type ParseOptions } from './ndjson-parser.ts';
import { createParsePool } from './parse-pool.ts';

const T0 = 1_767_225_600;
const pool = createParsePool({ workers: 2, minBodyBytes: 0 });
afterAll(() => pool.close());

const SERVICES = ['alpha', 'beta', 'gamma', 'refused'];
const line = fc.oneof(
  fc
    .record({
      second: fc.integer({ min: 0, max: 5 }),
      service: fc.constantFrom(...SERVICES),
      datacenter: fc.constantFrom('FRA', 'LHR', 'GRU'),
      domain: fc.constantFrom('a.example', 'B.example', 'c.example:8443'),
      status: fc.constantFrom(200, 404, 503),
      method: fc.option(fc.constantFrom('GET', 'POST')),
      backend: fc.option(fc.constantFrom('b1', 'b2')),
      resp_body_bytes: fc.nat({ max: 10_000 }),
    })
    .map(({ second, method, backend, ...rest }) =>
      JSON.stringify({ timestamp: T0 + second, ...rest, ...(method === null ? {} : { method }), ...(backend === null ? {} : { backend, origin_status: 200 }) }),
    ),
  // Bad lines: invalid fields, garbage, blank.
  fc.constantFrom('{"timestamp": 1, "service": "alpha"}', 'not json', '', '{"timestamp":"x","service":"refused","datacenter":"FRA","domain":"a","status":200}', '[1,2]'),
);

/** Service check like the route's: one refused service, and a quota of 2 others per call. */
function checker(): (service: string) => string | undefined {
  const admitted = new Set<string>();
  return (service) => {
    if (service === 'refused') return `service "${service}": not allowed`;
    if (!admitted.has(service) && admitted.size >= 2) return `service "${service}": quota`;
    admitted.add(service);
    return undefined;
  };
}

describe('parse pool', () => {
  it('gives what parseNdjson gives on the calling thread: events by name, counts, errors with lines', async () => {
    // Two sinks' dictionaries, one shared by many bodies: the workers' names must map right.
    const inThread = createDictionaries();
    const pooled = createDictionaries();
    pooled.service.id('zeta'); // ids differ between the two dictionaries
    await fc.assert(
      fc.asyncProperty(fc.array(line, { maxLength: 40 }), fc.boolean(), fc.integer({ min: 1, max: 5 }), async (lines, check, maxErrors) => {
        const body = Buffer.from(lines.join('\n'));
        const opts = (dictionaries: ParseOptions['dictionaries']): ParseOptions => ({
          dictionaries,
          maxLineBytes: 4096,
          maxEvents: 1000,
          maxErrors,
          acceptService: check ? checker() : undefined,
        });
        const want = parseNdjson(body, opts(inThread));
        const got = await pool.parse(body, opts(pooled));
        expect(got.accepted).toBe(want.accepted);
        expect(got.rejected).toBe(want.rejected);
        expect(got.errors).toEqual(want.errors);
        expect(got.tooManyEvents).toBe(want.tooManyEvents);
        expect(eventRows(got.batch, pooled)).toEqual(eventRows(want.batch, inThread));
      }),
      { numRuns: 150 },
    );
  });

  it('refuses the events of a refused service with their lines, and never interns its name', async () => {
    const dicts = createDictionaries();
    const lines = ['refused', 'alpha', 'refused'].map((service) => JSON.stringify({ timestamp: T0, service, datacenter: 'FRA', domain: 'a.example', status: 200 }));
    const result = await pool.parse(Buffer.from(lines.join('\n')), { dictionaries: dicts, maxLineBytes: 4096, maxEvents: 10, acceptService: checker() });
    expect(result.errors).toEqual([
      { line: 1, reason: 'service "refused": not allowed' },
      { line: 3, reason: 'service "refused": not allowed' },
    ]);
    expect(eventRows(result.batch, dicts).map((e) => e.service)).toEqual(['alpha']);
    expect(dicts.service.size).toBe(1);
  });

  it('parses concurrent bodies independently, each with its own events', async () => {
    const dicts = createDictionaries();
    const bodies = Array.from({ length: 12 }, (_, k) =>
      Buffer.from(
        Array.from({ length: 50 + k }, (_, i) => JSON.stringify({ timestamp: T0 + i, service: `svc${k}`, datacenter: 'FRA', domain: 'a.example', status: 200 })).join('\n'),
      ),
    );
    const results = await Promise.all(bodies.map((b) => pool.parse(b, { dictionaries: dicts, maxLineBytes: 4096, maxEvents: 1000 })));
    expect(results.map((r) => r.accepted)).toEqual(bodies.map((_, k) => 50 + k));
    expect(results.map((r) => new Set(eventRows(r.batch, dicts).map((e) => e.service)))).toEqual(bodies.map((_, k) => new Set([`svc${k}`])));
  });

  it('stops at maxEvents like the in-thread parser', async () => {
    const body = Buffer.from(Array.from({ length: 5 }, () => JSON.stringify({ timestamp: T0, service: 's', datacenter: 'FRA', domain: 'a.example', status: 200 })).join('\n'));
    const result = await pool.parse(body, { dictionaries: createDictionaries(), maxLineBytes: 4096, maxEvents: 3 });
    expect(result.tooManyEvents).toBe(true);
  });
});
