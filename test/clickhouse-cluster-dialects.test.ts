/**
 * Issue 10, "Tests": two clickhouse-server processes as two shards, two rtmetrics nodes
 * configured as a user configures them (RTM_STORE=clickhouse, RTM_CLICKHOUSE_URLS, _CLUSTER,
 * _DATABASE, RTM_NODE_ID), a seeded event list split across the nodes (half to each, some of it
 * late: sent after its seconds were published), and every dialect queried on either node equal
 * to the reference computed here from the event list alone (test/support/dialect-reference.ts):
 * Fastly channel, Domain Inspector and Origin Inspector (ts/{t}, ts/h; per second and per POP),
 * Azion v3 (by the catalog's ids, looked up by name), OpenDataDSL (CDN sums and percentiles,
 * usage entities and self-metering posted on both nodes), the native query API and the
 * Prometheus export. Then the tenant isolation suite across two nodes of the same cluster:
 * tenant B's token, traffic, catalog entries, ODSL objects and usage entities made on one node,
 * and tenant A walking every route of the other learns nothing of them. One cluster for the
 * file, a database for each part.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ADMIN_TOKEN, HARNESS_T0, type Harness } from './support/app-harness.ts';
import { startNodesOn, type ClickHouseNodes } from './support/clickhouse-nodes.ts';
import { startClickHouseCluster, type ClickHouseCluster } from './support/clickhouse-server.ts';
import { defineTenantIsolationSuite } from './support/tenant-isolation-suite.ts';
import {
  BACKENDS,
  channelRecord,
  derivedOf,
  domainsOf,
  edgeSums,
  EDGE_PERCENTILES,
  expectRecord,
  generateEvents,
  groupBy,
  originSums,
  ORIGIN_PERCENTILES,
  pickFields,
  POPS,
  SERVICES,
} from './support/dialect-reference.ts';
import { eventLine, type PlainEvent } from './support/events.ts';
import { exactMetric, expectClose } from './support/percentile-reference.ts';

const NOW = Math.floor(HARNESS_T0 / 1000); // 2026-01-01T00:10:00Z
/** Seconds of traffic: five spread over three minutes (two of them older than ts/h's 120 s), then a burst of six. */
const SECONDS = [NOW - 150, NOW - 131, NOW - 95, NOW - 64, NOW - 37, ...Array.from({ length: 6 }, (_, i) => NOW - 20 + i)];
const LAST = Math.max(...SECONDS);
const ON_TIME = generateEvents(20261204, SECONDS, 500);
/** Sent after every second above was published: added to their own seconds, wherever they live. */
const LATE = generateEvents(20261205, [NOW - 150, NOW - 95, NOW - 20, NOW - 17, LAST], 60);
const ALL = [...ON_TIME, ...LATE];

const fastlyKey = { 'fastly-key': ADMIN_TOKEN };
const bearer = (secret: string): Record<string, string> => ({ authorization: `Bearer ${secret}` });
const of = (events: readonly PlainEvent[], keep: (e: PlainEvent) => boolean): PlainEvent[] => events.filter(keep);

/** Sends `events` split across the nodes: even positions to the first, odd to the second. */
async function sendSplit(nodes: readonly Harness[], events: readonly PlainEvent[]): Promise<void> {
  for (const [i, node] of nodes.entries()) {
    const mine = events.filter((_, k) => k % nodes.length === i);
    expect(await node.ingest(ADMIN_TOKEN, mine.map(eventLine).join('\n'))).toMatchObject({ accepted: mine.length, rejected: 0 });
  }
}

interface FastlyEntry {
  recorded: number;
  aggregated: Record<string, unknown>;
  datacenter: Record<string, Record<string, unknown>>;
}
interface FastlyAnswer {
  Timestamp: number;
  AggregateDelay: number;
  Data: FastlyEntry[];
}

let shared: Promise<ClickHouseCluster> | undefined;
const cluster = (): Promise<ClickHouseCluster> => (shared ??= startClickHouseCluster(2, 'rtm_dialects'));
/** Every part's nodes, closed before the cluster stops. */
const started: ClickHouseNodes[] = [];
afterAll(async () => {
  for (const s of started.splice(0)) await s.close();
  await (await shared)?.stop();
});

