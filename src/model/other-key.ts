/**
 * The key value traffic past a cardinality cap is counted under (issue 11 "Cardinality caps"):
 * a service's domains beyond RTM_MAX_DOMAINS_PER_SERVICE are summed as this one domain, so every
 * total stays exact while the number of keys stays bounded. Double underscores: not a hostname.
 */
export const OTHER_KEY = '__other__';
