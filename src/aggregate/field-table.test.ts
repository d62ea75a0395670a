/**
 * One or more rows per derived field (events.md section 2): given events -> expected value.
 * A last test fails when a field of the layout has no row here.
 */
import { describe, expect, it } from 'vitest';
import { batchOf, event, type PlainEvent } from '../../test/support/events.ts';
import { createDictionaries } from '../model/dictionary.ts';
import {
  COMPUTE_RESP_EXACT_STATUSES,
  EDGE_FIELDS,
  edgeFieldIndex,
  EXACT_STATUSES,
  MISS_HISTOGRAM_EDGES,
  missHistogramField,
  ORIGIN_FIELDS,
  originFieldIndex,
} from '../model/fields.ts';
import { aggregateBatch } from './aggregate-batch.ts';
import { EDGE_RULES, ORIGIN_RULES } from './field-table.ts';
import { compileTable } from './compile-table.ts';
import { EVENT_AXES } from './axes.ts';

type Case = [field: string, events: PlainEvent[], expected: number];

const e = event;
const fetch = (over: Partial<PlainEvent> = {}): PlainEvent => e({ origin_status: 200, ...over });
const compute = (over: Partial<PlainEvent> = {}): PlainEvent => e({ compute: true, ...over });

const edgeCases: Case[] = [
  ['requests', [e(), e({ shield: true }), e({ cache: 'hit' })], 3],
  ['hits', [e({ cache: 'hit' }), e({ cache: 'miss' })], 1],
  ['miss', [e({ cache: 'miss' }), e({ cache: 'miss' }), e()], 2],
  ['pass', [e(), e({ cache: 'hit' })], 1], // pass is the default cache outcome
  ['synth', [e({ cache: 'synth' })], 1],
  ['errors', [e({ cache: 'error' }), e({ cache: 'synth' })], 1],
  ['hits_time', [e({ cache: 'hit', time_ms: 1500 }), e({ cache: 'hit', time_ms: 250 }), e({ cache: 'miss', time_ms: 9 })], 1.75],
  ['miss_time', [e({ cache: 'miss', time_ms: 20 }), e({ cache: 'hit', time_ms: 5 })], 0.02],
  ['pass_time', [e({ time_ms: 1000 })], 1],
  ['resp_header_bytes', [e({ resp_header_bytes: 300 }), e({ resp_header_bytes: 200, shield: true })], 500],
  ['resp_body_bytes', [e({ resp_body_bytes: 7 }), e({ resp_body_bytes: 8 })], 15],
  ['req_header_bytes', [e({ req_header_bytes: 400 }), e({ req_header_bytes: 1 })], 401],
  ['req_body_bytes', [e({ req_body_bytes: 123 })], 123],
  ['bereq_header_bytes', [fetch({ bereq_header_bytes: 50 }), e({ bereq_header_bytes: 5 })], 55],
  ['bereq_body_bytes', [fetch({ bereq_body_bytes: 70 })], 70],
  ['hit_resp_header_bytes', [e({ cache: 'hit', resp_header_bytes: 30 }), e({ cache: 'miss', resp_header_bytes: 5 })], 30],
  ['hit_resp_body_bytes', [e({ cache: 'hit', resp_body_bytes: 30 }), e({ resp_body_bytes: 5 })], 30],
  ['miss_resp_body_bytes', [e({ cache: 'miss', resp_body_bytes: 40 }), e({ cache: 'hit', resp_body_bytes: 5 })], 40],
  ['pass_resp_body_bytes', [e({ resp_body_bytes: 9 }), e({ cache: 'synth', resp_body_bytes: 5 })], 9],
  ['status_1xx', [e({ status: 100 }), e({ status: 199 }), e({ status: 200 })], 2],
  ['status_2xx', [e({ status: 200 }), e({ status: 299 }), e({ status: 300 })], 2],
  ['status_3xx', [e({ status: 304 }), e({ status: 399 })], 2],
  ['status_4xx', [e({ status: 404 }), e({ status: 500 })], 1],
  ['status_5xx', [e({ status: 599 }), e({ status: 503 }), e({ status: 499 })], 2],
  ...EXACT_STATUSES.map((s): Case => [`status_${s}`, [e({ status: s }), e({ status: s + 1 }), e({ status: s })], 2]),
  ['edge_requests', [e(), e({ shield: true }), e()], 2],
  ['edge_resp_header_bytes', [e({ resp_header_bytes: 10 }), e({ resp_header_bytes: 99, shield: true })], 10],
  ['edge_resp_body_bytes', [e({ resp_body_bytes: 10 }), e({ resp_body_bytes: 99, shield: true })], 10],
  ['edge_hit_requests', [e({ cache: 'hit' }), e({ cache: 'hit', shield: true }), e({ cache: 'miss' })], 1],
  ['edge_miss_requests', [e({ cache: 'miss' }), e({ cache: 'miss', shield: true }), e({ cache: 'hit' })], 1],
  ['shield', [e({ shield: true }), e(), e({ shield: true })], 2],
  ['origin_fetches', [fetch(), fetch({ origin_status: 0 }), e()], 2],
  ['origin_fetch_header_bytes', [fetch({ bereq_header_bytes: 11 }), e({ bereq_header_bytes: 100 })], 11],
  ['origin_fetch_body_bytes', [fetch({ bereq_body_bytes: 12 }), e({ bereq_body_bytes: 100 })], 12],
  ['origin_fetch_resp_header_bytes', [fetch({ beresp_header_bytes: 13 }), e({ beresp_header_bytes: 100 })], 13],
  ['origin_fetch_resp_body_bytes', [fetch({ beresp_body_bytes: 14 }), fetch({ origin_status: 0, beresp_body_bytes: 1 })], 15],
  ['origin_status_1xx', [fetch({ origin_status: 101 }), fetch({ origin_status: 0 })], 1],
  ['origin_status_2xx', [fetch({ origin_status: 200 }), fetch({ origin_status: 0 }), e({ status: 200 })], 1],
  ['origin_status_3xx', [fetch({ origin_status: 302 })], 1],
  ['origin_status_4xx', [fetch({ origin_status: 404 }), fetch({ origin_status: 500 })], 1],
  ['origin_status_5xx', [fetch({ origin_status: 503 }), fetch({ origin_status: 0 }), e({ status: 503 })], 1],
  ...EXACT_STATUSES.map((s): Case => [`origin_status_${s}`, [fetch({ origin_status: s }), fetch({ origin_status: 0 }), e({ status: s })], 1]),
  ['tls', [e({ tls: '1.2' }), e({ tls: '1.3' }), e()], 2],
  ['tls_v10', [e({ tls: '1.0' }), e({ tls: '1.1' })], 1],
  ['tls_v11', [e({ tls: '1.1' })], 1],
  ['tls_v12', [e({ tls: '1.2' }), e({ tls: '1.3' })], 1],
  ['tls_v13', [e({ tls: '1.3' }), e()], 1],
  ['http2', [e({ http: '2' }), e({ http: '3' }), e()], 1],
  ['http3', [e({ http: '3' }), e({ http: '2' })], 1],
  ['ipv6', [e({ ipv6: true }), e()], 1],
  ['waf_blocked', [e({ waf: 'blocked' }), e({ waf: 'logged' })], 1],
  ['waf_logged', [e({ waf: 'logged' }), e()], 1],
  ['waf_passed', [e({ waf: 'passed' }), e({ waf: 'blocked' })], 1],
  ['object_size_1k', [e({ resp_body_bytes: 0 }), e({ resp_body_bytes: 1023 }), e({ resp_body_bytes: 1024 })], 2],
  ['object_size_10k', [e({ resp_body_bytes: 1024 }), e({ resp_body_bytes: 10239 }), e({ resp_body_bytes: 10240 })], 2],
  ['object_size_100k', [e({ resp_body_bytes: 10240 }), e({ resp_body_bytes: 102399 }), e({ resp_body_bytes: 102400 })], 2],
  ['object_size_1m', [e({ resp_body_bytes: 102400 }), e({ resp_body_bytes: 1048575 }), e({ resp_body_bytes: 1048576 })], 2],
  ['object_size_10m', [e({ resp_body_bytes: 1048576 }), e({ resp_body_bytes: 10485759 }), e({ resp_body_bytes: 10485760 })], 2],
  ['object_size_100m', [e({ resp_body_bytes: 10485760 }), e({ resp_body_bytes: 104857599 }), e({ resp_body_bytes: 104857600 })], 2],
  ['object_size_1g', [e({ resp_body_bytes: 104857600 }), e({ resp_body_bytes: 1073741823 }), e({ resp_body_bytes: 1073741824 })], 2],
  ['object_size_other', [e({ resp_body_bytes: 1073741824 }), e({ resp_body_bytes: 5e12 }), e({ resp_body_bytes: 1073741823 })], 2],
  ['compute_requests', [compute(), e()], 1],
  ['compute_request_time_ms', [compute({ compute_time_ms: 12.5 }), e({ compute_time_ms: 100 })], 12.5],
  ['compute_execution_time_ms', [compute({ compute_cpu_ms: 3.25 }), e({ compute_cpu_ms: 100 })], 3.25],
  // ceil(t / 50) * 50 per event: 0 -> 0, 1 -> 50, 50 -> 50, 51 -> 100.
  ['compute_request_time_billed_ms', [compute({ compute_time_ms: 0 })], 0],
  ['compute_request_time_billed_ms', [compute({ compute_time_ms: 1 })], 50],
  ['compute_request_time_billed_ms', [compute({ compute_time_ms: 50 })], 50],
  ['compute_request_time_billed_ms', [compute({ compute_time_ms: 51 })], 100],
  ['compute_request_time_billed_ms', [compute({ compute_time_ms: 0.1 }), compute({ compute_time_ms: 0.1 }), e({ compute_time_ms: 9 })], 100],
  ['compute_req_header_bytes', [compute({ req_header_bytes: 5 }), e({ req_header_bytes: 100 })], 5],
  ['compute_req_body_bytes', [compute({ req_body_bytes: 6 }), e({ req_body_bytes: 100 })], 6],
  ['compute_resp_header_bytes', [compute({ resp_header_bytes: 7 }), e({ resp_header_bytes: 100 })], 7],
  ['compute_resp_body_bytes', [compute({ resp_body_bytes: 8 }), e({ resp_body_bytes: 100 })], 8],
  ['compute_resp_status_1xx', [compute({ status: 103 }), e({ status: 103 })], 1],
  ['compute_resp_status_2xx', [compute({ status: 200 }), e()], 1],
  ['compute_resp_status_3xx', [compute({ status: 301 }), compute({ status: 200 })], 1],
  ['compute_resp_status_4xx', [compute({ status: 404 }), e({ status: 404 })], 1],
  ['compute_resp_status_5xx', [compute({ status: 500 }), compute({ status: 599 })], 2],
  ...COMPUTE_RESP_EXACT_STATUSES.map((s): Case => [`compute_resp_status_${s}`, [compute({ status: s }), e({ status: s })], 1]),
  ['compute_bereqs', [compute({ origin_status: 200 }), compute({ origin_status: 0 }), compute(), fetch()], 2],
  ['compute_bereq_header_bytes', [compute({ origin_status: 200, bereq_header_bytes: 9 }), fetch({ bereq_header_bytes: 100 })], 9],
  ['compute_bereq_body_bytes', [compute({ origin_status: 200, bereq_body_bytes: 10 }), compute({ bereq_body_bytes: 100 })], 10],
  ['compute_beresp_header_bytes', [compute({ origin_status: 200, beresp_header_bytes: 11 }), fetch({ beresp_header_bytes: 1 })], 11],
  ['compute_beresp_body_bytes', [compute({ origin_status: 200, beresp_body_bytes: 12 }), fetch({ beresp_body_bytes: 1 })], 12],
  [
    'compute_bereq_errors',
    [
      compute({ origin_status: 0 }),
      compute({ origin_status: 500 }),
      compute({ origin_status: 503 }),
      compute({ origin_status: 499 }),
      compute(),
      fetch({ origin_status: 0 }),
    ],
    3,
  ],
  ['compute_origin_status_1xx', [compute({ origin_status: 100 }), compute({ origin_status: 0 })], 1],
  ['compute_origin_status_2xx', [compute({ origin_status: 200 }), fetch({ origin_status: 200 })], 1],
  ['compute_origin_status_3xx', [compute({ origin_status: 304 })], 1],
  ['compute_origin_status_4xx', [compute({ origin_status: 429 }), compute({ status: 429 })], 1],
  ['compute_origin_status_5xx', [compute({ origin_status: 530 }), compute({ origin_status: 0 })], 1],
  ...EXACT_STATUSES.map((s): Case => [`compute_origin_status_${s}`, [compute({ origin_status: s }), fetch({ origin_status: s })], 1]),
  // The smallest edge > t; t >= 60000 -> 60000; only origin fetches.
  ['miss_histogram_1', [fetch({ origin_time_ms: 0 }), fetch({ origin_time_ms: 0.5 }), e({ origin_time_ms: 0.5 })], 2],
  ['miss_histogram_2', [fetch({ origin_time_ms: 1 }), fetch({ origin_time_ms: 1.999 })], 2],
  ['miss_histogram_20', [fetch({ origin_time_ms: 10 }), fetch({ origin_time_ms: 19.5 }), fetch({ origin_time_ms: 20 })], 2],
  ['miss_histogram_300', [fetch({ origin_time_ms: 250 }), fetch({ origin_time_ms: 299 })], 2],
  ['miss_histogram_60000', [fetch({ origin_time_ms: 59999 }), fetch({ origin_time_ms: 60000 }), fetch({ origin_time_ms: 1e9 })], 3],
  ...MISS_HISTOGRAM_EDGES.map((edge, k): Case => {
    const below = k === 0 ? 0 : (MISS_HISTOGRAM_EDGES[k - 1] as number);
    // Both ends of the bucket [previous edge, edge), and a fetch with origin_status 0 counts too.
    return [missHistogramField(edge), [fetch({ origin_time_ms: below }), fetch({ origin_status: 0, origin_time_ms: edge - 0.001 }), e({ origin_time_ms: below })], 2];
  }),
];

