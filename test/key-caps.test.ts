/**
 * The per-service key caps through the real app, across a restart. RTM_MAX_DOMAINS_PER_SERVICE:
 * the domains a service has count again after it, stored ones and ones only in the WAL (the
 * catalog registers a domain when its delta is applied, and the cap is seeded from it; replayed
 * deltas are noted too, for a crash before the catalog's write), so a restart does not reopen room
 * under the cap. RTM_MAX_DATACENTERS_PER_SERVICE and RTM_MAX_BACKENDS_PER_SERVICE: the catalog
 * keeps neither, so after a restart the values of the recent seconds the window is refilled with
 * from the store, and those the WAL replays, count; older ones only in the store do not (docs/decisions.md).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { testConfig, type Limits } from '../src/config/config.ts';
import { createFakeClock } from '../src/model/clock.ts';
import { createServices } from '../src/services.ts';

const TOKEN = 'domain-cap-admin-token-0123456789abcdef';
const T0 = Date.UTC(2026, 0, 1, 0, 10, 0);
const SECOND = T0 / 1000 - 5;

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await fs.rm(d, { recursive: true, force: true });
});

type Caps = Partial<Pick<Limits, 'domainsPerService' | 'datacentersPerService' | 'backendsPerService' | 'maxDomains'>>;

async function start(dataDir: string, caps: Caps = { domainsPerService: 2 }, at = T0) {
  const clock = createFakeClock(at);
  const base = testConfig(dataDir, { adminToken: TOKEN });
  const services = await createServices({ config: { ...base, limits: { ...base.limits, ...caps } }, clock, logger: pino({ level: 'silent' }) });
  const app = await buildApp(services);
  const post = async (lines: Record<string, unknown>[]) => {
    const payload = lines.map((fields) => JSON.stringify({ timestamp: SECOND, service: 'shop', datacenter: 'FRA', domain: 'a.example', status: 200, ...fields })).join('\n');
    const res = await app.inject({ method: 'POST', url: '/ingest', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-ndjson' }, payload });
    expect(res.statusCode).toBe(200);
    return res.json() as { accepted: number; rejected: number; errors: { line: number; reason: string }[] };
  };
  const ingest = async (...domains: string[]) => post(domains.map((domain) => ({ domain })));
  const query = async (body: Record<string, unknown>) => {
    const res = await app.inject({ method: 'POST', url: '/rtm/v1/query', headers: { authorization: `Bearer ${TOKEN}` }, payload: { from: SECOND - 10, to: SECOND + 10, granularity: 'all', ...body } });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { rows: Record<string, string | number>[]; warnings?: string[] };
  };
  return { services, app, clock, ingest, post, query, close: async () => (await app.close(), await services.close()) };
}

describe('the per-service key caps (RTM_MAX_DOMAINS_PER_SERVICE, RTM_MAX_DATACENTERS_PER_SERVICE, RTM_MAX_BACKENDS_PER_SERVICE)', () => {
  it('keeps counting the domains a service had before a restart: stored ones and ones only in the WAL', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'rtm-domain-cap-'));
    dirs.push(dataDir);
    const first = await start(dataDir);
    expect(await first.ingest('a.example')).toEqual({ accepted: 1, rejected: 0, errors: [] });
    // a.example reaches the store and the catalog.
    first.clock.set(T0 + 10_000);
    await first.services.ingest.flush();
    for (let i = 0; i < 200 && (await first.services.catalog.services()).length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    // b.example for a second not published: it stays in the WAL only (close writes published seconds).
    first.clock.set(T0);
    const later = { timestamp: T0 / 1000 + 100, service: 'shop', datacenter: 'FRA', domain: 'b.example', status: 200 };
    const res = await first.app.inject({ method: 'POST', url: '/ingest', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-ndjson' }, payload: JSON.stringify(later) });
    expect(res.json()).toEqual({ accepted: 1, rejected: 0, errors: [] });
    await first.close();

    const second = await start(dataDir);
    try {
      expect(second.services.keyCaps.domain.count('shop')).toBe(2);
      expect(await second.ingest('B.example', 'c.example', 'a.example')).toEqual({
        accepted: 3,
        rejected: 0,
        errors: [],
        folded: 1,
        warnings: [
          {
            line: 2,
            reason: 'domain "c.example" of service "shop": the service already has 2 distinct domains, the most one service may have (RTM_MAX_DOMAINS_PER_SERVICE); counted under the domain "__other__"',
          },
        ],
      });
      // c.example is a key nowhere; its request is under __other__, so the service's total is exact.
      second.clock.set(T0 + 10_000);
      const res = await second.app.inject({
        method: 'POST',
        url: '/rtm/v1/query',
        headers: { authorization: `Bearer ${TOKEN}` },
        payload: { from: SECOND - 10, to: SECOND + 10, granularity: 'all', metrics: ['requests'], groupBy: ['domain'], filters: [{ field: 'service', op: 'eq', value: 'shop' }] },
      });
      expect(res.statusCode, res.body).toBe(200);
      const answer = res.json() as { rows: { domain: string; requests: number }[]; warnings?: string[] };
      expect(answer.warnings).toEqual(['domain "__other__" holds the traffic of the domains past RTM_MAX_DOMAINS_PER_SERVICE of their service or past RTM_MAX_DOMAINS of all services']);
      const rows = answer.rows;
      expect(Object.fromEntries(rows.map((r) => [r.domain, r.requests]))).toEqual({ 'a.example': 2, 'b.example': 1, __other__: 1 });
      expect(second.services.keyCaps.domain.count('shop')).toBe(2);
    } finally {
      await second.close();
    }
  });

  it('caps datacenters and backends per service, query answers warn of their __other__, and after a restart what the window holds again and the WAL replays counts', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'rtm-key-caps-'));
    dirs.push(dataDir);
    const caps = { datacentersPerService: 2, backendsPerService: 1 };
    const first = await start(dataDir, caps);
    const fetch = { origin_status: 200 };
    expect(await first.post([{ datacenter: 'FRA', backend: 'b1', ...fetch }, { datacenter: 'LHR', backend: 'b2', ...fetch }, { datacenter: 'CDG', backend: 'b1', ...fetch }])).toEqual({
      accepted: 3,
      rejected: 0,
      errors: [],
      folded: 2,
      warnings: [
        { line: 2, reason: 'backend "b2" of service "shop": the service already has 1 distinct backends, the most one service may have (RTM_MAX_BACKENDS_PER_SERVICE); counted under the backend "__other__"' },
        { line: 3, reason: 'datacenter "CDG" of service "shop": the service already has 2 distinct datacenters, the most one service may have (RTM_MAX_DATACENTERS_PER_SERVICE); counted under the datacenter "__other__"' },
      ],
    });
    first.clock.set(T0 + 10_000);
    const edge = await first.query({ metrics: ['requests'], groupBy: ['datacenter'], filters: [{ field: 'service', op: 'eq', value: 'shop' }] });
    expect(Object.fromEntries(edge.rows.map((r) => [r['datacenter'], r['requests']]))).toEqual({ FRA: 1, LHR: 1, __other__: 1 });
    expect(edge.warnings).toEqual(['datacenter "__other__" holds the traffic of the datacenters past RTM_MAX_DATACENTERS_PER_SERVICE of their service']);
    const origin = await first.query({ metrics: ['backend_responses'], groupBy: ['backend'], filters: [{ field: 'service', op: 'eq', value: 'shop' }] });
    expect(Object.fromEntries(origin.rows.map((r) => [r['backend'], r['backend_responses']]))).toEqual({ b1: 2, __other__: 1 });
    expect(origin.warnings).toEqual(['backend "__other__" holds the traffic of the backends past RTM_MAX_BACKENDS_PER_SERVICE of their service']);
    // Two lines folded (one key each): counted once each, as a subset of the accepted ones.
    const metrics = await first.app.inject({ url: '/rtm/v1/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(/^rtm_ingest_lines_total\{outcome="folded_other"\} (\S+)$/m.exec(metrics.body)?.[1]).toBe('2');
    expect(/^rtm_ingest_lines_total\{outcome="accepted"\} (\S+)$/m.exec(metrics.body)?.[1]).toBe('3');
    // Stored and published; then LHR for a second not published: it stays in the WAL only.
    await first.services.ingest.flush();
    first.clock.set(T0);
    expect(await first.post([{ timestamp: T0 / 1000 + 100, datacenter: 'LHR' }])).toEqual({ accepted: 1, rejected: 0, errors: [] });
    expect(first.services.keyCaps.datacenter.count('shop')).toBe(2);
    await first.close();

    const second = await start(dataDir, caps);
    try {
      // FRA, LHR and b1 are back in the window from the store's recent seconds (LHR replayed from the WAL too).
      expect([second.services.keyCaps.datacenter.count('shop'), second.services.keyCaps.backend.count('shop')]).toEqual([2, 1]);
      // So no new one finds room: CDG's line is folded twice (datacenter and backend b3) and counted once.
      const answer = await second.post([{ datacenter: 'CDG', backend: 'b3', ...fetch }, { datacenter: 'GRU' }, { datacenter: 'LHR' }]);
      expect(answer).toEqual({
        accepted: 3,
        rejected: 0,
        errors: [],
        folded: 2,
        warnings: [
          { line: 1, reason: expect.stringMatching(/^datacenter "CDG" .*\(RTM_MAX_DATACENTERS_PER_SERVICE\)/) as unknown },
          { line: 1, reason: expect.stringMatching(/^backend "b3" .*\(RTM_MAX_BACKENDS_PER_SERVICE\)/) as unknown },
          { line: 2, reason: expect.stringMatching(/^datacenter "GRU" /) as unknown },
        ],
      });
      // Three warnings, two lines: the counter counts lines.
      const metrics = await second.app.inject({ url: '/rtm/v1/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
      expect(/^rtm_ingest_lines_total\{outcome="folded_other"\} (\S+)$/m.exec(metrics.body)?.[1]).toBe('2');
      second.clock.set(T0 + 10_000);
      const rows = (await second.query({ metrics: ['requests'], groupBy: ['datacenter'], filters: [{ field: 'service', op: 'eq', value: 'shop' }] })).rows;
      expect(Object.fromEntries(rows.map((r) => [r['datacenter'], r['requests']]))).toEqual({ FRA: 1, LHR: 2, __other__: 3 });
    } finally {
      await second.close();
    }

    // Half an hour later the stored seconds are older than the window: only the WAL's LHR counts.
    const third = await start(dataDir, caps, T0 + 1_800_000);
    try {
      expect([third.services.keyCaps.datacenter.count('shop'), third.services.keyCaps.backend.count('shop')]).toEqual([1, 0]);
    } finally {
      await third.close();
    }
  });

  it('folds a new domain of any service past the global bound (RTM_MAX_DOMAINS, the catalog share), warned naming the budget, counted, and after a restart the catalog\'s domains count', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'rtm-domain-bound-'));
    dirs.push(dataDir);
    const caps = { domainsPerService: 0, maxDomains: 2 };
    const first = await start(dataDir, caps);
    const reason = (service: string, domain: string): string =>
      `domain "${domain}" of service "${service}": the server already holds 2 distinct domains of all services, the most the catalog's share of the memory budget holds (RTM_MEMORY_BUDGET_BYTES, RTM_MAX_DOMAINS); counted under the domain "__other__"`;
    expect(await first.post([{ service: 'shop', domain: 'a.example' }, { service: 'blog', domain: 'b.example' }, { service: 'blog', domain: 'c.example', resp_body_bytes: 7 }, { service: 'shop', domain: 'a.example' }])).toEqual({
      accepted: 4,
      rejected: 0,
      errors: [],
      folded: 1,
      warnings: [{ line: 3, reason: reason('blog', 'c.example') }],
    });
    const metrics = await first.app.inject({ url: '/rtm/v1/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(/^rtm_ingest_lines_total\{outcome="folded_other"\} (\S+)$/m.exec(metrics.body)?.[1]).toBe('1');
    first.clock.set(T0 + 10_000);
    await first.services.ingest.flush();
    for (let i = 0; i < 200 && (await first.services.catalog.services()).length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    const rows = (await first.query({ metrics: ['requests'], groupBy: ['service', 'domain'] })).rows;
    expect(Object.fromEntries(rows.map((r) => [`${r['service']} ${r['domain']}`, r['requests']]))).toEqual({ 'shop a.example': 2, 'blog b.example': 1, 'blog __other__': 1 });
    await first.close();

    const second = await start(dataDir, caps);
    try {
      expect(second.services.keyCaps.domain.size()).toBe(2);
      expect(await second.post([{ service: 'news', domain: 'd.example' }, { service: 'blog', domain: 'b.example' }])).toEqual({
        accepted: 2,
        rejected: 0,
        errors: [],
        folded: 1,
        warnings: [{ line: 1, reason: reason('news', 'd.example') }],
      });
    } finally {
      await second.close();
    }
  });
});
