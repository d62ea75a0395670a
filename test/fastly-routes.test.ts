/**
 * The Fastly real-time routes suite (test/support/fastly-routes-suite.ts) on the default store,
 * DuckDB: the answers come from the node's window.
 */
import { defineFastlyRoutesSuite } from './support/fastly-routes-suite.ts';
import { duckDbNode } from './support/store-nodes.ts';

// Published AggregateDelay (testConfig: 1 s) after a second ends.
defineFastlyRoutesSuite({ node: duckDbNode(), aggregateDelay: 1 });
