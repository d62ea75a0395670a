/**
 * What one held domain costs the whole process (CATALOG_DOMAIN_BYTES, src/config/memory-budget.ts):
 * the real server (a child process, so its resident set is its own) with the per-service caps
 * and the global domain bound off is sent distinct domains in steps, one event each, spread over
 * ten recent seconds: each step adds a domain's catalog entry (mirror, id map), its interned name,
 * its row in the window, the store queue and the rollup buffer, and DuckDB's rows and index
 * entries of it. After each step (once the store has caught up) the resident set (VmRSS) and the
 * server's own memory gauges are read; the cost of a domain is the least-squares slope of the
 * resident set over the domains held, and of the peak resident set (VmHWM), which is what the
 * budget must hold.
 * Run: node --import tsx bench/domain-memory.ts [--domains 300000] [--step 50000] [--services 10] [--budget-mib 1024]
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startChildServer } from '../test/support/child-server.ts';
import { machineLine } from './support/fixtures.ts';
import { int, report, type BenchRow } from './support/report.ts';

const { values: args } = parseArgs({
  options: {
    domains: { type: 'string', default: '300000' },
    step: { type: 'string', default: '50000' },
    services: { type: 'string', default: '10' },
    'budget-mib': { type: 'string', default: '1024' },
  },
});
const DOMAINS = Number(args.domains);
const STEP = Number(args.step);
const SERVICES = Number(args.services);
const BUDGET = Number(args['budget-mib']) * 1024 ** 2;
const LINES_PER_BODY = 25_000;
const COMMAND = `node --import tsx bench/domain-memory.ts --domains ${DOMAINS} --step ${STEP} --services ${SERVICES} --budget-mib ${args['budget-mib']}`;
const TOKEN = 'domain-memory-bench-token-0123456789';
const MiB = 1024 ** 2;

const statusKb = async (pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number> => {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN) * 1024;
};

/** Least-squares slope of y over x. */
function slope(x: readonly number[], y: readonly number[]): number {
  const n = x.length;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += ((x[i] as number) - mx) * ((y[i] as number) - my);
    den += ((x[i] as number) - mx) ** 2;
  }
  return num / den;
}

console.log(machineLine());
console.log(`domain memory: ${int(DOMAINS)} distinct domains over ${SERVICES} services in steps of ${int(STEP)}, one event each; budget ${int(BUDGET / MiB)} MiB`);
const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'rtm-domain-memory-'));
const server = await startChildServer({
  dataDir,
  adminToken: TOKEN,
  // Every cap and the global bound off: every domain is held.
  env: { RTM_MEMORY_BUDGET_BYTES: String(BUDGET), RTM_MAX_DOMAINS_PER_SERVICE: '0', RTM_MAX_DOMAINS: '0', RTM_WAL_FSYNC: '0' },
});
const pid = server.child.pid as number;
const headers = { authorization: `Bearer ${TOKEN}` };
const second0 = Math.floor(Date.now() / 1000) - 20;

const gauges = async (): Promise<Record<string, number>> => {
  const text = await (await fetch(`${server.url}/rtm/v1/metrics`, { headers })).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^rtm_memory_used_bytes\{share="(\w+)"\} (\S+)$/gm)) out[m[1] as string] = Number(m[2]);
  const pending = /^rtm_pipeline_pending_rows (\S+)$/m.exec(text)?.[1];
  if (pending !== undefined) out['pendingRows'] = Number(pending);
  return out;
};

const samples: { domains: number; rss: number; hwm: number; shares: Record<string, number> }[] = [];
try {
  samples.push({ domains: 0, rss: await statusKb(pid, 'VmRSS'), hwm: await statusKb(pid, 'VmHWM'), shares: await gauges() });
  let sent = 0;
  while (sent < DOMAINS) {
    const end = Math.min(DOMAINS, sent + STEP);
    for (let from = sent; from < end; from += LINES_PER_BODY) {
      const lines: string[] = [];
      for (let l = from; l < Math.min(end, from + LINES_PER_BODY); l++) {
        lines.push(`{"timestamp":${second0 + (l % 10)},"service":"svc${l % SERVICES}","datacenter":"FRA","domain":"d${l}.svc${l % SERVICES}.example","status":200,"resp_body_bytes":${100 + (l % 997)}}`);
      }
      const res = await fetch(`${server.url}/ingest`, { method: 'POST', headers: { ...headers, 'content-type': 'application/x-ndjson' }, body: lines.join('\n') });
      const answer = (await res.json()) as { accepted: number; folded?: number };
      if (res.status !== 200 || answer.accepted !== lines.length || (answer.folded ?? 0) > 0) throw new Error(`ingest answered ${res.status} ${JSON.stringify(answer).slice(0, 300)}`);
    }
    sent = end;
    // The store catches up (published seconds written, the catalog registered), then a pause for the collector.
    for (let i = 0; i < 60; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      if ((await gauges())['pendingRows'] === 0) break;
    }
    await new Promise((r) => setTimeout(r, 3000));
    const s = { domains: sent, rss: await statusKb(pid, 'VmRSS'), hwm: await statusKb(pid, 'VmHWM'), shares: await gauges() };
    samples.push(s);
    console.log(
      `  ${int(s.domains)} domains: RSS ${(s.rss / MiB).toFixed(0)} MiB, peak ${(s.hwm / MiB).toFixed(0)} MiB; gauges (MiB) ${Object.entries(s.shares)
        .filter(([k]) => k !== 'pendingRows')
        .map(([k, v]) => `${k} ${(v / MiB).toFixed(1)}`)
        .join(', ')}`,
    );
  }
} finally {
  await server.kill();
  await fs.rm(dataDir, { recursive: true, force: true });
}

const x = samples.map((s) => s.domains);
const perDomain = (pick: (s: (typeof samples)[number]) => number): number => slope(x, samples.map(pick));
const rows: BenchRow[] = [
  { bench: 'domain-memory', what: 'resident set per held domain (VmRSS slope)', value: `${int(perDomain((s) => s.rss))} B` },
  { bench: 'domain-memory', what: 'peak resident set per held domain (VmHWM slope)', value: `${int(perDomain((s) => s.hwm))} B` },
];
for (const share of ['window', 'duckdb', 'rollupBuffer', 'pending', 'catalog', 'runtime']) {
  rows.push({ bench: 'domain-memory', what: `gauge rtm_memory_used_bytes{share="${share}"} per held domain`, value: `${int(perDomain((s) => s.shares[share] ?? 0))} B` });
}
report(rows, COMMAND);
