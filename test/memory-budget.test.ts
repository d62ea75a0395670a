/**
 * Issue 9 item 4: memory grew without bound with domain cardinality. Through the real server (a
 * child process, so its resident set is its own) with a small RTM_MEMORY_BUDGET_BYTES, a flood of
 * distinct domains within a minute, in two cases:
 * - the per-service cap: one service sends 1,000,000 domains on a 1 GiB budget, a cap of 1,000;
 * - the catalog share (RTM_MAX_DOMAINS' default: the share over CATALOG_DOMAIN_BYTES): 10
 *   services send 500,000 domains on a 512 MiB budget, the per-service cap out of the way, so
 *   only the global bound folds. With the default parse workers, which this budget leaves no room
 *   for (memory-budget.ts parseWorkersWithin): with one the peak was 658-766 MiB, parsed on the
 *   main thread 470-491 MiB.
 * In each the server's peak resident set (VmHWM) stays within the budget plus the readiness
 * margin, the lines past the bound are accepted and counted under the domain `__other__` of their
 * service, each answer warning with their line numbers and a reason naming the bound, and every
 * total reads back exact, per domain and per service's `__other__`: `requests` summed over all
 * keys equals the events sent.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startChildServer, type ChildServer } from './support/child-server.ts';

const TOKEN = 'memory-budget-admin-token-0123456789';
const MiB = 1024 ** 2;
/** /readyz's margin (OVER_BUDGET_MARGIN): the bound the peak is held to. */
const MARGIN = 0.1;
const LINES_PER_BODY = 25_000;

interface DomainFlood {
  name: string;
  budget: number;
  services: number;
  domainsPerService: number;
  env: Record<string, string>;
  /** Marks the lines that keep their domain, given how a line maps to its service and domain index. */
  keep(kept: Uint8Array, flood: DomainFlood): void;
  /** The warning of a folded line. */
  reason(domain: string, service: string): string;
}

const CAP = 1_000; // so 1,000 keep their domain and 999,000 are counted under __other__
const BOUND_BUDGET = 512 * MiB;
/** The global bound: the catalog share (1/16) over CATALOG_DOMAIN_BYTES (2,560). */
const BOUND = Math.floor(BOUND_BUDGET / 16 / 2560);

const FLOODS: DomainFlood[] = [
  {
    name: 'holds 1,000,000 distinct domains of one service within RTM_MEMORY_BUDGET_BYTES, those past the per-service cap under __other__ warned by line, every total exact',
    budget: 1024 * MiB,
    services: 1,
    domainsPerService: 1_000_000,
    env: { RTM_MAX_DOMAINS_PER_SERVICE: String(CAP) },
    keep(kept, flood) {
      for (let l = 0; l < kept.length; l++) if (Math.floor(l / flood.services) < CAP) kept[l] = 1;
    },
    reason: (domain, service) => `domain "${domain}" of service "${service}": the service already has ${CAP} distinct domains, the most one service may have (RTM_MAX_DOMAINS_PER_SERVICE); counted under the domain "__other__"`,
  },
  {
    name: 'holds 500,000 distinct domains of 10 services within a 512 MiB budget, those past the catalog share bound under __other__ warned by line, every total exact',
    budget: BOUND_BUDGET,
    services: 10,
    domainsPerService: 50_000,
    env: { RTM_MAX_DOMAINS_PER_SERVICE: '1000000' },
    // The admission takes a body's services in order of first appearance and each service's
    // domains in order, until BOUND are held (admission.ts).
    keep(kept, flood) {
      let held = 0;
      for (let b = 0; b < kept.length / LINES_PER_BODY; b++) {
        for (let s = 0; s < flood.services; s++) {
          for (let l = b * LINES_PER_BODY + s; l < (b + 1) * LINES_PER_BODY && held < BOUND; l += flood.services) {
            kept[l] = 1;
            held++;
          }
        }
      }
    },
    reason: (domain, service) =>
      `domain "${domain}" of service "${service}": the server already holds ${BOUND} distinct domains of all services, the most the catalog's share of the memory budget holds (RTM_MEMORY_BUDGET_BYTES, RTM_MAX_DOMAINS); counted under the domain "__other__"`,
  },
];

/** Each domain's bytes, distinct per line so a lost or doubled event shows. */
const bytesOf = (l: number): number => 100 + (l % 997);

async function peakRss(pid: number): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /VmHWM:\s+(\d+)\s+kB/.exec(status)?.[1];
  if (kb === undefined) throw new Error('no VmHWM in /proc status');
  return Number(kb) * 1024;
}

const call = (url: string, init: RequestInit = {}): Promise<Response> =>
  fetch(url, { ...init, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...(init.headers as Record<string, string>) } });

