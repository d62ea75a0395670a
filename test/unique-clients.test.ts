/**
 * Unique clients through the whole app (issue 11): random streams of events with and without a
 * `client_ip`, ingested as NDJSON; the native query API's `unique_clients` compared with the
 * exact number of distinct addresses computed here, per service, per POP, per domain, for a
 * second (the window), each minute (the 1 m tier and the window) and the whole day (the 1 d
 * tier), within 2%. Then 60,000 distinct clients in one minute, from the window and from the store.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, HARNESS_T0, startHarness, type Harness } from './support/app-harness.ts';
import { clientAddress, expectClients } from './support/client-reference.ts';

const NOW = Math.floor(HARNESS_T0 / 1000);
const POPS = ['FRA', 'LHR', 'SYD'] as const;
const DOMAINS = ['a.example', 'b.example'] as const;
let h: Harness;

beforeAll(async () => {
  h = await startHarness();
}, 60_000);

afterAll(async () => {
  await h?.close();
});

interface Sent {
  second: number;
  datacenter: string;
  domain: string;
  /** undefined: the event has no client_ip; '' : an empty one (no client either). */
  client: string | undefined;
}

const line = (e: Sent, service: string): string =>
  JSON.stringify({ timestamp: e.second + 0.25, service, datacenter: e.datacenter, domain: e.domain, status: 200, resp_body_bytes: 10, ...(e.client === undefined ? {} : { client_ip: e.client }) });

const distinct = (events: readonly Sent[]): number => new Set(events.flatMap((e) => (e.client === undefined || e.client === '' ? [] : [e.client]))).size;

