/**
 * Request bodies for the ingest benchmarks: about 1 MiB of NDJSON synthetic events
 * (src/demo/synthetic-traffic.ts), over a configurable number of services, domains and POPs, and
 * a way to move a body's timestamps to the current second without rebuilding it.
 */
import { createSyntheticTraffic, type SyntheticService } from '../../src/demo/synthetic-traffic.ts';

export interface TrafficShape {
  services: number;
  domainsPerService: number;
  pops: number;
}

/** The default shape: 20 services x 2 domains x 20 POPs = 800 edge keys per second. */
export const DEFAULT_SHAPE: TrafficShape = { services: 20, domainsPerService: 2, pops: 20 };

export const BODY_BYTES = 1024 * 1024;

const PRODUCTS = ['edge_application', 'edge_application', 'edge_functions', 'live_streaming'];

export function syntheticServices(shape: TrafficShape): SyntheticService[] {
  return Array.from({ length: shape.services }, (_, s) => ({
    id: `svc-${s}`,
    domains: Array.from({ length: shape.domainsPerService }, (_, d) => `d${d}.svc-${s}.example`),
    product: PRODUCTS[s % PRODUCTS.length] as string,
    computeShare: s % PRODUCTS.length === 2 ? 0.5 : 0,
  }));
}

export const popCodes = (n: number): string[] => Array.from({ length: n }, (_, i) => `P${String(i).padStart(2, '0')}`);

export interface Body {
  bytes: Buffer;
  events: number;
}

/** `count` bodies of about `BODY_BYTES` each, all events within `second` (ms fractions). */
export function makeBodies(count: number, second: number, shape: TrafficShape = DEFAULT_SHAPE, seed = 7): Body[] {
  const traffic = createSyntheticTraffic({ seed, services: syntheticServices(shape), datacenters: popCodes(shape.pops) });
  const bodies: Body[] = [];
  for (let b = 0; b < count; b++) {
    const lines: string[] = [];
    let size = 0;
    while (size < BODY_BYTES) {
      const line = `${JSON.stringify(traffic.event(second + (lines.length % 1000) / 1000))}\n`;
      if (size + line.length > BODY_BYTES && lines.length > 0) break;
      lines.push(line);
      size += line.length;
    }
    bodies.push({ bytes: Buffer.from(lines.join('')), events: lines.length });
  }
  return bodies;
}

const TIMESTAMP_KEY = Buffer.from('"timestamp":');

/** Byte offsets of the 10 integer digits of every `"timestamp":` in a body. */
export function timestampOffsets(body: Buffer): Int32Array {
  const offsets: number[] = [];
  let at = body.indexOf(TIMESTAMP_KEY);
  while (at >= 0) {
    offsets.push(at + TIMESTAMP_KEY.length);
    at = body.indexOf(TIMESTAMP_KEY, at + TIMESTAMP_KEY.length);
  }
  return Int32Array.from(offsets);
}

/** Rewrites the integer second of every timestamp in place (10-digit Unix seconds only). */
export function retime(body: Buffer, offsets: Int32Array, second: number): void {
  const digits = Buffer.from(String(second));
  if (digits.length !== 10) throw new RangeError(`expected a 10-digit Unix second, got ${second}`);
  for (const at of offsets) digits.copy(body, at);
}
