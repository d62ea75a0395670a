/**
 * THE derivation rules of events.md section 2: for every field of EDGE_FIELDS and ORIGIN_FIELDS,
 * exactly one rule "when <conditions on the event> add <value> to <field>". Nothing else decides
 * what a field counts: aggregate-batch.ts runs these rules compiled (compile-table.ts), and the
 * table is checked against the layout when this module loads (a field without a rule, or with
 * two, is an error at startup and in every test).
 *
 * How to add a field (one row):
 *   1. add its name to EDGE_FIELDS or ORIGIN_FIELDS in src/model/fields.ts (the vector layout;
 *      also the store's column name, so the store schema picks it up);
 *   2. add one row below, e.g. `{ field: 'hit_req_body_bytes', when: { cache: 'hit' }, add: 'req_body_bytes' }`.
 *      Conditions are on the axes of axes.ts (`cache`, `shield`, `status`, `originStatus`...), each
 *      a literal to compare with or a predicate; `add` names one of axes.ts EVENT_VALUES.
 *   Only when no axis gives the fact you need (or no value the quantity) add one in axes.ts.
 *
 * Edge rules see every event of the group; origin rules see origin fetches only (an event with
 * `origin_status` present), grouped by backend.
 */
import {
  COMPUTE_RESP_EXACT_STATUSES,
  EDGE_FIELDS,
  EXACT_STATUSES,
  MISS_HISTOGRAM_EDGES,
  OBJECT_SIZE_BUCKETS,
  ORIGIN_FIELDS,
  ORIGIN_LATENCY_BUCKETS,
  missHistogramField,
} from '../model/fields.ts';
import { EVENT_AXES, type EventAxes } from './axes.ts';
import { compileTable, type FieldRule, type When } from './compile-table.ts';

export type Rule = FieldRule<EventAxes>;

/** `origin_status` present: the event was fetched from origin (0 = fetched, no response). */
const isFetch = (s: number | null): boolean => s !== null;
const inClass =
  (c: number) =>
  (s: number | null): boolean =>
    s !== null && Math.floor(s / 100) === c;
const CLASSES = [1, 2, 3, 4, 5] as const;

/** `<prefix>_1xx`..`_5xx` by status class, then `<prefix>_NNN` for each exact status. */
function statusRules(
  prefix: string,
  exact: readonly number[],
  when: (status: (s: number | null) => boolean) => When<EventAxes>,
): Rule[] {
  return [
    ...CLASSES.map((c) => ({ field: `${prefix}_${c}xx`, when: when(inClass(c)), add: 'one' as const })),
    ...exact.map((n) => ({ field: `${prefix}_${n}`, when: when((s) => s === n), add: 'one' as const })),
  ];
}

const compute = true;
const FETCH = { originStatus: isFetch };