async function query(service: string, granularity: string, from: number, to: number, groupBy: string[] = []): Promise<Record<string, unknown>[]> {
  const res = await h.inject({
    method: 'POST',
    url: '/rtm/v1/query',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    payload: { from, to, granularity, metrics: ['requests', 'unique_clients'], groupBy, filters: [{ field: 'service', op: 'eq', value: service }] },
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().rows;
}

const event = fc.record({
  /** Seconds before NOW: a few in the last minute (the window), the rest over the day. */
  ago: fc.oneof(fc.integer({ min: 5, max: 8 }), fc.integer({ min: 60, max: 80_000 })),
  datacenter: fc.constantFrom(...POPS),
  domain: fc.constantFrom(...DOMAINS),
  /** A small pool, so clients repeat across seconds, POPs and domains. */
  client: fc.option(fc.oneof(fc.integer({ min: 0, max: 400 }).map(clientAddress), fc.constant('')), { nil: undefined, freq: 6 }),
});

let run = 0;

describe('unique clients (native query API)', () => {
  it('serves unique_clients within 2% of the exact distinct count per service, POP and domain, for a second, each minute and the day', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(event, { minLength: 1, maxLength: 300 }), async (drawn) => {
        const service = `uc-${run++}`;
        const events: Sent[] = drawn.map((e) => ({ second: NOW - e.ago, datacenter: e.datacenter, domain: e.domain, client: e.client }));
        const ack = await h.ingest(ADMIN_TOKEN, `${events.map((e) => line(e, service)).join('\n')}\n`);
        expect(ack.accepted).toBe(events.length);
        await h.publishThrough(NOW);
        await h.services.store.compact();
        const dayStart = NOW - 86_400;
        // A single second (the window): the busiest.
        const counts = new Map<number, number>();
        for (const e of events) counts.set(e.second, (counts.get(e.second) ?? 0) + 1);
        const busiest = [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0] as number;
        const [one] = await query(service, '1s', busiest, busiest + 1);
        expect(one?.requests).toBe(counts.get(busiest));
        expectClients(one?.unique_clients, distinct(events.filter((e) => e.second === busiest)), `second ${busiest}`);
        // Each minute, and each minute per POP.
        const minuteOf = (s: number): number => Math.floor(s / 60) * 60;
        for (const r of await query(service, '1m', dayStart, NOW)) {
          expectClients(r.unique_clients, distinct(events.filter((e) => minuteOf(e.second) === r.time)), `minute ${String(r.time)}`);
        }
        for (const r of await query(service, '1m', dayStart, NOW, ['datacenter'])) {
          expectClients(r.unique_clients, distinct(events.filter((e) => minuteOf(e.second) === r.time && e.datacenter === r.datacenter)), `minute ${String(r.time)} at ${String(r.datacenter)}`);
        }
        // The whole range: the service, each POP, each domain.
        const [all] = await query(service, 'all', dayStart - 86_400, NOW + 1);
        expect(all?.requests).toBe(events.length);
        expectClients(all?.unique_clients, distinct(events), 'the day');
        for (const [field, values] of [['datacenter', POPS], ['domain', DOMAINS]] as const) {
          const rows = await query(service, 'all', dayStart - 86_400, NOW + 1, [field]);
          for (const v of values) {
            const of = events.filter((e) => e[field] === v);
            const row = rows.find((r) => r[field] === v);
            if (of.length === 0) expect(row, `${field} ${v}`).toBeUndefined();
            else expectClients(row?.unique_clients, distinct(of), `the day at ${field} ${v}`);
          }
        }
      }),
      { numRuns: 10 },
    );
  }, 240_000);

  it('counts 60,000 distinct clients of one minute within 2%, from the window and from the store, and per POP', async () => {
    const service = 'uc-many';
    const minute = Math.floor((NOW - 50) / 60) * 60;
    const events: Sent[] = [];
    // 60,000 clients, each seen twice, in two different seconds and sometimes two POPs.
    for (let i = 0; i < 120_000; i++) {
      const client = i % 60_000;
      events.push({ second: minute + (i % 40), datacenter: POPS[(client + (i >= 60_000 ? 1 : 0)) % 3] as string, domain: DOMAINS[client % 2] as string, client: clientAddress(client) });
    }
    for (let from = 0; from < events.length; from += 20_000) {
      const ack = await h.ingest(ADMIN_TOKEN, `${events.slice(from, from + 20_000).map((e) => line(e, service)).join('\n')}\n`);
      expect(ack.accepted).toBe(20_000);
    }
    const check = async (where: string): Promise<void> => {
      const [all] = await query(service, '1m', minute, minute + 60);
      expect(all?.requests).toBe(events.length);
      expectClients(all?.unique_clients, 60_000, `the minute (${where})`);
      for (const r of await query(service, 'all', minute, minute + 60, ['datacenter'])) {
        expectClients(r.unique_clients, distinct(events.filter((e) => e.datacenter === r.datacenter)), `${String(r.datacenter)} (${where})`);
      }
    };
    await check('window');
    await h.publishThrough(minute + 60);
    await h.services.store.compact();
    await check('store');
  }, 120_000);

  it('records no distributions with RTM_DISTRIBUTIONS=off: percentiles null, unique_clients 0, every counter as ever', async () => {
    const off = await startHarness({ config: { distributions: false } });
    try {
      const second = NOW - 300;
      const lines = [1, 2, 3].map((i) => JSON.stringify({ timestamp: second + 0.5, service: 'uc-off', datacenter: 'FRA', domain: 'a.example', status: 200, time_ms: 10 * i, resp_body_bytes: 100, client_ip: clientAddress(i) }));
      expect((await off.ingest(ADMIN_TOKEN, `${lines.join('\n')}\n`)).accepted).toBe(3);
      await off.publishThrough(NOW);
      for (const round of ['window and 1 s tier', 'after compaction']) {
        if (round === 'after compaction') await off.services.store.compact();
        const res = await off.inject({
          method: 'POST',
          url: '/rtm/v1/query',
          headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
          payload: { from: NOW - 3600, to: NOW, granularity: 'all', metrics: ['requests', 'body_size', 'edge_time_p50', 'unique_clients'], filters: [{ field: 'service', op: 'eq', value: 'uc-off' }] },
        });
        expect(res.statusCode, res.body).toBe(200);
        expect(res.json().rows, round).toEqual([{ requests: 3, body_size: 300, edge_time_p50: null, unique_clients: 0 }]);
      }
    } finally {
      await off.close();
    }
  });
});
