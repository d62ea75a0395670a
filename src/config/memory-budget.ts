/**
 * The process's one memory budget (RTM_MEMORY_BUDGET_BYTES) and its shares: every component that
 * grows with traffic or cardinality gets a fixed fraction, and what is left is for the runtime
 * (the V8 heaps of the main thread and the parse workers, request bodies being read, sockets,
 * Idempotency-Keys). Each share is either enforced by its component or reported against it:
 * - window: the window's byte budget (its oldest seconds leave memory beyond it), RTM_WINDOW_MAX_BYTES;
 * - duckdb: DuckDB's memory_limit (it spills to disk past it), RTM_DUCKDB_MEMORY_BYTES;
 * - rollupBuffer: sets the rows the rollup buffer holds before it flushes;
 * - pending: the store queue (deltas made durable, not yet stored, and the open minutes' top
 *   values): enforced at the door: while it holds more than its share, ingest answers 503
 *   (pendingShareRefusal) and an import in process waits; it drains every second;
 * - catalog: the catalog mirror and the key caps' sets (key-cap.ts): enforced: at most
 *   maxHeldDomains distinct domains of all services together (the share over CATALOG_DOMAIN_BYTES,
 *   RTM_MAX_DOMAINS overrides it); a line with a new domain past it is folded into its service's
 *   `__other__`, as past RTM_MAX_DOMAINS_PER_SERVICE; datacenters and backends stay bounded by
 *   their per-service caps;
 * - runtime: the rest; reported as the main thread's V8 heap plus its external memory (buffers,
 *   typed arrays: request bodies and deltas in flight).
 * docs/decisions.md "One memory budget" gives the reasons for the fractions.
 */

/** The shares; `runtime` is what the others leave (the main thread's V8 heap and buffers, the parse workers, ...). */
export type MemoryShare = 'window' | 'duckdb' | 'rollupBuffer' | 'pending' | 'catalog' | 'runtime';

/** Fraction of the budget per share; the rest (1 - their sum = 35.9%) is the runtime's. */
export const MEMORY_SHARES: Readonly<Record<Exclude<MemoryShare, 'runtime'>, number>> = Object.freeze({
  window: 1 / 4,
  duckdb: 1 / 4,
  rollupBuffer: 1 / 64,
  pending: 1 / 16,
  catalog: 1 / 16,
});

/** Default budget: 4 GiB: the window 1 GiB (its former default), DuckDB 1 GiB. */
export const DEFAULT_MEMORY_BUDGET_BYTES = 4 * 1024 ** 3;

/**
 * Bytes a buffered rollup row takes (a delta row: second, keys, sparse vector, measured ~60) and
 * a catalog domain takes (its mirror entry, id map entry and the cap's Set entry, ~250 measured
 * with 500,000 domains): what turns row and domain counts into bytes against their shares. A
 * datacenter or backend held by its cap (a Set entry only) is counted at the domain's size too:
 * an overestimate, and those caps are 10x smaller by default.
 */
export const ROLLUP_ROW_BYTES = 64;
/** Bytes one value followed by a top-values summary holds (its string, count, error and index entry): the pending share counts them. */
export const TOP_VALUE_BYTES = 160;
/**
 * DuckDB memory a rollup flush takes per summed row: a row of ~265 DOUBLE columns (~2.2 KB) held
 * uncommitted in the 1 m table, and its share of the 1 h and 1 d rows, in one transaction. A flush larger than DuckDB's share left it unable to checkpoint
 * (5M peers' events at 512 MiB: "failed to pin block", the database invalidated), so the flush
 * threshold also follows DuckDB's share.
 */
export const ROLLUP_FLUSH_DUCKDB_BYTES_PER_ROW = 8 * 1024;
/**
 * What one held domain costs the process, all components together (its catalog entry and id map
 * entry, the cap's Set entry, its interned name, its rows in the window, the store queue, the
 * rollup buffer and DuckDB): the least-squares slope of the server's peak resident set over the
 * domains held, 2,589 B (resident set 2,307 B), 0 to 300,000 domains over 10 services, one
 * event each, 1 GiB budget (`node --import tsx bench/domain-memory.ts`, docs/benchmarks.md). It sets the global domain
 * bound (maxHeldDomains) from the catalog share; it overlaps the window's and DuckDB's shares on
 * purpose (a long-tail domain's one row there is what it costs).
 */
