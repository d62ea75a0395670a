/**
 * Readiness: can this process take traffic right now? The store answers a trivial query, the
 * WAL directory is a writable directory on a disk with room left, and the resident set is not
 * over the memory budget by more than its margin; on ClickHouse, ingest is not refusing events for
 * the write spool's disk budget. Each check says why it failed
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
  /**
   * The memory budget: not ready while `rss()` exceeds `budgetBytes` by more than `margin` (a
   * fraction of it). Default: no memory check.
   */
  memory?: { rss(): number; budgetBytes: number; margin: number };
  /** Why ingest refuses new events now (the ClickHouse spool over its budget), or undefined; shown as the `ingest` check. Default: no such check. */
  ingestRefusal?: () => string | undefined;
}

const MiB = 1024 ** 2;

/** "ok", or "over budget" with the figures. */
export function memoryCheck({ rss, budgetBytes, margin }: NonNullable<ReadinessOptions['memory']>): string {
  const resident = rss();
  if (resident <= budgetBytes * (1 + margin)) return 'ok';
  return `over budget: resident ${Math.round(resident / MiB)} MiB, more than ${Math.round(margin * 100)}% over the budget of ${Math.round(budgetBytes / MiB)} MiB (RTM_MEMORY_BUDGET_BYTES)`;
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

export function createReadiness({ ping, walDir, logger, timeoutMs = 2000, minFreeBytes = 16 * 1024 * 1024, memory, ingestRefusal }: ReadinessOptions): Readiness {
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
      const checks: Record<string, string> = { store: s, wal: w };
      if (memory) checks['memory'] = memoryCheck(memory);
      if (ingestRefusal) checks['ingest'] = ingestRefusal() ?? 'ok';
      return { ready: Object.values(checks).every((v) => v === 'ok'), checks };
    },
    async close() {
      closed = true;
    },
  };
}
