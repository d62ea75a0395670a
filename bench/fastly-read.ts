/**
 * Fastly real-time read latency with the rendered-entry cache (src/api/fastly/fragment-cache.ts)
 * and the sparse JSON renderer (render-json.ts), through the real routes (app.inject) over
 * createRealtimeReader(window, store), with SERVICES x POPS x DOMAINS edge keys live in the
 * window every second:
 * - cold `ts/h`: the first read of a service (nothing cached: 120 seconds rendered);
 * - warm `ts/h`: a service read before, while time goes on (cached but the seconds since);
 * - polling `ts/{Timestamp}` as a client does every second, each service with its own cursor;
 * each as identity and as gzip clients (Accept-Encoding: gzip, joined from cached deflated pieces),
 * beside the baseline in the same process: the pre-cache path (dense vectors rendered to objects,
 * serialized by Fastify), on the same window, at the same moments.
 * Time goes on in ticks: the fake clock advances 1 s and a new second of records (plus late
 * deltas to the previous one) is applied for every service before each tick's requests.
 * Run: node --max-old-space-size=12288 --import tsx bench/fastly-read.ts [services] [pops] [domains] [ticks] [cold services]
 */
import { PerformanceObserver } from 'node:perf_hooks';
import zlib from 'node:zlib';
import Fastify from 'fastify';
import { createWindow } from '../src/aggregate/window.ts';
import { deltaFromRecordSet } from '../src/model/delta.ts';
import { installErrorHandling } from '../src/app.ts';
import { createFragmentCache } from '../src/api/fastly/fragment-cache.ts';
import { createRealtimeReader } from '../src/api/fastly/realtime-reader.ts';
import { objectOf, renderChannel } from '../src/api/fastly/render.ts';
import { fastlyRoutes } from '../src/api/fastly/routes.ts';
import { planCursor, type CursorRequest } from '../src/api/fastly/cursor.ts';
import { createFakeClock } from '../src/model/clock.ts';
import type { EdgeRecord } from '../src/model/record.ts';
import { BENCH_TOKEN, benchTokens, machineLine } from './support/fixtures.ts';
import { domainName, edgeVector, popName, random, serviceName } from './support/records.ts';
import { bytes, int, ms, ratio, report, type BenchRow } from './support/report.ts';
import { now, percentile } from './support/stats.ts';

const SERVICES = Number(process.argv[2] ?? 1000);
const POPS = Number(process.argv[3] ?? 60);
const DOMAINS = Number(process.argv[4] ?? 2);
const TICKS = Number(process.argv[5] ?? 30);
// Services read cold (then warm), as identity and as gzip clients; fewer for a shorter run.
const COLD = Math.floor(Math.min(Number(process.argv[6] ?? 250), SERVICES / 4));
const POLLED = Math.min(150, COLD); // of each kind, polling every tick
const WARM_PER_TICK = 20;
const BASELINE_PER_TICK = 4;
const DELAY = 1;
const NOW_S = 1_767_225_600;
const HISTORY = 120;
const SECONDS_FILLED = HISTORY + DELAY + 2;

console.log(machineLine());
const clock = createFakeClock(NOW_S * 1000 + 500);
const window = createWindow({ clock, aggregateDelaySeconds: DELAY, windowSeconds: 600 });

// Shared vectors: the records are many, their values need not differ.
const vectors = Array.from({ length: 16 }, (_, i) => edgeVector(5 + i));
const lateVector = edgeVector(1);
/** Builds one second's records (and late ones) as a delta and applies it; returns the ms window.apply took. */
function applySecond(second: number, late: boolean): number {
  const edge: EdgeRecord[] = [];
  for (let s = 0; s < SERVICES; s++) {
    const service = serviceName(s);
    for (let p = 0; p < POPS; p++) {
      for (let d = 0; d < DOMAINS; d++) {
        const values = vectors[(s + p + d + second) % vectors.length] as Float64Array;
        edge.push({ second, service, datacenter: popName(p), domain: domainName(s, d), product: 'edge_application', values });
      }
    }
    // Late events: a few POPs of a third of the services report the second before.
    if (late && s % 3 === 0) {
      for (let p = 0; p < 3; p++) {
        edge.push({ second: second - 1, service, datacenter: popName(p), domain: domainName(s, 0), product: 'edge_application', values: lateVector });
      }
    }
  }
  const delta = deltaFromRecordSet({ edge, origin: [], dimension: [] });
  const t = now();
  window.apply(delta);
  return now() - t;
}

