/**
 * Percentiles across two nodes (issue 11): two rtmetrics nodes on a two-shard ClickHouse
 * cluster, each ingesting half of a random stream of one key (the same seconds, POP and domain,
 * so the two nodes' bucket counts merge in ClickHouse); either node answers every percentile of
 * each minute and of the whole day within 1% of the exact value computed here from all events
 * (exact for integers below 1024). The seconds are older than the live window, so both answers
 * come from the store (docs/cluster.md: the live window across nodes is not built yet).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, HARNESS_T0, type Harness } from './support/app-harness.ts';
import { startClickHouseNodes, type ClickHouseNodes } from './support/clickhouse-nodes.ts';
import { arbitrarySize, arbitraryTime, exactMetric, expectClose, PERCENTILE_METRICS, percentileEventLine, type SentEvent } from './support/percentile-reference.ts';

const NOW = Math.floor(HARNESS_T0 / 1000);
let ch: ClickHouseNodes | undefined;
let nodes: Harness[] = [];

beforeAll(async () => {
  ch = await startClickHouseNodes('rtm_pct', ['pct-a', 'pct-b']);
  nodes = ch.nodes;
}, 120_000);

afterAll(async () => {
  await ch?.close();
});

const event = fc.record({
  /** Seconds before NOW, all older than the live window: a few minutes, then the day. */
  ago: fc.oneof(fc.integer({ min: 3_600, max: 3_900 }), fc.integer({ min: 3_600, max: 80_000 })),
  time_ms: arbitraryTime,
  resp_body_bytes: arbitrarySize,
  origin_time_ms: fc.option(arbitraryTime, { nil: undefined }),
  node: fc.integer({ min: 0, max: 1 }),
});

let run = 0;

describe('percentiles across two nodes on a two-shard cluster', () => {
  it('either node serves every percentile of each minute and of the day within 1% of the exact one over both nodes\' events', async () => {
    const [a, b] = nodes as [Harness, Harness];
    await fc.assert(
      fc.asyncProperty(fc.array(event, { minLength: 2, maxLength: 120 }), async (drawn) => {
        const service = `pct2-${run++}`;
        const events: (SentEvent & { node: number })[] = drawn.map((e) => ({ second: NOW - e.ago, time_ms: e.time_ms, resp_body_bytes: e.resp_body_bytes, origin_time_ms: e.origin_time_ms, node: e.node }));
        for (const [i, h] of [a, b].entries()) {
          const mine = events.filter((e) => e.node === i);
          if (mine.length === 0) continue;
          const ack = await h.ingest(ADMIN_TOKEN, `${mine.map((e) => percentileEventLine(e, service)).join('\n')}\n`);
          expect(ack.accepted).toBe(mine.length);
        }
        await a.publishThrough(NOW);
        await b.publishThrough(NOW);
        const byMinute = new Map<number, SentEvent[]>();
        for (const e of events) {
          const m = Math.floor(e.second / 60) * 60;
          byMinute.set(m, [...(byMinute.get(m) ?? []), e]);
        }
        for (const h of [a, b]) {
          const query = async (granularity: string): Promise<Record<string, unknown>[]> => {
            const res = await h.inject({
              method: 'POST',
              url: '/rtm/v1/query',
              headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
              payload: { from: NOW - 86_400, to: NOW - 3_000, granularity, metrics: ['requests', ...PERCENTILE_METRICS], filters: [{ field: 'service', op: 'eq', value: service }] },
            });
            expect(res.statusCode, res.body).toBe(200);
            return res.json().rows;
          };
          const minutes = await query('1m');
          expect(minutes.map((r) => r.time)).toEqual([...byMinute.keys()].sort((x, y) => x - y));
          for (const r of minutes) {
            const of = byMinute.get(r.time as number) ?? [];
            expect(r.requests).toBe(of.length);
            for (const m of PERCENTILE_METRICS) expectClose(r[m], exactMetric(m, of), `${m} of minute ${String(r.time)}`);
          }
          const [all] = await query('all');
          expect(all?.requests).toBe(events.length);
          for (const m of PERCENTILE_METRICS) expectClose(all?.[m], exactMetric(m, events), `${m} of every event`);
        }
      }),
      { numRuns: 6 },
    );
  }, 300_000);
});
