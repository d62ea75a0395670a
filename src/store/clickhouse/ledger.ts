/**
 * Exactly-once inserts without ZooKeeper (18.16 deduplicates only with it). Each insert carries,
 * in the same block, one ledger row: key columns '', `ledger` = `<write id>/<batch>`, bucket = the
 * block's lowest bucket. One block of one partition is one part, committed by one rename, so the
 * ledger row is durable exactly when the data rows are. The query_id is derived from the ledger
 * id, so a copy still running is visible in system.processes and a second copy is refused while
 * it runs (code 216). A failed or timed-out insert is resent only once it is known not to have
 * landed:
 *
 *   1. wait until no query with that query_id runs (the first attempt may still be writing);
 *   2. look the ledger row up (the primary index: service = '' AND bucket = first bucket);
 *   3. present: done; absent: send again with the same query_id and ledger row.
 *
 * The body is gzip (client.ts), so a body cut short fails to inflate instead of committing the
 * rows that arrived before the cut.
 */
import { clickHouseErrorCode, literal, type ClickHouseConnection } from './client.ts';
import type { InsertBatch, InsertRow } from './write-batches.ts';

export interface LedgerOptions {
  /** Limit of one insert attempt, ms. Default 30,000. */
  insertTimeoutMs?: number;
  /** Limit of one check (processes, ledger lookup), ms. Default 10,000. */
  checkTimeoutMs?: number;
  /** First pause between rounds, ms, doubled up to 5 s. Default 100. */
  retryDelayMs?: number;
  /**
   * Least pause before the first check after a failure without a server answer (a timeout, a
   * dropped connection), ms: a request still on its way shows in system.processes by then.
   * Default 1,000.
   */
  settleMs?: number;
  /** Whether to go on retrying; the store says no once it is closing. */
  keepTrying: () => boolean;
  /** Look the ledger up before the first send (a write recovered from the spool may have landed). */
  checkFirst?: boolean;
  /** Told each failed attempt, with the table it was for (self-metrics, tests). */
  onRetry?: (table: string, err: unknown) => void;
}

// Errors a resend cannot cure: the statement or its data is wrong, not the moment.
const PERMANENT = new Set([16, 27, 36, 47, 53, 60, 62, 81, 117, 386]);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const ledgerRow = (batch: InsertBatch, id: string, keys: readonly string[]): InsertRow => {
  const row: InsertRow = { bucket: batch.firstBucket };
  for (const k of keys) row[k] = '';
  row['ledger'] = id;
  row['rows'] = 1;
  row['fieldsMap.k'] = [];
  row['fieldsMap.v'] = [];
  return row;
};

/** A query_id ClickHouse accepts: the ledger id with anything unusual replaced. */
export const queryIdOf = (ledgerId: string, table: string): string => `rtm-${table}-${ledgerId}`.replace(/[^A-Za-z0-9_.:-]/g, '_');

async function running(conn: ClickHouseConnection, queryId: string, timeoutMs: number): Promise<boolean> {
  const rows = await conn.rows(`SELECT count() FROM system.processes WHERE query_id = ${literal(queryId)}`, { timeoutMs });
  return Number(rows[0]?.[0]) > 0;
}

/** Whether the ledger row `id` of `batch` is in its table (so its data rows are too). */
export async function ledgerPresent(conn: ClickHouseConnection, batch: InsertBatch, id: string, timeoutMs = 10_000): Promise<boolean> {
  const sql =
    `SELECT count() FROM ${conn.database}.${batch.table} WHERE service = '' AND bucket = ${batch.firstBucket} ` +
    `AND ledger = ${literal(id)}`;
  return Number((await conn.rows(sql, { timeoutMs }))[0]?.[0]) > 0;
}

/**
 * Inserts `batch` with its ledger row `id` exactly once; resolves when it is durable. Throws on
 * a permanent error (nothing of it landed: the server refused the statement) or when
 * `keepTrying` turns false (then it may or may not have landed; the ledger still tells).
 */
export async function insertExactlyOnce(conn: ClickHouseConnection, batch: InsertBatch, id: string, keys: readonly string[], opts: LedgerOptions): Promise<void> {
  const queryId = queryIdOf(id, batch.table);
  const body = `${batch.lines.join('\n')}\n${JSON.stringify(ledgerRow(batch, id, keys))}\n`;
  const rowCount = batch.lines.length + 1;
  const checkTimeoutMs = opts.checkTimeoutMs ?? 10_000;
  let delay = opts.retryDelayMs ?? 100;
  // One part: the whole batch is one block (write-batches.ts keeps batches below this).
  const settings = { max_insert_block_size: Math.max(1_048_576, rowCount + 1) };
  for (let attempt = opts.checkFirst === true ? 1 : 0; ; attempt++) {
    if (attempt > 0) {
      try {
        while (await running(conn, queryId, checkTimeoutMs)) await sleep(Math.min(delay, 500));
        if (await ledgerPresent(conn, batch, id, checkTimeoutMs)) return;
      } catch (err) {
        // The server is not answering: nothing is known yet; ask again after the pause.
        if (!opts.keepTrying()) throw err;
        await sleep(delay);
        delay = Math.min(delay * 2, 5000);
        continue;
      }
    }
    try {
      await conn.insertText(`${conn.database}.${batch.table}`, body, {
        queryId,
        settings,
        ...(opts.insertTimeoutMs === undefined ? {} : { timeoutMs: opts.insertTimeoutMs }),
      });
      return;
    } catch (err) {
      const code = clickHouseErrorCode(err);
      if (code !== undefined && PERMANENT.has(code)) throw err;
      opts.onRetry?.(batch.table, err);
      if (!opts.keepTrying()) throw err;
      // A server answer (a code) means the query ended; without one it may not have started yet.
      await sleep(code === undefined ? Math.max(delay, opts.settleMs ?? 1000) : delay);
      delay = Math.min(delay * 2, 5000);
    }
  }
}

/**
 * Inserts rows whose effect does not change when they land twice (published_lsn: the highest
 * lsn wins), retrying until they are durable or `keepTrying` turns false.
 */
export async function insertIdempotent(conn: ClickHouseConnection, table: string, rows: readonly InsertRow[], opts: LedgerOptions): Promise<void> {
  let delay = opts.retryDelayMs ?? 100;
  for (;;) {
    try {
      await conn.insert(`${conn.database}.${table}`, rows, opts.insertTimeoutMs === undefined ? {} : { timeoutMs: opts.insertTimeoutMs });
      return;
    } catch (err) {
      const code = clickHouseErrorCode(err);
      if (code !== undefined && PERMANENT.has(code)) throw err;
      opts.onRetry?.(table, err);
      if (!opts.keepTrying()) throw err;
      await sleep(delay);
      delay = Math.min(delay * 2, 5000);
    }
  }
}
