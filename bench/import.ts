/**
 * `rtmetrics import` on the 5M-line nginx log of ../shared/peers/gen.js (nginx combined plus
 * `$host $request_time $upstream_cache_status`), beside GoAccess on the same file when it is
 * installed (the bench installs the Debian package when it runs as root, or says why it skips
 * it): lines/s and peak RSS (GNU time's maximum resident set size) of both, and rtmetrics'
 * lines/s over the first and the last million lines (from its progress lines).
 * rtmetrics writes to a temp data dir in process, durably (WAL fsync on), and the time includes
 * its start and its close (the store flush): the whole command as a user runs it.
 * Run: node --import tsx bench/import.ts [LOG] [--lines N] [--args 'IMPORT OPTIONS']   (no LOG: gen.js N lines into a temp dir)
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { int, ratio, report, type BenchRow } from './support/report.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: opts, positionals } = parseArgs({ allowPositionals: true, options: { lines: { type: 'string', default: '5000000' }, args: { type: 'string', default: '' } } });
/** More `rtmetrics import` options (`--args '--workers 2'`), to compare settings. */
const extraArgs = opts.args === '' ? [] : opts.args.split(/\s+/);
const GEN_FORMAT = '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $host $request_time $upstream_cache_status';
const GOACCESS_FORMAT = '%h %^[%d:%t %^] "%r" %s %b "%R" "%u" %v %T %^';
const TIME = '/usr/bin/time';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtm-bench-import-'));
const cleanup = (): void => fs.rmSync(tmp, { recursive: true, force: true });
process.on('exit', cleanup);

let log = positionals[0];
if (log === undefined) {
  const gen = path.resolve(root, '..', 'shared', 'peers', 'gen.js');
  console.log(`import: generating ${int(Number(opts.lines))} lines with node ${path.relative(root, gen)} ...`);
  execFileSync(process.execPath, [gen, opts.lines, path.join(tmp, 'gen')], { stdio: 'inherit' });
  fs.rmSync(path.join(tmp, 'gen.ndjson'));
  log = path.join(tmp, 'gen.log');
}
const lines = Number(execFileSync('wc', ['-l', log]).toString().trim().split(/\s+/)[0]);
const size = fs.statSync(log).size;
console.log(`import: ${log}, ${int(lines)} lines, ${int(size / 2 ** 20)} MiB`);
if (!fs.existsSync(TIME)) throw new Error(`${TIME} (GNU time, Debian package "time") is needed to measure peak RSS`);

interface Run {
  seconds: number;
  peakRssKiB: number;
  /** [ms since start, lines] of each progress line. */
  progress: [number, number][];
  stdout: string;
}

/** Runs `argv` under GNU time; resolves with wall time, peak RSS and rtmetrics' progress lines. */
function timed(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  const started = performance.now();
  const child = spawn(TIME, ['-f', 'BENCH-TIME %M %e', ...argv], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const progress: [number, number][] = [];
  let peak = 0;
  let stdout = '';
  let stderrTail = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  readline.createInterface({ input: child.stderr }).on('line', (line) => {
    const m = /^import: ([\d,]+) lines/.exec(line);
    if (m) progress.push([performance.now() - started, Number((m[1] as string).replaceAll(',', ''))]);
    const t = /^BENCH-TIME (\d+) /.exec(line);
    if (t) peak = Number(t[1]);
    else stderrTail = `${stderrTail}${line}\n`.slice(-2000);
  });
  return new Promise((resolve, reject) => {
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`${argv.join(' ')} exited with ${code}: ${stderrTail}`));
      else resolve({ seconds: (performance.now() - started) / 1000, peakRssKiB: peak, progress, stdout });
    });
  });
}

/** Lines/s between the moments the progress lines crossed `from` and `to` lines (interpolated). */
function rateBetween(progress: readonly [number, number][], from: number, to: number): number | undefined {
  const at = (n: number): number | undefined => {
    for (let i = 1; i < progress.length; i++) {
      const [t0, l0] = progress[i - 1] as [number, number];
      const [t1, l1] = progress[i] as [number, number];
      if (l0 <= n && n <= l1 && l1 > l0) return t0 + ((n - l0) / (l1 - l0)) * (t1 - t0);
    }
    return undefined;
  };
  const a = at(from);
  const b = at(to);
  return a === undefined || b === undefined || b <= a ? undefined : (to - from) / ((b - a) / 1000);
}

