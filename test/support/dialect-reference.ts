/**
 * A seeded event list and the answers each dialect must give for it, computed here from the
 * events alone (plain sums of naive-reference.ts, events.md sections 2 and 3): the cluster
 * reference test (test/clickhouse-cluster-dialects.test.ts) checks every node's answers with it.
 * The events are drawn with the demo's seeded generator (createRandom), so a failure reproduces.
 */
import { expect } from 'vitest';
import { createRandom } from '../../src/demo/synthetic-traffic.ts';
import { event, type PlainEvent } from './events.ts';
import { naive, type Sums } from './naive-reference.ts';
import { exactMetric, expectClose, PERCENTILE_METRICS } from './percentile-reference.ts';

export const SERVICES = ['shop', 'news', 'media'] as const;
export const POPS = ['AMS', 'FRA', 'LHR', 'NRT'] as const;
export const BACKENDS = ['origin-a', 'origin-b'] as const;
export const domainsOf = (service: string): string[] => [`www.${service}.example`, `img.${service}.example`];

/**
 * `count` events over `seconds`: every field of events.md drawn from a few values (times and
 * sizes integers, so the percentiles below 1024 are exact), 85% of them Edge Applications, the
 * rest the Image Processor.
 */
export function generateEvents(seed: number, seconds: readonly number[], count: number): PlainEvent[] {
  const random = createRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const int = (max: number): number => Math.floor(random() * (max + 1));
  return Array.from({ length: count }, () => {
    const service = pick(SERVICES);
    const cache = pick(['hit', 'hit', 'hit', 'miss', 'miss', 'pass', 'synth', 'error'] as const);
    const fetched = (cache === 'miss' || cache === 'pass') && random() < 0.9;
    const compute = random() < 0.15;
    return event({
      second: pick(seconds),
      service,
      datacenter: pick(POPS),
      domain: pick(domainsOf(service)),
      status: pick([200, 200, 200, 200, 204, 206, 301, 304, 404, 429, 500, 503]),
      method: pick(['GET', 'GET', 'GET', 'POST', 'HEAD']),
      cache,
      req_header_bytes: 200 + int(600),
      req_body_bytes: random() < 0.2 ? int(5000) : 0,
      resp_header_bytes: 100 + int(500),
      resp_body_bytes: pick([0, int(1000), int(20_000), int(300_000), int(3_000_000)]),
      time_ms: int(900),
      ...(fetched ? { origin_status: pick([200, 200, 200, 404, 503, 0]), origin_time_ms: int(3000), bereq_header_bytes: 300 + int(300), bereq_body_bytes: int(100), beresp_header_bytes: 200 + int(200), beresp_body_bytes: int(200_000), backend: pick(BACKENDS) } : {}),
      shield: random() < 0.1,
      compute,
      ...(compute ? { compute_time_ms: int(400), compute_cpu_ms: int(100) } : {}),
      tls: pick([undefined, '1.2', '1.3', '1.3'] as const),
      http: pick(['1.1', '2', '2', '3'] as const),
      ipv6: random() < 0.3,
      waf: pick([undefined, undefined, 'blocked', 'logged', 'passed'] as const),
      product: random() < 0.85 ? 'edge_application' : 'image_processor',
    });
  });
}

const addInto = (into: Sums, from: Sums): void => {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
};
const nonZero = (s: Sums): Sums => Object.fromEntries(Object.entries(s).filter(([, v]) => v !== 0));

/** The per-second edge fields of `events` summed over every key (events.md section 2), zeros dropped. */
export function edgeSums(events: readonly PlainEvent[]): Sums {
  const out: Sums = {};
  for (const r of naive([...events]).edge.values()) addInto(out, r);
  return nonZero(out);
}

/** The Origin Inspector fields of `events` (their origin fetches) summed, zeros dropped. */
export function originSums(events: readonly PlainEvent[]): Sums {
  const out: Sums = {};
  for (const r of naive([...events]).origin.values()) addInto(out, r);
  return nonZero(out);
}

