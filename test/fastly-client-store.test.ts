/**
 * The official Fastly JavaScript client (fastly-js, npm `fastly`) against a whole rtmetrics node
 * over a real socket, on each store engine: the DuckDB default (seconds from the node's window)
 * and RTM_STORE=clickhouse (every second read from the store). Seeded events are ingested as a
 * client sends them, and what the client parses from its cursor read (`getStatsLastSecond` with
 * a timestamp), `ts/h` and the Domain and Origin Inspector calls equals the sums computed here
 * from the events (test/support/dialect-reference.ts). test/fastly-client.test.ts checks the
 * client's parsing in detail over a fake source.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, HARNESS_T0, type Harness } from './support/app-harness.ts';
import { edgeSums, generateEvents, groupBy, originSums } from './support/dialect-reference.ts';
import { eventLine, type PlainEvent } from './support/events.ts';
import { fastlyClient } from './support/fastly-js-client.ts';
import { clickHouseNode, duckDbNode, type StoreNode } from './support/store-nodes.ts';

const NOW = Math.floor(HARNESS_T0 / 1000);
const SECONDS = Array.from({ length: 6 }, (_, i) => NOW - 20 + i);
const LAST = Math.max(...SECONDS);
const EVENTS = generateEvents(20261206, SECONDS, 300);
const SHOP = EVENTS.filter((e) => e.service === 'shop');

/** `fields` of a record, 0 where a sparse record leaves one out. */
const view = (r: Record<string, unknown> | undefined, fields: readonly string[]): Record<string, unknown> => Object.fromEntries(fields.map((f) => [f, r?.[f] ?? 0]));
const CHANNEL = ['requests', 'hits', 'miss', 'pass', 'resp_header_bytes', 'resp_body_bytes', 'header_size', 'body_size', 'origin_fetches', 'status_2xx', 'status_5xx', 'edge_hit_requests'];
const channelWant = (events: readonly PlainEvent[]): Record<string, unknown> => {
  const s = edgeSums(events);
  return view({ ...s, header_size: s['resp_header_bytes'], body_size: s['resp_body_bytes'] }, CHANNEL);
};
const histogramOf = (events: readonly PlainEvent[]): Record<string, number> =>
  Object.fromEntries(Object.entries(edgeSums(events)).flatMap(([k, v]) => (k.startsWith('miss_histogram_') ? [[k.slice('miss_histogram_'.length), v]] : [])));
const DOMAIN = ['requests', 'resp_body_bytes', 'edge_hit_requests', 'edge_miss_requests', 'origin_fetches', 'status_4xx'];
const ORIGIN = ['responses', 'resp_body_bytes', 'status_2xx', 'status_5xx'];

function defineSuite(node: StoreNode): void {
  describe(`fastly-js against a node on ${node.name}`, () => {
    let h: Harness;
    let client: ReturnType<typeof fastlyClient>;
    beforeAll(async () => {
      h = await node.start();
      expect(await h.ingest(ADMIN_TOKEN, EVENTS.map(eventLine).join('\n'))).toMatchObject({ accepted: EVENTS.length, rejected: 0 });
      await h.publishThrough(LAST);
      client = fastlyClient(await h.app.listen({ host: '127.0.0.1', port: 0 }), ADMIN_TOKEN);
    }, 60_000);
    afterAll(async () => {
      await node.stop();
    });

    const seconds = groupBy(SHOP, (e) => String(e.second));

    it('RealtimeApi: the cursor read and ts/h hold every second, aggregated and per POP', async () => {
      // fastly-js parses a channel entry's `recorded` into an empty model object (RealtimeEntryRecorded):
      // the second is read from the raw body the client received, the rest from what it parsed.
      const read = await client.channel.getStatsLastSecondWithHttpInfo({ service_id: 'shop', timestamp_in_seconds: SECONDS[0] as number });
      expect(read.data.Timestamp).toBeGreaterThan(LAST);
      const last120 = await client.channel.getStatsLast120SecondsWithHttpInfo({ service_id: 'shop' });
      for (const { data, response } of [read, last120]) {
        const recorded = (response.body as { Data: { recorded: number }[] }).Data.map((d) => d.recorded);
        expect(recorded).toEqual([...seconds.keys()].map(Number));
        expect(data.Data).toHaveLength(recorded.length);
        for (const [i, entry] of (data.Data ?? []).entries()) {
          const second = recorded[i];
          const events = seconds.get(String(second)) ?? [];
          expect(view(entry.aggregated, CHANNEL), String(second)).toEqual(channelWant(events));
          expect(entry.aggregated?.['miss_histogram'] ?? {}).toEqual(histogramOf(events));
          const pops = groupBy(events, (e) => e.datacenter);
          expect(Object.keys(entry.datacenter ?? {}).sort()).toEqual([...pops.keys()]);
          for (const [pop, mine] of pops) expect(view(entry.datacenter?.[pop], CHANNEL), `${second} ${pop}`).toEqual(channelWant(mine));
        }
      }
    });

    it('DomainInspectorRealtimeApi: per domain, every second', async () => {
      const read = await client.domains.getDomainInspectorLastSecond({ service_id: 'shop', start_timestamp: SECONDS[0] as number });
      expect(read.Data?.map((d) => d.recorded)).toEqual([...seconds.keys()].map(Number));
      for (const entry of read.Data ?? []) {
        const domains = groupBy(seconds.get(String(entry.recorded)) ?? [], (e) => e.domain);
        expect(Object.keys(entry.aggregated ?? {}).sort()).toEqual([...domains.keys()]);
        for (const [domain, mine] of domains) expect(view(entry.aggregated?.[domain] as Record<string, unknown>, DOMAIN), `${entry.recorded} ${domain}`).toEqual(view(edgeSums(mine), DOMAIN));
      }
    });

    it('OriginInspectorRealtimeApi: per backend, every second with a fetch', async () => {
      const read = await client.origins.getOriginInspectorLastSecond({ service_id: 'shop', start_timestamp: SECONDS[0] as number });
      const fetched = groupBy(SHOP.filter((e) => e.origin_status !== undefined), (e) => String(e.second));
      expect(read.Data?.map((d) => d.recorded)).toEqual([...fetched.keys()].map(Number));
      for (const entry of read.Data ?? []) {
        const backends = groupBy(fetched.get(String(entry.recorded)) ?? [], (e) => e.backend);
        expect(Object.keys(entry.aggregated ?? {}).sort()).toEqual([...backends.keys()]);
        for (const [backend, mine] of backends) expect(view(entry.aggregated?.[backend] as Record<string, unknown>, ORIGIN), `${entry.recorded} ${backend}`).toEqual(view(originSums(mine), ORIGIN));
      }
    });
  });
}

defineSuite(duckDbNode());
defineSuite(clickHouseNode('rtm_fastly_client'));