export const EDGE_RULES: readonly Rule[] = [
  { field: 'requests', when: {}, add: 'one' },
  { field: 'hits', when: { cache: 'hit' }, add: 'one' },
  { field: 'miss', when: { cache: 'miss' }, add: 'one' },
  { field: 'pass', when: { cache: 'pass' }, add: 'one' },
  { field: 'synth', when: { cache: 'synth' }, add: 'one' },
  { field: 'errors', when: { cache: 'error' }, add: 'one' },
  { field: 'hits_time', when: { cache: 'hit' }, add: 'time_s' },
  { field: 'miss_time', when: { cache: 'miss' }, add: 'time_s' },
  { field: 'pass_time', when: { cache: 'pass' }, add: 'time_s' },
  { field: 'resp_header_bytes', when: {}, add: 'resp_header_bytes' },
  { field: 'resp_body_bytes', when: {}, add: 'resp_body_bytes' },
  { field: 'req_header_bytes', when: {}, add: 'req_header_bytes' },
  { field: 'req_body_bytes', when: {}, add: 'req_body_bytes' },
  { field: 'bereq_header_bytes', when: {}, add: 'bereq_header_bytes' },
  { field: 'bereq_body_bytes', when: {}, add: 'bereq_body_bytes' },
  // Extension: Azion's data_offloaded needs the header bytes of hits too.
  { field: 'hit_resp_header_bytes', when: { cache: 'hit' }, add: 'resp_header_bytes' },
  { field: 'hit_resp_body_bytes', when: { cache: 'hit' }, add: 'resp_body_bytes' },
  { field: 'miss_resp_body_bytes', when: { cache: 'miss' }, add: 'resp_body_bytes' },
  { field: 'pass_resp_body_bytes', when: { cache: 'pass' }, add: 'resp_body_bytes' },
  ...statusRules('status', EXACT_STATUSES, (status) => ({ status })),
  { field: 'edge_requests', when: { shield: false }, add: 'one' },
  { field: 'edge_resp_header_bytes', when: { shield: false }, add: 'resp_header_bytes' },
  { field: 'edge_resp_body_bytes', when: { shield: false }, add: 'resp_body_bytes' },
  { field: 'edge_hit_requests', when: { shield: false, cache: 'hit' }, add: 'one' },
  { field: 'edge_miss_requests', when: { shield: false, cache: 'miss' }, add: 'one' },
  { field: 'shield', when: { shield: true }, add: 'one' },
  { field: 'origin_fetches', when: FETCH, add: 'one' },
  { field: 'origin_fetch_header_bytes', when: FETCH, add: 'bereq_header_bytes' },
  { field: 'origin_fetch_body_bytes', when: FETCH, add: 'bereq_body_bytes' },
  { field: 'origin_fetch_resp_header_bytes', when: FETCH, add: 'beresp_header_bytes' },
  { field: 'origin_fetch_resp_body_bytes', when: FETCH, add: 'beresp_body_bytes' },
  ...statusRules('origin_status', EXACT_STATUSES, (originStatus) => ({ originStatus })),
  { field: 'tls', when: { tls: (v) => v !== '' }, add: 'one' },
  { field: 'tls_v10', when: { tls: '1.0' }, add: 'one' },
  { field: 'tls_v11', when: { tls: '1.1' }, add: 'one' },
  { field: 'tls_v12', when: { tls: '1.2' }, add: 'one' },
  { field: 'tls_v13', when: { tls: '1.3' }, add: 'one' },
  { field: 'http2', when: { http: '2' }, add: 'one' },
  { field: 'http3', when: { http: '3' }, add: 'one' },
  { field: 'ipv6', when: { ipv6: true }, add: 'one' },
  { field: 'waf_blocked', when: { waf: 'blocked' }, add: 'one' },
  { field: 'waf_logged', when: { waf: 'logged' }, add: 'one' },
  { field: 'waf_passed', when: { waf: 'passed' }, add: 'one' },
  ...OBJECT_SIZE_BUCKETS.map(([field], k): Rule => ({ field, when: { objectSize: k }, add: 'one' })),
  { field: 'object_size_other', when: { objectSize: OBJECT_SIZE_BUCKETS.length }, add: 'one' },
  { field: 'compute_requests', when: { compute }, add: 'one' },
  { field: 'compute_request_time_ms', when: { compute }, add: 'compute_time_ms' },
  { field: 'compute_execution_time_ms', when: { compute }, add: 'compute_cpu_ms' },
  { field: 'compute_request_time_billed_ms', when: { compute }, add: 'compute_billed_ms' },
  { field: 'compute_req_header_bytes', when: { compute }, add: 'req_header_bytes' },
  { field: 'compute_req_body_bytes', when: { compute }, add: 'req_body_bytes' },
  { field: 'compute_resp_header_bytes', when: { compute }, add: 'resp_header_bytes' },
  { field: 'compute_resp_body_bytes', when: { compute }, add: 'resp_body_bytes' },
  // COMPUTE_RESP_EXACT_STATUSES adds 103 (extension for the Domain Inspector).
  ...statusRules('compute_resp_status', COMPUTE_RESP_EXACT_STATUSES, (status) => ({ compute, status })),
  { field: 'compute_bereqs', when: { compute, ...FETCH }, add: 'one' },
  { field: 'compute_bereq_header_bytes', when: { compute, ...FETCH }, add: 'bereq_header_bytes' },
  { field: 'compute_bereq_body_bytes', when: { compute, ...FETCH }, add: 'bereq_body_bytes' },
  { field: 'compute_beresp_header_bytes', when: { compute, ...FETCH }, add: 'beresp_header_bytes' },
  { field: 'compute_beresp_body_bytes', when: { compute, ...FETCH }, add: 'beresp_body_bytes' },
  {
    field: 'compute_bereq_errors',
    when: { compute, originStatus: (s) => s !== null && (s === 0 || s >= 500) },
    add: 'one',
  },
  ...statusRules('compute_origin_status', EXACT_STATUSES, (originStatus) => ({ compute, originStatus })),
  // missEdge is null unless the event is an origin fetch.
  ...MISS_HISTOGRAM_EDGES.map((edge): Rule => ({ field: missHistogramField(edge), when: { missEdge: edge }, add: 'one' })),
];

/** Origin Inspector rules, per backend. Every rule requires a fetch, which also makes them one group. */
export const ORIGIN_RULES: readonly Rule[] = [
  { field: 'responses', when: FETCH, add: 'one' },
  { field: 'resp_header_bytes', when: FETCH, add: 'beresp_header_bytes' },
  { field: 'resp_body_bytes', when: FETCH, add: 'beresp_body_bytes' },
  { field: 'req_header_bytes', when: FETCH, add: 'bereq_header_bytes' },
  { field: 'req_body_bytes', when: FETCH, add: 'bereq_body_bytes' },
  ...statusRules('status', EXACT_STATUSES, (originStatus) => ({ originStatus })),
  ...ORIGIN_LATENCY_BUCKETS.map(([field], k): Rule => ({ field, when: { ...FETCH, originLatency: k }, add: 'one' })),
];

/** The tables compiled for the hot path (aggregate-batch.ts). Throws on load if a table is wrong. */
export const EDGE_TABLE = compileTable(EDGE_RULES, EDGE_FIELDS, EVENT_AXES);
export const ORIGIN_TABLE = compileTable(ORIGIN_RULES, ORIGIN_FIELDS, EVENT_AXES);