describe('every dialect on either node of a two-shard cluster equals the reference of the events sent to both', () => {
  let nodes: [Harness, Harness];
  /** A tenant token (read, ingest on every service) whose own requests the self-metering check counts. */
  let meter: { secret: string; id: string };
  const usage = Array.from({ length: 12 }, (_, i) => ({ provider: 'Billing', metric: 'Calls', value: i + 1, timestamp: `2026-01-01T00:0${i % 10}:00Z`, application: i % 3 === 0 ? 'api' : 'web' }));

  beforeAll(async () => {
    const on = await startNodesOn(await cluster(), 'rtm_reference', ['ref-a', 'ref-b']);
    started.push(on);
    nodes = on.nodes as [Harness, Harness];
    const [a, b] = nodes;
    await sendSplit(nodes, ON_TIME);
    for (const n of nodes) await n.publishThrough(LAST);
    await sendSplit(nodes, LATE);
    // Both clocks on, past the late events' publication; each node writes what it holds.
    for (const n of nodes) await n.publishThrough(LAST + 1);
    await a.waitForCatalog(SERVICES);
    await b.waitForCatalog(SERVICES);

    // Usage entities: half posted on each node.
    for (const [i, n] of nodes.entries()) {
      const res = await n.inject({ method: 'POST', url: '/api/metric/v1', headers: bearer(ADMIN_TOKEN), payload: usage.filter((_, k) => k % 2 === i) });
      expect(res.json()).toMatchObject({ accepted: 6, rejected: 0 });
    }
    // Self-metering: the meter token's reads, three on node A and two on node B (once B knows the token).
    meter = await a.token('meter', 'all', ['read']);
    await vi.waitFor(async () => expect(await b.services.tokens.verify(meter.secret)).toBeDefined(), { timeout: 5000, interval: 50 });
    for (const [n, reads] of [[a, 3], [b, 2]] as const) {
      for (let i = 0; i < reads; i++) expect((await n.inject({ method: 'GET', url: '/rtm/v1/services', headers: bearer(meter.secret) })).statusCode).toBe(200);
    }
    for (const n of nodes) await n.services.usageRecorder.flush();
  }, 60_000);

  const onBoth = (name: string, check: (node: Harness, which: string) => Promise<void>): void => {
    it(name, async () => {
      for (const [i, n] of nodes.entries()) await check(n, i === 0 ? 'node A' : 'node B');
    });
  };

  const fastly = async (node: Harness, url: string): Promise<FastlyAnswer> => {
    const res = await node.inject({ method: 'GET', url, headers: fastlyKey });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<FastlyAnswer>();
  };
  /**
   * The seconds a cursor client (`ts/{t}`, from the first second sent, each time with the
   * answer's Timestamp) holds once it has polled past the last second: a repeat replaces the
   * entry it had. An answer covers at most 120 seconds, so this takes two polls.
   */
  const cursorRead = async (node: Harness, api: string, service: string): Promise<FastlyEntry[]> => {
    const held = new Map<number, FastlyEntry>();
    let cursor = SECONDS[0] as number;
    for (let polls = 0; cursor <= LAST; polls++) {
      expect(polls, 'polls to reach the last second').toBeLessThan(5);
      const answer = await fastly(node, `/v1/${api}/${service}/ts/${cursor}`);
      expect(answer.Timestamp, 'the cursor moves on').toBeGreaterThan(cursor);
      for (const d of answer.Data) held.set(d.recorded, d);
      cursor = answer.Timestamp;
    }
    return [...held.values()].sort((x, y) => x.recorded - y.recorded);
  };

  onBoth('Fastly channel ts/{t}: every second, aggregated and per POP, with the late events', async (node, which) => {
    for (const service of SERVICES) {
      const data = await cursorRead(node, 'channel', service);
      const seconds = groupBy(of(ALL, (e) => e.service === service), (e) => String(e.second));
      expect(data.map((d) => d.recorded), `${which} ${service}`).toEqual([...seconds.keys()].map(Number));
      for (const entry of data) {
        const events = seconds.get(String(entry.recorded)) ?? [];
        const what = `${which} ${service} ${entry.recorded}`;
        expectRecord(entry.aggregated, channelRecord(events), events, EDGE_PERCENTILES, what);
        const pops = groupBy(events, (e) => e.datacenter);
        expect(Object.keys(entry.datacenter), what).toEqual([...pops.keys()]);
        for (const [pop, mine] of pops) expectRecord(entry.datacenter[pop], channelRecord(mine), mine, EDGE_PERCENTILES, `${what} ${pop}`);
      }
    }
  });

  onBoth('Fastly channel ts/h: the last 120 published seconds', async (node, which) => {
    const answer = await fastly(node, '/v1/channel/shop/ts/h');
    const P = answer.Timestamp - 1;
    const shop = of(ALL, (e) => e.service === 'shop' && e.second >= P - 119 && e.second <= P);
    const seconds = groupBy(shop, (e) => String(e.second));
    // The two oldest seconds are out of the window, the rest in it.
    expect([...seconds.keys()].map(Number)).toEqual(SECONDS.slice(2));
    expect(answer.Data.map((d) => d.recorded)).toEqual(SECONDS.slice(2));
    for (const entry of answer.Data) {
      const events = seconds.get(String(entry.recorded)) ?? [];
      expectRecord(entry.aggregated, channelRecord(events), events, EDGE_PERCENTILES, `${which} ts/h ${entry.recorded}`);
      for (const [pop, mine] of groupBy(events, (e) => e.datacenter)) expectRecord(entry.datacenter[pop], channelRecord(mine), mine, EDGE_PERCENTILES, `${which} ts/h ${entry.recorded} ${pop}`);
    }
  });

  /** The Domain Inspector fields compared (a record has them all; those of zero value left out). */
  const DOMAIN_FIELDS = ['requests', 'resp_header_bytes', 'resp_body_bytes', 'bereq_header_bytes', 'bereq_body_bytes', 'edge_requests', 'edge_hit_requests', 'edge_miss_requests', 'origin_fetches', 'origin_fetch_resp_body_bytes', 'status_2xx', 'status_4xx', 'status_5xx', 'status_200', 'status_404', 'status_503', 'origin_status_2xx', 'origin_status_5xx', 'compute_request_time_ms'];
  const domainRecord = (events: readonly PlainEvent[]): Record<string, number> => {
    const s = edgeSums(events);
    const d = derivedOf(s);
    return { ...pickFields(s, DOMAIN_FIELDS), bandwidth: d['bandwidth'] ?? 0, edge_hit_ratio: d['edge_hit_ratio'] ?? -1 };
  };
  const domainView = (r: Record<string, unknown> | undefined): Record<string, number> => {
    const v = r ?? {};
    return { ...Object.fromEntries(DOMAIN_FIELDS.map((f) => [f, (v[f] as number | undefined) ?? 0])), bandwidth: (v['bandwidth'] as number | undefined) ?? 0, edge_hit_ratio: (v['edge_hit_ratio'] as number | undefined) ?? -1 };
  };

  onBoth('Fastly Domain Inspector: per domain, and per POP and domain, every second', async (node, which) => {
    for (const service of SERVICES) {
      const data = await cursorRead(node, 'domains', service);
      const seconds = groupBy(of(ALL, (e) => e.service === service), (e) => String(e.second));
      expect(data.map((d) => d.recorded)).toEqual([...seconds.keys()].map(Number));
      for (const entry of data) {
        const events = seconds.get(String(entry.recorded)) ?? [];
        const domains = groupBy(events, (e) => e.domain);
        expect(Object.keys(entry.aggregated), `${which} ${service} ${entry.recorded}`).toEqual([...domains.keys()]);
        for (const [domain, mine] of domains) expect(domainView(entry.aggregated[domain] as Record<string, unknown>), `${which} ${entry.recorded} ${domain}`).toEqual(domainRecord(mine));
        for (const [pop, atPop] of groupBy(events, (e) => e.datacenter)) {
          const perDomain = groupBy(atPop, (e) => e.domain);
          expect(Object.keys(entry.datacenter[pop] ?? {})).toEqual([...perDomain.keys()]);
          for (const [domain, mine] of perDomain) expect(domainView(entry.datacenter[pop]?.[domain] as Record<string, unknown>), `${which} ${entry.recorded} ${pop} ${domain}`).toEqual(domainRecord(mine));
        }
      }
    }
  });

  onBoth('Fastly Origin Inspector: per backend, and per POP and backend, every second', async (node, which) => {
    for (const service of SERVICES) {
      const data = await cursorRead(node, 'origins', service);
      const fetched = of(ALL, (e) => e.service === service && e.origin_status !== undefined);
      const seconds = groupBy(fetched, (e) => String(e.second));
      expect(data.map((d) => d.recorded)).toEqual([...seconds.keys()].map(Number));
      for (const entry of data) {
        const events = seconds.get(String(entry.recorded)) ?? [];
        const backends = groupBy(events, (e) => e.backend);
        expect(Object.keys(entry.aggregated)).toEqual([...backends.keys()]);
        for (const [backend, mine] of backends) expectRecord(entry.aggregated[backend] as Record<string, unknown>, originSums(mine), mine, ORIGIN_PERCENTILES, `${which} ${entry.recorded} ${backend}`);
        for (const [pop, atPop] of groupBy(events, (e) => e.datacenter)) {
          for (const [backend, mine] of groupBy(atPop, (e) => e.backend)) {
            expectRecord(entry.datacenter[pop]?.[backend] as Record<string, unknown>, originSums(mine), mine, ORIGIN_PERCENTILES, `${which} ${entry.recorded} ${pop} ${backend}`);
          }
        }
      }
    }
  });

  // Azion v3: minutes 00:07, 00:08 and 00:09 of the Edge Applications product.
  const EDGE_APPLICATIONS = 1441740010;
  const IMAGE_PROCESSOR = 1441110021;
  const MINUTES = [NOW - 180, NOW - 120, NOW - 60];
  const RANGE = 'date_from=2026-01-01T00:07Z&date_to=2026-01-01T00:10Z';
  const perMinute = (events: readonly PlainEvent[], value: (e: PlainEvent) => number): [number, number][] =>
    MINUTES.map((m) => [m * 1000, events.filter((e) => e.second >= m && e.second < m + 60).reduce((s, e) => s + value(e), 0)]);

  onBoth('Azion: configurations by name with the same ids on both nodes, and their metrics per minute', async (node, which) => {
    const get = async (url: string): Promise<unknown> => {
      const res = await node.inject({ method: 'GET', url, headers: { authorization: `Token ${ADMIN_TOKEN}` } });
      expect(res.statusCode, `${which} ${url}: ${res.body}`).toBe(200);
      return res.json();
    };
    const configurations = (await get(`/metrics/products/${EDGE_APPLICATIONS}/configurations`)) as { id: number; name: string; domains: number[] }[];
    expect(configurations.map((c) => c.name).sort()).toEqual([...SERVICES].sort());
    const listed = (await get('/admin/services')) as { services: { service: string; id: number; domains: { id: number; domain: string }[] }[] };
    const [other] = nodes.filter((n) => n !== node);
    const otherList = await other?.inject({ method: 'GET', url: '/admin/services', headers: bearer(ADMIN_TOKEN) });
    expect(otherList?.json(), 'the catalog ids on the other node').toEqual(listed);
    for (const service of SERVICES) {
      const conf = configurations.find((c) => c.name === service);
      const entry = listed.services.find((s) => s.service === service);
      expect(conf?.id).toBe(entry?.id);
      const edgeApp = of(ALL, (e) => e.service === service && e.product === 'edge_application');
      const metric = (id: number | undefined, name: string, prod = EDGE_APPLICATIONS): Promise<unknown> => get(`/metrics/products/${prod}/configurations/${id}/metrics/${name}?${RANGE}`);
      expect(await metric(conf?.id, 'cdn_requests'), `${which} ${service}`).toEqual(perMinute(edgeApp, () => 1));
      expect(await metric(conf?.id, 'data_transferred/dimensions/in')).toEqual(perMinute(edgeApp, (e) => e.req_header_bytes + e.req_body_bytes));
      expect(await metric(conf?.id, 'data_transferred/dimensions/out')).toEqual(perMinute(edgeApp, (e) => e.resp_header_bytes + e.resp_body_bytes));
      expect(await metric(conf?.id, 'requests_offloaded')).toEqual(perMinute(edgeApp, (e) => (e.cache === 'hit' ? 1 : 0)));
      expect(await metric(conf?.id, 'status_code/dimensions/5xx')).toEqual(perMinute(edgeApp, (e) => (e.status >= 500 ? 1 : 0)));
      expect(await metric(conf?.id, 'http_method/dimensions/POST')).toEqual(perMinute(edgeApp, (e) => (e.method === 'POST' ? 1 : 0)));
      expect(await metric(conf?.id, 'images_processed', IMAGE_PROCESSOR)).toEqual(
        perMinute(of(ALL, (e) => e.service === service && e.product === 'image_processor'), (e) => (e.status >= 200 && e.status < 300 ? 1 : 0)),
      );
      const img = entry?.domains.find((d) => d.domain === `img.${service}.example`);
      expect(conf?.domains).toContain(img?.id);
      expect(await metric(img?.id, 'cdn_requests')).toEqual(perMinute(of(edgeApp, (e) => e.domain === `img.${service}.example`), () => 1));
    }
  });

  onBoth('OpenDataDSL: CDN sums and percentiles, usage entities and self-metering summed over the nodes', async (node, which) => {
    const series = async (query: Record<string, string>, token = ADMIN_TOKEN): Promise<{ time: string; value: number }[]> => {
      const res = await node.inject({ method: 'GET', url: '/api/metric/v1', query, headers: bearer(token) });
      expect(res.statusCode, `${which} ${JSON.stringify(query)}: ${res.body}`).toBe(200);
      return (res.json() as { data: { time: string; value: number }[] }).data;
    };
    const minute = (t: number): string => new Date(t * 1000).toISOString().replace('.000Z', 'Z');
    const byMinute = (events: readonly PlainEvent[], value: (e: PlainEvent) => number): { time: string; value: number }[] =>
      [...groupBy(events, (e) => String(e.second - (e.second % 60)))].map(([m, mine]) => ({ time: minute(Number(m)), value: mine.reduce((s, e) => s + value(e), 0) }));
    const range = 'between(2026-01-01T00:07,2026-01-01T00:09)';
    expect(await series({ _metric: 'CDN/Requests', _calendar: '#PT1M', _range: range, _filter: 'service=news' })).toEqual(byMinute(of(ALL, (e) => e.service === 'news'), () => 1));
    expect(await series({ _metric: 'CDN/BytesDelivered', _calendar: '#PT1M', _range: range, _filter: 'service=shop and datacenter=FRA' })).toEqual(
      byMinute(of(ALL, (e) => e.service === 'shop' && e.datacenter === 'FRA'), (e) => e.resp_header_bytes + e.resp_body_bytes),
    );
    const fetched = (e: PlainEvent): boolean => e.origin_status !== undefined;
    expect(await series({ _metric: 'CDN/BytesFromOrigin', _calendar: '#P1D', _range: '2026-01-01' })).toEqual([
      { time: '2026-01-01T00:00:00Z', value: of(ALL, fetched).reduce((s, e) => s + e.beresp_header_bytes + e.beresp_body_bytes, 0) },
    ]);
    const p99 = await series({ _metric: 'CDN/edge_time_p99', _calendar: '#P1D', _range: '2026-01-01', _filter: 'service=media' });
    expect(p99.map((p) => p.time)).toEqual(['2026-01-01T00:00:00Z']);
    const media = of(ALL, (e) => e.service === 'media').map((e) => ({ ...e, origin_time_ms: undefined }));
    expectClose(p99[0]?.value, exactMetric('edge_time_p99', media), `${which} CDN/edge_time_p99`);

    // Usage entities posted half on each node: listed and summed on either.
    const listed = await node.inject({ method: 'GET', url: '/api/metric/v1', query: { provider: 'Billing' }, headers: bearer(ADMIN_TOKEN) });
    expect(listed.headers['x-total-count'], which).toBe(String(usage.length));
    expect(await series({ _metric: 'Billing/Calls', _calendar: '#PT1H', _range: '2026-01-01T00' })).toEqual([{ time: '2026-01-01T00:00:00Z', value: usage.reduce((s, u) => s + u.value, 0) }]);
    const api = usage.filter((u) => u.application === 'api');
    expect(await series({ _metric: 'Billing/Calls', _calendar: '#PT1M', _range: '2026-01-01T00', _filter: 'application=api' })).toEqual(
      [...new Set(api.map((u) => u.timestamp))].sort().map((time) => ({ time, value: api.filter((u) => u.timestamp === time).reduce((s, u) => s + u.value, 0) })),
    );
    // The meter token's reads on both nodes (3 + 2).
    expect(await series({ _metric: 'RTMRequest/ReadRequests', _calendar: '#P1D', _range: '2026-01-01', _filter: `user=${meter.id}` })).toEqual([{ time: '2026-01-01T00:00:00Z', value: 5 }]);
  });

  onBoth('native query API: per minute and POP, per backend, per status', async (node, which) => {
    const query = async (body: Record<string, unknown>): Promise<Record<string, unknown>[]> => {
      const res = await node.inject({ method: 'POST', url: '/rtm/v1/query', headers: bearer(ADMIN_TOKEN), payload: { from: NOW - 180, to: NOW, ...body } });
      expect(res.statusCode, `${which} ${res.body}`).toBe(200);
      return (res.json() as { rows: Record<string, unknown>[] }).rows;
    };
    const rows = await query({ granularity: '1m', metrics: ['requests', 'resp_body_bytes', 'bandwidth', 'miss_histogram_250'], groupBy: ['service', 'datacenter'] });
    const want = [...groupBy(ALL, (e) => JSON.stringify([e.second - (e.second % 60), e.service, e.datacenter]))].map(([key, mine]) => {
      const [time, service, datacenter] = JSON.parse(key) as [number, string, string];
      const s = edgeSums(mine);
      return { time, service, datacenter, requests: s['requests'], resp_body_bytes: s['resp_body_bytes'] ?? 0, bandwidth: derivedOf(s)['bandwidth'] ?? 0, miss_histogram_250: s['miss_histogram_250'] ?? 0 };
    });
    expect(rows, which).toEqual(want);

    const backends = await query({ granularity: 'all', metrics: ['backend_responses', 'backend_status_5xx'], groupBy: ['service', 'backend'] });
    expect(backends).toEqual(
      [...SERVICES].sort().flatMap((service) =>
        BACKENDS.flatMap((backend) => {
          const s = originSums(of(ALL, (e) => e.service === service && e.backend === backend && e.origin_status !== undefined));
          return s['responses'] === undefined ? [] : [{ service, backend, backend_responses: s['responses'], backend_status_5xx: s['status_5xx'] ?? 0 }];
        }),
      ),
    );

    const statuses = await query({ granularity: 'all', metrics: ['requests', 'resp_bytes'], groupBy: ['status'], filters: [{ field: 'service', op: 'eq', value: 'shop' }] });
    expect(statuses).toEqual(
      [...groupBy(of(ALL, (e) => e.service === 'shop'), (e) => String(e.status))].map(([status, mine]) => ({ status, requests: mine.length, resp_bytes: mine.reduce((s, e) => s + e.resp_header_bytes + e.resp_body_bytes, 0) })),
    );
  });

  onBoth('Prometheus export: counters per service and POP since the epoch', async (node, which) => {
    const res = await node.inject({ method: 'GET', url: '/rtm/v1/prometheus?metric_allowlist=^fastly_rt_(requests|resp_body_bytes)_total$', headers: bearer(ADMIN_TOKEN) });
    expect(res.statusCode, res.body).toBe(200);
    const samples = res.body
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => {
        const m = /^(\w+)\{service_id="([^"]+)",service_name="[^"]+",datacenter="([^"]+)"\} (\S+)$/.exec(l);
        expect(m, l).not.toBeNull();
        return [m?.[1], m?.[2], m?.[3], Number(m?.[4])];
      });
    const want = SERVICES.flatMap((service) =>
      POPS.flatMap((pop) => {
        const mine = of(ALL, (e) => e.service === service && e.datacenter === pop);
        return mine.length === 0 ? [] : [
            ['fastly_rt_requests_total', service, pop, mine.length],
            ['fastly_rt_resp_body_bytes_total', service, pop, mine.reduce((s, e) => s + e.resp_body_bytes, 0)],
          ];
      }),
    );
    const sort = (xs: unknown[][]): unknown[][] => xs.map((x) => JSON.stringify(x)).sort().map((x) => JSON.parse(x) as unknown[]);
    expect(sort(samples), which).toEqual(sort(want));
  });

  it('every domain of the event list is in the catalog of both nodes', async () => {
    for (const n of nodes) {
      const listed = (await n.inject({ method: 'GET', url: '/admin/services', headers: bearer(ADMIN_TOKEN) })).json() as { services: { service: string; domains: { domain: string }[] }[] };
      expect(listed.services.map((s) => [s.service, s.domains.map((d) => d.domain).sort()]).sort()).toEqual([...SERVICES].sort().map((s) => [s, domainsOf(s).sort()]));
    }
  });
});

let isolation: ClickHouseNodes | undefined;
defineTenantIsolationSuite({
  name: 'two ClickHouse cluster nodes (B made on node A, A probing node B)',
  async start() {
    isolation = await startNodesOn(await cluster(), 'rtm_isolation', ['iso-a', 'iso-b']);
    started.push(isolation);
    const [setup, probe] = isolation.nodes as [Harness, Harness];
    return { setup, probe };
  },
  async stop() {
    await isolation?.close();
  },
});
