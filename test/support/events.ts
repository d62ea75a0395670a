/**
 * Events as plain objects (the fields of events.md, defaults applied) and their EventBatch, for
 * tests that check aggregation against the spec without going through the parser.
 */
import fc from 'fast-check';
import type { EventRow } from '../../src/ingest/event-rows.ts';
import { createDictionaries, type Dictionaries } from '../../src/model/dictionary.ts';
import {
  CACHE_VALUES,
  createEventBatch,
  FLAG_COMPUTE,
  FLAG_IPV6,
  FLAG_SHIELD,
  HTTP_VALUES,
  ORIGIN_ABSENT,
  PRODUCT_VALUES,
  TLS_VALUES,
  WAF_VALUES,
  type EventBatch,
} from '../../src/model/event.ts';

/** An enum's values other than '' (the code of an absent field, which a PlainEvent writes as undefined). */
type Present<T extends string> = Exclude<T, ''>;
const present = <T extends string>(values: readonly T[]): Present<T>[] => values.filter((v): v is Present<T> => v !== '');

/** An EventRow (the batch row as a plain object) whose enum fields take only the spec's values. */
export interface PlainEvent extends Omit<EventRow, 'cache' | 'tls' | 'http' | 'waf' | 'product'> {
  cache: (typeof CACHE_VALUES)[number];
  /** undefined = plain HTTP. */
  tls: Present<(typeof TLS_VALUES)[number]> | undefined;
  http: (typeof HTTP_VALUES)[number];
  /** undefined = no WAF verdict. */
  waf: Present<(typeof WAF_VALUES)[number]> | undefined;
  product: (typeof PRODUCT_VALUES)[number];
}

export const T0 = 1_767_225_600;

/** An event with the spec's defaults, overridden by `over`. */
export function event(over: Partial<PlainEvent> = {}): PlainEvent {
  return {
    second: T0,
    service: 'svc',
    datacenter: 'FRA',
    domain: 'www.example.com',
    status: 200,
    method: 'GET',
    cache: 'pass',
    req_header_bytes: 0,
    req_body_bytes: 0,
    resp_header_bytes: 0,
    resp_body_bytes: 0,
    time_ms: 0,
    origin_status: undefined,
    origin_time_ms: 0,
    bereq_header_bytes: 0,
    bereq_body_bytes: 0,
    beresp_header_bytes: 0,
    beresp_body_bytes: 0,
    backend: 'default',
    shield: false,
    compute: false,
    compute_time_ms: 0,
    compute_cpu_ms: 0,
    tls: undefined,
    http: '1.1',
    ipv6: false,
    waf: undefined,
    product: 'edge_application',
    ...over,
  };
}

const codeOf = (values: readonly string[], v: string): number => {
  const code = values.indexOf(v);
  if (code < 0) throw new Error(`no code for ${v}`);
  return code;
};

