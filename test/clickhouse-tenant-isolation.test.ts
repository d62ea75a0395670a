/**
 * Issue 10, "Tests": the tenant isolation suite (test/support/tenant-isolation-suite.ts) on a
 * ClickHouse node (RTM_STORE=clickhouse), where real-time reads, the catalog, tokens, usage
 * entities and objects all come from ClickHouse: tenant A walks every route against tenant B's
 * resources and learns nothing of them.
 */
import { clickHouseNode } from './support/store-nodes.ts';
import { defineTenantIsolationSuite, oneNode } from './support/tenant-isolation-suite.ts';

defineTenantIsolationSuite(oneNode(clickHouseNode('rtm_tenant_isolation')));