const rows: BenchRow[] = [];
// The machine is shared: the load says how much of it the figures had.
const loadAtStart = os.loadavg()[0]?.toFixed(2);
const dataDir = path.join(tmp, 'data');
const rtm = await timed(
  [process.execPath, 'bin/rtmetrics.js', 'import', log, '--service', 'bench', '--datacenter', 'FRA', '--log-format', GEN_FORMAT, '--json', '--progress-ms', '500', ...extraArgs],
  // PORT 0: no server is asked; the temp data dir is written in process.
  { ...process.env, PORT: '0', RTM_DATA_DIR: dataDir, RTM_ADMIN_TOKEN: 'bench-import-admin-token-0123456789' },
);
const summary = JSON.parse(rtm.stdout.trim().split("\n").at(-1) ?? "{}") as { events: number; rejected: number; lines: number };
if (summary.events !== lines) throw new Error(`rtmetrics imported ${summary.events} events of ${lines} lines (${summary.rejected} rejected)`);
const rtmRate = lines / rtm.seconds;
const mib = (kib: number): string => `${(kib / 1024).toFixed(0)} MiB`;
const M = 1_000_000;
// The first and the last million lines (a fifth of a log under 5M lines); the end of the last
// span is the last progress line, not the close (whose store flush is not a line's).
const span = Math.min(M, Math.floor(lines / 5));
const lastSeen = rtm.progress.at(-1)?.[1] ?? 0;
// From the first progress line: the start of the process (module loading, opening the data dir) is not a line's either.
const firstSeen = rtm.progress[0]?.[1] ?? 0;
const first = rateBetween(rtm.progress, firstSeen, firstSeen + span);
const last = rateBetween(rtm.progress, Math.max(0, lastSeen - span), lastSeen);

let goaccess: Run | undefined;
let skipped: string | undefined;
const hasGoaccess = (): boolean => spawnSync('goaccess', ['--version']).status === 0;
if (!hasGoaccess()) {
  if (process.getuid?.() === 0 && fs.existsSync('/usr/bin/apt-get')) {
    console.log('import: goaccess is not installed; apt-get install -y goaccess ...');
    spawnSync('apt-get', ['install', '-y', 'goaccess'], { stdio: 'ignore' });
  }
  if (!hasGoaccess()) skipped = process.getuid?.() === 0 ? 'goaccess is not installed and apt-get install goaccess failed' : 'goaccess is not installed (apt-get install goaccess needs root)';
}
if (skipped === undefined) {
  goaccess = await timed(['goaccess', log, `--log-format=${GOACCESS_FORMAT}`, '--date-format=%d/%b/%Y', '--time-format=%H:%M:%S', '--no-global-config', '--no-progress', '-o', path.join(tmp, 'report.json')]);
}

rows.push({
  bench: 'import',
  what: `rtmetrics import, ${int(lines)}-line nginx log (gen.js), in process, durable, start to close`,
  value: `${int(rtmRate)} lines/s`,
  ...(goaccess ? { baseline: `${int(lines / goaccess.seconds)} lines/s (GoAccess ${goaccessVersion()})`, ratio: ratio(rtmRate, lines / goaccess.seconds) } : {}),
  target: goaccess ? `>= 20x GoAccess: ${rtmRate >= 20 * (lines / goaccess.seconds) ? 'yes' : 'no'}` : `GoAccess skipped: ${skipped}`,
});
rows.push({
  bench: 'import',
  what: 'peak RSS',
  value: mib(rtm.peakRssKiB),
  ...(goaccess ? { baseline: `${mib(goaccess.peakRssKiB)} (GoAccess)` } : {}),
  target: lines >= 5 * M ? `<= 512 MiB for 5M lines: ${rtm.peakRssKiB <= 512 * 1024 ? 'yes' : 'no'}` : '',
});
if (first !== undefined && last !== undefined) {
  rows.push({
    bench: 'import',
    what: `lines/s over the first / the last ${span === M ? 'million' : int(span)} lines`,
    value: `${int(first)} / ${int(last)} lines/s`,
    ratio: ratio(last, first),
    target: `no slowdown (last >= 0.9x first): ${last >= 0.9 * first ? 'yes' : 'no'}`,
  });
}
rows.push({ bench: 'import', what: 'load average (1 min) at the start / at the end', value: `${loadAtStart} / ${os.loadavg()[0]?.toFixed(2)}` });
report(rows, `node --import tsx bench/import.ts ${positionals[0] ?? `(gen.js ${opts.lines} lines)`}${extraArgs.length > 0 ? ` --args '${extraArgs.join(' ')}'` : ''}`);

function goaccessVersion(): string {
  const out = spawnSync('goaccess', ['--version']).stdout?.toString() ?? '';
  return /GoAccess - ([\d.]+)/.exec(out)?.[1] ?? '?';
}