/** The columnar batch of `events`, interning names into `dicts`. */
export function batchOf(events: readonly PlainEvent[], dicts: Dictionaries = createDictionaries()): EventBatch {
  const b = createEventBatch(events.length);
  events.forEach((e, i) => {
    b.second[i] = e.second;
    b.service[i] = dicts.service.id(e.service);
    b.datacenter[i] = dicts.datacenter.id(e.datacenter);
    b.domain[i] = dicts.domain.id(e.domain);
    b.backend[i] = dicts.backend.id(e.backend);
    b.method[i] = dicts.method.id(e.method);
    b.status[i] = e.status;
    b.cache[i] = codeOf(CACHE_VALUES, e.cache);
    b.tls[i] = codeOf(TLS_VALUES, e.tls ?? '');
    b.http[i] = codeOf(HTTP_VALUES, e.http);
    b.waf[i] = codeOf(WAF_VALUES, e.waf ?? '');
    b.product[i] = codeOf(PRODUCT_VALUES, e.product);
    b.flags[i] = (e.shield ? FLAG_SHIELD : 0) | (e.compute ? FLAG_COMPUTE : 0) | (e.ipv6 ? FLAG_IPV6 : 0);
    b.originStatus[i] = e.origin_status ?? ORIGIN_ABSENT;
    b.reqHeaderBytes[i] = e.req_header_bytes;
    b.reqBodyBytes[i] = e.req_body_bytes;
    b.respHeaderBytes[i] = e.resp_header_bytes;
    b.respBodyBytes[i] = e.resp_body_bytes;
    b.bereqHeaderBytes[i] = e.bereq_header_bytes;
    b.bereqBodyBytes[i] = e.bereq_body_bytes;
    b.berespHeaderBytes[i] = e.beresp_header_bytes;
    b.berespBodyBytes[i] = e.beresp_body_bytes;
    b.timeMs[i] = e.time_ms;
    b.originTimeMs[i] = e.origin_time_ms;
    b.computeTimeMs[i] = e.compute_time_ms;
    b.computeCpuMs[i] = e.compute_cpu_ms;
  });
  b.length = events.length;
  return b;
}

const bytes = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2_000 }), fc.integer({ min: 0, max: 2 ** 31 }));
const ms = fc.oneof(fc.constant(0), fc.double({ min: 0, max: 100, noNaN: true }), fc.integer({ min: 0, max: 70_000 }));
const statusCode = fc.oneof(
  fc.constantFrom(103, 200, 204, 206, 301, 302, 304, 400, 401, 403, 404, 406, 416, 429, 500, 501, 502, 503, 504, 505, 530),
  fc.integer({ min: 100, max: 599 }),
);

/** Random valid events over a few names and seconds, so keys repeat. */
export const arbitraryEvent: fc.Arbitrary<PlainEvent> = fc.record({
  second: fc.integer({ min: T0, max: T0 + 3 }),
  service: fc.constantFrom('a', 'b'),
  datacenter: fc.constantFrom('FRA', 'LHR', 'NRT'),
  domain: fc.constantFrom('x.com', 'y.com'),
  status: statusCode,
  method: fc.constantFrom('GET', 'POST', 'HEAD'),
  cache: fc.constantFrom(...CACHE_VALUES),
  req_header_bytes: bytes,
  req_body_bytes: bytes,
  resp_header_bytes: bytes,
  resp_body_bytes: fc.oneof(bytes, fc.constantFrom(1023, 1024, 10239, 10240, 1073741823, 1073741824, 5e9)),
  time_ms: ms,
  origin_status: fc.option(fc.oneof(fc.constant(0), statusCode), { nil: undefined }),
  origin_time_ms: fc.oneof(ms, fc.constantFrom(0.5, 1, 10, 59999, 60000, 1e7)),
  bereq_header_bytes: bytes,
  bereq_body_bytes: bytes,
  beresp_header_bytes: bytes,
  beresp_body_bytes: bytes,
  backend: fc.constantFrom('default', 'origin-2'),
  shield: fc.boolean(),
  compute: fc.boolean(),
  compute_time_ms: ms,
  compute_cpu_ms: ms,
  tls: fc.constantFrom(undefined, ...present(TLS_VALUES)),
  http: fc.constantFrom(...HTTP_VALUES),
  ipv6: fc.boolean(),
  waf: fc.constantFrom(undefined, ...present(WAF_VALUES)),
  product: fc.constantFrom('edge_application', 'image_processor'),
});

/** The NDJSON line of `e` (events.md section 1): what a client sends for it. */
export function eventLine(e: PlainEvent): string {
  const { second, origin_status, tls, waf, ...rest } = e;
  return JSON.stringify({
    timestamp: second,
    ...rest,
    ...(origin_status === undefined ? {} : { origin_status }),
    ...(tls === undefined ? {} : { tls }),
    ...(waf === undefined ? {} : { waf }),
  });
}
