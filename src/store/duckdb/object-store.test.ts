import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeObjectStoreConformance, type OpenedObjectStore } from '../object-store-conformance.ts';
import { openDuckDb } from './database.ts';
import { createDuckDbObjectStore } from './object-store.ts';

describeObjectStoreConformance('duckdb', async () => {
  const own = fs.mkdtempSync(path.join(os.tmpdir(), 'rtm-objects-'));
  const file = path.join(own, 'rtmetrics.duckdb');
  let db = await openDuckDb(file);
  const opened: OpenedObjectStore = {
    store: await createDuckDbObjectStore({ db }),
    async reopen() {
      await opened.store.close();
      db.close();
      db = await openDuckDb(file);
      opened.store = await createDuckDbObjectStore({ db });
      return opened.store;
    },
    async close() {
      await opened.store.close();
      db.close();
      fs.rmSync(own, { recursive: true, force: true });
    },
  };
  return opened;
});
