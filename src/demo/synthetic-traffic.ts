/**
 * Synthetic request events (events.md section 1) for `rtmetrics demo`, the benchmarks and the
 * soak test: a few services, POPs and domains with plausible cache, status and latency mixes.
 * Deterministic for a given seed, so tests and benchmarks can recompute what they sent.
 */

export interface SyntheticOptions {
  /** PRNG seed. Default 1. */
  seed?: number;
  /** Services to generate for. Default `DEMO_SERVICES`. */
  services?: readonly SyntheticService[];
  /** POP codes. Default `DEMO_POPS`. */
  datacenters?: readonly string[];
}

export interface SyntheticService {
  id: string;
  domains: readonly string[];
  product: string;
  /** Share of requests handled by Compute. */
  computeShare: number;
}

export const DEMO_SERVICES: readonly SyntheticService[] = [
  { id: 'shop', domains: ['www.shop.example', 'img.shop.example', 'api.shop.example'], product: 'edge_application', computeShare: 0 },
  { id: 'media', domains: ['video.media.example', 'live.media.example'], product: 'live_streaming', computeShare: 0 },
  { id: 'edge-api', domains: ['api.example.net'], product: 'edge_functions', computeShare: 0.8 },
];
export const DEMO_POPS: readonly string[] = ['FRA', 'LHR', 'IAD', 'NRT', 'SYD', 'GRU'];

const STATUSES = [200, 200, 200, 200, 200, 200, 200, 200, 204, 206, 301, 304, 304, 404, 403, 500, 503] as const;
const METHODS = ['GET', 'GET', 'GET', 'GET', 'GET', 'HEAD', 'POST', 'PUT'] as const;
const BACKENDS = ['origin-a', 'origin-b'] as const;

/** Request paths of the demo (`%`: an object number); query strings are dropped when counted. */
const DEMO_PATHS = ['/', '/index.html', '/img/%.jpg', '/css/site.css', '/js/app.js', '/api/v1/items?id=%', '/video/%/segment.ts', '/favicon.ico'];

/** mulberry32: tiny, fast, good enough for traffic shapes (and for a test's seeded events). */
export function createRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type SyntheticEvent = Record<string, string | number | boolean>;

export interface SyntheticTraffic {
  /** One event at Unix time `timestamp` (seconds, fractions allowed). */
  event(timestamp: number): SyntheticEvent;
  /** `count` events spread over the second `second`, as NDJSON (one trailing newline). */
  ndjson(second: number, count: number): string;
}

export function createSyntheticTraffic(options: SyntheticOptions = {}): SyntheticTraffic {
  const random = createRandom(options.seed ?? 1);
  // Paths and client addresses from a stream of their own, so the other fields stay as they were for a seed.
  const skewed = createRandom((options.seed ?? 1) + 7919);
  /** 0 .. n-1, the low ones far more often (busiest paths and clients). */
  const skewedIndex = (n: number): number => Math.floor(n * skewed() ** 3);
  const services = options.services ?? DEMO_SERVICES;
  const pops = options.datacenters ?? DEMO_POPS;
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;

  function event(timestamp: number): SyntheticEvent {
    const service = pick(services);
    const r = random();
    const cache = r < 0.8 ? 'hit' : r < 0.93 ? 'miss' : r < 0.99 ? 'pass' : 'synth';
    const status = cache === 'synth' ? 301 : pick(STATUSES);
    const body = Math.floor(random() < 0.7 ? random() * 20_000 : random() * 2_000_000);
    const e: SyntheticEvent = {
      timestamp: Math.round(timestamp * 1000) / 1000,
      service: service.id,
      datacenter: pick(pops),
      domain: pick(service.domains),
      status,
      method: pick(METHODS),
      cache,
      req_header_bytes: 300 + Math.floor(random() * 400),
      resp_header_bytes: 250 + Math.floor(random() * 300),
      resp_body_bytes: body,
      time_ms: Math.round((cache === 'hit' ? random() * 5 : 20 + random() * 300) * 100) / 100,
      product: service.product,
      http: random() < 0.6 ? '2' : random() < 0.8 ? '1.1' : '3',
      ipv6: random() < 0.3,
    };
    e['path'] = DEMO_PATHS[skewedIndex(DEMO_PATHS.length)]?.replace('%', String(skewedIndex(400))) ?? '/';
    const client = skewedIndex(5000);
    e['client_ip'] = `198.51.${client >> 8}.${client & 255}`;
    if (random() < 0.9) e['tls'] = random() < 0.7 ? '1.3' : '1.2';
    if (random() < 0.05) e['shield'] = true;
    if (random() < 0.02) e['waf'] = random() < 0.5 ? 'blocked' : 'logged';
    if (cache === 'miss' || cache === 'pass') {
      const originTime = 5 + random() * random() * 800;
      e['origin_status'] = random() < 0.01 ? 0 : status;
      e['origin_time_ms'] = Math.round(originTime * 100) / 100;
      e['bereq_header_bytes'] = 400 + Math.floor(random() * 200);
      e['beresp_header_bytes'] = 300 + Math.floor(random() * 200);
      e['beresp_body_bytes'] = body;
      e['backend'] = pick(BACKENDS);
    }
    if (random() < service.computeShare) {
      e['compute'] = true;
      e['compute_time_ms'] = Math.round(random() * 120 * 100) / 100;
      e['compute_cpu_ms'] = Math.round(random() * 20 * 100) / 100;
    }
    return e;
  }

  return {
    event,
    ndjson(second, count) {
      let out = '';
      for (let i = 0; i < count; i++) out += `${JSON.stringify(event(second + i / count))}\n`;
      return out;
    },
  };
}
