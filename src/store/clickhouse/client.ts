/**
 * The one connection object the ClickHouse engine talks through, over `@clickhouse/client`, shaped
 * for what ClickHouse 18.16 accepts (../shared/clickhouse/FACTS.md): reads in `JSONCompact` with
 * 64-bit integers as numbers, no query parameters (values are quoted by `literal`), error codes
 * parsed from the message, and inserts in `JSONEachRow` with a gzip body, so a body cut short by a
 * dropped connection fails to inflate on the server instead of committing the rows it got.
 */
import { Readable } from 'node:stream';
import { ClickHouseLogLevel, createClient, drainStream, type ClickHouseClient } from '@clickhouse/client';

export interface ClickHouseConnectionOptions {
  url: string;
  database: string;
  username?: string;
  password?: string;
  /** Client-side limit of one request, ms. Default 30,000. */
  requestTimeoutMs?: number;
}

/** A failure of one request; `code` is ClickHouse's `Code: N` when the server answered with one. */
export class ClickHouseRequestError extends Error {
  constructor(
    message: string,
    readonly code: number | undefined,
    options?: { cause: unknown },
  ) {
    super(message, options);
    this.name = 'ClickHouseRequestError';
  }
}

/** `Code: 216` (and similar) from a server message; undefined for transport errors. */
export function clickHouseErrorCode(err: unknown): number | undefined {
  const message = err instanceof Error ? err.message : String(err);
  const m = /Code: (\d+)/.exec(message);
  return m ? Number(m[1]) : undefined;
}

/** A SQL string literal (18.16 has no query parameters): backslash and quote escaped. */
export function literal(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** A SQL Int64 literal; infinite or huge bounds clamp to the safe integer range. */
export function intLiteral(value: number): string {
  if (Number.isNaN(value)) throw new RangeError('a time bound is NaN');
  return String(Math.max(Number.MIN_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, Math.ceil(value))));
}

export interface RequestOptions {
  queryId?: string;
  /** This request's own time limit, ms (else the connection's). */
  timeoutMs?: number;
  settings?: Record<string, string | number>;
}

export interface ClickHouseConnection {
  readonly url: string;
  readonly database: string;
  /** Rows of a SELECT as arrays (JSONCompact), 64-bit integers as numbers. */
  rows(sql: string, options?: RequestOptions): Promise<unknown[][]>;
  /** A statement without a result (DDL, ALTER, OPTIMIZE). */
  command(sql: string, options?: RequestOptions): Promise<void>;
  /** Inserts rows (objects keyed by column name; Nested columns as `name.k`) in one request. */
  insert(table: string, rows: readonly Record<string, unknown>[], options?: RequestOptions): Promise<void>;
  /** Inserts JSONEachRow text (one row a line) in one request. */
  insertText(table: string, ndjson: string, options?: RequestOptions): Promise<void>;
  close(): Promise<void>;
}

const wrap = async <T>(what: string, work: () => Promise<T>): Promise<T> => {
  try {
    return await work();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new ClickHouseRequestError(`ClickHouse ${what} failed: ${message}`, clickHouseErrorCode(err), { cause: err });
  }
};

export function createClickHouseConnection(opts: ClickHouseConnectionOptions): ClickHouseConnection {
  // Interpolated into every statement as db.table.
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(opts.database)) throw new Error(`ClickHouse database name ${JSON.stringify(opts.database)} is not a plain identifier ([A-Za-z_][A-Za-z0-9_]*)`);
  const timeoutMs = opts.requestTimeoutMs ?? 30_000;
  const client: ClickHouseClient = createClient({
    // No default database: the engine names every table as db.table, and CREATE DATABASE must
    // run before the database exists.
    url: opts.url,
    ...(opts.username === undefined ? {} : { username: opts.username }),
    ...(opts.password === undefined ? {} : { password: opts.password }),
    // Our own AbortSignal bounds each request; the client's limit only backs it up.
    request_timeout: Math.max(timeoutMs, 1000) + 5000,
    compression: { request: true, response: false },
    clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
    // Failures reach the caller as errors; the client's own console log would only repeat them.
    log: { level: ClickHouseLogLevel.OFF },
  });
  const signal = (o: RequestOptions | undefined): AbortSignal => AbortSignal.timeout(o?.timeoutMs ?? timeoutMs);
  const base = (o: RequestOptions | undefined): { abort_signal: AbortSignal; query_id?: string; clickhouse_settings?: Record<string, string | number> } => ({
    abort_signal: signal(o),
    ...(o?.queryId === undefined ? {} : { query_id: o.queryId }),
    ...(o?.settings === undefined ? {} : { clickhouse_settings: o.settings }),
  });
  return {
    url: opts.url,
    database: opts.database,
    rows: (sql, o) =>
      wrap('query', async () => {
        const result = await client.query({ query: sql, format: 'JSONCompact', ...base(o) });
        const body = (await result.json()) as { data?: unknown[][] };
        return body.data ?? [];
      }),
    command: (sql, o) =>
      wrap('command', async () => {
        await client.command({ query: sql, ...base(o) });
      }),
    insert: (table, rows, o) =>
      wrap(`insert into ${table}`, async () => {
        await client.insert({ table, values: rows as Record<string, unknown>[], format: 'JSONEachRow', ...base(o) });
      }),
    insertText: (table, ndjson, o) =>
      wrap(`insert into ${table}`, async () => {
        // exec, not insert: insert would JSON-encode each chunk of a stream as a row again.
        const result = await client.exec({ query: `INSERT INTO ${table} FORMAT JSONEachRow`, values: Readable.from([Buffer.from(ndjson)]), ...base(o) });
        await drainStream(result.stream);
      }),
    close: () => client.close(),
  };
}
