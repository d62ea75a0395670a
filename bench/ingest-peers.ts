/**
 * Durable HTTP ingest of the high-cardinality stream of ../shared/peers (issue 8's yardstick),
 * against the one-core floor measured in the same run (`agg.js scan-typed`: a byte scanner,
 * interned ids and typed-array counters, no durability, no HTTP).
 *
 * The server is the real one (`bin/rtmetrics.js serve`, a child process, WAL fsync on, default
 * config but for the data dir and token), so its CPU and peak RSS are its own. The client (a
 * forked child, bench/support/peer-client.ts) sends every event once, in ~1 MiB bodies over N
 * keep-alive connections, with timestamps shifted so the stream's 600 s end now. Afterwards every
 * service's totals (requests, bytes, cache outcomes, status classes, origin fetches) and every
 * service x POP request count are read back through the Fastly API (`ts/{t}`) and compared with
 * the totals the client computed from the file: a mismatch fails the bench.
 *
 * `--clients on` sends every event with the `client_ip` and `path` of gen.js' nginx log (unique
 * clients: one HyperLogLog cell per event; top values: both counted per body and minute);
 * `--clients ab` runs each connection count without and then with them, on fresh servers, and
 * prints their cost as a ratio of the two runs.
 *
 * `--top-values off` runs the server with RTM_TOP_VALUES=off (unique clients only).
 * `--distributions ab` runs the same stream with RTM_DISTRIBUTIONS=off and then on (the cost of
 * the percentile buckets and unique-client cells, with the window's bytes per edge key-second).
 *
 * Run: node --import tsx bench/ingest-peers.ts [--events 5000000] [--connections 4,8] [--seed 1]
 *      [--body-bytes 1048576] [--workers N] [--naive] [--profile DIR] [--clients off|on|ab] [--top-values on|off] [--distributions on|off|ab]
 * BENCH_NODE_ARGS (space-separated) replaces the server's node flags, e.g. "--log-deopt
 * --log-function-events --logfile=/tmp/v8.log" for V8's deopt and compile log (one file per isolate).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startChildServer } from '../test/support/child-server.ts';
import { cpuMs, peakRssMiB, runClient, threadCpuLine, threadCpuMs, verifyChannelTotals } from './support/peer-runs.ts';
import { peerStream, runPeerAggregator, withClientsAndPaths } from './support/peer-stream.ts';
import { machineLine } from './support/fixtures.ts';
import { int, ms, ratio, report, type BenchRow } from './support/report.ts';
import { percentile } from './support/stats.ts';
import { startFreshnessProbe } from './support/freshness-probe.ts';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '5000000' },
    connections: { type: 'string', default: '4,8' },
    seed: { type: 'string', default: '1' },
    'body-bytes': { type: 'string', default: String(1 << 20) },
    workers: { type: 'string' },
    naive: { type: 'boolean', default: false },
    /** Writes the server's CPU profiles (main thread and workers) to this folder. */
    profile: { type: 'string' },
    clients: { type: 'string', default: 'off' },
    /** RTM_TOP_VALUES of the server: `off` splits the cost of unique clients from that of the top values. */
    'top-values': { type: 'string', default: 'on' },
    /** RTM_DISTRIBUTIONS of the server; `ab`: without, then with, on the same stream (their cost). */
    distributions: { type: 'string', default: 'on' },
  },
});
if (!['off', 'on', 'ab'].includes(args.clients)) throw new Error(`--clients must be off, on or ab, not ${args.clients}`);
if (!['off', 'on', 'ab'].includes(args.distributions)) throw new Error(`--distributions must be off, on or ab, not ${args.distributions}`);
if (args.clients === 'ab' && args.distributions === 'ab') throw new Error('--clients ab and --distributions ab: one comparison per run');
const EVENTS = Number(args.events);
const CONNECTIONS = args.connections.split(',').map(Number);
const TOKEN = 'rtm_bench_peers_token_0123456789abcdef0123456789abcdef';
const COMMAND = `node --import tsx bench/ingest-peers.ts --events ${EVENTS} --connections ${args.connections}${args.workers === undefined ? '' : ` --workers ${args.workers}`}${args.clients === 'off' ? '' : ` --clients ${args.clients}`}${args['top-values'] === 'on' ? '' : ` --top-values ${args['top-values']}`}${args.distributions === 'on' ? '' : ` --distributions ${args.distributions}`}`;

