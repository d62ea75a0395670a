/**
 * Fastly real-time read latency with the rendered-entry cache (src/api/fastly/fragment-cache.ts)
 * and the sparse JSON renderer (render-json.ts), through the real routes (app.inject) over
 * createRealtimeReader(window, store), with SERVICES x POPS x DOMAINS edge keys live in the
 * window every second:
 * - cold `ts/h`: the first read of a service (nothing cached: 120 seconds rendered);
 * - warm `ts/h`: a service read before, while time goes on (cached but the seconds since);
 * - polling `ts/{Timestamp}` as a client does every second, each service with its own cursor;
 * beside the baseline in the same process: the pre-cache path (dense vectors rendered to objects,
 * serialized by Fastify), on the same window, at the same moments.
 * Time goes on in ticks: the fake clock advances 1 s and a new second of records (plus late
 * deltas to the previous one) is applied for every service before each tick's requests.
 * Run: node --max-old-space-size=12288 --import tsx bench/fastly-read.ts [services] [pops] [domains] [ticks]
 */
import Fastify from 'fastify';
import { createWindow } from '../src/aggregate/window.ts';
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
const COLD = Math.min(300, SERVICES); // services read cold (then warm), one each
const POLLED = Math.min(200, SERVICES); // services polled every tick
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
function applySecond(second: number, late: boolean): void {
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
  window.apply({ edge, origin: [], dimension: [] });
}

let t0 = now();
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
  const data = entries.map((s) => ({ recorded: s.second, aggregated: renderChannel(s.aggregated), datacenter: objectOf(s.byDatacenter, renderChannel) }));
  return { Timestamp: timestamp, AggregateDelay: DELAY, Data: data };
});

const headers = { 'fastly-key': BENCH_TOKEN };
interface Answer {
  Timestamp: number;
  Data: { recorded: number; datacenter: Record<string, unknown> }[];
}
/** One GET: its time, and the parsed answer when `check` (parsing megabytes weighs on the GC). */
async function get(url: string, check: boolean): Promise<{ ms: number; server: number; size: number; body: Answer | undefined; raw: string }> {
  const t = now();
  const res = await app.inject({ method: 'GET', url, headers });
  const elapsed = now() - t;
  if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body.slice(0, 300)}`);
  return { ms: elapsed, server: serverMs, size: res.rawPayload.length, body: check ? (res.json() as Answer) : undefined, raw: check ? res.body : '' };
}

const names = ['cold', 'warm', 'poll', 'beforeH', 'beforePoll'] as const;
const samples = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<(typeof names)[number], number[]>;
const server = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<(typeof names)[number], number[]>;
function record(name: (typeof names)[number], r: { ms: number; server: number }): void {
  samples[name].push(r.ms);
  server[name].push(r.server);
}
let sizeH = 0;

// Cold: the first read of COLD services; the baseline reads other services (it caches nothing).
// Every 25th answer is checked against the baseline's, byte for byte.
for (let i = 0; i < COLD; i++) {
  const service = serviceName(i);
  const check = i % 25 === 0;
  const cold = await get(`/v1/channel/${service}/ts/h`, check);
  record('cold', cold);
  sizeH = cold.size;
  const before = await get(`/before/channel/${serviceName(SERVICES - 1 - (i % (SERVICES - COLD || 1)))}/ts/h`, false);
  record('beforeH', before);
  if (check) {
    const again = await get(`/before/channel/${service}/ts/h`, true);
    if (again.raw !== cold.raw) throw new Error(`${service}: the cached route's answer differs from the baseline's`);
    if (cold.body?.Data.length !== HISTORY || Object.keys(cold.body.Data[0]?.datacenter ?? {}).length !== POPS) {
      throw new Error(`unexpected answer: ${cold.raw.slice(0, 200)}`);
    }
  }
}

// Ticks: time goes on; polled services follow their cursors, warm services re-read ts/h.
const cursors = new Map<string, number>();
for (let i = 0; i < POLLED; i++) cursors.set(serviceName(i), window.latestPublished() + 1);
let applyMs = 0;
for (let tick = 0; tick < TICKS; tick++) {
  clock.advance(1000);
  t0 = now();
  applySecond(Math.floor(clock.now() / 1000), true);
  applyMs += now() - t0;
  for (const [service, cursor] of cursors) {
    const r = await get(`/v1/channel/${service}/ts/${cursor}`, true);
    record('poll', r);
    cursors.set(service, (r.body as Answer).Timestamp);
  }
  for (let k = 0; k < WARM_PER_TICK; k++) {
    const service = serviceName(Math.floor(random() * COLD));
    const check = k === 0 && tick % 5 === 0;
    const warm = await get(`/v1/channel/${service}/ts/h`, check);
    record('warm', warm);
    if (check && warm.raw !== (await get(`/before/channel/${service}/ts/h`, true)).raw) {
      throw new Error(`${service}: the warm answer differs from the baseline's`);
    }
  }
  for (let k = 0; k < BASELINE_PER_TICK; k++) {
    const service = serviceName(Math.floor(random() * POLLED));
    record('beforePoll', await get(`/before/channel/${service}/ts/${window.latestPublished()}`, false));
    record('beforeH', await get(`/before/channel/${service}/ts/h`, false));
  }
}
await app.close();
if (storeReads > 0) throw new Error('the reads went to the store: the window should hold every second');

