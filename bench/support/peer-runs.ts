/**
 * What the peers benches share: the server process's CPU and peak RSS from /proc, the load client
 * (bench/support/peer-client.ts, a forked child), and the read-back that compares every service's
 * totals through ts/{t} with what the client sent.
 */
import { fork } from 'node:child_process';
import fs from 'node:fs';
import type { PeerRunResult, PeerRunSpec } from './peer-client.ts';

/** utime + stime of a process, ms (Linux /proc). */
export function cpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

/** CPU ms of each thread of a process, by tid, with its name (Linux /proc/PID/task). */
export function threadCpuMs(pid: number): Map<number, { name: string; ms: number }> {
  const out = new Map<number, { name: string; ms: number }>();
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(tid), { name, ms: ((Number(fields[11]) + Number(fields[12])) * 1000) / 100 });
    } catch {
      // the thread ended between readdir and read
    }
  }
  return out;
}

/** Where the server's CPU went during the run: the threads that used at least 1% of it. */
export function threadCpuLine(pid: number, before: Map<number, { name: string; ms: number }>, after: Map<number, { name: string; ms: number }>): string {
  const used = [...after].map(([tid, t]) => ({ tid, name: tid === pid ? 'main' : t.name, ms: t.ms - (before.get(tid)?.ms ?? 0) }));
  const total = used.reduce((a, t) => a + t.ms, 0);
  const byName = new Map<string, number>();
  for (const t of used) byName.set(t.name, (byName.get(t.name) ?? 0) + t.ms);
  const parts = [...byName].filter(([, v]) => v >= total / 100).sort((a, b) => b[1] - a[1]).map(([n, v]) => `${n} ${(v / 1000).toFixed(1)} s (${((100 * v) / total).toFixed(0)}%)`);
  const top = used.filter((t) => t.ms >= total / 100).sort((a, b) => b.ms - a.ms).map((t) => `${t.tid === pid ? 'main' : t.tid} ${(t.ms / 1000).toFixed(1)}`);
  return `server CPU by thread (threads still alive at the end): ${parts.join(', ')}; by tid: ${top.join(', ')}`;
}

export function peakRssMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

export async function runClient(spec: PeerRunSpec): Promise<PeerRunResult> {
  const child = fork(new URL('./peer-client.ts', import.meta.url), [], { execArgv: ['--import', 'tsx', '--max-old-space-size=8192'], stdio: 'inherit' });
  await new Promise<void>((resolve) => child.once('message', () => resolve()));
  const result = await new Promise<PeerRunResult>((resolve, reject) => {
    child.on('message', (m: { result?: PeerRunResult }) => m.result && resolve(m.result));
    child.once('exit', (code) => reject(new Error(`peer client exited with ${code}`)));
    child.send({ run: spec });
  });
  child.kill();
  return result;
}

interface Channel {
  Data: { recorded: number; aggregated: Record<string, number>; datacenter: Record<string, Record<string, number>> }[];
}

/** Reads every service back through ts/{t} and compares; returns the mismatches. */
export async function verifyChannelTotals(url: string, token: string, run: PeerRunResult): Promise<string[]> {
  const wrong: string[] = [];
  for (const [service, expected] of Object.entries(run.perService)) {
    const got: Record<string, number> = {};
    const pops: Record<string, number> = {};
    const seen = new Set<number>();
    // ts/{t} answers a bounded page of seconds: follow its Timestamp cursor to the end.
    for (let t = run.firstSecond, pages = 0; pages < 100; pages++) {
      const res = await fetch(`${url}/v1/channel/${service}/ts/${t}`, { headers: { 'Fastly-Key': token } });
      if (res.status !== 200) {
        wrong.push(`${service}: HTTP ${res.status}`);
        break;
      }
      const body = (await res.json()) as Channel & { Timestamp: number };
      let fresh = 0;
      for (const d of body.Data) {
        if (seen.has(d.recorded)) continue; // AggregateDelay repeats
        seen.add(d.recorded);
        fresh++;
        for (const [k, v] of Object.entries(d.aggregated)) got[k] = (got[k] ?? 0) + v;
        for (const [pop, f] of Object.entries(d.datacenter)) pops[pop] = (pops[pop] ?? 0) + (f.requests ?? 0);
      }
      if (fresh === 0 || body.Timestamp <= t) break;
      t = body.Timestamp;
    }
    for (const [field, v] of Object.entries(expected)) if ((got[field] ?? 0) !== v) wrong.push(`${service} ${field}: expected ${v}, got ${got[field] ?? 0}`);
    for (const [key, v] of Object.entries(run.perPop)) {
      const [svc, pop] = key.split('|') as [string, string];
      if (svc === service && (pops[pop] ?? 0) !== v) wrong.push(`${service} ${pop} requests: expected ${v}, got ${pops[pop] ?? 0}`);
    }
  }
  return wrong;
}

/** Two clients' results as one run (the stream split across nodes): totals added, the span of both. */
export function mergeRuns(a: PeerRunResult, b: PeerRunResult): PeerRunResult {
  const perService: PeerRunResult['perService'] = {};
  for (const r of [a, b]) {
    for (const [service, totals] of Object.entries(r.perService)) {
      const into = (perService[service] ??= {});
      for (const [field, v] of Object.entries(totals)) into[field] = (into[field] ?? 0) + v;
    }
  }
  const perPop: PeerRunResult['perPop'] = {};
  for (const r of [a, b]) for (const [key, v] of Object.entries(r.perPop)) perPop[key] = (perPop[key] ?? 0) + v;
  return {
    events: a.events + b.events,
    bodies: a.bodies + b.bodies,
    accepted: a.accepted + b.accepted,
    rejected: a.rejected + b.rejected,
    failures: a.failures + b.failures,
    ...(a.firstFailure ?? b.firstFailure ? { firstFailure: (a.firstFailure ?? b.firstFailure) as string } : {}),
    startedAt: Math.min(a.startedAt, b.startedAt),
    endedAt: Math.max(a.endedAt, b.endedAt),
    latencies: [...a.latencies, ...b.latencies],
    firstSecond: Math.min(a.firstSecond, b.firstSecond),
    lastSecond: Math.max(a.lastSecond, b.lastSecond),
    perService,
    perPop,
  };
}