const originCases: Case[] = [
  ['responses', [fetch(), fetch({ origin_status: 0 }), e()], 2],
  ['resp_header_bytes', [fetch({ beresp_header_bytes: 5, resp_header_bytes: 99 }), e({ beresp_header_bytes: 100 })], 5],
  ['resp_body_bytes', [fetch({ beresp_body_bytes: 6, resp_body_bytes: 99 })], 6],
  ['req_header_bytes', [fetch({ bereq_header_bytes: 7, req_header_bytes: 99 }), e({ bereq_header_bytes: 100 })], 7],
  ['req_body_bytes', [fetch({ bereq_body_bytes: 8, req_body_bytes: 99 })], 8],
  ['status_1xx', [fetch({ origin_status: 100 }), fetch({ origin_status: 0 })], 1],
  ['status_2xx', [fetch({ origin_status: 204 }), fetch({ origin_status: 0, status: 200 })], 1],
  ['status_3xx', [fetch({ origin_status: 399 })], 1],
  ['status_4xx', [fetch({ origin_status: 400 }), fetch({ origin_status: 500 })], 1],
  ['status_5xx', [fetch({ origin_status: 500 }), fetch({ origin_status: 0 })], 1],
  ...EXACT_STATUSES.map((s): Case => [`status_${s}`, [fetch({ origin_status: s }), fetch({ origin_status: 0, status: s })], 1]),
  ['latency_0_to_1ms', [fetch({ origin_time_ms: 0 }), fetch({ origin_time_ms: 0.999 }), fetch({ origin_time_ms: 1 })], 2],
  ['latency_1_to_5ms', [fetch({ origin_time_ms: 1 }), fetch({ origin_time_ms: 4.99 }), fetch({ origin_time_ms: 5 })], 2],
  ['latency_5_to_10ms', [fetch({ origin_time_ms: 5 }), fetch({ origin_time_ms: 10 })], 1],
  ['latency_10_to_50ms', [fetch({ origin_time_ms: 10 }), fetch({ origin_time_ms: 49 })], 2],
  ['latency_50_to_100ms', [fetch({ origin_time_ms: 50 }), fetch({ origin_time_ms: 100 })], 1],
  ['latency_100_to_250ms', [fetch({ origin_time_ms: 100 }), fetch({ origin_time_ms: 249.9 })], 2],
  ['latency_250_to_500ms', [fetch({ origin_time_ms: 250 }), fetch({ origin_time_ms: 500 })], 1],
  ['latency_500_to_1000ms', [fetch({ origin_time_ms: 500 }), fetch({ origin_time_ms: 999 })], 2],
  ['latency_1000_to_5000ms', [fetch({ origin_time_ms: 1000 }), fetch({ origin_time_ms: 5000 })], 1],
  ['latency_5000_to_10000ms', [fetch({ origin_time_ms: 5000 }), fetch({ origin_time_ms: 9999 })], 2],
  ['latency_10000_to_60000ms', [fetch({ origin_time_ms: 10000 }), fetch({ origin_time_ms: 60000 })], 1],
  ['latency_60000ms', [fetch({ origin_time_ms: 60000 }), fetch({ origin_time_ms: 1e8 }), e({ origin_time_ms: 1e8 })], 2],
];

