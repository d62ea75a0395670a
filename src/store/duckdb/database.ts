/**
 * The embedded DuckDB database shared by every DuckDB-backed store (records, catalog, tokens,
 * usage entities): one instance per data dir, one connection per component.
 */
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import fs from 'node:fs';
import path from 'node:path';
import { StartupError } from '../../startup-error.ts';

export interface DuckDb {
  /** A new connection; each component keeps its own (DuckDB runs one statement per connection). */
  connect(): Promise<DuckDBConnection>;
  close(): void;
}

export interface DuckDbOptions {
  /** DuckDB's memory_limit, bytes. Default: DuckDB's own (80% of RAM). */
  memoryBytes?: number;
}

/** Opens (creating if needed) `file`, or an in-memory database for ':memory:'. */
export async function openDuckDb(file: string, opts: DuckDbOptions = {}): Promise<DuckDb> {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  // Purging freed memory (jemalloc's madvise, and the TLB shootdowns it sends to every core)
  // otherwise runs on the query's own threads every so often: ~1% of 4 ms reads took 50-500 ms
  // on a 2-core VM. A background allocator thread takes it off the query path.
  let instance: DuckDBInstance;
  try {
    const settings: Record<string, string> = { allocator_background_threads: 'true' };
    if (opts.memoryBytes !== undefined) settings['memory_limit'] = `${Math.floor(opts.memoryBytes / 1024 ** 2)}MiB`;
    instance = await DuckDBInstance.create(file, settings);
  } catch (err) {
    throw openError(file, err);
  }
  return {
    connect: () => instance.connect(),
    close: () => instance.closeSync(),
  };
}

/**
 * Whether DuckDB has invalidated its database ("database has been invalidated because of a
 * previous fatal error ... must be restarted"): no query will succeed until the process reopens it.
 */
export function isInvalidatedError(err: unknown): boolean {
  const message = err instanceof Error ? err.message : String(err);
  return /database has been invalidated|must be restarted/i.test(message);
}

export type SqlParams = readonly DuckDBValue[] | Record<string, DuckDBValue>;

/** Runs a statement and returns its rows as objects (column name -> JS value). */
export async function queryRows(
  connection: DuckDBConnection,
  sql: string,
  params?: SqlParams,
): Promise<Record<string, DuckDBValue>[]> {
  const reader = await connection.runAndReadAll(sql, params as DuckDBValue[] | undefined);
  return reader.getRowObjects();
}

/**
 * What an operator can do about a database that does not open. DuckDB's messages are the only
 * signal (no error codes), so they are matched; anything else keeps DuckDB's own words.
 */
function openError(file: string, err: unknown): StartupError {
  const message = err instanceof Error ? err.message : String(err);
  const lock = /Conflicting lock is held in .*?\(PID (\d+)\)/.exec(message);
  if (lock || /Could not set lock on file/.test(message)) {
    return new StartupError(
      `the database ${file} is in use by another process${lock ? ` (PID ${lock[1]})` : ''}, probably another rtmetrics server on the same data dir`,
      'stop the other server, or give this one its own RTM_DATA_DIR',
      { cause: err },
    );
  }
  if (/not a valid DuckDB database file/.test(message)) {
    return new StartupError(
      `${file} is not a valid DuckDB database (corrupt, truncated, or another kind of file)`,
      'restore it from a backup, or move it away to start with an empty store',
      { cause: err },
    );
  }
  return new StartupError(`cannot open the database ${file}: ${message}`, 'check that the file and RTM_DATA_DIR are readable and writable, and that the disk has room', {
    cause: err,
  });
}
