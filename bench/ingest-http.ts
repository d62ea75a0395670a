/**
 * Ingest throughput over HTTP: the real server (startServer, WAL fsync on) in this process,
 * loaded by a client in a child process (support/load-client.ts: 8 keep-alive connections
 * POSTing ~1 MiB NDJSON bodies back to back), counting acknowledged events/s. Beside it, a naive
 * node:http server in this same process (JSON.parse per line + Map, no durability) under the
 * same client. The two alternate in rounds (both servers stay up), so the machine's drift hits
 * both alike; events per server CPU-second are reported too, which hold on a loaded machine.
 * When the target is missed, a profiled slice of the real server prints where its main thread
 * spends its time (self time per function).
 * Run: node --import tsx bench/ingest-http.ts [--seconds 12] [--rounds 3] [--warmup 1] [--connections 8]
 *      [--workers N (parse workers; default RTM_INGEST_WORKERS' default)] [--no-profile] [--profile-out FILE]
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { loadConfig, testConfig } from '../src/config/config.ts';
import { startServer } from '../src/main.ts';
import type { RunResult, RunSpec } from './support/load-client.ts';
import { BENCH_TOKEN, machineLine, withTempDir } from './support/fixtures.ts';
import { createNaiveAggregator } from './support/naive.ts';
import { formatSelfTimes, selfTimes, selfTimesByFile, startProfiler, type CpuProfile } from './support/profile.ts';
import { int, ms, ratio, report, type BenchRow } from './support/report.ts';
import { median, percentile } from './support/stats.ts';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '12' },
    rounds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    connections: { type: 'string', default: '8' },
    workers: { type: 'string', default: String(loadConfig({}).ingestWorkers) },
    'no-profile': { type: 'boolean', default: false },
    'profile-out': { type: 'string' },
  },
});
const SECONDS = Number(args.seconds);
const WARMUP_S = Number(args.warmup);
const CONNECTIONS = Number(args.connections);
const ROUNDS = Number(args.rounds);
const WORKERS = Number(args.workers);
const TARGET = 1_500_000;

interface Measured extends RunResult {
  /** This process's CPU over the measured period (server + its native threads), ms. */
  serverCpuMs: number;
  profile?: CpuProfile;
}

function startClient(): Promise<ChildProcess> {
  const child = fork(new URL('./support/load-client.ts', import.meta.url), [], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve(child));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`load client exited with ${code}`)));
  });
}

/** One run against `url`; this process's CPU (and optionally its profile) over the measured part. */
async function measure(client: ChildProcess, url: string, seconds: number, profile: boolean): Promise<Measured> {
  const spec: RunSpec = { url, token: BENCH_TOKEN, connections: CONNECTIONS, warmupMs: WARMUP_S * 1000, durationMs: seconds * 1000 };
  let cpuStart: NodeJS.CpuUsage | undefined;
  let profiler: Awaited<ReturnType<typeof startProfiler>> | undefined;
  const began = setTimeout(() => {
    cpuStart = process.cpuUsage();
    if (profile) void startProfiler().then((p) => (profiler = p));
  }, spec.warmupMs);
  const result = await new Promise<RunResult>((resolve) => {
    client.once('message', (m: { result: RunResult }) => resolve(m.result));
    client.send({ run: spec });
  });
  clearTimeout(began);
  const cpu = process.cpuUsage(cpuStart);
  const out: Measured = { ...result, serverCpuMs: (cpu.user + cpu.system) / 1000 };
  if (profiler) out.profile = await profiler.stop();
  if (result.failures > 0) console.log(`  ${result.failures} failed requests; first: ${result.firstFailure ?? '?'}`);
  return out;
}

