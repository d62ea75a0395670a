import { EDGE_FIELDS } from '../model/fields.ts';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { arbitraryEvent, eventLine } from '../../test/support/events.ts';
import { expectNaive, expectSame, summed, type Naive } from '../../test/support/naive-reference.ts';
import { aggregateBatches } from '../aggregate/aggregate-batch.ts';
import { deltaStrings, deltaToRecordSet, type Delta } from '../model/delta.ts';
import { createDictionaries, type Dictionaries } from '../model/dictionary.ts';
import type { EventBatch } from '../model/event.ts';
import type { RecordSet } from '../model/record.ts';
import type { CappedKey } from '../model/other-key.ts';
import type { ParseOptions } from './ndjson-parser.ts';
import { parseInThread, type ParsedBody } from './parse-body.ts';
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
      time_ms: fc.double({ min: 0, max: 100, noNaN: true }),
    })
    .map(({ second, method, backend, ...rest }) =>
      JSON.stringify({ timestamp: T0 + second, ...rest, ...(method === null ? {} : { method }), ...(backend === null ? {} : { backend, origin_status: 200 }) }),
    ),
  // Bad lines: invalid fields (one with a refused service too), garbage, blank.
  fc.constantFrom('{"timestamp": 1, "service": "alpha"}', 'not json', '', '{"timestamp":"x","service":"refused","datacenter":"FRA","domain":"a","status":200}', '[1,2]'),
);

/** Service check like the route's: one refused service, and a quota of 2 others, held across calls (one token). */
function checker(): { accept: (service: string) => string | undefined; asked: string[] } {
  const admitted = new Set<string>();
  const asked: string[] = [];
  return {
    asked,
    accept: (service) => {
      asked.push(service);
      if (service === 'refused') return `service "${service}": not allowed`;
      if (!admitted.has(service) && admitted.size >= 2) return `service "${service}": quota`;
      admitted.add(service);
      return undefined;
    },
  };
}

/** Key caps like key-cap.ts: at most 2 distinct domains, 2 datacenters and 1 backend per service, held across calls. */
function keyChecker(): { accept: (key: CappedKey, service: string, value: string) => string | undefined; asked: string[] } {
  const max: Record<CappedKey, number> = { domain: 2, datacenter: 2, backend: 1 };
  const seen = new Map<string, Set<string>>();
  const asked: string[] = [];
  return {
    asked,
    accept: (key, service, value) => {
      asked.push(`${key}:${service}/${value}`);
      const set = seen.get(`${key}:${service}`) ?? new Set<string>();
      seen.set(`${key}:${service}`, set);
      if (set.has(value)) return undefined;
      if (set.size >= max[key]) return `${key} "${value}" of service "${service}": cap`;
      set.add(value);
      return undefined;
    },
  };
}

const options = (dictionaries: Dictionaries, over: Partial<ParseOptions> = {}): ParseOptions => ({ dictionaries, maxLineBytes: 4096, maxEvents: 1000, ...over });

const REQUESTS = EDGE_FIELDS.indexOf('requests');
const response = (r: ParsedBody): unknown => ({ accepted: r.accepted, rejected: r.rejected, errors: r.errors, tooManyEvents: r.tooManyEvents });
const deltaOf = (r: ParsedBody): Delta => {
  if (r.events.kind !== 'delta') throw new Error('expected a worker delta');
  return r.events.delta;
};
const batchOf = (r: ParsedBody): EventBatch => {
  if (r.events.kind !== 'batch') throw new Error('expected an in-thread batch');
  return r.events.batch;
};
/** Totals of a path: the in-thread batches aggregated together (a commit), the worker deltas summed. */
const inThreadTotals = (rs: ParsedBody[], dicts: Dictionaries): Naive => summed([aggregateBatches(rs.map(batchOf), dicts)]);
const workerTotals = (rs: ParsedBody[]): Naive => summed(rs.map((r) => deltaToRecordSet(deltaOf(r))));
/** Worker answers with refused domains come back parsed again in-thread, as batches on `dicts`. */
const mixedTotals = (rs: ParsedBody[], dicts: Dictionaries): Naive => {
  const batches = rs.filter((r) => r.events.kind === 'batch').map(batchOf);
  const deltas = rs.filter((r) => r.events.kind === 'delta').map((r) => deltaToRecordSet(deltaOf(r)));
  return summed([...deltas, aggregateBatches(batches, dicts)]);
};
const expectSameTotals = (a: Naive, b: Naive): void => {
  expectSame(a.edge, b.edge);
  expectSame(a.origin, b.origin);
  expect(new Map([...a.dimension].sort())).toEqual(new Map([...b.dimension].sort()));
};

