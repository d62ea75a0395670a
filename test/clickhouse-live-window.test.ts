/**
 * The live window across nodes: two rtmetrics nodes on one ClickHouse, events of the same
 * seconds sent to both, and a Fastly cursor client (`ts/{Timestamp}`, as fastly-js polls) on
 * each node. Every second each client receives holds both nodes' events from the first time it
 * arrives (an answer repeats the AggregateDelay seconds before the cursor, as Fastly's does, and
 * the repeats never differ), and AggregateDelay says how late seconds are published
 * (AggregateDelay + the read lag).
 * With each node's own window as the source, a client on one node would sum only that node's
 * events.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.ts';
import { ADMIN_TOKEN, HARNESS_T0, startHarness, type Harness } from './support/app-harness.ts';
import { startClickHouseServer, type ClickHouseServer } from './support/clickhouse-server.ts';

const NOW = Math.floor(HARNESS_T0 / 1000);
const STEPS = 12;

interface CursorAnswer {
  Timestamp: number;
  AggregateDelay: number;
  Data: { recorded: number; aggregated: Record<string, number> }[];
}

/**
 * A ts/{t} client: the requests of each second as last received (a repeat replaces the earlier
 * version, as a Fastly client keeps it), and the seconds whose repeat differed from the first version.
 */
function cursorClient(node: Harness, service: string): { poll(): Promise<CursorAnswer>; requests: Map<number, number>; changed: Set<number> } {
  let cursor = 0;
  const requests = new Map<number, number>();
  const changed = new Set<number>();
  return {
    requests,
    changed,
    async poll() {
      const res = await node.inject({ method: 'GET', url: `/v1/channel/${service}/ts/${cursor}`, headers: { 'fastly-key': ADMIN_TOKEN } });
      expect(res.statusCode, res.body).toBe(200);
      const answer = res.json<CursorAnswer>();
      for (const d of answer.Data) {
        const value = d.aggregated['requests'] ?? 0;
        const before = requests.get(d.recorded);
        if (before !== undefined && before !== value) changed.add(d.recorded);
        requests.set(d.recorded, value);
      }
      cursor = answer.Timestamp;
      return answer;
    },
  };
}

const events = (second: number, n: number, datacenter: string): string =>
  Array.from({ length: n }, (_, i) => JSON.stringify({ timestamp: second + i / (n + 1), service: 'shop', datacenter, domain: 'www.shop.example', status: 200, resp_body_bytes: 100 + i })).join('\n');

describe('the live window across nodes (RTM_STORE=clickhouse)', () => {
  let server: ClickHouseServer | undefined;
  const nodes: Harness[] = [];
  afterAll(async () => {
    for (const n of nodes.splice(0)) await n.close();
    await server?.stop();
  });

  it('a cursor client on either node receives every second complete, with the events of both nodes', async () => {
    server = await startClickHouseServer();
    const env = { RTM_STORE: 'clickhouse', RTM_CLICKHOUSE_URLS: server.url, RTM_CLICKHOUSE_DATABASE: 'rtm_live_window' };
    const node = async (id: string): Promise<Harness> => {
      const parsed = loadConfig({ ...env, RTM_NODE_ID: id });
      expect(parsed.store).toMatchObject({ engine: 'clickhouse', clickhouse: { readLagSeconds: 3 } });
      const h = await startHarness({ config: { store: parsed.store, nodeId: parsed.nodeId } });
      nodes.push(h);
      return h;
    };
    const [a, b] = [await node('live-a'), await node('live-b')];
    const clients = [cursorClient(a, 'shop'), cursorClient(b, 'shop')];
    const sent = new Map<number, number>();
    // Second by second, as a live stream: both clocks move on, each node ingests its share of
    // the second that just began and writes what it published, and both clients poll.
    for (let k = 0; k < STEPS; k++) {
      const second = NOW + k;
      for (const n of [a, b]) n.clock.set(second * 1000 + 500);
      const [onA, onB] = [1 + (k % 3), 2 + ((k * 5) % 4)];
      expect((await a.ingest(ADMIN_TOKEN, events(second, onA, 'FRA'))).accepted).toBe(onA);
      expect((await b.ingest(ADMIN_TOKEN, events(second, onB, 'LON'))).accepted).toBe(onB);
      sent.set(second, onA + onB);
      for (const n of [a, b]) await n.services.ingest.flush();
      for (const c of clients) {
        const answer = await c.poll();
        // Published AggregateDelay (1 s) + the read lag (3 s) after a second ends.
        expect(answer.AggregateDelay).toBe(4);
        expect(answer.Timestamp).toBeLessThanOrEqual(second - 4);
      }
    }
    // Then past the last second's publication.
    for (let i = 0; i < 8; i++) {
      for (const n of [a, b]) n.clock.set((NOW + STEPS + i) * 1000 + 500);
      for (const n of [a, b]) await n.services.ingest.flush();
      for (const c of clients) await c.poll();
    }
    for (const [i, c] of clients.entries()) {
      const seconds = [...sent.keys()];
      expect(
        seconds.map((s) => c.requests.get(s) ?? 0),
        `client on node ${i === 0 ? 'a' : 'b'}`,
      ).toEqual(seconds.map((s) => sent.get(s)));
      expect([...c.changed], 'seconds that changed after they were first received').toEqual([]);
    }
  });
});