describe('memory budget', () => {
  let dataDir = '';
  let server: ChildServer | undefined;
  afterAll(async () => {
    await server?.kill();
    if (dataDir !== '') await fs.rm(dataDir, { recursive: true, force: true });
  });

  it.each(FLOODS)('$name', { timeout: 240_000 }, async (flood) => {
    const { budget: BUDGET, services: SERVICES } = flood;
    const BODIES = (SERVICES * flood.domainsPerService) / LINES_PER_BODY;
    /** Global line L: the (L / SERVICES)-th domain of service L % SERVICES, so every body crosses all services. */
    const serviceOf = (l: number): string => `svc${String(l % SERVICES).padStart(2, '0')}`;
    const domainOf = (l: number): string => `d${Math.floor(l / SERVICES)}.${serviceOf(l)}.example`;
    const kept = new Uint8Array(SERVICES * flood.domainsPerService);
    flood.keep(kept, flood);
    await server?.kill();
    if (dataDir !== '') await fs.rm(dataDir, { recursive: true, force: true });
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'rtm-budget-'));
    server = await startChildServer({
      dataDir,
      adminToken: TOKEN,
      env: { RTM_MEMORY_BUDGET_BYTES: String(BUDGET), RTM_WAL_FSYNC: '0', ...flood.env },
    });
    const base = server.url;
    const pid = server.child.pid as number;
    const second0 = Math.floor(Date.now() / 1000) - 30;
    const secondOf = (l: number): number => second0 + (l % 10);

    // The first body alone (which body is admitted first decides whose domains take the cap),
    // then two bodies in flight at a time, each crossing every service.
    const answers: { accepted: number; rejected: number; errors: { line: number; reason: string }[]; folded?: number; warnings?: { line: number; reason: string }[] }[] = [];
    let next = 0;
    let last = 1;
    const sender = async (): Promise<void> => {
      while (next < last) {
        const b = next++;
        const lines: string[] = [];
        for (let l = b * LINES_PER_BODY; l < (b + 1) * LINES_PER_BODY; l++) {
          lines.push(`{"timestamp":${secondOf(l)},"service":"${serviceOf(l)}","datacenter":"FRA","domain":"${domainOf(l)}","status":200,"resp_body_bytes":${bytesOf(l)}}`);
        }
        const res = await call(`${base}/ingest`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: lines.join('\n') });
        expect(res.status).toBe(200);
        answers[b] = (await res.json()) as (typeof answers)[number];
      }
    };
    await sender();
    last = BODIES;
    await Promise.all([sender(), sender()]);

    // Folded exactly the lines whose domain is past the bound, each body's first 100 warned by line number.
    const reason = (l: number): string => flood.reason(domainOf(l), serviceOf(l));
    for (let b = 0; b < BODIES; b++) {
      const past: number[] = [];
      for (let l = b * LINES_PER_BODY; l < (b + 1) * LINES_PER_BODY; l++) if (kept[l] === 0) past.push(l);
      expect(answers[b]?.rejected).toBe(0);
      expect(answers[b]?.accepted).toBe(LINES_PER_BODY);
      expect(answers[b]?.folded ?? 0).toBe(past.length);
      expect(answers[b]?.warnings ?? []).toEqual(past.slice(0, 100).map((l) => ({ line: l - b * LINES_PER_BODY + 1, reason: reason(l) })));
    }
    const SENT = SERVICES * flood.domainsPerService;
    expect(answers.reduce((n, a) => n + a.accepted, 0)).toBe(SENT);

    // Every domain under the cap reads back with its exact requests and bytes (window and store
    // alike), and each service's __other__ holds the bytes of all its lines past the cap.
    const want = new Map<string, number>();
    for (let l = 0; l < SENT; l++) {
      const key = kept[l] === 1 ? `${serviceOf(l)} ${domainOf(l)}` : `${serviceOf(l)} __other__`;
      want.set(key, (want.get(key) ?? 0) + bytesOf(l));
    }
    // Polled: a service is listed once the catalog has registered it (after its first store write).
    let got = new Map<string, number>();
    let requests = 0;
    const deadline = Date.now() + 40_000;
    for (;;) {
      const res = await call(`${base}/rtm/v1/query`, {
        method: 'POST',
        body: JSON.stringify({ from: second0 - 60, to: second0 + 60, granularity: 'all', metrics: ['requests', 'body_size'], groupBy: ['service', 'domain'] }),
      });
      expect(res.status).toBe(200);
      const answer = (await res.json()) as { final_through: number; rows: { service: string; domain: string; requests: number; body_size: number }[] };
      got = new Map(answer.rows.map((r) => [`${r.service} ${r.domain}`, r.body_size]));
      requests = answer.rows.reduce((n, r) => n + r.requests, 0);
      if ((answer.final_through >= second0 + 9 && requests >= SENT) || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    expect(requests).toBe(SENT);
    expect(got.size).toBe(want.size);
    const wrong = [...want].filter(([k, v]) => got.get(k) !== v).slice(0, 5);
    expect(wrong).toEqual([]);

    // The budget's shares as the server reports them.
    const metrics = await (await call(`${base}/rtm/v1/metrics`)).text();
    const gauge = (name: string, share: string): number => Number(new RegExp(`^${name}\\{share="${share}"\\} (\\S+)$`, 'm').exec(metrics)?.[1]);
    expect(gauge('rtm_memory_budget_bytes', 'total')).toBe(BUDGET);
    expect(Number(/^rtm_ingest_lines_total\{outcome="folded_other"\} (\S+)$/m.exec(metrics)?.[1])).toBe(SENT - kept.reduce((n, k) => n + k, 0));
    for (const share of ['window', 'duckdb']) expect(gauge('rtm_memory_used_bytes', share)).toBeLessThanOrEqual(gauge('rtm_memory_budget_bytes', share));

    const peak = await peakRss(pid);
    console.log(`memory budget test: peak RSS ${(peak / MiB).toFixed(0)} MiB of a ${(BUDGET / MiB).toFixed(0)} MiB budget; ${metrics.split('\n').filter((l) => l.startsWith('rtm_memory_used_bytes')).join('; ')}`);
    expect(peak).toBeLessThanOrEqual(BUDGET * (1 + MARGIN));
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });
});