describe('parse pool', () => {
  it('answers as in-thread parsing does, with the same totals: good and bad lines, refused services, a token at its quota, key caps', async () => {
    const sinkDicts = createDictionaries();
    sinkDicts.service.id('zeta'); // the sink's ids differ from any parse's
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(line, { maxLength: 40 }), { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 1, max: 5 }),
        async (bodies, check, cap, maxErrors) => {
          // One token per path, its quota state (and the key caps') carried from body to body.
          const here = checker();
          const there = checker();
          const hereKeys = keyChecker();
          const thereKeys = keyChecker();
          const inThread: ParsedBody[] = [];
          const worker: ParsedBody[] = [];
          for (const lines of bodies) {
            const body = Buffer.from(lines.join('\n'));
            inThread.push(
              parseInThread(body, options(sinkDicts, { maxErrors, acceptService: check ? here.accept : undefined, acceptKey: cap ? hereKeys.accept : undefined })),
            );
            worker.push(
              await pool.parse(body, options(sinkDicts, { maxErrors, acceptService: check ? there.accept : undefined, acceptKey: cap ? thereKeys.accept : undefined })),
            );
          }
          expect(worker.map(response)).toEqual(inThread.map(response));
          expect(there.asked).toEqual(here.asked);
          expect(worker.map((r) => [r.folded, r.warnings])).toEqual(inThread.map((r) => [r.folded, r.warnings]));
          expect(thereKeys.asked).toEqual(hereKeys.asked);
          expectSameTotals(mixedTotals(worker, sinkDicts), inThreadTotals(inThread, sinkDicts));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('counts the lines of a domain past the cap under __other__, warned by line, on both paths, origin rows kept', async () => {
    // Service s has room for 2 domains: d3 (lines 3 and 5) is folded into __other__; t has its own room.
    const lines = ['d1', 'd2', 'd3', 'd1', 'd3', 'd3'].map((d, i) =>
      JSON.stringify({ timestamp: T0, service: i === 5 ? 't' : 's', datacenter: 'FRA', domain: `${d}.example`, status: 200, backend: `b${i}`, origin_status: 200 }),
    );
    const body = Buffer.from(lines.join('\n'));
    const want = { accepted: 6, rejected: 0, errors: [], tooManyEvents: false };
    const warnings = [
      { line: 3, reason: 'domain "d3.example" of service "s": cap' },
      { line: 5, reason: 'domain "d3.example" of service "s": cap' },
    ];
    for (const parse of [(o: ParseOptions) => Promise.resolve(parseInThread(body, o)), (o: ParseOptions) => pool.parse(body, o)]) {
      const dicts = createDictionaries();
      const caps = keyChecker();
      // Domains only: every line has a backend of its own.
      const r = await parse(options(dicts, { acceptKey: (key, service, value) => (key === 'domain' ? caps.accept(key, service, value) : undefined) }));
      expect(response(r)).toEqual(want);
      expect(r.folded).toBe(2);
      expect(r.warnings).toEqual(warnings);
      const totals = aggregateBatches([batchOf(r)], dicts);
      expect(totals.edge.map((e) => `${e.service}/${e.domain}/${e.values[REQUESTS]}`).sort()).toEqual(['s/__other__/2', 's/d1.example/2', 's/d2.example/1', 't/d3.example/1']);
      // The folded lines' origin fetches still count: every backend is there.
      expect(totals.origin.map((o) => o.backend).sort()).toEqual(['b0', 'b1', 'b2', 'b3', 'b4', 'b5']);
    }
  });

  it('equals the naive reference of events.md on the worker path (parsed and aggregated on a worker)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(arbitraryEvent, { maxLength: 60 }), { minLength: 1, maxLength: 4 }), async (bodies) => {
        const results = await Promise.all(bodies.map((events) => pool.parse(Buffer.from(events.map(eventLine).join('\n')), options(createDictionaries()))));
        expect(results.map((r) => r.accepted)).toEqual(bodies.map((b) => b.length));
        expectNaive(workerTotals(results), bodies.flat());
      }),
      { numRuns: 150 },
    );
  });

  it('reports refused services with their lines, and never interns their names or sends them on', async () => {
    const lines = ['refused', 'alpha', 'refused', 'nope'].map((service, i) =>
      JSON.stringify({ timestamp: T0, service, datacenter: `DC${i}`, domain: `d${i}.example`, status: 200, backend: `b${i}`, origin_status: 200 }),
    );
    const body = Buffer.from(lines.join('\n'));
    const refuse = (s: string): string | undefined => (s === 'alpha' ? undefined : `service "${s}": not allowed`);
    const want = {
      accepted: 1,
      rejected: 3,
      errors: [
        { line: 1, reason: 'service "refused": not allowed' },
        { line: 3, reason: 'service "refused": not allowed' },
        { line: 4, reason: 'service "nope": not allowed' },
      ],
      tooManyEvents: false,
    };
    const dicts = createDictionaries();
    const here = parseInThread(body, options(dicts, { acceptService: refuse }));
    expect(response(here)).toEqual(want);
    expect([dicts.service.size, dicts.datacenter.size, dicts.domain.size]).toEqual([1, 1, 1]);
    const there = await pool.parse(body, options(createDictionaries(), { acceptService: refuse }));
    expect(response(there)).toEqual(want);
    const delta = deltaOf(there);
    expect(deltaToRecordSet(delta).edge.map((r) => [r.service, r.datacenter, r.domain])).toEqual([['alpha', 'DC1', 'd1.example']]);
    // Only the kept rows' names: no datacenter, domain or backend of a refused line.
    expect(deltaStrings(delta).filter((s) => /refused|nope|DC[023]|d[023]\.|b[023]/.test(s))).toEqual([]);
  });

  it('parses concurrent bodies independently, each with its own events', async () => {
    const bodies = Array.from({ length: 12 }, (_, k) =>
      Buffer.from(
        Array.from({ length: 50 + k }, (_, i) => JSON.stringify({ timestamp: T0 + i, service: `svc${k}`, datacenter: 'FRA', domain: 'a.example', status: 200 })).join('\n'),
      ),
    );
    const results = await Promise.all(bodies.map((b) => pool.parse(b, options(createDictionaries()))));
    expect(results.map((r) => r.accepted)).toEqual(bodies.map((_, k) => 50 + k));
    const perBody = (r: ParsedBody): [string, number][] => {
      const rs: RecordSet = deltaToRecordSet(deltaOf(r));
      return [...new Set(rs.edge.map((e) => e.service))].map((s) => [s, rs.edge.filter((e) => e.service === s).reduce((n, e) => n + (e.values[0] as number), 0)]);
    };
    expect(results.map(perBody)).toEqual(bodies.map((_, k) => [[`svc${k}`, 50 + k]]));
  });

  it('stops at maxEvents like in-thread parsing, admitting nothing (no quota taken)', async () => {
    const body = Buffer.from(Array.from({ length: 5 }, () => JSON.stringify({ timestamp: T0, service: 's', datacenter: 'FRA', domain: 'a.example', status: 200 })).join('\n'));
    for (const parse of [async (o: ParseOptions) => parseInThread(body, o), (o: ParseOptions) => pool.parse(body, o)]) {
      const c = checker();
      const result = await parse(options(createDictionaries(), { maxEvents: 3, acceptService: c.accept }));
      expect(result.tooManyEvents).toBe(true);
      expect(c.asked).toEqual([]);
    }
  });

  it('gives the same answers across the worker starting its dictionaries again', async () => {
    const small = createParsePool({ workers: 1, minBodyBytes: 0, workerMaxNames: 10 });
    try {
      for (let round = 0; round < 6; round++) {
        const lines = Array.from({ length: 8 }, (_, i) => JSON.stringify({ timestamp: T0, service: `s${(round + i) % 5}`, datacenter: 'FRA', domain: `d${round}-${i}.example`, status: 200 }));
        const body = Buffer.from(lines.join('\n'));
        const dicts = createDictionaries();
        const here = parseInThread(body, options(dicts));
        const there = await small.parse(body, options(createDictionaries()));
        expect(response(there)).toEqual(response(here));
        expectSameTotals(workerTotals([there]), inThreadTotals([here], dicts));
      }
    } finally {
      await small.close();
    }
  });
});
