/**
 * Readiness: can this process take traffic right now? The store answers a trivial query and the
 * WAL directory is a writable directory on a disk with room left. Each check says why it failed
 * in words for an operator; driver text goes to the log only (5xx bodies never carry it).
 */
import fs from 'node:fs/promises';
import type { Logger } from 'pino';

export interface ReadinessReport {
  ready: boolean;
  /** Check name -> "ok" or why it failed. */
  checks: Record<string, string>;
}

export interface Readiness {
  check(): Promise<ReadinessReport>;
  close(): Promise<void>;
}

export interface ReadinessOptions {
  /** Resolves when the store answers a trivial query (StoreEngine.ping). */
  ping: () => Promise<void>;
  /** The WAL directory (`<dataDir>/wal`). */
  walDir: string;
  logger: Logger;
  /** A check slower than this fails. Default 2000 ms. */
  timeoutMs?: number;
  /** Below this many free bytes on the WAL's disk the server is not ready. Default 16 MiB. */
  minFreeBytes?: number;
}

/** Resolves to `fallback` when `p` takes longer than `ms`. */
async function within<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function createReadiness({ ping, walDir, logger, timeoutMs = 2000, minFreeBytes = 16 * 1024 * 1024 }: ReadinessOptions): Readiness {
  let closed = false;

  const store = async (): Promise<string> => {
    try {
      await ping();
      return 'ok';
    } catch (err) {
      logger.warn({ err }, 'readiness: the store did not answer');
      return 'the database did not answer a query';
    }
  };

  const wal = async (): Promise<string> => {
    try {
      if (!(await fs.stat(walDir)).isDirectory()) return `${walDir} is not a directory`;
      await fs.access(walDir, fs.constants.W_OK);
      const { bavail, bsize } = await fs.statfs(walDir);
      if (bavail * bsize < minFreeBytes) return `the disk holding ${walDir} has less than ${minFreeBytes} bytes free`;
      return 'ok';
    } catch (err) {
      logger.warn({ err }, 'readiness: the WAL directory is not writable');
      return `${walDir} is not writable`;
    }
  };

  return {
    async check() {
      if (closed) return { ready: false, checks: { server: 'shutting down' } };
      const [s, w] = await Promise.all([
        within(store(), timeoutMs, `the database did not answer within ${timeoutMs} ms`),
        within(wal(), timeoutMs, `${walDir} did not answer within ${timeoutMs} ms`),
      ]);
      return { ready: s === 'ok' && w === 'ok', checks: { store: s, wal: w } };
    },
    async close() {
      closed = true;
    },
  };
}
