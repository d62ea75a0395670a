/**
 * Distinct domains per service: a service may have at most `maxPerService` different domains
 * (issue 9 item 4: memory grew without bound with domain cardinality, since the window, the store
 * queue, the rollup buffer and the catalog each hold every key). The admission asks admit() once
 * per distinct domain of each admitted service of a body (admission.ts); the events of a domain
 * beyond the cap are accepted and counted under the domain OTHER_KEY (`__other__`), so totals
 * stay exact, and the answer warns with the line and the reason. Unlike the per-token service
 * quota this is a lifetime bound: the domains a service already has (the catalog on start, then
 * every delta made durable, WAL replay included) are noted, so a restart does not reopen room.
 */

import { OTHER_KEY } from '../model/other-key.ts';

export interface DomainCap {
  /** The cap (Infinity when off). */
  readonly maxPerService: number;
  /** True when `service` already has `domain` or still has room for one more (then it has it). */
  admit(service: string, domain: string): boolean;
  /** Records a domain the service has already (stored, or made durable), even beyond the cap. */
  note(service: string, domain: string): void;
  /** How many distinct domains `service` has. */
  count(service: string): number;
  /** Distinct (service, domain) pairs held (0 when the cap is off: nothing is held). */
  size(): number;
}

/** `maxPerService` 0 or Infinity turns the cap off (nothing is held), like the per-token limits. */
export function createDomainCap(maxPerService: number): DomainCap {
  const off = !(maxPerService > 0) || !Number.isFinite(maxPerService);
  const seen = new Map<string, Set<string>>();
  let pairs = 0;
  const domainsOf = (service: string): Set<string> => {
    let set = seen.get(service);
    if (set === undefined) seen.set(service, (set = new Set()));
    return set;
  };
  return {
    maxPerService: off ? Number.POSITIVE_INFINITY : maxPerService,
    admit(service, domain) {
      if (off || domain === OTHER_KEY) return true;
      const set = seen.get(service);
      if (set?.has(domain)) return true;
      if ((set?.size ?? 0) >= maxPerService) return false;
      domainsOf(service).add(domain);
      pairs++;
      return true;
    },
    note(service, domain) {
      // __other__ is where the overflow goes: it takes no room under the cap.
      if (off || domain === OTHER_KEY) return;
      const set = domainsOf(service);
      if (set.has(domain)) return;
      set.add(domain);
      pairs++;
    },
    count: (service) => seen.get(service)?.size ?? 0,
    size: () => pairs,
  };
}

/** Why a line whose domain would be one past the cap is counted under OTHER_KEY. */
export function domainCapReason(service: string, domain: string, max: number): string {
  return `domain "${domain}" of service "${service}": the service already has ${max} distinct domains, the most one service may have (RTM_MAX_DOMAINS_PER_SERVICE); counted under the domain "${OTHER_KEY}"`;
}
