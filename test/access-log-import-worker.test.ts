/**
 * `rtmetrics import` with its parsing on worker threads (import-parallel.ts) gives what the
 * in-thread import (runImport) gives on the same files: the same summary (lines, events, the
 * first rejected lines with their file and line number, seconds, services) and the same records
 * in every store tier, with one or two workers, whatever the chunk size (lines cut across
 * chunks, a line longer than the limit spread over many chunks, CRLF, blank lines, a last line
 * without a line break, bytes that are not UTF-8).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLineParser, type FormatOptions } from '../src/ingest/access-log/formats.ts';
import { runImportOnWorker } from '../src/ingest/access-log/import-parallel.ts';
import { runImport, type ImportSummary } from '../src/ingest/access-log/import-run.ts';
import { fileSource, type LogSource } from '../src/ingest/access-log/source.ts';
import { createLocalSubmitter, type DeltaSubmitter } from '../src/ingest/access-log/submit.ts';
import { EDGE_FIELDS } from '../src/model/fields.ts';
import type { Tier } from '../src/store/store.ts';
import { HARNESS_T0, startHarness, type Harness } from './support/app-harness.ts';
import { makeRequests, NGINX_TEST_FORMAT, toNginxLine } from './support/access-logs.ts';

const NOW = HARNESS_T0 / 1000;
const FORMAT: FormatOptions = { format: 'nginx', service: 'shop', logFormat: NGINX_TEST_FORMAT, datacenterVar: 'pop' };
const MAX_LINE = 2048;

let dir: string;
let files: string[];
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtm-import-worker-'));
  const reqs = [...makeRequests(NOW - 86_400 - 20, 4, 50), ...makeRequests(NOW - 40, 6, 60)];
  const good = reqs.map(toNginxLine);
  const a: string[] = [];
  good.slice(0, 300).forEach((l, i) => {
    if (i % 37 === 5) a.push(l.slice(0, 50)); // truncated
    else if (i % 41 === 7) a.push(l.replace(/\[\d\d\/[A-Z][a-z]{2}/, '[31/Feb')); // bad date
    else if (i % 53 === 11) a.push('');
    else if (i % 59 === 13) a.push(`${l}\r`);
    else a.push(l);
    if (i === 150) a.push('x'.repeat(10 * MAX_LINE)); // too long, over many small chunks
  });
  const first = path.join(dir, 'a.log');
  fs.writeFileSync(first, Buffer.concat([Buffer.from(`${a.join('\n')}\n`), Buffer.from([0xff, 0xfe, 0x00, 0x9c, 0x0a])]));
  const second = path.join(dir, 'b.log');
  // No line break after the last line.
  fs.writeFileSync(second, good.slice(300).join('\n'));
  files = [first, second];
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A file read in chunks of `size` bytes: lines are cut across chunks. */
function smallChunks(file: string, size: number): LogSource {
  const base = fileSource(file);
  return {
    name: base.name,
    size: base.size,
    identity: base.identity,
    async *chunks(onRaw) {
      const all = fs.readFileSync(file);
      for (let at = 0; at < all.length; at += size) {
        const chunk = all.subarray(at, Math.min(all.length, at + size));
        onRaw?.(chunk.length);
        yield chunk;
      }
    },
  };
}

const submitterOf = (h: Harness) => createLocalSubmitter({ ingest: h.services.ingest, via: h.dataDir, maxSecond: () => Math.floor(h.clock.now() / 1000) + 300 });

async function stored(h: Harness): Promise<Record<string, string[]>> {
  await h.publishThrough(NOW);
  const out: Record<string, string[]> = {};
  for (const tier of ['1s', '1m', '1d'] as Tier[]) {
    const q = { tier, from: NOW - 2 * 86_400, to: NOW + 60, filter: {} };
    // Sums of fractional milliseconds depend on the order they are added in (the batches differ
    // between the ways): compared to 12 significant digits; every integer (counts, bytes) exactly.
    const sorted = (rows: unknown[]): string[] => rows.map((r) => JSON.stringify(r, (_k, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(12)) : v))).sort();
    out[`edge ${tier}`] = sorted(await h.services.store.readEdge(q));
    out[`origin ${tier}`] = sorted(await h.services.store.readOrigin(q));
    out[`dimension ${tier}`] = sorted(await h.services.store.readDimension(q));
  }
  return out;
}

