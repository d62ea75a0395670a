/**
 * GET /rtm/v1/prometheus: fastly-exporter's names and labels, totals over every tier (days ago
 * and the last seconds), published seconds only, aggregate_only and the allow/block lists, the
 * token's services only; and the exposition passes `promtool check metrics` (Debian package
 * `prometheus`, installed by .ci/run: the test fails when it is missing).
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, HARNESS_T0, startHarness, type Harness } from './support/app-harness.ts';

const NOW = Math.floor(HARNESS_T0 / 1000);
let h: Harness;

const event = (service: string, second: number, dc: string, over: Record<string, unknown> = {}): string =>
  JSON.stringify({ timestamp: second + 0.5, service, datacenter: dc, domain: `www.${service}.example`, status: 200, cache: 'miss', resp_body_bytes: 2000, origin_status: 200, origin_time_ms: 30, backend: 'origin-1', ...over });

beforeAll(async () => {
  h = await startHarness();
  const lines = [
    // Three days ago (1 d and finer tiers), an hour ago, and the last minute (window).
    ...Array.from({ length: 5 }, (_, i) => event('alpha', NOW - 3 * 86_400 + 77 + i, 'FRA')),
    ...Array.from({ length: 3 }, (_, i) => event('alpha', NOW - 3600 + i, 'LHR', { status: 503, cache: 'pass', origin_status: 503 })),
    ...Array.from({ length: 4 }, (_, i) => event('alpha', NOW - 20 + i, 'FRA', { origin_time_ms: 700, tls: '1.3' })),
    ...Array.from({ length: 2 }, (_, i) => event('beta', NOW - 20 + i, 'FRA')),
  ];
  await h.ingest(ADMIN_TOKEN, `${lines.join('\n')}\n`);
  await h.publishThrough(NOW - 10);
  await h.waitForCatalog(['alpha', 'beta']);
}, 60_000);

afterAll(async () => {
  await h?.close();
});

const scrape = (query = '', token = ADMIN_TOKEN) => h.inject({ url: `/rtm/v1/prometheus${query}`, headers: { authorization: `Bearer ${token}` } });

/** The value of the sample with exactly these labels (in this order), or undefined. */
function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('GET /rtm/v1/prometheus', () => {
  it("sums every tier in fastly-exporter's names and labels", async () => {
    const res = await scrape();
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0.0.4/);
    const t = res.body;
    const fra = 'service_id="alpha",service_name="alpha",datacenter="FRA"';
    expect(sample(t, 'fastly_rt_requests_total', fra)).toBe(9);
    expect(sample(t, 'fastly_rt_requests_total', 'service_id="alpha",service_name="alpha",datacenter="LHR"')).toBe(3);
    expect(sample(t, 'fastly_rt_status_group_total', 'service_id="alpha",service_name="alpha",datacenter="LHR",status_group="5xx"')).toBe(3);
    expect(sample(t, 'fastly_rt_status_code_total', `${fra},status_code="200"`)).toBe(9);
    expect(sample(t, 'fastly_rt_tls_total', `${fra},tls_version="1.3"`)).toBe(4);
    // Origin fetches of 30 ms (5) and 700 ms (4): le 0.05 holds 5, le 1 all 9.
    expect(sample(t, 'fastly_rt_miss_duration_seconds_bucket', `${fra},le="0.05"`)).toBe(5);
    expect(sample(t, 'fastly_rt_miss_duration_seconds_bucket', `${fra},le="1"`)).toBe(9);
    expect(sample(t, 'fastly_rt_miss_duration_seconds_count', fra)).toBe(9);
    expect(sample(t, 'fastly_rt_object_size_bytes_bucket', `${fra},le="10240"`)).toBe(9);
    expect(sample(t, 'fastly_domain_requests_total', `${fra},domain="www.alpha.example"`)).toBe(9);
    expect(sample(t, 'fastly_origin_responses_total', `${fra},origin="origin-1"`)).toBe(9);
    expect(sample(t, 'fastly_origin_latency_seconds_bucket', `${fra},origin="origin-1",le="0.05"`)).toBe(5);
  });

  it('shows published seconds only', async () => {
    const before = sample((await scrape()).body, 'fastly_rt_requests_total', 'service_id="beta",service_name="beta",datacenter="FRA"');
    // A second that is not published yet.
    await h.ingest(ADMIN_TOKEN, event('beta', Math.floor(h.clock.now() / 1000), 'FRA'));
    expect(sample((await scrape()).body, 'fastly_rt_requests_total', 'service_id="beta",service_name="beta",datacenter="FRA"')).toBe(before);
    await h.publishThrough(Math.floor(h.clock.now() / 1000));
    expect(sample((await scrape()).body, 'fastly_rt_requests_total', 'service_id="beta",service_name="beta",datacenter="FRA"')).toBe((before ?? 0) + 1);
  });

  it('aggregate_only drops the datacenter label; the lists pick families', async () => {
    const t = (await scrape('?aggregate_only=true&metric_allowlist=^fastly_rt_requests_total$&metric_allowlist=fastly_origin_&metric_blocklist=latency')).body;
    expect(sample(t, 'fastly_rt_requests_total', 'service_id="alpha",service_name="alpha"')).toBe(12);
    expect(t).not.toContain('datacenter=');
    const families = [...t.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]);
    expect(families).toEqual(['fastly_rt_requests_total', 'fastly_origin_responses_total', 'fastly_origin_resp_header_bytes_total', 'fastly_origin_resp_body_bytes_total', 'fastly_origin_status_group_total', 'fastly_origin_status_code_total']);
    expect((await scrape('?metric_allowlist=(')).statusCode).toBe(400);
  });

  it("a token sees only its services' series", async () => {
    const reader = await h.token('alpha-scraper', ['alpha'], ['read']);
    const t = (await scrape('', reader.secret)).body;
    expect(t).toContain('service_id="alpha"');
    expect(t).not.toContain('beta');
    expect((await scrape('?service=beta', reader.secret)).statusCode).toBe(404);
    const named = (await scrape('?service=beta&metric_allowlist=^fastly_rt_requests_total$')).body;
    expect(named).not.toContain('alpha');
  });

  it('passes promtool check metrics', async () => {
    const res = await scrape();
    const check = spawnSync('promtool', ['check', 'metrics'], { input: res.body, encoding: 'utf8' });
    expect(check.error, 'promtool is missing: apt-get install prometheus (.ci/run does)').toBeUndefined();
    expect(`${check.stdout}${check.stderr}`.trim()).toBe('');
    expect(check.status).toBe(0);
  });
});