const stream = peerStream(EVENTS, Number(args.seed));
console.log(machineLine());
const floor = runPeerAggregator('scan-typed', stream.genFile);
console.log(`floor (agg.js scan-typed): ${int(floor.events_per_s)} events/s, ${floor.maxRSS_MB} MB, ${floor.buckets} keys`);
const naive = args.naive ? runPeerAggregator('json-map', stream.genFile) : undefined;
if (naive) console.log(`naive (agg.js json-map): ${int(naive.events_per_s)} events/s, ${naive.maxRSS_MB} MB`);
const floorCpuPerEvent = floor.seconds / EVENTS; // one core, all CPU

const rows: BenchRow[] = [];
let failed = false;
/** One server run: its stream, its settings, and how the rows name it. */
interface Variant {
  name: 'without' | 'with' | 'only';
  label: string;
  file: string;
  env: Record<string, string>;
}
const clientsFile = args.clients === 'off' ? undefined : withClientsAndPaths(stream);
const distributionsEnv = (on: boolean): Record<string, string> => ({ RTM_DISTRIBUTIONS: on ? 'on' : 'off' });
const variants: Variant[] =
  args.clients === 'ab'
    ? [
        { name: 'without', label: ' without client_ip and path', file: stream.eventsFile, env: distributionsEnv(args.distributions !== 'off') },
        { name: 'with', label: ' with client_ip and path', file: clientsFile as string, env: distributionsEnv(args.distributions !== 'off') },
      ]
    : args.distributions === 'ab'
      ? [
          { name: 'without', label: ' without distributions', file: clientsFile ?? stream.eventsFile, env: distributionsEnv(false) },
          { name: 'with', label: ' with distributions', file: clientsFile ?? stream.eventsFile, env: distributionsEnv(true) },
        ]
      : [{ name: 'only', label: `${clientsFile === undefined ? '' : ' with client_ip and path'}${args.distributions === 'off' ? ' without distributions' : ''}`, file: clientsFile ?? stream.eventsFile, env: distributionsEnv(args.distributions !== 'off') }];
