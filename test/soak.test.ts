/**
 * A bounded soak (issue 5): the real server as a child process, several ingest clients sending
 * synthetic NDJSON at a high rate while query clients poll every dialect (Fastly ts/h and cursor
 * polling on the three APIs, Azion configurations and metrics, ODSL list, listMetrics and CDN
 * timeseries, native services and live). Checks: no error answer at all (the rate and
 * concurrency limits are turned off: they are not what is soaked), the child's memory flat over
 * the steady phase, and at the end every acknowledged event counted once, per service, through
 * the Fastly API (seconds in memory and in the store) and the CDN and Azion totals (rollups).
 *
 * About 60-90 s in all. No timing assertions: the phases have fixed lengths, and the final
 * numbers are polled until they settle or a generous deadline passes.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSyntheticTraffic, DEMO_POPS, type SyntheticService } from '../src/demo/synthetic-traffic.ts';
import { startChildServer, type ChildServer } from './support/child-server.ts';

const TOKEN = 'soak-test-admin-token-0123456789abcdef';
/**
 * Warm-up: until DuckDB has checkpointed once (its WAL file shrinks at the 16 MiB threshold),
 * at least WARMUP_MIN_MS, at most WARMUP_MAX_MS. The child's RSS can take one step of a few
 * hundred MiB around that first checkpoint (V8's heap stays near 60 MiB, see --trace-gc), so
 * the steady phase starts after it when it comes early enough.
 */
const WARMUP_MIN_MS = 10_000;
const WARMUP_MAX_MS = 35_000;
const WARMUP_SETTLE_MS = 6_000;
const STEADY_MS = 28_000;
const INGEST_CLIENTS = 4;
const EVENTS_PER_REQUEST = 1_000;
/** Seconds in memory: short, so the window is full (steady) before the memory is sampled. */
const WINDOW_SECONDS = 15;

const SERVICES: readonly SyntheticService[] = [
  { id: 'shop', domains: ['www.shop.example', 'img.shop.example', 'api.shop.example'], product: 'edge_application', computeShare: 0 },
  { id: 'media', domains: ['video.media.example', 'live.media.example'], product: 'live_streaming', computeShare: 0 },
  { id: 'edge-api', domains: ['api.example.net'], product: 'edge_functions', computeShare: 0.8 },
  { id: 'blog', domains: ['blog.example.org', 'cdn.blog.example.org'], product: 'edge_application', computeShare: 0.1 },
];
const EDGE_APPLICATIONS = 1441740010;

function startServer(dataDir: string): Promise<ChildServer> {
  return startChildServer({
    dataDir,
    adminToken: TOKEN,
    env: { RTM_WINDOW_SECONDS: String(WINDOW_SECONDS), RTM_RATE_LIMIT_PER_SECOND: '0', RTM_MAX_CONCURRENT_PER_TOKEN: '0' },
  });
}

/** The child's resident set, bytes (Linux /proc). */
async function rssOf(pid: number): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
  if (kb === undefined) throw new Error('no VmRSS in /proc status');
  return Number(kb) * 1024;
}

/** Size of DuckDB's WAL file (0 when absent): it shrinks when DuckDB checkpoints. */
async function walBytes(dataDir: string): Promise<number> {
  return (await fs.stat(path.join(dataDir, 'rtmetrics.duckdb.wal')).catch(() => undefined))?.size ?? 0;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const MiB = 1024 * 1024;

interface Soak {
  acked: Map<string, number>;
  requests: number;
  queries: number;
  failures: string[];
  firstSecond: number;
  lastSecond: number;
}

async function call(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, headers: { authorization: `Bearer ${TOKEN}`, 'fastly-key': TOKEN, ...(init.headers as Record<string, string>) } });
}

/** One ingest client: NDJSON bodies of the current second (some events a few seconds late). */
async function ingestClient(base: string, n: number, stop: { now: boolean }, soak: Soak): Promise<void> {
  const traffic = createSyntheticTraffic({ seed: 1000 + n, services: SERVICES, datacenters: DEMO_POPS });
  while (!stop.now) {
    const now = Date.now() / 1000;
    const perService = new Map<string, number>();
    let body = '';
    for (let i = 0; i < EVENTS_PER_REQUEST; i++) {
      const event = traffic.event(i % 10 === 0 ? now - 3 * Math.random() : now);
      const service = String(event['service']);
      perService.set(service, (perService.get(service) ?? 0) + 1);
      soak.firstSecond = Math.min(soak.firstSecond, Math.floor(Number(event['timestamp'])));
      soak.lastSecond = Math.max(soak.lastSecond, Math.floor(Number(event['timestamp'])));
      body += `${JSON.stringify(event)}\n`;
    }
    const res = await call(`${base}/ingest`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });
    const text = await res.text();
    if (res.status !== 200) {
      soak.failures.push(`ingest ${res.status}: ${text.slice(0, 200)}`);
      continue;
    }
    const answer = JSON.parse(text) as { accepted: number; rejected: number };
    if (answer.accepted !== EVENTS_PER_REQUEST || answer.rejected !== 0) soak.failures.push(`ingest accepted ${answer.accepted}, rejected ${answer.rejected}`);
    for (const [service, count] of perService) soak.acked.set(service, (soak.acked.get(service) ?? 0) + count);
    soak.requests++;
  }
}

