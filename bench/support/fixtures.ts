/** Shared bench fixtures: a temp data dir that is always removed, and a one-token verifier. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { adminPrincipal, type TokenVerifier } from '../../src/http/auth.ts';

export const BENCH_TOKEN = 'bench-token';

/** Accepts BENCH_TOKEN as the admin (every scope, every service), nothing else. */
export const benchTokens: TokenVerifier = {
  verify: async (secret) => (secret === BENCH_TOKEN ? adminPrincipal() : undefined),
};

/** Runs `work` with a fresh temp dir, removed afterwards whatever happens. */
export async function withTempDir<T>(prefix: string, work: (dir: string) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `rtm-bench-${prefix}-`));
  try {
    return await work(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The load average and core count, printed beside figures: a loaded machine explains a slow run. */
export const machineLine = (): string =>
  `machine: ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}, node ${process.version}`;
