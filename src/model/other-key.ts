/**
 * The key value traffic past a cardinality cap is counted under (issue 11 "Cardinality caps"):
 * a service's domains beyond RTM_MAX_DOMAINS_PER_SERVICE, its datacenters beyond
 * RTM_MAX_DATACENTERS_PER_SERVICE and its backends beyond RTM_MAX_BACKENDS_PER_SERVICE are each
 * summed as this one value of their key, so every total stays exact while the number of keys
 * stays bounded. Double underscores: not a hostname.
 */
export const OTHER_KEY = '__other__';

/** The event keys a service's distinct values of are capped, in the order the admission asks them. */
export const CAPPED_KEYS = ['domain', 'datacenter', 'backend'] as const;
export type CappedKey = (typeof CAPPED_KEYS)[number];

/** The variable that sets each cap (config.ts reads it), named in warnings. */
export const CAP_VARIABLES: Readonly<Record<CappedKey, string>> = Object.freeze({
  domain: 'RTM_MAX_DOMAINS_PER_SERVICE',
  datacenter: 'RTM_MAX_DATACENTERS_PER_SERVICE',
  backend: 'RTM_MAX_BACKENDS_PER_SERVICE',
});