/** Query loops, one per dialect; every answer must be a 2xx with a JSON body. */
async function queryClients(base: string, stop: { now: boolean }, soak: Soak, confId: () => number | undefined): Promise<void> {
  const get = async (pathAndQuery: string): Promise<unknown> => {
    const res = await call(`${base}${pathAndQuery}`);
    const text = await res.text();
    soak.queries++;
    if (res.status < 200 || res.status >= 300) {
      soak.failures.push(`GET ${pathAndQuery} -> ${res.status}: ${text.slice(0, 200)}`);
      return undefined;
    }
    try {
      return JSON.parse(text);
    } catch {
      soak.failures.push(`GET ${pathAndQuery} -> a body that is not JSON`);
      return undefined;
    }
  };
  const loop = async (step: (i: number) => Promise<void>): Promise<void> => {
    for (let i = 0; !stop.now; i++) {
      await step(i);
      await sleep(20);
    }
  };
  const cursors = new Map<string, number>();
  await Promise.all([
    // Fastly: ts/h, and cursor polling as a Fastly client does (ts/0, then each Timestamp).
    loop(async (i) => {
      const service = SERVICES[i % SERVICES.length]?.id ?? 'shop';
      const api = ['channel', 'domains', 'origins'][i % 3] ?? 'channel';
      if (i % 4 === 0) {
        await get(`/v1/${api}/${service}/ts/h/limit/30`);
        return;
      }
      const key = `${api}/${service}`;
      const body = (await get(`/v1/${api}/${service}/ts/${cursors.get(key) ?? 0}`)) as { Timestamp?: number } | undefined;
      if (typeof body?.Timestamp === 'number') cursors.set(key, body.Timestamp);
    }),
    // Azion: the configurations, and a metric of one of them.
    loop(async (i) => {
      const id = confId();
      if (i % 2 === 0 || id === undefined) await get(`/metrics/products/${EDGE_APPLICATIONS}/configurations`);
      else await get(`/metrics/products/${EDGE_APPLICATIONS}/configurations/${id}/metrics/${i % 4 === 1 ? 'cdn_requests' : 'data_transferred'}?date_from=last-hour`);
    }),
    // OpenDataDSL: entity list, listMetrics, CDN timeseries.
    loop(async (i) => {
      if (i % 3 === 0) await get('/api/metric/v1?_limit=20&_sort=%7B%22timestamp%22%3A-1%7D');
      else if (i % 3 === 1) await get('/api/metric/v1?_function=listMetrics&provider=RTMRequest');
      else await get(`/api/metric/v1?_metric=CDN%2FRequests&_calendar=%23PT1M&_range=last(5)&_filter=service%3D${SERVICES[i % SERVICES.length]?.id ?? 'shop'}`);
    }),
    // Native: services and live.
    loop(async (i) => {
      if (i % 2 === 0) await get('/rtm/v1/services');
      else await get(`/rtm/v1/services/${SERVICES[i % SERVICES.length]?.id ?? 'shop'}/live?seconds=30`);
    }),
  ]);
}

/** Requests per service over [from, to] seconds through the Fastly API (window and store). */
async function fastlyTotals(base: string, from: number, to: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const { id } of SERVICES) {
    let total = 0;
    const seen = new Set<number>();
    for (let t = from; t <= to; ) {
      const res = await call(`${base}/v1/channel/${id}/ts/${t}/limit/120`);
      const body = (await res.json()) as { Timestamp: number; Data: { recorded: number; aggregated: { requests?: number } }[] };
      for (const d of body.Data) {
        // A cursor repeats the seconds of its AggregateDelay; count each second once.
        if (d.recorded < from || d.recorded > to || seen.has(d.recorded)) continue;
        seen.add(d.recorded);
        total += d.aggregated.requests ?? 0;
      }
      if (body.Timestamp <= t) break;
      t = body.Timestamp;
    }
    out.set(id, total);
  }
  return out;
}

const minute = (second: number): string => new Date(second * 1000).toISOString().slice(0, 16);

/** Requests per service from the minute rollups: ODSL CDN timeseries. */
async function cdnTotals(base: string, from: number, to: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const range = encodeURIComponent(`between(${minute(from - 60)}Z,${minute(to + 60)}Z)`);
  for (const { id } of SERVICES) {
    const res = await call(`${base}/api/metric/v1?_metric=CDN%2FRequests&_calendar=%23PT1M&_range=${range}&_filter=service%3D${id}`);
    const body = (await res.json()) as { data?: { value: number }[] };
    out.set(id, (body.data ?? []).reduce((s, p) => s + p.value, 0));
  }
  return out;
}

async function until(check: () => Promise<boolean>, deadlineMs: number): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await check()) && Date.now() < end) await sleep(1000);
}

