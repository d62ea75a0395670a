/**
 * A service is listed by the Azion API as soon as its first event is acknowledged (issue 9
 * item 10): the catalog registers names when the WAL entry is durable, and the request is
 * answered only once the catalog has them, not after the store write a second or two later.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startHarness, type Harness } from './support/app-harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h.close());

describe('catalog registration on acknowledgement', () => {
  it('lists a new service and its domain right after the ingest answer, before any store write', async () => {
    const now = Math.floor(h.clock.now() / 1000);
    for (let i = 0; i < 5; i++) {
      const service = `fresh-${i}`;
      const line = JSON.stringify({ timestamp: now, service, datacenter: 'FRA', domain: `d${i}.example`, status: 200 });
      await h.ingest(ADMIN_TOKEN, line);
      const res = await h.inject({ url: '/metrics/products/1441740010/configurations', headers: { authorization: `Token ${ADMIN_TOKEN}` } });
      expect(res.statusCode).toBe(200);
      const body = JSON.stringify(res.json());
      expect(body).toContain(service);
    }
  });
});
