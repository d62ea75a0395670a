/**
 * GET /healthz and GET /readyz through the real app: no token needed, and readiness fails (503,
 * the registry's native envelope, Retry-After, the failed check named) when the store does not
 * answer, the WAL directory cannot take writes or the process is over its memory budget.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './support/app-harness.ts';

const open: Harness[] = [];
const harness = async (...args: Parameters<typeof startHarness>): Promise<Harness> => {
  const h = await startHarness(...args);
  open.push(h);
  return h;
};
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
});

describe('health checks', () => {
  it('GET /healthz answers without a token', async () => {
    const h = await harness();
    const res = await h.inject({ url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('GET /readyz is ready when the store answers and the WAL is writable', async () => {
    const h = await harness();
    const res = await h.inject({ url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ready', checks: { store: 'ok', wal: 'ok', memory: 'ok' } });
    // Probes are not metered as API requests.
    await h.services.usageRecorder.flush();
    expect((await h.services.usage.list({ limit: 10, skip: 0 })).items.filter((e) => e.detail === '/readyz')).toEqual([]);
  });

  it('GET /readyz is a 503 naming the store when the database does not answer', async () => {
    const h = await harness({
      beforeBuild: (s) => {
        s.engine.ping = () => Promise.reject(new Error('IO Error: No space left on device'));
      },
    });
    const res = await h.inject({ url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.json()).toEqual({
      error: { code: 'RTM_ERR_SERVER_NOT_READY', message: 'The server is not ready', detail: 'store: the database did not answer a query' },
    });
    expect(res.body).not.toContain('No space');
    expect((await h.inject({ url: '/healthz' })).statusCode).toBe(200);
  });

  it('GET /healthz is a 503 asking for a restart once DuckDB has invalidated its database, and ready stays failed', async () => {
    const invalidated =
      'FATAL Error: Failed: database has been invalidated because of a previous fatal error. The database must be restarted prior to being used again.';
    const h = await harness({
      beforeBuild: (s) => {
        s.engine.ping = () => Promise.reject(new Error(invalidated));
      },
    });
    const live = await h.inject({ url: '/healthz' });
    expect(live.statusCode).toBe(503);
    expect(live.headers['retry-after']).toBe('1');
    expect(live.json()).toEqual({
      error: {
        code: 'RTM_ERR_SERVER_MUST_RESTART',
        message: 'The server must be restarted',
        detail: 'the database was invalidated by a fatal error; restart the server (the WAL replays what the store lacks)',
      },
    });
    expect(live.body).not.toContain('FATAL');
    expect((await h.inject({ url: '/readyz' })).statusCode).toBe(503);
  });

  it('GET /readyz is a 503 naming the WAL when wal/ is no longer a writable directory', async () => {
    const h = await harness();
    const walDir = path.join(h.dataDir, 'wal');
    await fs.rm(walDir, { recursive: true, force: true });
    await fs.writeFile(walDir, 'not a directory');
    const res = await h.inject({ url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json().error.detail).toBe(`wal: ${walDir} is not a directory`);
  });

  it('GET /readyz is a 503 "over budget" when the resident set exceeds RTM_MEMORY_BUDGET_BYTES by more than 10%', async () => {
    const h = await harness({
      beforeBuild: (s) => {
        s.memory.rss = () => 2 * s.config.memoryBudget.totalBytes;
      },
    });
    const res = await h.inject({ url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json().error.detail).toBe('memory: over budget: resident 8192 MiB, more than 10% over the budget of 4096 MiB (RTM_MEMORY_BUDGET_BYTES)');
    // Within the margin it is ready again.
    h.services.memory.rss = () => 1.09 * h.services.config.memoryBudget.totalBytes;
    expect((await h.inject({ url: '/readyz' })).statusCode).toBe(200);
  });
});
