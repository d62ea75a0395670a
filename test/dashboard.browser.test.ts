/// <reference lib="dom" />
/// <reference lib="dom" />
/**
 * The dashboard in a real browser: Debian's chromium driven by playwright-core (headless)
 * against a server fed with demo traffic (a day of history, then a second of traffic every
 * 250 ms on the server's fake clock). It must see at least three live updates over the stream
 * and non-empty charts, then switch to 24 h and see the day's history. The screenshot lands in
 * the test's temp dir. .ci/run installs chromium; without it this test fails, it never skips.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSyntheticTraffic } from '../src/demo/synthetic-traffic.ts';
import { ADMIN_TOKEN, startHarness, type Harness } from './support/app-harness.ts';

const CHROMIUM = '/usr/bin/chromium';
let h: Harness;
let base: string;
let tmp: string;
let context: BrowserContext | undefined;
let page: Page;
let traffic: NodeJS.Timeout | undefined;
let feeding: Promise<void> = Promise.resolve();
const demo = createSyntheticTraffic({ seed: 7 });
const now = (): number => Math.floor(h.clock.now() / 1000);

beforeAll(async () => {
  expect(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`).toBe(true);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtm-dashboard-'));
  h = await startHarness();
  // A day of history: 40 events every 10 minutes.
  const start = now() - 86_400;
  let body = '';
  for (let t = start; t < now() - 600; t += 600) body += demo.ndjson(t, 40);
  await h.ingest(ADMIN_TOKEN, body);
  await h.publishThrough(now() - 3);
  await h.waitForCatalog(['shop', 'media', 'edge-api']);
  await h.app.listen({ port: 0, host: '127.0.0.1' });
  const address = h.app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  base = `http://127.0.0.1:${address.port}`;

  // Live demo traffic: each tick sends a second of events and moves the clock on, publishing one more second.
  traffic = setInterval(() => {
    feeding = feeding.then(async () => {
      await h.ingest(ADMIN_TOKEN, demo.ndjson(now(), 60));
      h.clock.advance(1000);
      await h.services.ingest.flush();
    });
  }, 250);

  context = await chromium.launchPersistentContext(path.join(tmp, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 1400, height: 1300 },
  });
  page = context.pages()[0] ?? (await context.newPage());
}, 120_000);

afterAll(async () => {
  clearInterval(traffic);
  await feeding.catch(() => undefined);
  await context?.close();
  await h?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const cardData = (name: string) =>
  page.$eval(`[data-chart="${name}"]`, (el) => ({ points: Number((el as HTMLElement).dataset['points']), span: Number((el as HTMLElement).dataset['span']) }));

describe('dashboard', () => {
  it('shows live updates over the stream, then history for 24 h', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${base}/dashboard#token=${ADMIN_TOKEN}`);
    // The token left the URL for the session storage.
    await page.waitForFunction(() => window.location.hash === '' && sessionStorage.getItem('rtm-token') !== null);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);

    // The picker lists every service; a search narrows it.
    await page.waitForFunction(() => document.querySelectorAll('#service option').length === 3);
    await page.fill('#service-search', 'sho');
    // The current service stays listed so the picker never shows a selection it does not hold.
    expect(await page.$$eval('#service option', (o) => o.map((x) => x.textContent))).toEqual(['edge-api', 'shop']);
    expect(await page.textContent('#service-count')).toBe('1 of 3');
    await page.selectOption('#service', 'shop');

    await page.waitForFunction(() => Number(document.body.dataset['liveEvents'] ?? 0) >= 3, undefined, { timeout: 30_000 });
    expect(await page.textContent('#status')).toMatch(/live/);
    expect((await cardData('requests')).points).toBeGreaterThan(0);
    expect((await cardData('bandwidth')).points).toBeGreaterThan(0);
    // Edge and origin time percentiles: from the query API's history and the stream's seconds.
    expect((await cardData('latency')).points).toBeGreaterThan(0);
    expect(await page.$$eval('#pops tr.row', (rows) => rows.length)).toBeGreaterThan(0);

    // The history's top values are written once their minutes are over (every 5 s, or now).
    await h.services.topValues.write();
    await h.services.ingest.flush();
    await page.click('button[data-range="24h"]');
    await page.waitForFunction(() => document.body.dataset['range'] === '24h' && document.body.dataset['loaded'] === 'yes', undefined, { timeout: 30_000 });
    const day = await cardData('requests');
    // History: buckets across most of the day, not just the live minutes.
    expect(day.span).toBeGreaterThan(20 * 3600);
    expect(day.points).toBeGreaterThan(100);
    expect((await cardData('latency')).span).toBeGreaterThan(20 * 3600);
    // The day's busiest paths and clients (demo traffic carries both), each with its count and bound.
    expect(await page.$$eval('#paths tr.row', (rows) => rows.length)).toBeGreaterThan(0);
    const firstPath = await page.$eval('#paths tr.row td', (td) => td.textContent ?? '');
    expect(firstPath).toMatch(/^\//);
    expect(firstPath).not.toContain('?');
    expect(await page.$$eval('#clients tr.row', (rows) => rows.length)).toBeGreaterThan(0);

    // Drill-down into a POP: its own charts.
    await page.click('#pops tr.row');
    await page.waitForFunction(() => document.body.dataset['loaded'] === 'yes' && !document.getElementById('drill')?.hidden, undefined, { timeout: 30_000 });
    expect(await page.textContent('#drill')).toMatch(/POP/);

    const shot = path.join(tmp, 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(fs.statSync(shot).size).toBeGreaterThan(10_000);
    expect(errors).toEqual([]);
  }, 120_000);
  it('works at 1,000 services: the picker counts them all, a search finds one, its charts load', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const names = Array.from({ length: 1000 }, (_, i) => `svc-${String(i).padStart(4, '0')}`);
    const t = now();
    const body = names.map((service, i) => JSON.stringify({ timestamp: t, service, datacenter: 'FRA', domain: `www.${service}.example`, status: 200, cache: 'hit', resp_body_bytes: 1000 + i })).join('\n');
    expect((await h.ingest(ADMIN_TOKEN, `${body}\n`)).accepted).toBe(1000);
    await h.waitForCatalog(names);
    // A fresh load (the same URL but its hash would stay in the page), which lists the services anew.
    await page.goto('about:blank');
    await page.goto(`${base}/dashboard#token=${ADMIN_TOKEN}`);
    await page.fill('#service-search', '');
    await expect.poll(() => page.textContent('#service-count'), { timeout: 30_000 }).toBe('1003 of 1003');
    // The picker holds a bounded list, not a thousand options.
    expect(await page.$$eval('#service option', (o) => o.length)).toBeLessThanOrEqual(301);
    await page.fill('#service-search', 'svc-0421');
    expect(await page.textContent('#service-count')).toBe('1 of 1003');
    expect(await page.$$eval('#service option', (o) => o.map((x) => x.textContent))).toContain('svc-0421');
    await page.selectOption('#service', 'svc-0421');
    await page.waitForFunction(() => document.body.dataset['loaded'] === 'yes' && Number(document.querySelector('[data-chart="requests"]')?.getAttribute('data-points') ?? 0) > 0, undefined, { timeout: 30_000 });
    expect(await page.$$eval('#pops tr.row', (rows) => rows.map((r) => r.textContent ?? ''))).toEqual([expect.stringContaining('FRA')]);
    expect(errors).toEqual([]);
  }, 120_000);
});
