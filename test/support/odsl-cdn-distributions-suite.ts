/**
 * The ODSL CDN provider's percentile metrics and `Bandwidth95th` (issue 11): one point per
 * calendar bucket, from everything in the bucket: the p50 of a day is the p50 of the day's
 * requests (not a mix of hourly values), the bandwidth p95 ranks the day's 5-minute samples
 * (quiet slots as 0). Values computed here from the events sent.
 *
 * Run on each store engine (issue 10): test/odsl-cdn-distributions.test.ts on DuckDB,
 * test/clickhouse-odsl-cdn-distributions.test.ts on a ClickHouse node.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, HARNESS_T0, type Harness } from './app-harness.ts';
import type { StoreNode } from './store-nodes.ts';

const NOW = Math.floor(HARNESS_T0 / 1000);
/** 2025-12-31, the whole day before the harness clock (2026-01-01 00:10Z). */
const DAY_START = Date.UTC(2025, 11, 31) / 1000;

/** Hour h of the day: edge times h+1 (x10 events) and 1000 (x1) ms; bandwidth 1000 * (h+1) bytes in one 5-minute slot. */
const HOURS = 24;

/** Registers the suite on `node`; call once from a test file. */
export function defineOdslCdnDistributionsSuite(node: StoreNode): void {
  let h: Harness;

  beforeAll(async () => {
    h = await node.start();
    const lines: string[] = [];
    for (let hour = 0; hour < HOURS; hour++) {
      const t = DAY_START + hour * 3_600 + 60;
      for (let i = 0; i < 11; i++) {
        lines.push(
          JSON.stringify({
            timestamp: t + i + 0.5,
            service: 'odsl-pct',
            datacenter: hour % 2 === 0 ? 'FRA' : 'LHR',
            domain: 'a.example',
            status: 200,
            time_ms: i === 10 ? 1000 : hour + 1,
            resp_header_bytes: 0,
            // 1000 * (hour + 1) bytes over the hour's 11 events, in the slot at hour:00-hour:05.
            resp_body_bytes: i === 10 ? 1000 * (hour + 1) : 0,
          }),
        );
      }
    }
    const ack = await h.ingest(ADMIN_TOKEN, `${lines.join('\n')}\n`);
    expect(ack.accepted).toBe(lines.length);
    await h.publishThrough(NOW);
    await h.services.store.compact();
  }, 60_000);

  afterAll(async () => {
    await node.stop();
  });

  const series = async (metric: string, calendar: string, token = ADMIN_TOKEN, filter = 'service=odsl-pct') => {
    const res = await h.inject({ method: 'GET', url: '/api/metric/v1', query: { _metric: `CDN/${metric}`, _calendar: calendar, _range: '2025-12-31', _filter: filter }, headers: { authorization: `Bearer ${token}` } });
    return res;
  };

  describe(`ODSL CDN percentiles and Bandwidth95th on ${node.name}`, () => {
    it('lists them among the CDN metrics', async () => {
      const res = await h.inject({ method: 'GET', url: '/api/metric/v1', query: { _function: 'listMetrics', provider: 'CDN' }, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toEqual(expect.arrayContaining(['Requests', 'edge_time_p50', 'edge_time_p999', 'origin_time_p99', 'object_size_p95', 'Bandwidth95th']));
    });

    it('answers a percentile per hour and per day from the merged distribution of the bucket', async () => {
      const hourly = await series('edge_time_p50', '#PT1H');
      expect(hourly.statusCode, hourly.body).toBe(200);
      // Each hour: ten events at hour+1 ms, one at 1000 ms: p50 = hour+1 (exact below 1024).
      expect(hourly.json().data.map((d: { value: number }) => d.value)).toEqual(Array.from({ length: HOURS }, (_, k) => k + 1));
      const daily = await series('edge_time_p50', '#P1D');
      expect(daily.statusCode, daily.body).toBe(200);
      // The day: 240 events at 1..24 ms (ten each), 24 at 1000 ms: rank ceil(0.5 * 264) = 132 -> 14 ms.
      // A median of the hourly medians would be 12.5; a sum of them 300.
      expect(daily.json().data).toEqual([{ time: expect.stringMatching(/^2025-12-31T00:00:00/), value: 14 }]);
      const p99 = await series('edge_time_p99', '#P1D');
      // rank ceil(0.99 * 264) = 262 -> among the 24 events at 1000 ms.
      expect(p99.json().data.map((d: { value: number }) => d.value)).toEqual([1000]);
      const lhr = await series('edge_time_p50', '#P1D', ADMIN_TOKEN, 'service=odsl-pct and datacenter=LHR');
      // Odd hours only: 2, 4, .. 24 ms ten each and 12 at 1000: rank 66 -> the 7th value, 14 ms.
      expect(lhr.json().data.map((d: { value: number }) => d.value)).toEqual([14]);
      // No origin fetch: no origin time, so no point.
      expect((await series('origin_time_p50', '#P1D')).json().data).toEqual([]);
    });

    it('ranks the 5-minute bandwidth samples of each bucket, quiet slots as 0', async () => {
      const daily = await series('Bandwidth95th', '#P1D');
      expect(daily.statusCode, daily.body).toBe(200);
      // 288 samples: 24 busy (1000 * (h+1) bytes over 300 s), 264 at 0. Rank ceil(0.95 * 288) = 274
      // of 288 -> the 274th smallest is among the busy ones: 264 zeros, then the 10th busy (10 000 bytes).
      expect(daily.json().data.map((d: { value: number }) => d.value)).toEqual([((10 * 1000) / 300) * 8]);
      const hourly = await series('Bandwidth95th', '#PT1H');
      // Each hour: 12 samples, one busy: rank ceil(0.95 * 12) = 12 -> the busy one.
      expect(hourly.json().data.map((d: { value: number }) => d.value)).toEqual(Array.from({ length: HOURS }, (_, k) => ((1000 * (k + 1)) / 300) * 8));
      const minute = await series('Bandwidth95th', '#PT1M');
      expect(minute.statusCode).toBe(400);
      expect(minute.body).toContain('#PT5M or longer');
    });

    it('shows a token only its services', async () => {
      const { secret } = await h.token('other-only', ['other'], ['read']);
      for (const metric of ['edge_time_p50', 'Bandwidth95th']) {
        const res = await series(metric, '#P1D', secret);
        expect(res.statusCode, res.body).toBe(200);
        expect(res.json().data, metric).toEqual([]);
      }
    });
  });
}
