/**
 * `rtmetrics tail`: every line counted exactly once through rotation by rename (with lines
 * written to the old file after the rename), by copytruncate (with lines written between the
 * last read and the truncation), and through SIGKILLs of the tailer process mid-file.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../src/config/config.ts';
import { createLineParser } from '../src/ingest/access-log/formats.ts';
import { runImport } from '../src/ingest/access-log/import-run.ts';
import { fileSource } from '../src/ingest/access-log/source.ts';
import { createLocalSubmitter } from '../src/ingest/access-log/submit.ts';
import { runTail } from '../src/ingest/access-log/tail-follow.ts';
import { readTailState, tailStateFile } from '../src/ingest/access-log/tail-state.ts';
import { systemClock } from '../src/model/clock.ts';
import { EDGE_FIELDS } from '../src/model/fields.ts';
import { createServices, type Services } from '../src/services.ts';
import { HARNESS_T0, startHarness } from './support/app-harness.ts';
import { makeRequests, NGINX_TEST_FORMAT, toNginxLine } from './support/access-logs.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const REQUESTS = EDGE_FIELDS.indexOf('requests');

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtm-tail-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function until(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function storedRequests(services: Services, from: number, to: number): Promise<number> {
  const rows = await services.store.readEdge({ tier: '1s', from, to, filter: {} });
  return rows.reduce((n, r) => n + (r.values[REQUESTS] ?? 0), 0);
}

const lines = (reqs: ReturnType<typeof makeRequests>): string => reqs.map((r) => `${toNginxLine(r)}\n`).join('');

describe('rtmetrics tail', () => {
  it('counts every line once through rename and copytruncate rotation', { timeout: 60_000 }, async () => {
    const h = await startHarness();
    const now = HARNESS_T0 / 1000;
    const reqs = makeRequests(now - 120, 25, 10); // 250 requests
    const log = path.join(dir, 'access.log');
    const stateFile = tailStateFile(h.dataDir, log);
    const saved = () => readTailState(stateFile);
    const size = (f: string): number => fs.statSync(f).size;
    const rotations: string[] = [];
    fs.writeFileSync(log, lines(reqs.slice(0, 100)));
    const stop = new AbortController();
    const running = runTail({
      path: log,
      stateFile,
      parser: createLineParser({ format: 'nginx', service: 'shop', logFormat: NGINX_TEST_FORMAT, datacenterVar: 'pop' }),
      submitter: createLocalSubmitter({ ingest: h.services.ingest, via: h.dataDir }),
      maxLineBytes: 64 * 1024,
      batchSize: 7,
      pollMs: 300,
      signal: stop.signal,
      onRotate: (how, copy) => rotations.push(`${how} ${copy === undefined ? '' : path.basename(copy)}`),
    });
    try {
      await until('the first 100 lines', () => saved()?.offset === size(log));

      // Rename rotation; nginx writes to the old file until it reopens its logs.
      fs.appendFileSync(log, lines(reqs.slice(100, 150)));
      fs.renameSync(log, `${log}.1`);
      fs.appendFileSync(`${log}.1`, lines(reqs.slice(150, 170)));
      fs.writeFileSync(log, lines(reqs.slice(170, 200)));
      await until('the new file', () => saved()?.ino === fs.statSync(log).ino && saved()?.offset === size(log));

      // copytruncate: lines appended since the last read are only in the copy. Done in one
      // synchronous step, so the tailer (same event loop, asleep until its next poll) sees it whole.
      fs.appendFileSync(log, lines(reqs.slice(200, 240)));
      fs.renameSync(`${log}.1`, `${log}.2`);
      fs.copyFileSync(log, `${log}.1`);
      fs.truncateSync(log, 0);
      fs.appendFileSync(log, lines(reqs.slice(240, 250)));
      await until('the truncated file', () => rotations.length === 2 && saved()?.offset === size(log));
    } finally {
      stop.abort();
    }
    const stats = await running;
    expect(rotations).toEqual(['renamed ', 'truncated access.log.1']);
    expect(stats).toMatchObject({ lines: 250, events: 250, rejected: 0, rotations: 2 });
    await h.publishThrough(now);
    expect(await storedRequests(h.services, now - 200, now)).toBe(250);
    await h.close();
  });

  it.each([
    ['had reached the WAL', true],
    ['had not reached the WAL', false],
  ])('resolves a batch pending at a crash that %s', { timeout: 30_000 }, async (_name, landed) => {
    const h = await startHarness();
    const now = HARNESS_T0 / 1000;
    const reqs = makeRequests(now - 100, 2, 10);
    const log = path.join(dir, `pending-${String(landed)}.log`);
    fs.writeFileSync(log, lines(reqs));
    const firstTen = Buffer.byteLength(lines(reqs.slice(0, 10)));
    const stateFile = tailStateFile(h.dataDir, log);
    const parser = createLineParser({ format: 'nginx', service: 'shop', logFormat: NGINX_TEST_FORMAT, datacenterVar: 'pop' });
    const submitter = createLocalSubmitter({ ingest: h.services.ingest, via: h.dataDir });
    const mark = submitter.durableMark();
    if (landed) {
      // The crash came after the WAL took the first ten lines but before the state said so.
      const first = path.join(dir, `first-ten-${String(landed)}.log`);
      fs.writeFileSync(first, lines(reqs.slice(0, 10)));
      await runImport({ sources: [fileSource(first)], parser, submitter, maxLineBytes: 65536 });
    }
    const st = fs.statSync(log);
    fs.mkdirSync(path.dirname(stateFile), { recursive: true });
    fs.writeFileSync(stateFile, JSON.stringify({ path: log, dev: st.dev, ino: st.ino, offset: 0, line: 0, fingerprint: '', pending: { from: 0, to: firstTen, fromLine: 0, toLine: 10, key: 'k', mark, toFingerprint: '' } }));
    const stop = new AbortController();
    const running = runTail({ path: log, stateFile, parser, submitter, maxLineBytes: 65536, pollMs: 20, signal: stop.signal });
    await until('the whole file', () => readTailState(stateFile)?.offset === st.size);
    stop.abort();
    const stats = await running;
    expect(stats.events).toBe(landed ? 10 : 20);
    await h.publishThrough(now);
    expect(await storedRequests(h.services, now - 200, now)).toBe(20);
    await h.close();
  });

  it('counts every line once when the tailer is SIGKILLed mid-file and restarted', { timeout: 180_000 }, async () => {
    const dataDir = fs.mkdtempSync(path.join(dir, 'data-'));
    const log = path.join(dir, 'killed.log');
    const now = Math.floor(Date.now() / 1000);
    const reqs = makeRequests(now - 3600, 60, 500); // 30,000 requests an hour ago: store only
    fs.writeFileSync(log, lines(reqs));
    const total = fs.statSync(log).size;
    const stateFile = tailStateFile(dataDir, log);
    const start = () =>
      spawn(
        process.execPath,
        [path.join(ROOT, 'bin/rtmetrics.js'), 'tail', log, '--service', 'shop', '--datacenter-var', 'pop', '--log-format', NGINX_TEST_FORMAT, '--batch', '500', '--poll-ms', '50', '--quiet'],
        // PORT 0: no server answers, so the tailer opens the data dir in process.
        { cwd: ROOT, env: { ...process.env, PORT: '0', RTM_DATA_DIR: dataDir, RTM_WAL_FSYNC: '1' }, stdio: ['ignore', 'ignore', 'pipe'] },
      );
    const exited = (child: ReturnType<typeof start>) => new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let stderr = '';
    let kills = 0;
    // Kill it twice at different points of the file, then let it finish.
    for (const fraction of [0.2, 0.55]) {
      const child = start();
      child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      const done = exited(child);
      await until(`offset past ${fraction}`, () => (readTailState(stateFile)?.offset ?? 0) > total * fraction, 120_000).catch((err: unknown) => {
        throw new Error(`${String(err)}; stderr: ${stderr}`);
      });
      child.kill('SIGKILL');
      await done;
      kills++;
    }
    const child = start();
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const done = exited(child);
    await until('the whole file', () => {
      const s = readTailState(stateFile);
      return s?.offset === total && s.pending === undefined;
    }, 120_000);
    child.kill('SIGTERM');
    expect(await done, stderr).toBe(0);
    expect(kills).toBe(2);

    const services = await createServices({ config: testConfig(dataDir), clock: systemClock, logger: pino({ level: 'silent' }) });
    try {
      await services.ingest.flush();
      expect(await storedRequests(services, now - 3700, now)).toBe(reqs.length);
    } finally {
      await services.close();
    }
  });
});
