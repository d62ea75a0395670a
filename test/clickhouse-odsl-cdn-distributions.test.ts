/**
 * Issue 10, "Tests": the ODSL CDN percentiles and Bandwidth95th suite
 * (test/support/odsl-cdn-distributions-suite.ts) on a ClickHouse node (RTM_STORE=clickhouse):
 * a day of seconds older than the live window, answered from ClickHouse's rollups.
 */
import { defineOdslCdnDistributionsSuite } from './support/odsl-cdn-distributions-suite.ts';
import { clickHouseNode } from './support/store-nodes.ts';

defineOdslCdnDistributionsSuite(clickHouseNode('rtm_odsl_distributions'));
