/**
 * Issue 10, "Tests": the tenant isolation suite (test/support/tenant-isolation-suite.ts) on a
 * ClickHouse node (RTM_STORE=clickhouse), where real-time reads, the catalog, tokens, usage
 * entities and objects all come from ClickHouse: tenant A walks every route against tenant B's
 * resources and learns nothing of them.
 */
import { expect } from 'vitest';
import { loadConfig } from '../src/config/config.ts';
import { startHarness } from './support/app-harness.ts';
import { startClickHouseServer, type ClickHouseServer } from './support/clickhouse-server.ts';
import { defineTenantIsolationSuite } from './support/tenant-isolation-suite.ts';

let server: ClickHouseServer | undefined;

defineTenantIsolationSuite({
  name: 'ClickHouse',
  store: 'clickhouse',
  async start() {
    server = await startClickHouseServer();
    const parsed = loadConfig({ RTM_STORE: 'clickhouse', RTM_CLICKHOUSE_URLS: server.url, RTM_CLICKHOUSE_DATABASE: 'rtm_tenant_isolation', RTM_NODE_ID: 'isolation-a' });
    expect(parsed.store).toMatchObject({ engine: 'clickhouse' });
    return startHarness({ config: { store: parsed.store, nodeId: parsed.nodeId } });
  },
  async stop() {
    await server?.stop();
  },
});
