/**
 * `rtmetrics import` end to end in process: the same requests as an nginx log, as Fastly JSON
 * lines and as NDJSON POSTed to /ingest give identical records (store tiers and API answers);
 * malformed lines are reported with their line numbers while the good ones are kept; a huge line
 * costs no memory; gzip is read like plain text.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLineParser } from '../src/ingest/access-log/formats.ts';
import { runImport, type ImportSummary } from '../src/ingest/access-log/import-run.ts';
import { fileSource } from '../src/ingest/access-log/source.ts';
import { createLocalSubmitter } from '../src/ingest/access-log/submit.ts';
import { EDGE_FIELDS } from '../src/model/fields.ts';
import type { Tier } from '../src/store/store.ts';
import { ADMIN_TOKEN, HARNESS_T0, startHarness, type Harness } from './support/app-harness.ts';
import { makeRequests, NGINX_TEST_FORMAT, toFastlyLine, toNdjsonLine, toNginxLine } from './support/access-logs.ts';

const SERVICE = 'shop';
const NOW = HARNESS_T0 / 1000;
// Recent seconds (the live window and the real-time APIs) and a day earlier (store only).
const recent = makeRequests(NOW - 30, 5, 40);
const old = makeRequests(NOW - 86_400 - 10, 3, 30);
const requests = [...old, ...recent];

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtm-import-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const write = (name: string, lines: string[]): string => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
};

async function importInto(h: Harness, files: string[], format: 'nginx' | 'fastly' | 'json', extra: { logFormat?: string; datacenterVar?: string; datacenter?: string } = {}): Promise<ImportSummary> {
  const parser = createLineParser({ format, service: SERVICE, ...extra });
  const submitter = createLocalSubmitter({ ingest: h.services.ingest, via: h.dataDir, maxSecond: () => Math.floor(h.clock.now() / 1000) + 300, onTopValues: (c) => h.services.topValues.add(c) });
  return runImport({ sources: files.map((f) => fileSource(f)), parser, submitter, maxLineBytes: 64 * 1024 });
}

const sorted = <T>(rows: T[]): string[] => rows.map((r) => JSON.stringify(r)).sort();

async function everything(h: Harness): Promise<Record<string, unknown>> {
  // Every minute's top values written (paths and addresses), so they compare like the rest.
  await h.services.topValues.write(true);
  await h.publishThrough(NOW);
  const out: Record<string, unknown> = {};
  for (const tier of ['1s', '1m', '1h', '1d'] as Tier[]) {
    const q = { tier, from: NOW - 2 * 86_400, to: NOW + 60, filter: {} };
    out[`edge ${tier}`] = sorted(await h.services.store.readEdge(q));
    out[`origin ${tier}`] = sorted(await h.services.store.readOrigin(q));
    out[`dimension ${tier}`] = sorted(await h.services.store.readDimension(q));
  }
  const auth = { 'fastly-key': ADMIN_TOKEN };
  for (const url of [`/v1/channel/${SERVICE}/ts/h`, `/v1/domains/${SERVICE}/ts/h`, `/rtm/v1/services/${SERVICE}/live`]) {
    const res = await h.inject({ method: 'GET', url, headers: { ...auth, authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.statusCode, url).toBe(200);
    out[url] = res.json();
  }
  return out;
}

describe('rtmetrics import', () => {
  it('gives identical records from an nginx log, Fastly JSON lines and NDJSON over HTTP', { timeout: 60_000 }, async () => {
    const nginx = await startHarness();
    const fastly = await startHarness();
    const http = await startHarness();
    try {
      const n = await importInto(nginx, [write('access.log', requests.map(toNginxLine))], 'nginx', { logFormat: NGINX_TEST_FORMAT, datacenterVar: 'pop' });
      const f = await importInto(fastly, [write('fastly.ndjson', requests.map(toFastlyLine))], 'fastly');
      const posted = await http.ingest(ADMIN_TOKEN, `${requests.map((r) => toNdjsonLine(r, SERVICE)).join('\n')}\n`);
      for (const s of [n, f]) {
        expect(s).toMatchObject({ lines: requests.length, events: requests.length, rejected: 0, errors: [], services: [SERVICE], seconds: 8 });
        expect(s.firstSecond).toBe(NOW - 86_400 - 10);
        expect(s.lastSecond).toBe(NOW - 26);
      }
      expect(posted).toMatchObject({ accepted: requests.length, rejected: 0 });

      const [a, b, c] = [await everything(nginx), await everything(fastly), await everything(http)];
      // Something to compare: every request counted, the old day in the rollups too.
      const requestsOf = (rows: string[]): number => rows.reduce((n, r) => n + ((JSON.parse(r) as { values: Record<string, number> }).values[EDGE_FIELDS.indexOf('requests')] ?? 0), 0);
      expect(requestsOf(c['edge 1s'] as string[])).toBe(requests.length);
      expect(requestsOf(c['edge 1d'] as string[])).toBe(requests.length);
      // The top paths were counted too, without their query strings, alike on all three ways in.
      const paths = (c['dimension 1d'] as string[]).map((r) => JSON.parse(r) as { dimension: string; value: string; count: number }).filter((r) => r.dimension === 'path' && r.value !== '');
      expect(paths.reduce((n, r) => n + r.count, 0)).toBe(requests.length);
      expect(paths.every((r) => r.value.startsWith('/p/') && !r.value.includes('?'))).toBe(true);
      expect(a).toEqual(c);
      expect(b).toEqual(c);
    } finally {
      await Promise.all([nginx.close(), fastly.close(), http.close()]);
    }
  });

  it('reports malformed lines with their numbers and keeps the good ones', { timeout: 30_000 }, async () => {
    const h = await startHarness();
    try {
      const good = recent.slice(0, 6).map(toNginxLine);
      const lines = [
        good[0] as string,
        (good[1] as string).slice(0, 60), // truncated
        good[2] as string,
        (good[3] as string).replace('"GET', 'GET').replace('"POST', 'POST'), // wrong quoting
        (good[4] as string).replace(/\[\d\d\/[A-Z][a-z]{2}/, '[31/Feb'), // bad date
        '\u0000\u0001\u00ff garbage \u0007',
        '',
        good[5] as string,
      ];
      const file = path.join(dir, 'bad.log');
      fs.writeFileSync(file, Buffer.concat([Buffer.from(`${lines.join('\n')}\n`), Buffer.from([0xff, 0xfe, 0x00, 0x9c, 0x0a])]));
      const s = await importInto(h, [file], 'nginx', { logFormat: NGINX_TEST_FORMAT, datacenterVar: 'pop' });
      expect(s.events).toBe(3);
      expect(s.rejected).toBe(5);
      expect(s.errors.map((e) => [e.line, e.file])).toEqual([
        [2, file],
        [4, file],
        [5, file],
        [6, file],
        [9, file],
      ]);
      expect(s.errors[0]?.reason).toMatch(/not found \(truncated or wrong quoting\?\)/);
      expect(s.errors[2]?.reason).toMatch(/\$time_local: "31\/Feb\/.*" is not valid/);
      expect(s.errors[4]?.reason).toMatch(/not valid UTF-8/);
      await h.publishThrough(NOW);
      const edge = await h.services.store.readEdge({ tier: '1s', from: NOW - 60, to: NOW, filter: {} });
      expect(edge.reduce((n, r) => n + (r.values[EDGE_FIELDS.indexOf('requests')] ?? 0), 0)).toBe(3);
    } finally {
      await h.close();
    }
  });

  it('reads gzip and several files, and skips a 10 MB line without holding it', { timeout: 60_000 }, async () => {
    const h = await startHarness();
    try {
      const gz = path.join(dir, 'part1.log.gz');
      fs.writeFileSync(gz, zlib.gzipSync(`${recent.slice(0, 100).map(toNginxLine).join('\n')}\n`));
      const big = path.join(dir, 'part2.log');
      const fd = fs.openSync(big, 'w');
      fs.writeSync(fd, `${recent.slice(100, 150).map(toNginxLine).join('\n')}\n`);
      const chunk = Buffer.alloc(1024 * 1024, 0x41);
      for (let i = 0; i < 10; i++) fs.writeSync(fd, chunk);
      fs.writeSync(fd, `\n${recent.slice(150).map(toNginxLine).join('\n')}\n`);
      fs.closeSync(fd);
      const heapBefore = process.memoryUsage().heapUsed;
      const s = await importInto(h, [gz, big], 'nginx', { logFormat: NGINX_TEST_FORMAT, datacenterVar: 'pop' });
      expect(s).toMatchObject({ files: 2, events: recent.length, rejected: 1 });
      expect(s.errors).toEqual([{ file: big, line: 51, reason: 'line is 10485760 bytes, longer than the limit of 65536 bytes' }]);
      // The 10 MB line was never in memory as a whole (the heap did not grow by its size).
      expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(8 * 1024 * 1024);
    } finally {
      await h.close();
    }
  });
});
