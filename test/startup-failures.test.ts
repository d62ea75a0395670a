/**
 * Fatal start-up errors of `rtmetrics serve` (the real CLI in a child process): one line on
 * stderr saying what failed and what to do, no stack trace, exit status 1.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startChildServer, type ChildServer } from './support/child-server.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const TOKEN = 'startup-test-admin-token-0123456789';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function tempDataDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rtm-startup-'));
  cleanup.push(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs `rtmetrics serve` until it exits; a server that starts is killed and reported as such. */
function serve(dataDir: string, env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/rtmetrics.js'), 'serve'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', RTM_DATA_DIR: dataDir, RTM_ADMIN_TOKEN: TOKEN, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (stdout.includes('rtmetrics listening')) child.kill('SIGKILL');
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stderr, stdout })));
}

/** stderr must be exactly one line. */
const oneLine = (stderr: string): string => {
  const lines = stderr.split('\n').filter((l) => l !== '');
  expect(lines, stderr).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
  return lines[0] ?? '';
};

describe('rtmetrics serve on a broken data dir', () => {
  it('a corrupt DuckDB file: says which file and what to do, exits 1', async () => {
    const dataDir = await tempDataDir();
    await fs.writeFile(path.join(dataDir, 'rtmetrics.duckdb'), Buffer.alloc(64 * 1024, 0x5a));
    const { code, stderr } = await serve(dataDir);
    expect(code).toBe(1);
    expect(oneLine(stderr)).toBe(
      `rtmetrics: cannot start: ${path.join(dataDir, 'rtmetrics.duckdb')} is not a valid DuckDB database (corrupt, truncated, or another kind of file); restore it from a backup, or move it away to start with an empty store`,
    );
  });

  it('wal/ is a file: says so, exits 1', async () => {
    const dataDir = await tempDataDir();
    await fs.writeFile(path.join(dataDir, 'wal'), 'oops');
    const { code, stderr } = await serve(dataDir);
    expect(code).toBe(1);
    const walDir = path.join(dataDir, 'wal');
    expect(oneLine(stderr)).toBe(
      `rtmetrics: cannot start: ${walDir} is not a directory (the write-ahead log needs a directory there); move the file ${walDir} out of the data dir and start again`,
    );
  });

  it('a second server on the same data dir: names the other process, exits 1, the first keeps serving', async () => {
    const dataDir = await tempDataDir();
    const first: ChildServer = await startChildServer({ dataDir, adminToken: TOKEN });
    cleanup.push(() => first.kill());
    const { code, stderr } = await serve(dataDir);
    expect(code).toBe(1);
    expect(oneLine(stderr)).toBe(
      `rtmetrics: cannot start: the database ${path.join(dataDir, 'rtmetrics.duckdb')} is in use by another process (PID ${first.child.pid}), probably another rtmetrics server on the same data dir; stop the other server, or give this one its own RTM_DATA_DIR`,
    );
    const res = await fetch(`${first.url}/healthz`);
    expect(res.status).toBe(200);

    // The same port as the first (another data dir): the address is in use.
    const port = new URL(first.url).port;
    const other = await serve(await tempDataDir(), { PORT: port });
    expect(other.code).toBe(1);
    expect(oneLine(other.stderr)).toBe(`rtmetrics: cannot start: 127.0.0.1:${port} is already in use; stop what listens there or set another PORT`);
  });

  it('a bad configuration value: one line, exits 1', async () => {
    const { code, stderr } = await serve(await tempDataDir(), { RTM_WINDOW_SECONDS: 'lots' });
    expect(code).toBe(1);
    expect(oneLine(stderr)).toBe('rtmetrics: cannot start: RTM_WINDOW_SECONDS must be a non-negative number, got "lots"');
  });
});
