/**
 * The Azion v3 routes suite (test/support/azion-routes-suite.ts) over the real DuckDB store (in
 * memory) and catalog.
 */
import { expect } from 'vitest';
import { defineAzionRoutesSuite } from '../../../test/support/azion-routes-suite.ts';
import { testConfig } from '../../config/config.ts';
import { createDuckDbCatalog, sequentialIds } from '../../store/duckdb/catalog-store.ts';
import { openDuckDb } from '../../store/duckdb/database.ts';
import { createDuckDbMetricStore } from '../../store/duckdb/metric-store.ts';

defineAzionRoutesSuite({
  name: 'DuckDB',
  async open() {
    const db = await openDuckDb(':memory:');
    const store = await createDuckDbMetricStore(db, { retention: testConfig('/unused').retention });
    const catalog = await createDuckDbCatalog({ db, newId: sequentialIds() });
    return {
      store,
      catalog,
      async close() {
        await catalog.close();
        await store.close();
        db.close();
      },
    };
  },
  // Counted from 1 in the order the names were first seen.
  checkIds: (ids) => expect(ids).toEqual({ shop: 1, www: 2, img: 3, blog: 4, blogIo: 5, zone2: 6 }),
});