const comparable = (s: ImportSummary): Omit<ImportSummary, 'elapsedMs'> => {
  const { elapsedMs: _elapsed, ...rest } = s;
  return rest;
};

describe('rtmetrics import on worker threads', () => {
  let reference: { summary: ImportSummary; records: Record<string, string[]> };

  beforeAll(async () => {
    const h = await startHarness();
    try {
      const summary = await runImport({ sources: files.map((f) => fileSource(f)), parser: createLineParser(FORMAT), submitter: submitterOf(h), maxLineBytes: MAX_LINE, batchSize: 64 });
      reference = { summary, records: await stored(h) };
    } finally {
      await h.close();
    }
  }, 60_000);

  it('the in-thread reference saw every kind of line', () => {
    const s = reference.summary;
    expect(s.events).toBeGreaterThan(500);
    expect(s.rejected).toBe(s.errors.length);
    expect(s.errors.map((e) => e.reason).join('\n')).toMatch(/truncated or wrong quoting[\s\S]*31\/Feb[\s\S]*longer than the limit of 2048 bytes[\s\S]*not valid UTF-8/);
    const requests = (reference.records['edge 1d'] ?? []).reduce((n, r) => n + ((JSON.parse(r) as { values: number[] }).values[EDGE_FIELDS.indexOf('requests')] ?? 0), 0);
    expect(requests).toBe(s.events);
  });

  it.each([
    [1, 1024 * 1024],
    [1, 700],
    [2, 700],
    [2, 97],
  ])('gives the same summary and records with %i worker(s), chunks of %i bytes', { timeout: 60_000 }, async (workers, chunkBytes) => {
    const h = await startHarness();
    try {
      const progress: number[] = [];
      const summary = await runImportOnWorker({
        sources: files.map((f) => smallChunks(f, chunkBytes)),
        format: FORMAT,
        submitter: submitterOf(h).deltas as DeltaSubmitter,
        maxLineBytes: MAX_LINE,
        workers,
        batchSize: 64,
        chunksAhead: 2,
        onProgress: (p) => progress.push(p.lines),
      });
      expect(comparable(summary)).toEqual(comparable(reference.summary));
      expect(progress.at(-1)).toBe(reference.summary.lines);
      expect(await stored(h)).toEqual(reference.records);
    } finally {
      await h.close();
    }
  });

  it('keeps the first rejected lines of all workers, in file and line order', { timeout: 60_000 }, async () => {
    const h = await startHarness();
    try {
      const summary = await runImportOnWorker({ sources: files.map((f) => smallChunks(f, 300)), format: FORMAT, submitter: submitterOf(h).deltas as DeltaSubmitter, maxLineBytes: MAX_LINE, workers: 2, maxErrors: 4 });
      expect(summary.rejected).toBe(reference.summary.rejected);
      expect(summary.errors).toEqual(reference.summary.errors.slice(0, 4));
    } finally {
      await h.close();
    }
  });

  it('has the rows not yet in the store written while they are above the bound, and still imports every line', { timeout: 60_000 }, async () => {
    const h = await startHarness();
    try {
      const deltas = submitterOf(h).deltas as DeltaSubmitter;
      let drains = 0;
      let highest = 0;
      // With a bound of 1 row, every delta is written to the store before the next chunk is read.
      const watched: DeltaSubmitter = {
        ...deltas,
        submit: async (d, n) => {
          highest = Math.max(highest, deltas.backlogRows());
          return deltas.submit(d, n);
        },
        drain: async () => {
          drains++;
          await deltas.drain();
        },
      };
      const summary = await runImportOnWorker({ sources: [smallChunks(files[1] as string, 4096)], format: FORMAT, submitter: watched, maxLineBytes: MAX_LINE, workers: 1, batchSize: 50, maxBacklogRows: 1 });
      expect(summary).toMatchObject({ lines: 260, events: 260, rejected: 0 });
      expect(drains).toBeGreaterThan(0);
      // Before each delta, at most the rows of the deltas allowed in flight (workers + 1 = 2 of 50 events) were pending.
      expect(highest).toBeLessThanOrEqual(2 * 50 * 4);
    } finally {
      await h.close();
    }
  });
});