const t0 = now();
for (let second = NOW_S - SECONDS_FILLED + 1; second <= NOW_S; second++) applySecond(second, false);
console.log(
  `window: ${int(SERVICES * POPS * DOMAINS)} edge keys a second (${SERVICES} services x ${POPS} POPs x ${DOMAINS} domains), ` +
    `${SECONDS_FILLED} s filled in ${ms(now() - t0)}; heap ${int(process.memoryUsage().heapUsed / 2 ** 20)} MiB`,
);

let storeReads = 0;
const store = { readEdge: async () => (storeReads++, []), readOrigin: async () => (storeReads++, []) };
const source = createRealtimeReader(window, store);
const cache = createFragmentCache({ maxBytes: 4 * 2 ** 30 });
const app = Fastify();
installErrorHandling(app);
// Server time: from the request to the answer handed to Node (before the bytes are copied out).
let serverStart = 0;
let serverMs = 0;
app.addHook('onRequest', async () => {
  serverStart = now();
});
app.addHook('onSend', async () => {
  serverMs = now() - serverStart;
});
await app.register(fastlyRoutes, { source, tokens: benchTokens, aggregateDelaySeconds: DELAY, fragmentCache: cache });

// The baseline: the routes as they were before the cache (render.ts objects, Fastify's JSON).
app.get<{ Params: { service: string; ts: string } }>('/before/channel/:service/ts/:ts', async (req) => {
  const cursor: CursorRequest = req.params.ts === 'h' ? { kind: 'history' } : { kind: 'since', t: Number(req.params.ts) };
  const plan = planCursor(cursor, source.latestPublished(), DELAY);
  const seconds = plan.to > plan.from ? await source.channel(req.params.service, plan.from, plan.to) : [];
  const { entries, timestamp } = plan.pick(seconds);
  const data = entries.map((s) => ({ recorded: s.second, aggregated: renderChannel(s.aggregated), datacenter: objectOf(s.byDatacenter, (v) => renderChannel(v)) }));
  return { Timestamp: timestamp, AggregateDelay: DELAY, Data: data };
});

const headers = { 'fastly-key': BENCH_TOKEN };
interface Answer {
  Timestamp: number;
  Data: { recorded: number; datacenter: Record<string, unknown> }[];
}
interface Got {
  /** When it started (performance.now(), the GC entries' clock) and how long it took. */
  start: number;
  ms: number;
  server: number;
  /** Bytes sent (compressed when gzip). */
  size: number;
  /** The answer's text, when checked. */
  raw: string;
  body: Answer | undefined;
}
/**
 * One GET, timed until its last byte is read. The payload is taken as a stream: the harness then
 * does not also concatenate and decode it (as a socket would not). With `check`, the answer's
 * text and parse too (parsing megabytes weighs on the GC).
 */
async function get(url: string, opts: { check?: boolean; gzip?: boolean } = {}): Promise<Got> {
  // Let the event loop turn between requests as a server's does (inject alone never leaves the
  // microtask queue, and the GC observer below would never be called).
  await new Promise((resolve) => setImmediate(resolve));
  const t = now();
  const res = await app.inject({ method: 'GET', url, headers: opts.gzip ? { ...headers, 'accept-encoding': 'gzip' } : headers, payloadAsStream: true });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.stream() as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (opts.check || res.statusCode !== 200) chunks.push(chunk);
  }
  const elapsed = now() - t;
  if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${Buffer.concat(chunks).toString().slice(0, 300)}`);
  if ((res.headers['content-encoding'] === 'gzip') !== (opts.gzip ?? false)) throw new Error(`${url}: unexpected content-encoding`);
  const payload = Buffer.concat(chunks);
  const raw = opts.check ? (opts.gzip ? zlib.gunzipSync(payload) : payload).toString() : '';
  return { start: t, ms: elapsed, server: serverMs, size, raw, body: opts.check ? (JSON.parse(raw) as Answer) : undefined };
}

const names = ['cold', 'coldGzip', 'warm', 'warmGzip', 'poll', 'pollGzip', 'beforeH', 'beforePoll'] as const;
type Name = (typeof names)[number];
const samples = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<Name, number[]>;
const server = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<Name, number[]>;
const sizes = Object.fromEntries(names.map((n) => [n, 0])) as Record<Name, number>;
const spans = Object.fromEntries(names.map((n) => [n, [] as [number, number][]])) as Record<Name, [number, number][]>;
function record(name: Name, r: Got): Got {
  samples[name].push(r.ms);
  spans[name].push([r.start, r.start + r.ms]);
  server[name].push(r.server);
  sizes[name] = r.size;
  return r;
}
/** The baseline's answer for the same URL now must be the same text. */
async function sameAsBefore(service: string, ts: string, got: Got): Promise<void> {
  const before = await get(`/before/channel/${service}/ts/${ts}`, { check: true });
  if (before.raw !== got.raw) throw new Error(`${service} ts/${ts}: the answer differs from the baseline's`);
}

