/**
 * Issue 10's benchmark: two rtmetrics nodes on a two-shard ClickHouse (18.16, Debian's
 * clickhouse-server) against one node on the embedded DuckDB, the same high-cardinality stream of
 * ../shared/peers (bench/ingest-peers.ts describes it). The stream is split line by line across
 * the two nodes, each fed by its own forked client; the DuckDB node gets all of it from one
 * client with the same connections in all. Printed: acknowledged events/s (events over the span
 * from the first send to the last acknowledgement), server CPU, rows per shard, the nodes' flush
 * lag at the end, and on a cluster node `GET /v1/channel/{svc}/ts/h` and Azion
 * `last-30-days` p50 / p99. Every service's totals and every service x POP count are read back
 * through `ts/{t}` on one node (ClickHouse) and on the DuckDB node: a mismatch fails the bench.
 * Run: node --import tsx bench/cluster-peers.ts [--events 1000000] [--connections 4] [--seed 1] [--queries 200]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startChildServer, type ChildServer } from '../test/support/child-server.ts';
import { startClickHouseCluster } from '../test/support/clickhouse-server.ts';
import { machineLine } from './support/fixtures.ts';
import type { PeerRunResult } from './support/peer-client.ts';
import { cpuMs, mergeRuns, peakRssMiB, runClient, verifyChannelTotals } from './support/peer-runs.ts';
import { peerStream } from './support/peer-stream.ts';
import { int, ms, ratio, report, type BenchRow } from './support/report.ts';
import { percentile } from './support/stats.ts';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    connections: { type: 'string', default: '4' },
    seed: { type: 'string', default: '1' },
    queries: { type: 'string', default: '200' },
  },
});
const EVENTS = Number(args.events);
const CONNECTIONS = Number(args.connections);
const QUERIES = Number(args.queries);
const TOKEN = 'rtm_bench_cluster_token_0123456789abcdef0123456789abcd';
const COMMAND = `node --import tsx bench/cluster-peers.ts --events ${EVENTS} --connections ${CONNECTIONS}`;
const BODY_BYTES = 1 << 20;
const EDGE_APPLICATIONS = 1441740010;
const DATABASE = 'rtm_bench_cluster';
const SERVER_ENV = { RTM_RATE_LIMIT_PER_SECOND: '100000' };

const stream = peerStream(EVENTS, Number(args.seed));
console.log(machineLine());

/** The stream's lines split in two, alternating: each node gets half of every second. */
function splitStream(file: string, dir: string): [string, string] {
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
  const halves: [string[], string[]] = [[], []];
  lines.forEach((l, i) => halves[i % 2]?.push(l));
  return halves.map((h, i) => {
    const out = path.join(dir, `half-${i}.ndjson`);
    fs.writeFileSync(out, `${h.join('\n')}\n`);
    return out;
  }) as [string, string];
}

