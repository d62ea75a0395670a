/**
 * The ODSL CDN percentiles and Bandwidth95th suite (test/support/odsl-cdn-distributions-suite.ts)
 * on the default store, DuckDB.
 */
import { defineOdslCdnDistributionsSuite } from './support/odsl-cdn-distributions-suite.ts';
import { duckDbNode } from './support/store-nodes.ts';

defineOdslCdnDistributionsSuite(duckDbNode());
