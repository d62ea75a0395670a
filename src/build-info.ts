/**
 * Name, version and commit of this build (OpenDataDSL `GET /api/metric`).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface BuildInfo {
  name: string;
  version: string;
  commit: string;
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let cached: BuildInfo | undefined;

/** Reads package.json and the git commit once; `unknown` when not in a git checkout. */
export function buildInfo(): BuildInfo {
  if (cached) return cached;
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { name?: string; version?: string };
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    // Not a git checkout (an npm tarball): the version alone identifies the build.
  }
  cached = { name: pkg.name ?? 'rtmetrics', version: pkg.version ?? '0.0.0', commit };
  return cached;
}