const get = async (url: string): Promise<{ status: number; body: string; ms: number }> => {
  const started = performance.now();
  const res = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}`, 'fastly-key': TOKEN } });
  const body = await res.text();
  return { status: res.status, body, ms: performance.now() - started };
};

/** p50 / p99 of `QUERIES` GETs, each of `urls` in turn; throws on a non-200. */
async function latencies(urls: readonly string[]): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < QUERIES; i++) {
    const r = await get(urls[i % urls.length] as string);
    if (r.status !== 200) throw new Error(`${urls[i % urls.length]} answered ${r.status}: ${r.body.slice(0, 300)}`);
    out.push(r.ms);
  }
  return out;
}

const rows: BenchRow[] = [];
let failed = false;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtm-bench-cluster-'));
const [halfA, halfB] = splitStream(stream.eventsFile, tmp);

/** After a run: everything published and stored (AggregateDelay + the read lag + the store writer), then the read-back. */
async function settleAndVerify(url: string, run: PeerRunResult, waitMs: number): Promise<string[]> {
  await new Promise((r) => setTimeout(r, waitMs));
  return run.failures === 0 && run.accepted === run.events ? verifyChannelTotals(url, TOKEN, run) : ['not every event was acknowledged'];
}

// 1. Two nodes on a two-shard ClickHouse.
const cluster = await startClickHouseCluster(2, 'rtm_bench');
const nodes: ChildServer[] = [];
let clusterEps = 0;
try {
  const env = {
    ...SERVER_ENV,
    RTM_STORE: 'clickhouse',
    RTM_CLICKHOUSE_URLS: cluster.shards.map((s) => s.url).join(','),
    RTM_CLICKHOUSE_CLUSTER: 'rtm_bench',
    RTM_CLICKHOUSE_DATABASE: DATABASE,
  };
  for (const id of ['bench-a', 'bench-b']) {
    const dataDir = fs.mkdtempSync(path.join(tmp, `${id}-`));
    nodes.push(await startChildServer({ dataDir, adminToken: TOKEN, env: { ...env, RTM_NODE_ID: id }, onLogLine: (l) => /"level":(50|60)/.test(l) && console.error(`${id}: ${l.slice(0, 1000)}`) }));
  }
  const [a, b] = nodes as [ChildServer, ChildServer];
  const pids = nodes.map((n) => n.child.pid as number);
  const cpu0 = pids.map(cpuMs);
  const half = Math.max(1, Math.floor(CONNECTIONS / 2));
  const [runA, runB] = await Promise.all([
    runClient({ url: a.url, token: TOKEN, file: halfA, connections: half, bodyBytes: BODY_BYTES }),
    runClient({ url: b.url, token: TOKEN, file: halfB, connections: half, bodyBytes: BODY_BYTES }),
  ]);
  const cpu = pids.map((p, i) => (cpuMs(p) - (cpu0[i] as number)) / 1000);
  const run = mergeRuns(runA, runB);
  const seconds = (run.endedAt - run.startedAt) / 1000;
  clusterEps = run.accepted / seconds;
  const wrong = await settleAndVerify(b.url, run, 8000);
  if (wrong.length > 0) failed = true;
  const metrics = await get(`${a.url}/rtm/v1/metrics`);
  const lag = Number(/^rtm_store_flush_lag_seconds ([0-9.e+]+)$/m.exec(metrics.body)?.[1] ?? Number.NaN);
  const shardRows: number[] = [];
  for (const shard of cluster.shards) {
    const res = await fetch(`${shard.url}/?query=${encodeURIComponent(`SELECT sum(rows) FROM system.parts WHERE database = '${DATABASE}' AND active`)}`);
    shardRows.push(Number((await res.text()).trim()));
  }
  console.log(
    `two nodes on two shards: ${int(run.accepted)} of ${int(run.events)} acknowledged in ${seconds.toFixed(1)} s (${half} connections per node); ` +
      `server CPU ${cpu.map((c) => `${c.toFixed(1)} s`).join(' + ')}, peak RSS ${pids.map((p) => `${peakRssMiB(p).toFixed(0)} MiB`).join(' / ')}; ` +
      `rows per shard ${shardRows.map(int).join(' / ')}; flush lag at the end ${lag} s; check on node b: ${wrong.length === 0 ? 'every total equal' : `${wrong.length} mismatches, first ${wrong.slice(0, 3).join('; ')}`}`,
  );
  // Reads on a cluster node: ts/h and Azion last-30-days of the busiest services.
  const servicesOf = Object.entries(run.perService).sort((x, y) => (y[1]['requests'] ?? 0) - (x[1]['requests'] ?? 0)).slice(0, 10).map(([s]) => s);
  const tsh = await latencies(servicesOf.map((s) => `${a.url}/v1/channel/${s}/ts/h`));
  const catalog = JSON.parse((await get(`${a.url}/admin/services`)).body) as { services: { service: string; id: number }[] };
  const ids = catalog.services.filter((s) => servicesOf.includes(s.service)).map((s) => s.id);
  const azion = await latencies(ids.map((id) => `${a.url}/metrics/products/${EDGE_APPLICATIONS}/configurations/${id}/metrics/data_transferred?date_from=last-30-days`));
  rows.push(
    {
      bench: 'cluster-peers',
      what: `two nodes on a two-shard ClickHouse, high-cardinality stream (${int(EVENTS)} events), durable: acknowledged events/s`,
      value: `${int(clusterEps)} events/s`,
      baseline: 'one DuckDB node (below)',
      target: '',
    },
    {
      bench: 'cluster-peers',
      what: `GET /v1/channel/{svc}/ts/h on a cluster node, 10 busiest services (p50 / p99 of ${QUERIES})`,
      value: `${ms(percentile(tsh, 50))} / ${ms(percentile(tsh, 99))}`,
      baseline: '',
      target: `p99 <= 50 ms: ${percentile(tsh, 99) <= 50 ? 'yes' : 'no'}`,
    },
    {
      bench: 'cluster-peers',
      what: `Azion last-30-days data_transferred on a cluster node (p50 / p99 of ${QUERIES})`,
      value: `${ms(percentile(azion, 50))} / ${ms(percentile(azion, 99))}`,
      baseline: '',
      target: `p99 <= 100 ms: ${percentile(azion, 99) <= 100 ? 'yes' : 'no'}`,
    },
  );
} finally {
  for (const n of nodes.splice(0)) await n.stop();
  await cluster.stop();
}

// 2. One node on DuckDB, the whole stream, the same connections.
{
  const dataDir = fs.mkdtempSync(path.join(tmp, 'duckdb-'));
  const server = await startChildServer({ dataDir, adminToken: TOKEN, env: SERVER_ENV });
  try {
    const pid = server.child.pid as number;
    const cpu0 = cpuMs(pid);
    const run = await runClient({ url: server.url, token: TOKEN, file: stream.eventsFile, connections: CONNECTIONS, bodyBytes: BODY_BYTES });
    const cpu = (cpuMs(pid) - cpu0) / 1000;
    const seconds = (run.endedAt - run.startedAt) / 1000;
    const eps = run.accepted / seconds;
    const wrong = await settleAndVerify(server.url, run, 3000);
    if (wrong.length > 0) failed = true;
    console.log(
      `one DuckDB node: ${int(run.accepted)} of ${int(run.events)} acknowledged in ${seconds.toFixed(1)} s (${CONNECTIONS} connections); server CPU ${cpu.toFixed(1)} s, ` +
        `peak RSS ${peakRssMiB(pid).toFixed(0)} MiB; check: ${wrong.length === 0 ? 'every total equal' : `${wrong.length} mismatches, first ${wrong.slice(0, 3).join('; ')}`}`,
    );
    rows.push({
      bench: 'cluster-peers',
      what: 'two ClickHouse nodes against one DuckDB node: acknowledged events/s',
      value: `${int(clusterEps)} / ${int(eps)} events/s`,
      baseline: 'one DuckDB node, same stream, same run',
      ratio: ratio(clusterEps, eps),
      target: `>= 1.0x: ${clusterEps >= eps ? 'yes' : 'no'}`,
    });
  } finally {
    await server.stop();
  }
}
fs.rmSync(tmp, { recursive: true, force: true });
report(rows, COMMAND);
if (failed) {
  console.error('cluster-peers: the numbers read back differ from the events sent');
  process.exitCode = 1;
}
