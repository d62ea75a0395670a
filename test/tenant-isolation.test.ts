/**
 * The tenant isolation suite (test/support/tenant-isolation-suite.ts) on the default store,
 * DuckDB: tenant A walks every route against tenant B's resources.
 */
import { duckDbNode } from './support/store-nodes.ts';
import { defineTenantIsolationSuite, oneNode } from './support/tenant-isolation-suite.ts';

defineTenantIsolationSuite(oneNode(duckDbNode()));