// GC pauses while measuring: on a heap of GBs (the window) they are what the p99s are made of.
const gcPauses: number[] = [];
const gcSpans: [number, number][] = [];
const gcObserver = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gcPauses.push(e.duration);
    gcSpans.push([e.startTime, e.startTime + e.duration]);
  }
});
gcObserver.observe({ entryTypes: ['gc'] });
/** Prints the GC pauses seen since the last call. */
function gcSummary(phase: string): void {
  const total = gcPauses.reduce((a, b) => a + b, 0);
  const mem = process.memoryUsage();
  console.log(
    `GC during ${phase}: ${gcPauses.length} pauses, ${ms(total)} in all, the longest ${ms(Math.max(0, ...gcPauses))}, ` +
      `${gcPauses.filter((d) => d > 5).length} over 5 ms; heap ${int(mem.heapUsed / 2 ** 20)} MiB, external ${int(mem.external / 2 ** 20)} MiB`,
  );
  gcPauses.length = 0;
}

// Services [0, COLD) are read as identity clients do, [COLD, 2 COLD) with gzip.
const gzipService = (i: number): string => serviceName(COLD + i);

// Warm-up, not recorded: the first requests of a process compile the read path (tens of ms).
for (let i = 0; i < 3; i++) {
  await get(`/v1/channel/${serviceName(2 * COLD + i)}/ts/h`);
  await get(`/v1/channel/${serviceName(2 * COLD + i)}/ts/h`, { gzip: true });
}

// Cold: the first read of each service; the baseline (which caches nothing) reads others.
for (let i = 0; i < COLD; i++) {
  const check = i % 25 === 0;
  const cold = record('cold', await get(`/v1/channel/${serviceName(i)}/ts/h`, { check }));
  const coldGzip = record('coldGzip', await get(`/v1/channel/${gzipService(i)}/ts/h`, { check, gzip: true }));
  record('beforeH', await get(`/before/channel/${serviceName(SERVICES - 1 - (i % (SERVICES - 2 * COLD)))}/ts/h`));
  if (check) {
    await sameAsBefore(serviceName(i), 'h', cold);
    await sameAsBefore(gzipService(i), 'h', coldGzip);
    if (cold.body?.Data.length !== HISTORY || Object.keys(cold.body.Data[0]?.datacenter ?? {}).length !== POPS) {
      throw new Error(`unexpected answer: ${cold.raw.slice(0, 200)}`);
    }
  }
}

await new Promise((resolve) => setImmediate(resolve));
gcSummary('the cold reads');

// Ticks: time goes on; polled services follow their cursors, warm services re-read ts/h.
const cursors = new Map<string, { cursor: number; gzip: boolean }>();
for (let i = 0; i < POLLED; i++) {
  cursors.set(serviceName(i), { cursor: window.latestPublished() + 1, gzip: false });
  cursors.set(gzipService(i), { cursor: window.latestPublished() + 1, gzip: true });
}
let applyMs = 0;
for (let tick = 0; tick < TICKS; tick++) {
  clock.advance(1000);
  applyMs += applySecond(Math.floor(clock.now() / 1000), true);
  for (const [service, c] of cursors) {
    const r = record(c.gzip ? 'pollGzip' : 'poll', await get(`/v1/channel/${service}/ts/${c.cursor}`, { check: true, gzip: c.gzip }));
    if (tick % 5 === 0 && service.endsWith('0')) await sameAsBefore(service, String(c.cursor), r);
    cursors.set(service, { cursor: (r.body as Answer).Timestamp, gzip: c.gzip });
  }
  for (let k = 0; k < WARM_PER_TICK; k++) {
    const i = Math.floor(random() * COLD);
    const check = k === 0 && tick % 5 === 0;
    const warm = record('warm', await get(`/v1/channel/${serviceName(i)}/ts/h`, { check }));
    const warmGzip = record('warmGzip', await get(`/v1/channel/${gzipService(i)}/ts/h`, { check, gzip: true }));
    if (check) {
      await sameAsBefore(serviceName(i), 'h', warm);
      await sameAsBefore(gzipService(i), 'h', warmGzip);
    }
  }
  for (let k = 0; k < BASELINE_PER_TICK; k++) {
    const service = serviceName(Math.floor(random() * POLLED));
    record('beforePoll', await get(`/before/channel/${service}/ts/${window.latestPublished()}`));
    record('beforeH', await get(`/before/channel/${service}/ts/h`));
  }
}
await new Promise((resolve) => setImmediate(resolve));
gcSummary('the ticks');
gcObserver.disconnect();
await app.close();
if (storeReads > 0) throw new Error('the reads went to the store: the window should hold every second');