/** The naive server: JSON.parse + Map per line, no auth store, no durability. */
async function withBaselineServer<T>(work: (url: string) => Promise<T>): Promise<T> {
  const naive = createNaiveAggregator();
  const server = http.createServer((req, res) => {
    if (req.method !== 'POST' || req.headers.authorization !== `Bearer ${BENCH_TOKEN}`) {
      res.writeHead(401).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let accepted = 0;
      try {
        accepted = naive.add(Buffer.concat(chunks));
      } catch (err) {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: String(err) }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ accepted, rejected: 0, errors: [] }));
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await work(`http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest`);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

async function withRealServer<T>(work: (url: string) => Promise<T>): Promise<T> {
  return withTempDir('http', async (dir) => {
    const config = testConfig(dir, { adminToken: BENCH_TOKEN, port: 0, host: '127.0.0.1', logLevel: 'warn', ingestWorkers: WORKERS });
    if (!config.walFsync) throw new Error('the benchmark measures with durability on (walFsync)');
    const running = await startServer(config);
    try {
      return await work(`${running.url}/ingest`);
    } finally {
      await running.stop();
    }
  });
}

const rate = (m: Measured): number => m.accepted / (m.elapsedMs / 1000);
const cpuShare = (cpuMs: number, m: Measured): string => `${((cpuMs / m.elapsedMs) * 100).toFixed(0)}%`;
function describe(label: string, m: Measured): void {
  console.log(
    `${label}: ${int(rate(m))} events/s acknowledged (${m.requests} bodies of ${int(m.bodyBytes)} B / ~${m.eventsPerBody} events, ` +
      `${m.rejected} rejected), request latency p50 ${ms(percentile(m.latencies, 50))} p99 ${ms(percentile(m.latencies, 99))}, ` +
      `server process CPU ${cpuShare(m.serverCpuMs, m)} of one core, client CPU ${cpuShare(m.clientCpuMs, m)}`,
  );
}

/** Sums of several measured slices of one server. */
function merge(parts: readonly Measured[]): Measured {
  const first = parts[0];
  if (!first) throw new Error('no slices');
  return parts.slice(1).reduce<Measured>(
    (m, p) => ({
      ...m,
      requests: m.requests + p.requests,
      accepted: m.accepted + p.accepted,
      rejected: m.rejected + p.rejected,
      failures: m.failures + p.failures,
      latencies: [...m.latencies, ...p.latencies],
      elapsedMs: m.elapsedMs + p.elapsedMs,
      clientCpuMs: m.clientCpuMs + p.clientCpuMs,
      serverCpuMs: m.serverCpuMs + p.serverCpuMs,
    }),
    { ...first, latencies: [...first.latencies] },
  );
}

/** Events acknowledged per second of the server process's CPU: what a core buys, whatever else runs. */
const perCpuSecond = (m: Measured): number => m.accepted / (m.serverCpuMs / 1000);

console.log(machineLine());
console.log(
  `ingest-http: ${CONNECTIONS} connections, ${WORKERS} parse workers; the naive server and rtmetrics alternate in ${ROUNDS} rounds of ` +
    `${WARMUP_S} s warm-up + ${(SECONDS / ROUNDS).toFixed(1)} s measured each; load client in a child process`,
);
const client = await startClient();
try {
  const rows: BenchRow[] = [];
  const slice = SECONDS / ROUNDS;
  const baseParts: Measured[] = [];
  const realParts: Measured[] = [];
  const roundRatios: number[] = [];
  let profiled: Measured | undefined;
  await withBaselineServer((baseUrl) =>
    withRealServer(async (realUrl) => {
      for (let r = 0; r < ROUNDS; r++) {
        const b = await measure(client, baseUrl, slice, false);
        const m = await measure(client, realUrl, slice, false);
        baseParts.push(b);
        realParts.push(m);
        roundRatios.push(rate(m) / rate(b));
        console.log(`  round ${r + 1}: naive ${int(rate(b))} events/s, rtmetrics ${int(rate(m))} events/s (${ratio(rate(m), rate(b))})`);
      }
      if (rate(merge(realParts)) < TARGET && !args['no-profile']) {
        console.log('target missed: a profiled 6 s slice of the real server follows');
        profiled = await measure(client, realUrl, 6, true);
      }
    }),
  );
  const base = merge(baseParts);
  const real = merge(realParts);
  describe('naive baseline server (node:http, JSON.parse + Map, no durability)', base);
  describe('rtmetrics (startServer, WAL fsync on)', real);
  rows.push({
    bench: 'ingest-http',
    what: `POST /ingest, ${CONNECTIONS} connections, 1 MiB bodies, durability on`,
    value: `${int(rate(real))} events/s`,
    baseline: `${int(rate(base))} events/s`,
    ratio: `${ratio(rate(real), rate(base))} (median of rounds ${median(roundRatios).toFixed(2)}x)`,
    target: `>= 1.5M events/s: ${rate(real) >= TARGET ? 'yes' : 'no'}`,
  });
  rows.push({
    bench: 'ingest-http',
    what: 'events acknowledged per CPU-second of the server process (all its threads)',
    value: `${int(perCpuSecond(real))} events/CPU-s`,
    baseline: `${int(perCpuSecond(base))} events/CPU-s`,
    ratio: ratio(perCpuSecond(real), perCpuSecond(base)),
  });
  rows.push({
    bench: 'ingest-http',
    what: 'request latency p50 / p99 (1 MiB body)',
    value: `${ms(percentile(real.latencies, 50))} / ${ms(percentile(real.latencies, 99))}`,
    baseline: `${ms(percentile(base.latencies, 50))} / ${ms(percentile(base.latencies, 99))}`,
  });
  if (profiled) {
    describe('rtmetrics, profiled slice', profiled);
    if (profiled.profile) {
      if (args['profile-out']) fs.writeFileSync(args['profile-out'], JSON.stringify(profiled.profile));
      console.log('top self time of the server main thread (V8 sampling profiler):');
      console.log(formatSelfTimes(selfTimes(profiled.profile, 25)));
      console.log('by file:');
      console.log(formatSelfTimes(selfTimesByFile(profiled.profile, 15)));
    }
  }
  const argv = process.argv.slice(2).join(' ');
  report(rows, `node --import tsx bench/ingest-http.ts${argv ? ` ${argv}` : ''}`);
} finally {
  client.send({ exit: true });
}
