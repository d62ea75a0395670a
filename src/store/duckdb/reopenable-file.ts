/**
 * A store on a DuckDB file of its own, for the conformance suites' restarts (../reopenable.ts):
 * a fresh temp directory, the file opened anew on each reopen, the directory removed at the end.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { reopenable, type Reopenable } from '../reopenable.ts';
import { openDuckDb, type DuckDb } from './database.ts';

/** `create` makes the store on the file's database; each reopen closes the store, then the database. */
export function reopenableOnDuckDbFile<T extends { close?(): Promise<void> }>(prefix: string, create: (db: DuckDb) => Promise<T>): Promise<Reopenable<T>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const file = path.join(dir, 'rtmetrics.duckdb');
  return reopenable(
    async () => {
      const db = await openDuckDb(file);
      const value = await create(db);
      return {
        value,
        async close() {
          await value.close?.();
          db.close();
        },
      };
    },
    () => fs.rmSync(dir, { recursive: true, force: true }),
  );
}
