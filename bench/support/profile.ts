/**
 * CPU profiles of the server during a run (the V8 sampling profiler through node:inspector, the
 * same data `node --cpu-prof` writes), and their summary: self time per function, the top first.
 * Also runs on any .cpuprofile file: node --import tsx bench/support/profile.ts FILE [top]
 */
import fs from 'node:fs';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface SelfTime {
  name: string;
  /**
   * The file, relative to the repo where it is inside it. No line: tsx compiles each module so
   * that V8 reports every function on line 1.
   */
  where: string;
  ms: number;
  percent: number;
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function shortUrl(url: string): string {
  if (url === '') return '';
  const file = url.startsWith('file://') ? fileURLToPath(url) : url;
  const rel = path.relative(repoRoot, file);
  return rel.startsWith('..') ? file : rel;
}

/** Self time per function (summed over its call sites), largest first. */
export function selfTimes(profile: CpuProfile, top = 20): SelfTime[] {
  const byNode = new Map<number, ProfileNode>(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, SelfTime>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let all = 0;
  for (let i = 0; i < samples.length; i++) {
    const node = byNode.get(samples[i] as number);
    // A sample's time is the delta to the next sample.
    const us = deltas[i + 1] ?? 0;
    if (!node) continue;
    all += us;
    const { functionName, url } = node.callFrame;
    const where = url ? shortUrl(url) : '';
    const key = `${functionName}@${where}`;
    const entry = totals.get(key) ?? { name: functionName || '(anonymous)', where, ms: 0, percent: 0 };
    entry.ms += us / 1000;
    totals.set(key, entry);
  }
  const list = [...totals.values()].sort((a, b) => b.ms - a.ms).slice(0, top);
  for (const e of list) e.percent = all > 0 ? (e.ms * 1000 * 100) / all : 0;
  return list;
}

/** Self time grouped by file (or by the bucket of a V8 pseudo-function), largest first. */
export function selfTimesByFile(profile: CpuProfile, top = 12): SelfTime[] {
  const merged = new Map<string, SelfTime>();
  for (const e of selfTimes(profile, Number.POSITIVE_INFINITY)) {
    const file = e.where || e.name;
    const m = merged.get(file) ?? { name: file, where: '', ms: 0, percent: 0 };
    m.ms += e.ms;
    m.percent += e.percent;
    merged.set(file, m);
  }
  return [...merged.values()].sort((a, b) => b.ms - a.ms).slice(0, top);
}

export function formatSelfTimes(list: readonly SelfTime[]): string {
  return list.map((e) => `  ${e.percent.toFixed(1).padStart(5)}%  ${e.ms.toFixed(0).padStart(6)} ms  ${e.name}${e.where ? `  (${e.where})` : ''}`).join('\n');
}

/** Starts the sampling profiler of this process; `stop()` returns the profile. */
export async function startProfiler(): Promise<{ stop(): Promise<CpuProfile> }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  return {
    async stop() {
      const { profile } = (await session.post('Profiler.stop')) as { profile: CpuProfile };
      await session.post('Profiler.disable');
      session.disconnect();
      return profile;
    },
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node --import tsx bench/support/profile.ts FILE.cpuprofile [top]');
    process.exit(2);
  }
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  console.log(formatSelfTimes(selfTimes(profile, Number(process.argv[3] ?? 25))));
  console.log('\nby file:');
  console.log(formatSelfTimes(selfTimesByFile(profile)));
}
