/**
 * `npm run bench`: every benchmark in turn, each in its own node process with the flags it needs,
 * then one markdown table of their figures. `npm run bench -- --write` also puts the table in
 * docs/benchmarks.md (between the bench-table markers); `--only a,b` runs some of them.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BENCH_ROWS_PREFIX, type BenchRow } from './support/report.ts';

interface Script {
  name: string;
  nodeArgs: string[];
  args: string[];
  timeoutS: number;
}

const SCRIPTS: readonly Script[] = [
  { name: 'ingest-inprocess', nodeArgs: ['--import', 'tsx'], args: [], timeoutS: 120 },
  { name: 'ingest-http', nodeArgs: ['--import', 'tsx'], args: [], timeoutS: 180 },
  { name: 'memory', nodeArgs: ['--expose-gc', '--import', 'tsx'], args: [], timeoutS: 120 },
  { name: 'realtime-read', nodeArgs: ['--max-old-space-size=8192', '--import', 'tsx'], args: [], timeoutS: 360 },
  { name: 'azion-query', nodeArgs: ['--import', 'tsx'], args: [], timeoutS: 180 },
  // Issue 11: a p99 over a month for one service, beside the month's sum from the same rows.
  { name: 'percentile-query', nodeArgs: ['--import', 'tsx'], args: ['200'], timeoutS: 180 },
  // Issue 8's yardstick: the peers' high-cardinality stream (5M events, 1.95M keys) through the
  // durable HTTP server, against agg.js scan-typed in the same run (~4-8 min at today's rate).
  { name: 'ingest-peers', nodeArgs: ['--import', 'tsx'], args: ['--events', '5000000', '--connections', '4'], timeoutS: 1500 },
  // Issue 11: the cost of unique clients and top values: the same 1M events without and with
  // client_ip and path, each on a fresh server in the same run (ratios of events/s and CPU).
  { name: 'ingest-peers', nodeArgs: ['--import', 'tsx'], args: ['--events', '1000000', '--connections', '4', '--clients', 'ab'], timeoutS: 900 },
  // ... and of the distributions themselves (percentile buckets and unique-client cells): the
  // stream with client_ip and path on a server with RTM_DISTRIBUTIONS off, then on.
  { name: 'ingest-peers', nodeArgs: ['--import', 'tsx'], args: ['--events', '1000000', '--connections', '4', '--clients', 'on', '--distributions', 'ab'], timeoutS: 900 },
  // Where the server's CPU goes, piece by piece, on the same stream: a parse worker's job
  // (parse + aggregate) against the floor, and the store (one write per second, as live).
  { name: 'parse-peers', nodeArgs: ['--import', 'tsx'], args: ['--events', '1000000', '--rounds', '3'], timeoutS: 300 },
  { name: 'store-peers', nodeArgs: ['--import', 'tsx'], args: ['--events', '1000000'], timeoutS: 600 },
  // Issue 10: two nodes on a two-shard ClickHouse (clickhouse-server) against one DuckDB node.
  { name: 'cluster-peers', nodeArgs: ['--import', 'tsx'], args: ['--events', '1000000', '--connections', '4'], timeoutS: 900 },
  // Generates the 5M-line log, imports it, then runs GoAccess on it (~10 min at its 7.7K lines/s).
  { name: 'import', nodeArgs: ['--import', 'tsx'], args: [], timeoutS: 1800 },
];

const { values: opts } = parseArgs({ options: { write: { type: 'boolean', default: false }, only: { type: 'string' } } });
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DOC = path.join(root, 'docs', 'benchmarks.md');
export const TABLE_START = '<!-- bench-table:start -->';
export const TABLE_END = '<!-- bench-table:end -->';

/** Runs one script, echoing its output, and returns the rows it reported (none if it failed). */
function run(script: Script): Promise<{ rows: BenchRow[]; ok: boolean; seconds: number }> {
  const file = path.join('bench', `${script.name}.ts`);
  const argv = [...script.nodeArgs, file, ...script.args];
  console.log(`\n$ node ${argv.join(' ')}`);
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, argv, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    const rows: BenchRow[] = [];
    let pending = '';
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith(BENCH_ROWS_PREFIX)) rows.push(...(JSON.parse(line.slice(BENCH_ROWS_PREFIX.length)) as BenchRow[]));
        else console.log(line);
      }
    });
    const timer = setTimeout(() => {
      console.log(`${script.name}: no result after ${script.timeoutS} s, stopped`);
      child.kill('SIGKILL');
    }, script.timeoutS * 1000);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) console.log(`${script.name}: exited with ${code}`);
      resolve({ rows, ok: code === 0, seconds: (performance.now() - started) / 1000 });
    });
  });
}

const cell = (s: string | undefined): string => (s ?? '').replaceAll('|', '\\|');

function table(rows: readonly BenchRow[]): string {
  const lines = ['| bench | what | value | baseline (same process) | ratio | target |', '| --- | --- | --- | --- | --- | --- |'];
  for (const r of rows) lines.push(`| ${[r.bench, r.what, r.value, r.baseline, r.ratio, r.target].map(cell).join(' | ')} |`);
  return lines.join('\n');
}

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const chosen = opts.only ? SCRIPTS.filter((s) => opts.only?.split(',').includes(s.name)) : SCRIPTS;
const loadBefore = os.loadavg()[0] ?? 0;
const all: BenchRow[] = [];
const failed: string[] = [];
for (const script of chosen) {
  const { rows, ok, seconds } = await run(script);
  console.log(`(${script.name}: ${seconds.toFixed(0)} s)`);
  if (!ok) failed.push(script.name);
  all.push(...rows);
}
const loadAfter = os.loadavg()[0] ?? 0;

const stamp = new Date().toISOString().slice(0, 16).replace('T', ' ');
const machine =
  `${stamp} UTC, ${os.cpus().length} cores (${cpu}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}, ` +
  `1-min load average ${loadBefore.toFixed(1)} before / ${loadAfter.toFixed(1)} after`;
const markdown = `${machine}. Command: \`npm run bench\`${opts.only ? ` (\`--only ${opts.only}\`)` : ''}.\n\n${table(all)}\n`;
console.log(`\n${markdown}`);
if (failed.length > 0) console.log(`failed: ${failed.join(', ')}`);

if (opts.write) {
  const doc = fs.readFileSync(DOC, 'utf8');
  const start = doc.indexOf(TABLE_START);
  const end = doc.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error(`${DOC} has no ${TABLE_START} ... ${TABLE_END} section`);
  fs.writeFileSync(DOC, `${doc.slice(0, start + TABLE_START.length)}\n${markdown}${doc.slice(end)}`);
  console.log(`wrote the table to ${path.relative(root, DOC)}`);
}
process.exitCode = failed.length > 0 ? 1 : 0;
