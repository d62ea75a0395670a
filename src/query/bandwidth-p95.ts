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
import type { MetricStore } from '../store/store.ts';
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
  const rows = await sources.store.sumEdge({ tier: '1m', from: first, to: last, filter: { services: [service] }, bucketSeconds: SAMPLE_SECONDS, fields: BANDWIDTH_FIELDS });
  const n = (last - first) / SAMPLE_SECONDS;
  const bytes = new Float64Array(n);
  for (const r of rows) {
    const k = (r.bucket - first) / SAMPLE_SECONDS;
    if (k >= 0 && k < n) bytes[k] = (bytes[k] as number) + r.values.reduce((s, v) => s + v, 0);
  }
  let total = 0;
  for (const b of bytes) total += b;
  const sorted = bytes.slice().sort();
  const p95 = (sorted[Math.max(1, Math.ceil(0.95 * n)) - 1] as number) / SAMPLE_SECONDS;
  const max = (sorted[n - 1] as number) / SAMPLE_SECONDS;
  return { service, from: first, to: last, sample_seconds: SAMPLE_SECONDS, samples: n, p95_bytes_per_second: p95, p95_bits_per_second: p95 * 8, max_bits_per_second: max * 8, total_bytes: total };
}

/** [start, end) of the calendar month (UTC) `month` ("2026-11"). */
export function monthRange(month: string): { from: number; to: number } {
  const m = /^(\d{4})-(\d{2})$/.exec(month);
  const year = Number(m?.[1]);
  const index = Number(m?.[2]) - 1;
  if (m === null || index < 0 || index > 11) throw new RtmError(Errors.REQUEST_BAD_PARAM, `month: "${month}" is not YYYY-MM`);
  return { from: Date.UTC(year, index, 1) / 1000, to: Date.UTC(year, index + 1, 1) / 1000 };
}
