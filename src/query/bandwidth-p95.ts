/**
 * 95th-percentile billing ("burstable" transit billing): the bandwidth of a service sampled every
 * 5 minutes over a range (a month), the samples ranked, the top 5% discarded, the highest left is
 * the billed rate. From the exact counters of the 1 min tier: a sample is the sum of its five
 * minutes' bandwidth (resp_header_bytes + resp_body_bytes + bereq_header_bytes + bereq_body_bytes,
 * events.md), its rate that over 300 s. A 5-minute slot without traffic is a sample of 0 (it is
 * billed as one); only slots wholly inside the range and already in the store count.
 */
import { Errors, RtmError } from '../http/errors.ts';
import { BANDWIDTH_FIELDS } from '../model/derived-fields.ts';
import type { MetricStore, RecordFilter } from '../store/store.ts';
import { checkQueryRange, type QueryRangeLimits } from './query-range.ts';

export const SAMPLE_SECONDS = 300;

export interface BandwidthP95 {
  service: string;
  /** First sample's start (inclusive), Unix seconds. */
  from: number;
  /** Last sample's end (exclusive). */
  to: number;
  sample_seconds: number;
  samples: number;
  /** Nearest rank: the ceil(0.95 n)-th smallest sample rate. */
  p95_bytes_per_second: number;
  p95_bits_per_second: number;
  max_bits_per_second: number;
  /** Bytes over the whole range (every sample). */
  total_bytes: number;
}

export interface BandwidthP95Sources {
  store: Pick<MetricStore, 'sumEdge'>;
  /** Every second <= this one is in the store. */
  storedThrough(): number;
  limits: QueryRangeLimits;
}

const floorTo = (t: number, w: number): number => Math.floor(t / w) * w;

export async function bandwidthP95(sources: BandwidthP95Sources, service: string, from: number, to: number): Promise<BandwidthP95> {
  const first = Math.ceil(from / SAMPLE_SECONDS) * SAMPLE_SECONDS;
  const last = Math.min(floorTo(to, SAMPLE_SECONDS), floorTo(sources.storedThrough() + 1, SAMPLE_SECONDS));
  if (!(last > first)) throw new RtmError(Errors.REQUEST_BAD_PARAM, `from/to: no whole 5-minute sample between ${from} and ${Math.min(to, sources.storedThrough() + 1)} (the store holds seconds through ${sources.storedThrough()})`);
  checkQueryRange(last - first, '1m', sources.limits, { narrow: 'ask for a shorter range (a month at most by default)' });
  const bytes = await bandwidthSamples(sources.store, { services: [service] }, first, last);
  let total = 0;
  let max = 0;
  for (const b of bytes) {
    total += b;
    if (b > max) max = b;
  }
  const p95 = nearestRankP95(bytes) / SAMPLE_SECONDS;
  return { service, from: first, to: last, sample_seconds: SAMPLE_SECONDS, samples: bytes.length, p95_bytes_per_second: p95, p95_bits_per_second: p95 * 8, max_bits_per_second: (max / SAMPLE_SECONDS) * 8, total_bytes: total };
}

/** Bytes of bandwidth per 5-minute slot of [first, last) (both multiples of 300), 0 for a slot without traffic. */
export async function bandwidthSamples(store: Pick<MetricStore, 'sumEdge'>, filter: RecordFilter, first: number, last: number): Promise<Float64Array> {
  const rows = await store.sumEdge({ tier: '1m', from: first, to: last, filter, bucketSeconds: SAMPLE_SECONDS, fields: BANDWIDTH_FIELDS });
  const bytes = new Float64Array((last - first) / SAMPLE_SECONDS);
  for (const r of rows) {
    const k = (r.bucket - first) / SAMPLE_SECONDS;
    if (k >= 0 && k < bytes.length) bytes[k] = (bytes[k] as number) + r.values.reduce((s, v) => s + v, 0);
  }
  return bytes;
}

/** The nearest-rank 95th percentile of `samples` (the ceil(0.95 n)-th smallest); 0 for none. */
export function nearestRankP95(samples: Float64Array): number {
  if (samples.length === 0) return 0;
  const sorted = samples.slice().sort();
  return sorted[Math.max(1, Math.ceil(0.95 * sorted.length)) - 1] as number;
}

/** [start, end) of the calendar month (UTC) `month` ("2026-11"). */
export function monthRange(month: string): { from: number; to: number } {
  const m = /^(\d{4})-(\d{2})$/.exec(month);
  const year = Number(m?.[1]);
  const index = Number(m?.[2]) - 1;
  if (m === null || index < 0 || index > 11) throw new RtmError(Errors.REQUEST_BAD_PARAM, `month: "${month}" is not YYYY-MM`);
  return { from: Date.UTC(year, index, 1) / 1000, to: Date.UTC(year, index + 1, 1) / 1000 };
}
