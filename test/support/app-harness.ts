/**
 * The whole app in process for integration tests: createServices on a temp data dir with a fake
 * clock, buildApp, and helpers to ingest, publish and wait for the catalog. Requests go through
 * app.inject() (no port). Every route the app registers is recorded, so a test can check that
 * it walks all of them.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance, HTTPMethods, InjectOptions, LightMyRequestResponse } from 'fastify';
import pino from 'pino';
import { buildApp } from '../../src/app.ts';
import { realtimeDelaySeconds, testConfig, type Config } from '../../src/config/config.ts';
import { createFakeClock, type FakeClock } from '../../src/model/clock.ts';
import { createServices, type Services } from '../../src/services.ts';
import type { Scope } from '../../src/http/auth.ts';

export const ADMIN_TOKEN = 'harness-admin-token-0123456789abcdef';

export interface RouteInfo {
  method: string;
  url: string;
}

export interface Harness {
  app: FastifyInstance;
  services: Services;
  clock: FakeClock;
  dataDir: string;
  /** Every (method, url pattern) the app registered, HEAD routes Fastify adds excluded. */
  routes: RouteInfo[];
  inject(opts: InjectOptions): Promise<LightMyRequestResponse>;
  /** POST /ingest with `token`; resolves with the parsed body (throws on a non-200). */
  ingest(token: string, ndjson: string): Promise<{ accepted: number; rejected: number; errors: { line: number; reason: string }[] }>;
  /** Moves the clock past `lastSecond` + the aggregate delay and writes what is published to the store. */
  publishThrough(lastSecond: number): Promise<void>;
  /** Waits until the catalog lists every one of `services` (it learns them after a store write). */
  waitForCatalog(services: readonly string[]): Promise<void>;
  /** A stored token for `services` with `scopes`; returns its secret and id. */
  token(name: string, services: 'all' | string[], scopes: Scope[]): Promise<{ secret: string; id: string }>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Fake clock start, ms. Default 2026-01-01T00:10:00Z. */
  startMs?: number;
  config?: Partial<Config>;
  /** The services' logger. Default: silent. */
  logger?: pino.Logger;
  /** Called between createServices and buildApp: a test may wrap components (e.g. a failing store). */
  beforeBuild?: (services: Services) => void;
}

export const HARNESS_T0 = Date.UTC(2026, 0, 1, 0, 10, 0);

/**
 * Every route of an app, read from app.printRoutes() (buildApp registers them itself, so no
 * onRoute hook can be added before): each tree line is a path segment under its parent, with
 * its methods in parentheses. Each result is checked with app.hasRoute, so a change in the
 * printout fails loudly instead of hiding routes.
 */
export function routesOf(app: FastifyInstance): RouteInfo[] {
  const out: RouteInfo[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^((?:[│ ] {3})*)[└├]── (.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = (m[1] ?? '').length / 4;
    stack.length = depth;
    stack.push(m[2] ?? '');
    const joined = stack.join('');
    // printRoutes prints a wildcard route (`/x/static/*` of @fastify/static) as a bare `*` under
    // its common prefix: find the folder among the sibling routes printed before it.
    const wildcard = (): string => {
      const parent = joined.slice(0, -1);
      const folders = [parent.replace(/\/?$/, ''), ...out.map((r) => r.url).filter((u) => u.startsWith(parent)).map((u) => u.slice(0, u.lastIndexOf('/')))];
      return folders.map((f) => `${f}/*`).find((u) => app.hasRoute({ method: 'GET', url: u })) ?? joined;
    };
    const url = joined.endsWith('*') && !app.hasRoute({ method: 'GET', url: joined }) ? wildcard() : joined;
    for (const method of (m[3] ?? '').split(',').map((s) => s.trim())) {
      if (method === '' || method === 'HEAD') continue;
      if (!app.hasRoute({ method: method as HTTPMethods, url })) throw new Error(`printRoutes parsed to ${method} ${url}, which is not a route`);
      out.push({ method, url });
    }
  }
  if (out.length === 0) throw new Error('no routes parsed from printRoutes()');
  return out;
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'rtm-harness-'));
  const clock = createFakeClock(opts.startMs ?? HARNESS_T0);
  const config = testConfig(dataDir, { adminToken: ADMIN_TOKEN, ...opts.config });
  let services: Services;
  let app: FastifyInstance;
  try {
    services = await createServices({ config, clock, logger: opts.logger ?? pino({ level: 'silent' }) });
  } catch (err) {
    await fs.rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  try {
    opts.beforeBuild?.(services);
    app = await buildApp(services);
    await app.ready();
  } catch (err) {
    await services.close();
    await fs.rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  const routes = routesOf(app);

  const inject = (o: InjectOptions): Promise<LightMyRequestResponse> => app.inject(o);
  return {
    app,
    services,
    clock,
    dataDir,
    routes,
    inject,
    async ingest(token, ndjson) {
      const res = await inject({
        method: 'POST',
        url: '/ingest',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
        payload: ndjson,
      });
      if (res.statusCode !== 200) throw new Error(`ingest answered ${res.statusCode}: ${res.body}`);
      return res.json();
    },
    async publishThrough(lastSecond) {
      // Past the delay real-time reads publish with (on ClickHouse more than AggregateDelay).
      const target = (lastSecond + realtimeDelaySeconds(config) + 2) * 1000;
      if (clock.now() < target) clock.set(target);
      await services.ingest.flush();
    },
    async waitForCatalog(names) {
      for (let i = 0; i < 500; i++) {
        const known = new Set((await services.catalog.services()).map((s) => s.service));
        if (names.every((n) => known.has(n))) return;
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error(`the catalog never listed ${names.join(', ')}`);
    },
    async token(name, svc, scopes) {
      const { token, secret } = await services.tokenStore.create({ name, services: svc, scopes });
      return { secret, id: token.id };
    },
    async close() {
      await app.close();
      await services.close();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}
