/**
 * The exact percentiles a test compares served ones with (nearest rank over the raw values), and
 * the accuracy rule of events.md "Distributions and percentiles": within 1% and never above the
 * exact value, exactly equal for an integer below 1024.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { PERCENTILES } from '../../src/model/distributions.ts';

/** The exact percentile (nearest rank) of `values`. */
export function exactPercentile(values: readonly number[], perMille: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil((perMille * sorted.length) / 1000)) - 1] as number;
}

export function expectClose(served: unknown, want: number | null, what: string): void {
  if (want === null) {
    expect(served, what).toBeNull();
    return;
  }
  expect(typeof served, what).toBe('number');
  const got = served as number;
  if (Number.isInteger(want) && want < 1024) expect(got, `${what}: exact for an integer below 1024`).toBe(want);
  else {
    expect(got, `${what}: never above the exact value`).toBeLessThanOrEqual(want);
    expect(want - got, `${what}: within 1% of ${want}`).toBeLessThanOrEqual(0.01 * want);
  }
}

/** Edge and origin times: integers (exact buckets), decimals and the layout's edges. */
export const arbitraryTime = fc.oneof(fc.integer({ min: 0, max: 3000 }), fc.double({ min: 0.001, max: 5_000_000, noNaN: true }), fc.constantFrom(0, 1, 1023, 1024, 59_999.5));
export const arbitrarySize = fc.oneof(fc.integer({ min: 0, max: 2_000_000 }), fc.integer({ min: 0, max: 1100 }));

/** Every percentile metric name, edge_time_p50 ... object_size_p999. */
export const PERCENTILE_METRICS = ['edge_time', 'origin_time', 'object_size'].flatMap((d) => PERCENTILES.map(([p]) => `${d}_${p}`));

export interface SentEvent {
  second: number;
  time_ms: number;
  resp_body_bytes: number;
  origin_time_ms: number | undefined;
}

/** The exact value of percentile `metric` over `events`. */
export function exactMetric(metric: string, events: readonly SentEvent[]): number | null {
  const per = PERCENTILES.find(([p]) => metric.endsWith(`_${p}`))?.[1] as number;
  if (metric.startsWith('edge_time')) return exactPercentile(events.map((e) => e.time_ms), per);
  if (metric.startsWith('object_size')) return exactPercentile(events.map((e) => e.resp_body_bytes), per);
  return exactPercentile(events.flatMap((e) => (e.origin_time_ms === undefined ? [] : [e.origin_time_ms])), per);
}

/** The NDJSON line of `e` for `service` (one key: FRA, a.example). */
export const percentileEventLine = (e: SentEvent, service: string): string =>
  JSON.stringify({
    timestamp: e.second + 0.5,
    service,
    datacenter: 'FRA',
    domain: 'a.example',
    status: 200,
    resp_body_bytes: e.resp_body_bytes,
    time_ms: e.time_ms,
    ...(e.origin_time_ms === undefined ? {} : { origin_status: 200, origin_time_ms: e.origin_time_ms }),
  });