/** Groups `events` by `key`, keys sorted. */
export function groupBy(events: readonly PlainEvent[], key: (e: PlainEvent) => string): Map<string, PlainEvent[]> {
  const out = new Map<string, PlainEvent[]>();
  for (const e of events) out.set(key(e), [...(out.get(key(e)) ?? []), e]);
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

const bandwidthOf = (s: Sums): number => (s['resp_header_bytes'] ?? 0) + (s['resp_body_bytes'] ?? 0) + (s['bereq_header_bytes'] ?? 0) + (s['bereq_body_bytes'] ?? 0);

/** The derived fields of events.md section 2 (bandwidth, the two ratios), as a record shows them. */
export function derivedOf(s: Sums): Sums {
  const out: Sums = {};
  const bandwidth = bandwidthOf(s);
  if (bandwidth !== 0) out['bandwidth'] = bandwidth;
  const [hit, miss] = [s['edge_hit_requests'] ?? 0, s['edge_miss_requests'] ?? 0];
  if (hit + miss > 0) out['edge_hit_ratio'] = hit / (hit + miss);
  const edge = (s['edge_resp_header_bytes'] ?? 0) + (s['edge_resp_body_bytes'] ?? 0);
  const origin = (s['origin_fetch_resp_header_bytes'] ?? 0) + (s['origin_fetch_resp_body_bytes'] ?? 0);
  if (edge > 0) out['origin_offload'] = (edge - origin) / edge;
  return out;
}

/** A real-time analytics record of `events` as Fastly shows it: counters, header_size / body_size, derived fields, the miss_histogram object. */
export function channelRecord(events: readonly PlainEvent[]): Record<string, number | Sums> {
  const s = edgeSums(events);
  const out: Record<string, number | Sums> = { requests: 0 };
  const histogram: Sums = {};
  for (const [k, v] of Object.entries(s)) {
    if (k.startsWith('miss_histogram_')) histogram[k.slice('miss_histogram_'.length)] = v;
    else out[k] = v;
  }
  if (s['resp_header_bytes'] !== undefined) out['header_size'] = s['resp_header_bytes'];
  if (s['resp_body_bytes'] !== undefined) out['body_size'] = s['resp_body_bytes'];
  Object.assign(out, derivedOf(s));
  if (Object.keys(histogram).length > 0) out['miss_histogram'] = histogram;
  return out;
}

const isPercentile = (k: string): boolean => /_p\d+$/.test(k);

/** Integers exactly, time sums and ratios to 1e-9 relative. */
function expectNumber(got: unknown, want: number, what: string): void {
  if (Number.isInteger(want)) expect(got, what).toBe(want);
  else {
    expect(typeof got, what).toBe('number');
    expect(Math.abs((got as number) - want), `${what}: ${String(got)} vs ${want}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(want)));
  }
}

/**
 * `got` (a record a dialect answered) holds exactly the fields of `want` with its values, and
 * each percentile of `percentileNames` `events` has a value for (within events.md's accuracy).
 */
export function expectRecord(got: Record<string, unknown> | undefined, want: Record<string, number | Sums>, events: readonly PlainEvent[], percentileNames: readonly string[], what: string): void {
  expect(got, what).toBeDefined();
  const record = got as Record<string, unknown>;
  const counters = Object.keys(record).filter((k) => !isPercentile(k)).sort();
  expect(counters, `${what}: fields`).toEqual(Object.keys(want).sort());
  for (const [k, v] of Object.entries(want)) {
    if (typeof v === 'number') expectNumber(record[k], v, `${what} ${k}`);
    else expect(record[k], `${what} ${k}`).toEqual(v);
  }
  const sent = events.map((e) => ({ second: e.second, time_ms: e.time_ms, resp_body_bytes: e.resp_body_bytes, origin_time_ms: e.origin_status === undefined ? undefined : e.origin_time_ms }));
  for (const name of percentileNames) expectClose(record[name] ?? null, exactMetric(name, sent), `${what} ${name}`);
  expect(Object.keys(record).filter(isPercentile).filter((k) => !percentileNames.includes(k)), `${what}: percentiles not checked`).toEqual([]);
}

/** The percentiles a channel or Domain Inspector record carries (edge and origin time, object size), and those of an Origin Inspector record. */
export const EDGE_PERCENTILES = PERCENTILE_METRICS;
export const ORIGIN_PERCENTILES = PERCENTILE_METRICS.filter((m) => m.startsWith('origin_time'));

/** `fields` of `s`, 0 where absent: the Domain Inspector's subset this test compares. */
export const pickFields = (s: Sums, fields: readonly string[]): Sums => Object.fromEntries(fields.map((f) => [f, s[f] ?? 0]));