describe('soak', () => {
  let dataDir = '';
  let server: ChildServer | undefined;
  afterAll(async () => {
    await server?.kill();
    if (dataDir !== '') await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('ingests and answers every dialect without error, memory flat, numbers exact', { timeout: 180_000 }, async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'rtm-soak-'));
    server = await startServer(dataDir);
    const base = server.url;
    const pid = server.child.pid as number;
    const soak: Soak = { acked: new Map(), requests: 0, queries: 0, failures: [], firstSecond: Number.POSITIVE_INFINITY, lastSecond: 0 };
    const stop = { now: false };
    const shop: { conf: number | undefined } = { conf: undefined };

    const ingesting = Promise.all(Array.from({ length: INGEST_CLIENTS }, (_, n) => ingestClient(base, n, stop, soak)));
    const querying = queryClients(base, stop, soak, () => shop.conf);

    const warmupStart = Date.now();
    await sleep(WARMUP_MIN_MS);
    for (let wal = await walBytes(dataDir); Date.now() - warmupStart < WARMUP_MAX_MS; ) {
      await sleep(500);
      const now = await walBytes(dataDir);
      if (now < wal) break;
      wal = now;
    }
    // The memory the checkpoint takes shows a few seconds after the WAL shrinks.
    await sleep(WARMUP_SETTLE_MS);
    const confs = (await (await call(`${base}/metrics/products/${EDGE_APPLICATIONS}/configurations`)).json()) as { id: number; name: string }[];
    shop.conf = confs.find((c) => c.name === 'shop')?.id;
    expect(shop.conf).toBeTypeOf('number');

    // Steady phase: the window is full; sample the child's memory throughout.
    const rss: number[] = [];
    const steadyEnd = Date.now() + STEADY_MS;
    while (Date.now() < steadyEnd) {
      rss.push(await rssOf(pid));
      await sleep(2_000);
    }
    rss.push(await rssOf(pid));
    stop.now = true;
    await Promise.all([ingesting, querying]);

    expect(soak.failures.slice(0, 20)).toEqual([]);
    expect(soak.requests).toBeGreaterThan(20);
    expect(soak.queries).toBeGreaterThan(100);

    // Memory flat: the end of the steady phase against its start (medians of 3 samples), less
    // the largest rise between two samples in a row. That one rise is DuckDB's: its RSS takes a
    // step of up to a few hundred MiB around a checkpoint (its allocator keeps freed memory) when
    // the warm-up did not see one. The bound is generous on purpose: DuckDB's tables keep
    // growing (records, rollups, one usage entity per request) and V8 returns memory lazily.
    // What it catches is growth with traffic: keeping each ~250 KB request body would add
    // hundreds of MiB, spread over every sample.
    const start = median(rss.slice(0, 3));
    const end = median(rss.slice(-3));
    const largestRise = Math.max(0, ...rss.slice(1).map((r, i) => r - (rss[i] ?? r)));
    const growth = end - start - largestRise;
    const bound = Math.max(192 * MiB, start * 0.3);
    console.log(
      `soak: ${soak.requests} ingest requests (${soak.requests * EVENTS_PER_REQUEST} events), ${soak.queries} queries; ` +
        `RSS ${(start / MiB).toFixed(0)} -> ${(end / MiB).toFixed(0)} MiB, largest rise ${(largestRise / MiB).toFixed(0)} MiB, ` +
        `growth ${(growth / MiB).toFixed(0)} MiB (bound ${(bound / MiB).toFixed(0)}); samples ${rss.map((r) => (r / MiB).toFixed(0)).join(' ')}`,
    );
    expect(growth).toBeLessThanOrEqual(bound);

    // The final numbers equal the reference once everything is published and stored.
    const { firstSecond, lastSecond } = soak;
    const expected = Object.fromEntries(SERVICES.map((s) => [s.id, soak.acked.get(s.id) ?? 0]));
    let fastly: Record<string, number> = {};
    let cdn: Record<string, number> = {};
    await until(async () => {
      fastly = Object.fromEntries(await fastlyTotals(base, firstSecond, lastSecond));
      cdn = Object.fromEntries(await cdnTotals(base, firstSecond, lastSecond));
      return JSON.stringify(fastly) === JSON.stringify(expected) && JSON.stringify(cdn) === JSON.stringify(expected);
    }, 30_000);
    expect(fastly).toEqual(expected);
    expect(cdn).toEqual(expected);

    // Azion: cdn_requests of the shop configuration, per minute, over the same span.
    const query = `date_from=${minute(firstSecond - 60)}Z&date_to=${minute(lastSecond + 120)}Z&granularity=minute`;
    const pairs = (await (await call(`${base}/metrics/products/${EDGE_APPLICATIONS}/configurations/${shop.conf}/metrics/cdn_requests?${query}`)).json()) as [number, number][];
    expect(pairs.reduce((s, [, v]) => s + v, 0)).toBe(expected['shop']);

    expect(await server.stop()).toBe(0);
  });
});
