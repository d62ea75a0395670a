import { describeObjectStoreConformance } from '../object-store-conformance.ts';
import { createDuckDbObjectStore } from './object-store.ts';
import { reopenableOnDuckDbFile } from './reopenable-file.ts';

describeObjectStoreConformance('duckdb', () => reopenableOnDuckDbFile('rtm-objects-', (db) => createDuckDbObjectStore({ db })));
