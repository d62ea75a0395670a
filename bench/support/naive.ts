/**
 * The naive baseline every ingest figure is compared with: `JSON.parse` per line and a
 * `Map<string, plain object of counters>` grouping the same keys as the engine (second x service
 * x datacenter x domain x product for edge traffic, x backend for origin fetches, and the method /
 * exact-status dimensions). It keeps the common counters (requests, cache outcomes, status classes,
 * bytes, latency buckets: about 40 per key), not all 265 fields of the engine: a fair, simple
 * program that someone would write first, not a strawman.
 */

interface EdgeCounters {
  requests: number;
  hits: number;
  miss: number;
  pass: number;
  synth: number;
  errors: number;
  hits_time: number;
  miss_time: number;
  pass_time: number;
  req_header_bytes: number;
  req_body_bytes: number;
  resp_header_bytes: number;
  resp_body_bytes: number;
  bereq_header_bytes: number;
  status: Record<string, number>;
  status_1xx: number;
  status_2xx: number;
  status_3xx: number;
  status_4xx: number;
  status_5xx: number;
  http: Record<string, number>;
  tls: Record<string, number>;
  ipv6: number;
  shield: number;
  waf_blocked: number;
  waf_logged: number;
  compute_requests: number;
  compute_time_ms: number;
  compute_cpu_ms: number;
  origin_fetches: number;
  origin_fetch_body_bytes: number;
  miss_histogram: Record<string, number>;
}

interface OriginCounters {
  responses: number;
  resp_header_bytes: number;
  resp_body_bytes: number;
  status: Record<string, number>;
  latency: Record<string, number>;
}

type Event = Record<string, unknown>;

const LATENCY_EDGES = [1, 5, 10, 50, 100, 250, 500, 1000, 5000, 10_000, 60_000];

const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
const bump = (o: Record<string, number>, k: string, by = 1): void => {
  o[k] = (o[k] ?? 0) + by;
};

function newEdge(): EdgeCounters {
  return {
    requests: 0, hits: 0, miss: 0, pass: 0, synth: 0, errors: 0, hits_time: 0, miss_time: 0, pass_time: 0,
    req_header_bytes: 0, req_body_bytes: 0, resp_header_bytes: 0, resp_body_bytes: 0, bereq_header_bytes: 0,
    status: {}, status_1xx: 0, status_2xx: 0, status_3xx: 0, status_4xx: 0, status_5xx: 0, http: {}, tls: {},
    ipv6: 0, shield: 0, waf_blocked: 0, waf_logged: 0, compute_requests: 0, compute_time_ms: 0, compute_cpu_ms: 0,
    origin_fetches: 0, origin_fetch_body_bytes: 0, miss_histogram: {},
  };
}

export interface NaiveAggregator {
  /** Parses and counts one NDJSON body; returns the events counted. */
  add(body: Buffer | string): number;
  /** Distinct keys held: edge, origin, dimension. */
  keys(): number;
  clear(): void;
}

export function createNaiveAggregator(): NaiveAggregator {
  const edge = new Map<string, EdgeCounters>();
  const origin = new Map<string, OriginCounters>();
  const dimension = new Map<string, { count: number; bytes: number }>();

  function addEvent(e: Event): void {
    const second = Math.floor(num(e['timestamp']));
    const service = String(e['service']);
    const domain = String(e['domain'] ?? '').toLowerCase();
    const product = String(e['product'] ?? 'edge_application');
    const key = `${second}|${service}|${String(e['datacenter'])}|${domain}|${product}`;
    let c = edge.get(key);
    if (!c) edge.set(key, (c = newEdge()));
    const status = num(e['status']);
    const time = num(e['time_ms']);
    const bytes = num(e['resp_header_bytes']) + num(e['resp_body_bytes']);
    c.requests++;
    const cache = String(e['cache'] ?? 'pass');
    if (cache === 'hit') {
      c.hits++;
      c.hits_time += time;
    } else if (cache === 'miss') {
      c.miss++;
      c.miss_time += time;
    } else if (cache === 'pass') {
      c.pass++;
      c.pass_time += time;
    } else if (cache === 'synth') c.synth++;
    else c.errors++;
    c.req_header_bytes += num(e['req_header_bytes']);
    c.req_body_bytes += num(e['req_body_bytes']);
    c.resp_header_bytes += num(e['resp_header_bytes']);
    c.resp_body_bytes += num(e['resp_body_bytes']);
    bump(c.status, String(status));
    if (status < 200) c.status_1xx++;
    else if (status < 300) c.status_2xx++;
    else if (status < 400) c.status_3xx++;
    else if (status < 500) c.status_4xx++;
    else c.status_5xx++;
    bump(c.http, String(e['http'] ?? '1.1'));
    if (e['tls'] !== undefined) bump(c.tls, String(e['tls']));
    if (e['ipv6'] === true) c.ipv6++;
    if (e['shield'] === true) c.shield++;
    if (e['waf'] === 'blocked') c.waf_blocked++;
    if (e['waf'] === 'logged') c.waf_logged++;
    if (e['compute'] === true) {
      c.compute_requests++;
      c.compute_time_ms += num(e['compute_time_ms']);
      c.compute_cpu_ms += num(e['compute_cpu_ms']);
    }
    if (e['origin_status'] !== undefined) {
      c.origin_fetches++;
      c.bereq_header_bytes += num(e['bereq_header_bytes']);
      c.origin_fetch_body_bytes += num(e['beresp_body_bytes']);
      const ot = num(e['origin_time_ms']);
      if (cache === 'miss') bump(c.miss_histogram, String(Math.floor(ot / 10) * 10));
      const okey = `${second}|${service}|${String(e['datacenter'])}|${String(e['backend'] ?? 'default')}`;
      let o = origin.get(okey);
      if (!o) origin.set(okey, (o = { responses: 0, resp_header_bytes: 0, resp_body_bytes: 0, status: {}, latency: {} }));
      o.responses++;
      o.resp_header_bytes += num(e['beresp_header_bytes']);
      o.resp_body_bytes += num(e['beresp_body_bytes']);
      bump(o.status, String(e['origin_status']));
      bump(o.latency, String(LATENCY_EDGES.findIndex((edgeMs) => ot < edgeMs)));
    }
    for (const [dim, value] of [['method', String(e['method'] ?? 'GET')], ['status', String(status)]] as const) {
      const dkey = `${second}|${service}|${domain}|${product}|${dim}|${value}`;
      let d = dimension.get(dkey);
      if (!d) dimension.set(dkey, (d = { count: 0, bytes: 0 }));
      d.count++;
      d.bytes += bytes;
    }
  }

  return {
    add(body) {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      let events = 0;
      for (const line of text.split('\n')) {
        if (line === '') continue;
        addEvent(JSON.parse(line) as Event);
        events++;
      }
      return events;
    },
    keys: () => edge.size + origin.size + dimension.size,
    clear() {
      edge.clear();
      origin.clear();
      dimension.clear();
    },
  };
}
