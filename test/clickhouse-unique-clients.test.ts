/**
 * Unique clients across two nodes (issue 11): two rtmetrics nodes on a two-shard ClickHouse
 * cluster, each ingesting part of a random stream of the same keys, with clients seen by both;
 * either node answers `unique_clients` of each minute, each POP and the whole day within 2% of
 * the exact distinct count over both nodes' events (a client seen on both nodes counts once:
 * the sketches' cells add up in ClickHouse and the registers are their max-merge). The seconds
 * are older than the live window, so both answers come from the store.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, HARNESS_T0, type Harness } from './support/app-harness.ts';
import { clientAddress, expectClients } from './support/client-reference.ts';
import { startClickHouseNodes, type ClickHouseNodes } from './support/clickhouse-nodes.ts';

const NOW = Math.floor(HARNESS_T0 / 1000);
let ch: ClickHouseNodes | undefined;
let nodes: Harness[] = [];

beforeAll(async () => {
  ch = await startClickHouseNodes('rtm_uc', ['uc-a', 'uc-b']);
  nodes = ch.nodes;
}, 120_000);

afterAll(async () => {
  await ch?.close();
});

const POPS = ['FRA', 'LHR'] as const;

const event = fc.record({
  /** Seconds before NOW, all older than the live window: a few minutes, then the day. */
  ago: fc.oneof(fc.integer({ min: 3_600, max: 3_900 }), fc.integer({ min: 3_600, max: 80_000 })),
  datacenter: fc.constantFrom(...POPS),
  client: fc.integer({ min: 0, max: 300 }).map(clientAddress),
  node: fc.integer({ min: 0, max: 1 }),
});

type Sent = { second: number; datacenter: string; client: string; node: number };

const line = (e: Sent, service: string): string =>
  JSON.stringify({ timestamp: e.second + 0.5, service, datacenter: e.datacenter, domain: 'a.example', status: 200, resp_body_bytes: 1, client_ip: e.client });
const distinct = (events: readonly Sent[]): number => new Set(events.map((e) => e.client)).size;

let run = 0;

describe('unique clients across two nodes on a two-shard cluster', () => {
  it("either node serves unique_clients of each minute, each POP and the day within 2% of the exact count over both nodes' events", async () => {
    const [a, b] = nodes as [Harness, Harness];
    await fc.assert(
      fc.asyncProperty(fc.array(event, { minLength: 2, maxLength: 200 }), async (drawn) => {
        const service = `uc2-${run++}`;
        const events: Sent[] = drawn.map((e) => ({ second: NOW - e.ago, datacenter: e.datacenter, client: e.client, node: e.node }));
        for (const [i, h] of [a, b].entries()) {
          const mine = events.filter((e) => e.node === i);
          if (mine.length === 0) continue;
          const ack = await h.ingest(ADMIN_TOKEN, `${mine.map((e) => line(e, service)).join('\n')}\n`);
          expect(ack.accepted).toBe(mine.length);
        }
        await a.publishThrough(NOW);
        await b.publishThrough(NOW);
        for (const h of [a, b]) {
          const query = async (granularity: string, groupBy: string[] = []): Promise<Record<string, unknown>[]> => {
            const res = await h.inject({
              method: 'POST',
              url: '/rtm/v1/query',
              headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
              payload: { from: NOW - 86_400, to: NOW - 3_000, granularity, groupBy, metrics: ['requests', 'unique_clients'], filters: [{ field: 'service', op: 'eq', value: service }] },
            });
            expect(res.statusCode, res.body).toBe(200);
            return res.json().rows;
          };
          const minuteOf = (s: number): number => Math.floor(s / 60) * 60;
          for (const r of await query('1m')) expectClients(r.unique_clients, distinct(events.filter((e) => minuteOf(e.second) === r.time)), `minute ${String(r.time)}`);
          for (const r of await query('all', ['datacenter'])) expectClients(r.unique_clients, distinct(events.filter((e) => e.datacenter === r.datacenter)), `the day at ${String(r.datacenter)}`);
          const [all] = await query('all');
          expect(all?.requests).toBe(events.length);
          expectClients(all?.unique_clients, distinct(events), 'the day');
        }
      }),
      { numRuns: 5 },
    );
  }, 300_000);
});