const stats = cache.stats();
console.log(
  `cache: ${int(stats.fragments)} fragments of ${int(stats.sets)} (API, service) sets, ${bytes(stats.bytes)} ` +
    `(${int(stats.bytes / Math.max(1, stats.fragments))} B per fragment on average, JSON plus deflated for the gzip services); ` +
    `apply ${ms(applyMs / TICKS)} per tick`,
);
const p = percentile;
/** The request times of `name` during which no GC pause happened, and the share that had one. */
function withoutGc(name: Name): { times: number[]; share: number } {
  const sorted = [...gcSpans].sort((a, b) => a[0] - b[0]);
  const hit = (a: number, b: number): boolean => sorted.some(([s, e]) => s < b && e > a);
  const times = samples[name].filter((_, i) => !hit(...(spans[name][i] as [number, number])));
  return { times, share: 1 - times.length / samples[name].length };
}
const pair = (xs: number[]): string => `${ms(p(xs, 50))} / ${ms(p(xs, 99))}`;
/** Round trip through app.inject, then the server's part (request to answer handed to Node). */
const both = (name: Name): string => {
  const clean = withoutGc(name);
  return (
    `${pair(samples[name])} (server ${pair(server[name])}; ` +
    `${(clean.share * 100).toFixed(1)}% had a GC pause in them, the others ${pair(clean.times)})`
  );
};
const faster = (base: Name, name: Name): string =>
  `${ratio(p(samples[base], 50), p(samples[name], 50))} faster at p50, ${ratio(p(samples[base], 99), p(samples[name], 99))} at p99`;
const target = (name: Name): string => `p99 < 5 ms: ${p(samples[name], 99) < 5 ? 'yes' : 'no'}`;
const shape = `${SERVICES} services x ${POPS} POPs x ${DOMAINS} domains live`;
const beforeH = `${both('beforeH')} (before: dense vectors, objects, JSON.stringify; ${bytes(sizes.beforeH)})`;
const row = (what: string, name: Name, base: Name, withTarget: boolean): BenchRow => ({
  bench: 'fastly-read',
  what: `${what}, ${bytes(sizes[name])} sent (p50 / p99 of ${samples[name].length})`,
  value: both(name),
  baseline: base === 'beforeH' ? beforeH : `${both(base)} (before)`,
  ratio: faster(base, name),
  ...(withTarget && { target: target(name) }),
});
const rows: BenchRow[] = [
  row(`GET /v1/channel/{svc}/ts/h warm (read ~${Math.round(COLD / WARM_PER_TICK)} s before: that many new seconds to render), ${shape}`, 'warm', 'beforeH', true),
  row('the same, Accept-Encoding: gzip', 'warmGzip', 'beforeH', true),
  row('GET /v1/channel/{svc}/ts/h cold (first read of a service)', 'cold', 'beforeH', true),
  row('the same, Accept-Encoding: gzip', 'coldGzip', 'beforeH', true),
  row(`GET /v1/channel/{svc}/ts/{Timestamp} polling, ${POLLED} clients each second`, 'poll', 'beforePoll', false),
  row(`the same, Accept-Encoding: gzip, ${POLLED} other clients`, 'pollGzip', 'beforePoll', false),
];
report(rows, `node --max-old-space-size=12288 --import tsx bench/fastly-read.ts ${SERVICES} ${POPS} ${DOMAINS} ${TICKS} ${COLD}`);
