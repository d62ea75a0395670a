/**
 * Issue 10, "Tests": the Fastly real-time routes suite (test/support/fastly-routes-suite.ts) on a
 * ClickHouse node (RTM_STORE=clickhouse): the answers come from the store.
 */
import { defineFastlyRoutesSuite } from './support/fastly-routes-suite.ts';
import { clickHouseNode } from './support/store-nodes.ts';

// AggregateDelay (1 s) plus RTM_CLICKHOUSE_READ_LAG (3 s), as the answers state it (docs/api-fastly.md).
defineFastlyRoutesSuite({ node: clickHouseNode('rtm_fastly_routes'), aggregateDelay: 4 });
