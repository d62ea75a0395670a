/**
 * Issue 9 item 4, the store queue's share of the memory budget enforced: rows made durable and not
 * yet stored (here: the current second's, which the store writer takes only once published) past
 * the share make POST /ingest answer 503 RTM_ERR_INGEST_UNAVAILABLE with Retry-After, before
 * anything of the body is acknowledged; once the queue drains to the store, bodies are accepted
 * again, and the totals hold every acknowledged event and none of the refused ones.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ROLLUP_ROW_BYTES } from '../src/config/memory-budget.ts';
import { testConfig } from '../src/config/config.ts';
import { ADMIN_TOKEN, HARNESS_T0, startHarness, type Harness } from './support/app-harness.ts';

const NOW = Math.floor(HARNESS_T0 / 1000);
/** The store queue's share: 1,000 rows (ROLLUP_ROW_BYTES each). */
const SHARE_ROWS = 1000;

const body = (second: number, domains: number, tag: string): string =>
  Array.from({ length: domains }, (_, i) => JSON.stringify({ timestamp: second, service: 'shop', datacenter: 'FRA', domain: `${tag}${i}.shop.example`, status: 200, resp_body_bytes: 10 })).join('\n');

describe('the store queue over its share of the memory budget', () => {
  let h: Harness | undefined;
  afterAll(async () => h?.close());

  it('refuses new bodies with a 503 until the queue drains, and keeps every acknowledged event', async () => {
    const base = testConfig('/unused');
    const memoryBudget = { ...base.memoryBudget, shares: { ...base.memoryBudget.shares, pending: SHARE_ROWS * ROLLUP_ROW_BYTES } };
    h = await startHarness({ config: { memoryBudget } });
    // 1,200 domains of the current second: 1,200 edge rows and their method and status rows wait
    // for the second's publication, past the share.
    expect((await h.ingest(ADMIN_TOKEN, body(NOW, 1200, 'a'))).accepted).toBe(1200);
    expect(h.services.memory.pendingBytes()).toBeGreaterThan(SHARE_ROWS * ROLLUP_ROW_BYTES);

    const refused = await h.inject({ method: 'POST', url: '/ingest', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/x-ndjson' }, payload: body(NOW, 5, 'b') });
    expect(refused.statusCode).toBe(503);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    const error = refused.json<{ error: { code: string; detail: string } }>().error;
    expect(error.code).toBe('RTM_ERR_INGEST_UNAVAILABLE');
    expect(error.detail).toMatch(/^the store is behind: \d+\.\d MiB of acknowledged events wait for it, more than the store queue's share of the memory budget \(0\.1 MiB of RTM_MEMORY_BUDGET_BYTES\); nothing of this request was accepted, retry later$/);

    // Published and written: the queue is empty and bodies are taken again.
    await h.publishThrough(NOW);
    expect(h.services.memory.pendingBytes()).toBe(0);
    expect((await h.ingest(ADMIN_TOKEN, body(NOW + 1, 7, 'c'))).accepted).toBe(7);
    await h.publishThrough(NOW + 1);

    const rows = await h.services.store.readEdge({ tier: '1m', from: 0, to: 4e9, filter: { services: ['shop'] } });
    expect(rows.reduce((n, r) => n + (r.values[0] ?? 0), 0)).toBe(1200 + 7);
    expect(rows.some((r) => r.domain.startsWith('b'))).toBe(false);
  });
});
