/**
 * Issue 10, "Tests": the Azion v3 routes suite (test/support/azion-routes-suite.ts) over the
 * ClickHouse metric store and shared catalog on a private clickhouse-server.
 */
import { afterAll, expect } from 'vitest';
import { testConfig } from '../src/config/config.ts';
import { CATALOG_ID_MAX, CATALOG_ID_MIN } from '../src/store/catalog.ts';
import { createClickHouseCatalog } from '../src/store/clickhouse/catalog-store.ts';
import { createClickHouseConnection } from '../src/store/clickhouse/client.ts';
import { createClickHouseMetricStore } from '../src/store/clickhouse/metric-store.ts';
import { defineAzionRoutesSuite } from './support/azion-routes-suite.ts';
import { startClickHouseServer, type ClickHouseServer } from './support/clickhouse-server.ts';

const DATABASE = 'rtm_azion_routes';
let server: ClickHouseServer | undefined;
afterAll(async () => {
  await server?.stop();
});

defineAzionRoutesSuite({
  name: 'ClickHouse',
  async open(clock) {
    server = await startClickHouseServer();
    const { url } = server;
    const store = await createClickHouseMetricStore({ shards: [createClickHouseConnection({ url, database: DATABASE })], nodeId: 'azion-a', retention: testConfig('/unused').retention });
    const catalog = await createClickHouseCatalog({ conn: createClickHouseConnection({ url, database: DATABASE }), clock, nodeId: 'azion-a' });
    return {
      store,
      catalog,
      async close() {
        await catalog.close();
        await store.close();
      },
    };
  },
  // Derived from the names (docs/decisions.md, "Catalog ids on ClickHouse"): in the shared id space, one per name.
  checkIds: (ids) => {
    const all = Object.values(ids);
    expect(new Set(all).size).toBe(all.length);
    for (const v of all) expect(v >= CATALOG_ID_MIN && v <= CATALOG_ID_MAX, String(v)).toBe(true);
  },
});
