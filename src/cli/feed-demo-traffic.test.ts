import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSyntheticTraffic } from '../demo/synthetic-traffic.ts';
import { HARNESS_T0, startHarness, type Harness } from '../../test/support/app-harness.ts';
import { feedDemoTraffic } from './feed-demo-traffic.ts';

const NOW = Math.floor(HARNESS_T0 / 1000);
let h: Harness;

beforeAll(async () => {
  h = await startHarness();
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe('rtmetrics demo traffic', () => {
  it('goes through the durable pipeline with its top paths and clients, as the ingest route would', async () => {
    const traffic = createSyntheticTraffic({ seed: 3 });
    const minute = Math.floor((NOW - 300) / 60) * 60;
    for (let t = minute; t < minute + 60; t += 10) await feedDemoTraffic(h.services, traffic.ndjson(t, 50));
    await h.publishThrough(NOW);
    await h.services.topValues.write();
    await h.services.ingest.flush();
    const query = { tier: '1m' as const, from: minute, to: minute + 60, filter: {}, bucketSeconds: 60 };
    const requests = (await h.services.store.sumEdge({ ...query, fields: ['requests'] })).reduce((n, r) => n + (r.values[0] ?? 0), 0);
    expect(requests).toBe(300);
    for (const dimension of ['path', 'client_ip'] as const) {
      const rows = await h.services.store.sumDimension({ ...query, dimension });
      // Every event counted in its service's bound row, and some values listed.
      expect(rows.filter((r) => r.value === '').reduce((n, r) => n + r.count, 0), dimension).toBe(300);
      expect(rows.filter((r) => r.value !== '').length, dimension).toBeGreaterThan(3);
    }
  });
});
