/**
 * The embedded DuckDB database shared by every DuckDB-backed store (records, catalog, tokens,
 * usage entities): one instance per data dir, one connection per component.
 */
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import fs from 'node:fs';
import path from 'node:path';

export interface DuckDb {
  /** A new connection; each component keeps its own (DuckDB runs one statement per connection). */
  connect(): Promise<DuckDBConnection>;
  close(): void;
}

/** Opens (creating if needed) `file`, or an in-memory database for ':memory:'. */
export async function openDuckDb(file: string): Promise<DuckDb> {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  // Purging freed memory (jemalloc's madvise, and the TLB shootdowns it sends to every core)
  // otherwise runs on the query's own threads every so often: ~1% of 4 ms reads took 50-500 ms
  // on a 2-core VM. A background allocator thread takes it off the query path.
  const instance = await DuckDBInstance.create(file, { allocator_background_threads: 'true' });
  return {
    connect: () => instance.connect(),
    close: () => instance.closeSync(),
  };
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