const stats = cache.stats();
console.log(
  `cache: ${int(stats.fragments)} fragments of ${int(stats.sets)} services, ${bytes(stats.bytes)} ` +
    `(${int(stats.bytes / Math.max(1, stats.fragments))} B per fragment with overhead); apply ${ms(applyMs / TICKS)} per tick`,
);
const p = percentile;
const pair = (xs: number[]): string => `${ms(p(xs, 50))} / ${ms(p(xs, 99))}`;
/** Round trip through app.inject, then the server's part in brackets. */
const both = (name: (typeof names)[number]): string => `${pair(samples[name])} (server ${pair(server[name])})`;
const shape = `${SERVICES} services x ${POPS} POPs x ${DOMAINS} domains live`;
const rows: BenchRow[] = [
  {
    bench: 'fastly-read',
    what: `GET /v1/channel/{svc}/ts/h warm (read before, time going on), ${shape}, ${bytes(sizeH)} answers (p50 / p99 of ${samples.warm.length})`,
    value: both('warm'),
    baseline: `${both('beforeH')} (before: dense vectors, objects, JSON.stringify)`,
    ratio: `${ratio(p(samples.beforeH, 50), p(samples.warm, 50))} faster at p50, ${ratio(p(samples.beforeH, 99), p(samples.warm, 99))} at p99`,
    target: `p99 < 5 ms: ${p(samples.warm, 99) < 5 ? 'yes' : 'no'}`,
  },
  {
    bench: 'fastly-read',
    what: `GET /v1/channel/{svc}/ts/h cold (first read of a service) (p50 / p99 of ${samples.cold.length})`,
    value: both('cold'),
    baseline: `${both('beforeH')} (before)`,
    ratio: `${ratio(p(samples.beforeH, 50), p(samples.cold, 50))} faster at p50, ${ratio(p(samples.beforeH, 99), p(samples.cold, 99))} at p99`,
    target: `p99 < 5 ms: ${p(samples.cold, 99) < 5 ? 'yes' : 'no'}`,
  },
  {
    bench: 'fastly-read',
    what: `GET /v1/channel/{svc}/ts/{Timestamp} polling, ${POLLED} clients each second (p50 / p99 of ${samples.poll.length})`,
    value: both('poll'),
    baseline: `${both('beforePoll')} (before)`,
    ratio: `${ratio(p(samples.beforePoll, 50), p(samples.poll, 50))} faster at p50, ${ratio(p(samples.beforePoll, 99), p(samples.poll, 99))} at p99`,
  },
];
report(rows, `node --max-old-space-size=12288 --import tsx bench/fastly-read.ts ${SERVICES} ${POPS} ${DOMAINS} ${TICKS}`);