export const CATALOG_DOMAIN_BYTES = 2560;
/** A datacenter or backend held by its cap (a Set entry and its interned name): the catalog share's use counts it at the former per-domain figure. */
export const CAP_VALUE_BYTES = 256;

/**
 * What the runtime share pays for before any parse worker (the main thread's V8 heap, bodies being
 * read, sockets: ~166 MiB measured in the 500,000-domain flood of test/memory-budget.test.ts) and
 * what one parse worker adds under load (its isolate, module graph, young and old space, the
 * bodies copied to it: that flood peaked 470-491 MiB parsed on the main thread, 658-766 MiB with
 * one worker, whatever its old space was limited to).
 */
export const RUNTIME_MAIN_THREAD_BYTES = 128 * 1024 ** 2;
export const PARSE_WORKER_BYTES = 192 * 1024 ** 2;

/** The parse workers the runtime share has room for (RTM_INGEST_WORKERS' default is the smaller of this and cores - 1). */
export function parseWorkersWithin(budget: MemoryBudget): number {
  return Math.max(0, Math.floor((budget.shares.runtime - RUNTIME_MAIN_THREAD_BYTES) / PARSE_WORKER_BYTES));
}

/** Over the budget by more than this fraction of it, /readyz answers "over budget". */
export const OVER_BUDGET_MARGIN = 0.1;

export interface MemoryBudget {
  /** The whole budget, bytes. */
  totalBytes: number;
  /** Bytes per share (window and duckdb as configured, when set explicitly). */
  shares: Readonly<Record<MemoryShare, number>>;
  /**
   * Rows the rollup buffer holds before it flushes: its share / ROLLUP_ROW_BYTES, and no more
   * than DuckDB's share / ROLLUP_FLUSH_DUCKDB_BYTES_PER_ROW; at least 10,000.
   */
  rollupBufferRows: number;
  /** Distinct domains of all services held at most: the catalog share / CATALOG_DOMAIN_BYTES (RTM_MAX_DOMAINS's default). */
  maxHeldDomains: number;
}

/** The shares of `totalBytes`; an explicit window or DuckDB size takes the place of its share. */
export function memoryBudget(totalBytes: number, explicit: { windowBytes?: number | undefined; duckdbBytes?: number | undefined } = {}): MemoryBudget {
  const share = (s: keyof typeof MEMORY_SHARES): number => Math.floor(totalBytes * MEMORY_SHARES[s]);
  const shares = {
    window: explicit.windowBytes ?? share('window'),
    // DuckDB refuses to run in much less than 64 MiB.
    duckdb: Math.max(64 * 1024 ** 2, explicit.duckdbBytes ?? share('duckdb')),
    rollupBuffer: share('rollupBuffer'),
    pending: share('pending'),
    catalog: share('catalog'),
  };
  const runtime = Math.max(0, totalBytes - Object.values(shares).reduce((a, b) => a + b, 0));
  const rollupBufferRows = Math.max(10_000, Math.floor(Math.min(shares.rollupBuffer / ROLLUP_ROW_BYTES, shares.duckdb / ROLLUP_FLUSH_DUCKDB_BYTES_PER_ROW)));
  const maxHeldDomains = Math.floor(shares.catalog / CATALOG_DOMAIN_BYTES);
  return { totalBytes, shares: Object.freeze({ ...shares, runtime }), rollupBufferRows, maxHeldDomains };
}

const MiB = 1024 ** 2;

/**
 * Why ingest takes no new events now because the store is behind: the rows made durable and not
 * yet stored (`pendingBytes`, counted as the memory use reports them) exceed the pending share of
 * the budget. Undefined within it. Refusing new bodies (503, Retry-After) bounds the queue; what
 * was acknowledged is kept and drains.
 */
export function pendingShareRefusal(pendingBytes: number, shareBytes: number): string | undefined {
  if (pendingBytes <= shareBytes) return undefined;
  return `the store is behind: ${(pendingBytes / MiB).toFixed(1)} MiB of acknowledged events wait for it, more than the store queue's share of the memory budget (${(shareBytes / MiB).toFixed(1)} MiB of RTM_MEMORY_BUDGET_BYTES)`;
}