function aggregate(events: PlainEvent[]) {
  const dicts = createDictionaries();
  return aggregateBatch(batchOf(events, dicts), dicts);
}

/** Sum of `field` over every edge record the events produce. */
function edgeValue(events: PlainEvent[], field: string): number {
  const records = aggregate(events);
  const at = edgeFieldIndex.get(field) as number;
  return records.edge.reduce((sum, r) => sum + (r.values[at] as number), 0);
}

function originValue(events: PlainEvent[], field: string): number {
  const records = aggregate(events);
  const at = originFieldIndex.get(field) as number;
  return records.origin.reduce((sum, r) => sum + (r.values[at] as number), 0);
}

describe('edge fields (events.md section 2)', () => {
  it.each(edgeCases)('%s of %j is %d', (field, events, expected) => {
    expect(edgeValue(events, field)).toBeCloseTo(expected, 9);
  });
});


describe('origin fields (Origin Inspector, per backend)', () => {
  it.each(originCases)('%s of %j is %d', (field, events, expected) => {
    expect(originValue(events, field)).toBeCloseTo(expected, 9);
  });
});

describe('the table', () => {
  it('has a test row for every field of the layout', () => {
    const tested = new Set(edgeCases.map(([f]) => f));
    expect(EDGE_FIELDS.filter((f) => !tested.has(f))).toEqual([]);
    const testedOrigin = new Set(originCases.map(([f]) => f));
    expect(ORIGIN_FIELDS.filter((f) => !testedOrigin.has(f))).toEqual([]);
  });

  it('has exactly one rule per field', () => {
    expect(EDGE_RULES.map((r) => r.field).sort()).toEqual([...EDGE_FIELDS].sort());
    expect(ORIGIN_RULES.map((r) => r.field).sort()).toEqual([...ORIGIN_FIELDS].sort());
  });

  it('refuses a table with a missing, doubled or unknown field at load', () => {
    const rules = EDGE_RULES.slice(1);
    expect(() => compileTable(rules, EDGE_FIELDS, EVENT_AXES)).toThrow(/no rule for requests/);
    expect(() => compileTable([...EDGE_RULES, EDGE_RULES[0]!], EDGE_FIELDS, EVENT_AXES)).toThrow(/two rules/);
    expect(() => compileTable([...EDGE_RULES, { field: 'nope', when: {}, add: 'one' }], EDGE_FIELDS, EVENT_AXES)).toThrow(/unknown field nope/);
  });

  it('keeps counts and byte sums integers', () => {
    const events = [e({ resp_body_bytes: 2 ** 40, status: 404 }), e({ resp_body_bytes: 3 }), fetch({ bereq_body_bytes: 17 })];
    const [record] = aggregate(events).edge;
    for (const f of ['requests', 'resp_body_bytes', 'status_404', 'origin_fetch_body_bytes', 'object_size_other']) {
      expect(Number.isInteger(record?.values[edgeFieldIndex.get(f) as number])).toBe(true);
    }
    expect(record?.values[edgeFieldIndex.get('resp_body_bytes') as number]).toBe(2 ** 40 + 3);
  });
});
