/**
 * One list of requests written three ways: an nginx access log (a log_format carrying every
 * field the nginx parser reads), Fastly JSON log-streaming lines, and events.md NDJSON. The
 * import tests check that each way gives the same records.
 */
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number): string => String(n).padStart(2, '0');

export interface Request {
  second: number;
  pop: string;
  host: string;
  method: string;
  path: string;
  http: '1.0' | '1.1' | '2';
  status: number;
  cache: 'hit' | 'miss' | 'pass';
  bodyBytes: number;
  headerBytes: number;
  requestBytes: number;
  /** Milliseconds, a whole number of microseconds. */
  timeMs: number;
  tls: '1.2' | '1.3' | undefined;
  clientIp: string;
}

export const NGINX_TEST_FORMAT =
  '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" ' +
  '$host $request_time $upstream_cache_status $bytes_sent $request_length $ssl_protocol $pop';

/** A deterministic mix of requests over `seconds` seconds from `start`. */
export function makeRequests(start: number, seconds: number, perSecond: number): Request[] {
  const out: Request[] = [];
  let x = 12345;
  const rnd = (n: number): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8) % n;
  };
  const pops = ['FRA', 'AMS', 'IAD'];
  const hosts = ['www.shop.example', 'img.shop.example', 'api.shop.example'];
  const statuses = [200, 200, 200, 206, 304, 404, 500, 503];
  const caches = ['hit', 'hit', 'miss', 'pass'] as const;
  for (let s = 0; s < seconds; s++) {
    for (let i = 0; i < perSecond; i++) {
      out.push({
        second: start + s,
        pop: pops[rnd(3)] as string,
        host: hosts[rnd(3)] as string,
        method: rnd(10) === 0 ? 'POST' : 'GET',
        path: `/p/${rnd(50)}?q=${rnd(9)}`,
        http: (['1.0', '1.1', '2'] as const)[rnd(3)] as '1.0' | '1.1' | '2',
        status: statuses[rnd(statuses.length)] as number,
        cache: caches[rnd(4)] as 'hit' | 'miss' | 'pass',
        bodyBytes: rnd(3) === 0 ? 0 : rnd(2_000_000),
        headerBytes: 200 + rnd(400),
        requestBytes: 300 + rnd(900),
        timeMs: (rnd(20_000) + rnd(3) * 100_000) / 1000,
        tls: ([undefined, '1.2', '1.3'] as const)[rnd(3)],
        clientIp: rnd(5) === 0 ? `2001:db8::${rnd(100)}` : `192.0.2.${rnd(250)}`,
      });
    }
  }
  return out;
}

const timeLocal = (second: number): string => {
  const d = new Date(second * 1000);
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
};

const protocol = (http: Request['http']): string => (http === '2' ? 'HTTP/2.0' : `HTTP/${http}`);

export function toNginxLine(r: Request): string {
  return (
    `${r.clientIp} - - [${timeLocal(r.second)}] "${r.method} ${r.path} ${protocol(r.http)}" ${r.status} ${r.bodyBytes} "-" "Mozilla/5.0 (X11; \\x22quoted\\x22)" ` +
    `${r.host} ${(r.timeMs / 1000).toFixed(6)} ${r.cache.toUpperCase()} ${r.bodyBytes + r.headerBytes} ${r.requestBytes} ${r.tls === undefined ? '-' : `TLSv${r.tls}`} ${r.pop}`
  );
}

export function toFastlyLine(r: Request): string {
  const iso = new Date(r.second * 1000).toISOString().replace('.000Z', '+0000');
  return JSON.stringify({
    timestamp: iso,
    client_ip: r.clientIp,
    geo_country: 'Germany',
    host: r.host,
    url: r.path,
    request_method: r.method,
    request_protocol: protocol(r.http),
    request_referer: '',
    request_user_agent: 'Mozilla/5.0',
    response_state: r.cache === 'hit' ? 'HIT' : r.cache === 'miss' ? 'MISS' : 'PASS',
    response_status: r.status,
    response_reason: null,
    response_body_size: r.bodyBytes,
    response_header_size: r.headerBytes,
    request_header_size: r.requestBytes,
    time_elapsed: Math.round(r.timeMs * 1000),
    tls_client_protocol: r.tls === undefined ? '' : `TLSv${r.tls}`,
    fastly_server: `cache-${r.pop.toLowerCase()}-x1234-${r.pop}`,
    fastly_is_edge: true,
  });
}

export function toNdjsonLine(r: Request, service: string): string {
  return JSON.stringify({
    timestamp: r.second,
    service,
    datacenter: r.pop,
    domain: r.host,
    method: r.method,
    path: r.path,
    http: r.http,
    status: r.status,
    cache: r.cache,
    resp_body_bytes: r.bodyBytes,
    resp_header_bytes: r.headerBytes,
    req_header_bytes: r.requestBytes,
    time_ms: r.timeMs,
    ...(r.tls === undefined ? {} : { tls: r.tls }),
    client_ip: r.clientIp,
    ...(r.clientIp.includes(':') ? { ipv6: true } : {}),
  });
}
