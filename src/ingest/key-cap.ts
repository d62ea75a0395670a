/**
 * Distinct values per service of one event key (domain, datacenter or backend): a service may
 * have at most `maxPerService` different values of it (issue 9 item 4: memory grew without bound
 * with key cardinality, since the window, the store queue, the rollup buffer and the catalog each
 * hold every key; issue 11 caps POPs and backends as domains). The admission asks admit() once
 * per distinct value of each admitted service of a body (admission.ts); the events of a value
 * beyond the cap are accepted and counted under the value OTHER_KEY (`__other__`) of that key, so
 * totals stay exact, and the answer warns with the line and the reason. Unlike the per-token
 * service quota this is a lifetime bound: the values a service already has (the catalog's domains
 * on start, then every delta made durable, WAL replay included) are noted, so a restart does not
 * reopen room for what the catalog knows.
 *
 * The domain cap has a second, global bound (the memory budget's catalog share, issue 9 item 4:
 * per-service caps times any number of services is no bound): the distinct (service, domain)
 * pairs of all services together, `maxHeld` (RTM_MAX_DOMAINS, by default the catalog share over
 * CATALOG_DOMAIN_BYTES). Once that many are held a new domain of any service is folded into its
 * service's OTHER_KEY the same way, with a reason naming the budget. What is held counts the pairs
 * noted here and, when more, the catalog's own domains (`heldElsewhere`): on ClickHouse the shared
 * catalog's mirror holds every node's domains in this process (docs/decisions.md).
 */

import { CAP_VARIABLES, CAPPED_KEYS, OTHER_KEY, type CappedKey } from '../model/other-key.ts';

export interface KeyCap {
  /** The key it caps. */
  readonly key: CappedKey;
  /** The cap (Infinity when off). */
  readonly maxPerService: number;
  /** The bound on the pairs of all services together (Infinity when off). */
  readonly maxHeld: number;
  /** True when the per-service cap or the global bound is on: values are held and noted. */
  readonly on: boolean;
  /** True when `service` already has `value` or still has room for one more (then it has it). */
  admit(service: string, value: string): boolean;
  /** Undefined when admit() would say true (and then it has it), else why `value` is counted under OTHER_KEY. */
  foldReason(service: string, value: string): string | undefined;
  /** Records a value the service has already (stored, or made durable), even beyond the cap. */
  note(service: string, value: string): void;
  /** How many distinct values `service` has. */
  count(service: string): number;
  /** Distinct (service, value) pairs held (0 when the cap is off: nothing is held). */
  size(): number;
}

/** One cap per capped key. */
export type KeyCaps = Readonly<Record<CappedKey, KeyCap>>;

/** The variable that sets the domain cap's global bound (config.ts reads it), named in its warnings. */
export const MAX_HELD_VARIABLE = 'RTM_MAX_DOMAINS';

/** The global bound of a cap (the domain cap's only): at most `max` (service, value) pairs of all services together. */
export interface HeldBound {
  /** 0 or Infinity turns it off. */
  max: number;
  /** Pairs held outside the cap's own sets (the catalog's domains), counted when more than the cap's. Default: none. */
  heldElsewhere?: () => number;
}

const limitOf = (max: number): number => (max > 0 && Number.isFinite(max) ? max : Number.POSITIVE_INFINITY);

/**
 * `maxPerService` 0 or Infinity turns the per-service cap off, like the per-token limits; with
 * the global bound off too, nothing is held.
 */
export function createKeyCap(key: CappedKey, maxPerService: number, bound: HeldBound = { max: 0 }): KeyCap {
  const perService = limitOf(maxPerService);
  const maxHeld = limitOf(bound.max);
  const off = perService === Number.POSITIVE_INFINITY && maxHeld === Number.POSITIVE_INFINITY;
  const seen = new Map<string, Set<string>>();
  let pairs = 0;
  const valuesOf = (service: string): Set<string> => {
    let set = seen.get(service);
    if (set === undefined) seen.set(service, (set = new Set()));
    return set;
  };
  const held = (): number => Math.max(pairs, bound.heldElsewhere?.() ?? 0);
  const foldReason = (service: string, value: string): string | undefined => {
    if (off || value === OTHER_KEY) return undefined;
    const set = seen.get(service);
    if (set?.has(value)) return undefined;
    if ((set?.size ?? 0) >= perService) return keyCapReason(key, service, value, perService);
    if (maxHeld !== Number.POSITIVE_INFINITY && held() >= maxHeld) return heldBoundReason(key, service, value, maxHeld);
    valuesOf(service).add(value);
    pairs++;
    return undefined;
  };
  return {
    key,
    maxPerService: perService,
    maxHeld,
    on: !off,
    admit: (service, value) => foldReason(service, value) === undefined,
    foldReason,
    note(service, value) {
      // __other__ is where the overflow goes: it takes no room under the cap.
      if (off || value === OTHER_KEY) return;
      const set = valuesOf(service);
      if (set.has(value)) return;
      set.add(value);
      pairs++;
    },
    count: (service) => seen.get(service)?.size ?? 0,
    size: () => pairs,
  };
}

/**
 * The three caps, from config.limits (each: 0 turns it off); the domain cap with the global bound
 * `maxDomains` (0 turns it off), counting `catalogDomains` when the catalog holds more.
 */
export function createKeyCaps(
  limits: { domainsPerService: number; datacentersPerService: number; backendsPerService: number; maxDomains?: number },
  catalogDomains?: () => number,
): KeyCaps {
  return Object.freeze({
    domain: createKeyCap('domain', limits.domainsPerService, { max: limits.maxDomains ?? 0, ...(catalogDomains ? { heldElsewhere: catalogDomains } : {}) }),
    datacenter: createKeyCap('datacenter', limits.datacentersPerService),
    backend: createKeyCap('backend', limits.backendsPerService),
  });
}

/** True when at least one of the caps is on (else the admission need not ask them). */
export function anyCapOn(caps: KeyCaps): boolean {
  return CAPPED_KEYS.some((k) => caps[k].on);
}

/** Why a line whose value of `key` would be one past the cap is counted under OTHER_KEY. */
export function keyCapReason(key: CappedKey, service: string, value: string, max: number): string {
  return `${key} "${value}" of service "${service}": the service already has ${max} distinct ${key}s, the most one service may have (${CAP_VARIABLES[key]}); counted under the ${key} "${OTHER_KEY}"`;
}

/**
 * Why a line whose value of `key` would be one past the global bound (the memory budget's
 * catalog share) is counted under OTHER_KEY.
 */
export function heldBoundReason(key: CappedKey, service: string, value: string, max: number): string {
  return `${key} "${value}" of service "${service}": the server already holds ${max} distinct ${key}s of all services, the most the catalog's share of the memory budget holds (RTM_MEMORY_BUDGET_BYTES, ${MAX_HELD_VARIABLE}); counted under the ${key} "${OTHER_KEY}"`;
}

