/**
 * The one line `rtmetrics serve` prints when it cannot start: what failed and what to do. A
 * StartupError says both; common system errors get a hint; anything else keeps its message
 * (the stack only at LOG_LEVEL=debug or trace).
 */
import { StartupError } from '../startup-error.ts';

export interface StartupContext {
  host?: string;
  port?: number;
  dataDir?: string;
}

function errnoOf(err: unknown): { code?: string; path?: string; message: string } {
  if (typeof err !== 'object' || err === null) return { message: String(err) };
  const e = err as { code?: unknown; path?: unknown; message?: unknown };
  return {
    ...(typeof e.code === 'string' && { code: e.code }),
    ...(typeof e.path === 'string' && { path: e.path }),
    message: typeof e.message === 'string' ? e.message : String(err),
  };
}

export function describeStartupFailure(err: unknown, ctx: StartupContext = {}): string {
  if (err instanceof StartupError) return `rtmetrics: cannot start: ${err.message}; ${err.hint}`;
  const e = errnoOf(err);
  const where = e.path ?? ctx.dataDir ?? 'the data dir';
  switch (e.code) {
    case 'EADDRINUSE':
      return `rtmetrics: cannot start: ${ctx.host ?? 'HOST'}:${ctx.port ?? 'PORT'} is already in use; stop what listens there or set another PORT`;
    case 'EADDRNOTAVAIL':
      return `rtmetrics: cannot start: ${ctx.host ?? 'HOST'} is not an address of this machine; set HOST to one of its addresses (127.0.0.1, 0.0.0.0)`;
    case 'EACCES':
    case 'EPERM':
      return `rtmetrics: cannot start: permission denied on ${where}; run as a user that may write RTM_DATA_DIR, or choose another`;
    case 'ENOSPC':
      return `rtmetrics: cannot start: no space left on the disk of ${where}; free some space`;
    case 'EROFS':
      return `rtmetrics: cannot start: ${where} is on a read-only file system; choose a writable RTM_DATA_DIR`;
    case 'ENOTDIR':
    case 'EEXIST':
      return `rtmetrics: cannot start: ${where} is a file where a directory is needed; move it away or choose another RTM_DATA_DIR`;
    default:
      return `rtmetrics: cannot start: ${e.message.split('\n')[0] ?? e.message}`;
  }
}