for (const connections of CONNECTIONS) {
  const measured = new Map<string, { eps: number; perCpu: number; rss: number; keyBytes: number }>();
  for (const variant of variants) {
    const { label } = variant;
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtm-bench-peers-'));
    const env: Record<string, string> = { RTM_RATE_LIMIT_PER_SECOND: '100000', RTM_TOP_VALUES: args['top-values'], ...variant.env };
    if (args.workers !== undefined) env.RTM_INGEST_WORKERS = args.workers;
    const server = await startChildServer({ dataDir, adminToken: TOKEN, env, nodeArgs: process.env['BENCH_NODE_ARGS'] !== undefined ? process.env['BENCH_NODE_ARGS'].split(' ') : args.profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${path.resolve(args.profile)}`],
      // The server's errors are the bench's to show (a 5xx in the read-back says nothing by itself).
      onLogLine: (line) => {
        if (/"level":(50|60)/.test(line)) console.error(`server: ${line.slice(0, 2000)}`);
      },
    });
    try {
      const pid = server.child.pid as number;
      const cpu0 = cpuMs(pid);
      const threads0 = threadCpuMs(pid);
      const probe = startFreshnessProbe(server.url, TOKEN);
      const run = await runClient({ url: server.url, token: TOKEN, file: variant.file, connections, bodyBytes: Number(args['body-bytes']) });
      const freshness = await probe.stop();
      const cpu1 = cpuMs(pid);
      console.log(threadCpuLine(pid, threads0, threadCpuMs(pid)));
      const seconds = (run.endedAt - run.startedAt) / 1000;
      const eps = run.accepted / seconds;
      const perCpu = run.accepted / ((cpu1 - cpu0) / 1000);
      // Everything is published AggregateDelay (1 s) after the last second; then the store write.
      await new Promise((r) => setTimeout(r, 3000));
      const wrong = run.failures === 0 && run.accepted === run.events ? await verifyChannelTotals(server.url, TOKEN, run) : ['not every event was acknowledged'];
      const rss = peakRssMiB(pid);
      // Where the memory is at the end (the window's own estimate; the rest is heap, buffers, DuckDB).
      const metrics = await (await fetch(`${server.url}/rtm/v1/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
      const gauge = (name: string): number => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, 'm').exec(metrics)?.[1] ?? Number.NaN);
      const mib = (n: number): string => `${(n / 1024 ** 2).toFixed(0)} MiB`;
      console.log(
        `server memory after the run: window ${mib(gauge('rtm_window_bytes'))} (${int(gauge('rtm_window_edge_keys'))} edge key-seconds), ` +
          `pending rows ${int(gauge('rtm_pipeline_pending_rows'))}, rollup backlog ${int(gauge('rtm_store_rollup_backlog'))} rows`,
      );
      console.log(
        `${connections} connections${label}: ${int(run.accepted)} of ${int(run.events)} acknowledged (${run.rejected} rejected, ${run.failures} failed${run.firstFailure ? `: ${run.firstFailure}` : ''}) in ${seconds.toFixed(1)} s; ` +
          `server CPU ${((cpu1 - cpu0) / 1000).toFixed(1)} s, peak RSS ${rss.toFixed(0)} MiB; check: ${wrong.length === 0 ? 'every total equal' : `${wrong.length} mismatches, first ${wrong.slice(0, 3).join('; ')}`}`,
      );
      if (wrong.length > 0) failed = true;
      measured.set(variant.name, { eps, perCpu, rss, keyBytes: gauge('rtm_window_bytes') / gauge('rtm_window_edge_keys') });
      rows.push(
        {
          bench: 'ingest-peers',
          what: `POST /ingest, high-cardinality stream (${int(EVENTS)} events, ${int(floor.buckets)} keys), ${connections} connections, durable${label}`,
          value: `${int(eps)} events/s`,
          baseline: `${int(floor.events_per_s)} events/s (agg.js scan-typed, one core)`,
          ratio: ratio(eps, floor.events_per_s),
          target: `>= 1.0x: ${eps >= floor.events_per_s ? 'yes' : 'no'}`,
        },
        {
          bench: 'ingest-peers',
          what: `events per server CPU-second (${connections} connections${label})`,
          value: `${int(perCpu)} events/CPU-s`,
          baseline: `${int(1 / floorCpuPerEvent)} events/CPU-s (floor)`,
          ratio: ratio(perCpu, 1 / floorCpuPerEvent),
          target: `>= 0.5x: ${perCpu * floorCpuPerEvent >= 0.5 ? 'yes' : 'no'}`,
        },
        {
          bench: 'ingest-peers',
          what: `freshness under that load: acknowledged -> in a ts/{t} answer, p50 / p99 / max of ${freshness.length} probes (one a second)`,
          value: freshness.length === 0 ? 'no probe completed' : `${ms(percentile(freshness, 50))} / ${ms(percentile(freshness, 99))} / ${ms(Math.max(...freshness))}`,
          baseline: 'AggregateDelay (1 s) + 1 s',
          target: `<= 2 s: ${freshness.length > 0 && Math.max(...freshness) <= 2000 ? 'yes' : 'no'}`,
        },
        {
          bench: 'ingest-peers',
          what: `server peak RSS, request latency p50 / p99 (${connections} connections${label})`,
          value: `${rss.toFixed(0)} MiB, ${ms(percentile(run.latencies, 50))} / ${ms(percentile(run.latencies, 99))}`,
          baseline: `${floor.maxRSS_MB} MB (floor)`,
          target: `<= 1 GB: ${rss <= 1024 ? 'yes' : 'no'}`,
        },
      );
    } finally {
      await server.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }
  const without = measured.get('without');
  const withThem = measured.get('with');
  if (without !== undefined && withThem !== undefined) {
    const what =
      args.clients === 'ab'
        ? 'cost of unique clients and top values (client_ip and path on every event)'
        : 'cost of the distributions (percentile buckets and unique-client cells, RTM_DISTRIBUTIONS on / off) on the same stream';
    rows.push({
      bench: 'ingest-peers',
      what: `${what}, ${connections} connections: events/s, events per CPU-s, window bytes per edge key-second, with / without`,
      value:
        `${ratio(withThem.eps, without.eps)} events/s, ${ratio(withThem.perCpu, without.perCpu)} per CPU-s; ` +
        `${withThem.keyBytes.toFixed(0)} / ${without.keyBytes.toFixed(0)} B per edge key-second; peak RSS ${withThem.rss.toFixed(0)} / ${without.rss.toFixed(0)} MiB`,
      baseline: 'the run without, the run before',
      target: `>= 0.8x per CPU-s (distributions cost at most 25%): ${withThem.perCpu >= 0.8 * without.perCpu ? 'yes' : 'no'}`,
    });
  }
}
report(rows, COMMAND);
if (failed) {
  console.error('ingest-peers: the numbers read back differ from the events sent');
  process.exitCode = 1;
}
