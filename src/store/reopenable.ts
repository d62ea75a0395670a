/**
 * A store a conformance suite can restart: open on some data, close, open again on the same data.
 * The catalog, object and token suites (src/store/*-conformance.ts) each take one from every
 * engine's test file; reopenable() is the one way they are built, and reopenableOnDuckDbFile
 * (duckdb/reopenable-file.ts) the one DuckDB hookup of them.
 */

/** A store open now, and its restart on the same data. */
export interface Reopenable<T> {
  /** The store open now (a new one after each reopen). */
  readonly current: T;
  /** Closes `current` and opens another on the same data (a restart of the node). */
  reopen(): Promise<T>;
  /** Closes the store open now and what it was kept in. */
  close(): Promise<void>;
}

/** One opening: the store and how to close it with whatever it was opened on. */
export interface Opening<T> {
  value: T;
  close(): Promise<void>;
}

/** `open` opens the store on the same data each time; `dispose` removes the data after the last close. */
export async function reopenable<T>(open: () => Promise<Opening<T>>, dispose?: () => void): Promise<Reopenable<T>> {
  let now = await open();
  return {
    get current() {
      return now.value;
    },
    async reopen() {
      await now.close();
      now = await open();
      return now.value;
    },
    async close() {
      await now.close();
      dispose?.();
    },
  };
}

/** An opening of a store that is all there is to close. */
export const openingOf = <T extends { close?(): Promise<void> }>(value: T): Opening<T> => ({ value, close: async () => value.close?.() });
