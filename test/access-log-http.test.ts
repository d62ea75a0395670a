/**
 * `rtmetrics import --url`: batches POSTed to /ingest (through app.inject, no port), retried
 * with the same Idempotency-Key after a failure, and the server's rejections reported with the
 * line numbers of the log.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLineParser } from '../src/ingest/access-log/formats.ts';
import { runImport } from '../src/ingest/access-log/import-run.ts';
import { fileSource } from '../src/ingest/access-log/source.ts';
import { createHttpSubmitter } from '../src/ingest/access-log/submit.ts';
import { EDGE_FIELDS } from '../src/model/fields.ts';
import { ADMIN_TOKEN, HARNESS_T0, startHarness, type Harness } from './support/app-harness.ts';
import { makeRequests, NGINX_TEST_FORMAT, toNginxLine } from './support/access-logs.ts';

let dir: string;
let h: Harness;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtm-import-http-'));
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('rtmetrics import over HTTP', () => {
  it('retries a failed batch with the same Idempotency-Key and maps rejections to log lines', { timeout: 30_000 }, async () => {
    const now = HARNESS_T0 / 1000;
    const reqs = makeRequests(now - 40, 3, 10);
    const text = reqs.map(toNginxLine);
    // Line 5: a status the parser reads but the ingest validator refuses (events.md: 100..599).
    text[4] = (text[4] as string).replace(/" (\d{3}) /, '" 999 ');
    const file = path.join(dir, 'a.log');
    fs.writeFileSync(file, `${text.join('\n')}\n`);

    const keys: string[] = [];
    let failures = 1;
    const injectFetch: typeof fetch = async (input, init) => {
      const headers = init?.headers as Record<string, string>;
      keys.push(headers['idempotency-key'] ?? '');
      if (failures-- > 0) return new Response(JSON.stringify({ error: { code: 'RTM_ERR_INGEST_UNAVAILABLE', detail: 'try later' } }), { status: 503 });
      const res = await h.inject({ method: 'POST', url: new URL(String(input)).pathname, headers, payload: init?.body as string });
      return new Response(res.body, { status: res.statusCode });
    };
    const retries: string[] = [];
    const submitter = createHttpSubmitter({ url: 'http://rtm.test', token: ADMIN_TOKEN, fetch: injectFetch, retryDelayMs: 1, onRetry: (_n, reason) => retries.push(reason) });
    const parser = createLineParser({ format: 'nginx', service: 'shop', logFormat: NGINX_TEST_FORMAT, datacenterVar: 'pop' });
    const s = await runImport({ sources: [fileSource(file)], parser, submitter, maxLineBytes: 65536, batchSize: 20 });

    expect(s).toMatchObject({ lines: 30, events: 29, rejected: 1 });
    expect(s.errors).toEqual([{ file, line: 5, reason: 'status: must be an integer 100..599, got 999' }]);
    expect(retries).toEqual(['try later (RTM_ERR_INGEST_UNAVAILABLE, HTTP 503)']);
    // Two batches of 20 and 10 lines; the first sent twice with one key.
    expect(keys).toHaveLength(3);
    expect(keys[0]).toBe(keys[1]);
    expect(keys[2]).not.toBe(keys[0]);
    await h.publishThrough(now);
    const edge = await h.services.store.readEdge({ tier: '1s', from: now - 60, to: now, filter: {} });
    expect(edge.reduce((n, r) => n + (r.values[EDGE_FIELDS.indexOf('requests')] ?? 0), 0)).toBe(29);
  });

  it('sends the same Idempotency-Keys when run again over the same file, so a re-run after a crash counts nothing twice', { timeout: 30_000 }, async () => {
    const now = HARNESS_T0 / 1000;
    const file = path.join(dir, 'rerun.log');
    fs.writeFileSync(file, `${makeRequests(now - 30, 2, 15).map(toNginxLine).join('\n')}\n`);
    const keys: string[] = [];
    const injectFetch: typeof fetch = async (input, init) => {
      const headers = init?.headers as Record<string, string>;
      keys.push(headers['idempotency-key'] ?? '');
      const res = await h.inject({ method: 'POST', url: new URL(String(input)).pathname, headers, payload: init?.body as string });
      return new Response(res.body, { status: res.statusCode, headers: res.headers as Record<string, string> });
    };
    const run = () =>
      runImport({
        sources: [fileSource(file)],
        parser: createLineParser({ format: 'nginx', service: 'rerun', logFormat: NGINX_TEST_FORMAT, datacenterVar: 'pop' }),
        submitter: createHttpSubmitter({ url: 'http://rtm.test', token: ADMIN_TOKEN, fetch: injectFetch }),
        maxLineBytes: 65536,
        batchSize: 20,
        keyScope: 'nginx rerun',
      });
    expect(await run()).toMatchObject({ events: 30, alreadyImported: 0 });
    // The "crashed" first run is run again: the same keys, answered without being counted.
    expect(await run()).toMatchObject({ events: 30, alreadyImported: 30 });
    expect(keys.slice(2)).toEqual(keys.slice(0, 2));
    await h.publishThrough(now);
    const edge = await h.services.store.readEdge({ tier: '1s', from: now - 60, to: now, filter: { services: ['rerun'] } });
    expect(edge.reduce((n, r) => n + (r.values[EDGE_FIELDS.indexOf('requests')] ?? 0), 0)).toBe(30);
  });
});
