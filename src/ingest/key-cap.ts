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
 */

import { CAP_VARIABLES, CAPPED_KEYS, OTHER_KEY, type CappedKey } from '../model/other-key.ts';

export interface KeyCap {
  /** The key it caps. */
  readonly key: CappedKey;
  /** The cap (Infinity when off). */
  readonly maxPerService: number;
  /** True when `service` already has `value` or still has room for one more (then it has it). */
  admit(service: string, value: string): boolean;
  /** Records a value the service has already (stored, or made durable), even beyond the cap. */
  note(service: string, value: string): void;
  /** How many distinct values `service` has. */
  count(service: string): number;
  /** Distinct (service, value) pairs held (0 when the cap is off: nothing is held). */
  size(): number;
}

/** One cap per capped key. */
export type KeyCaps = Readonly<Record<CappedKey, KeyCap>>;

/** `maxPerService` 0 or Infinity turns the cap off (nothing is held), like the per-token limits. */
export function createKeyCap(key: CappedKey, maxPerService: number): KeyCap {
  const off = !(maxPerService > 0) || !Number.isFinite(maxPerService);
  const seen = new Map<string, Set<string>>();
  let pairs = 0;
  const valuesOf = (service: string): Set<string> => {
    let set = seen.get(service);
    if (set === undefined) seen.set(service, (set = new Set()));
    return set;
  };
  return {
    key,
    maxPerService: off ? Number.POSITIVE_INFINITY : maxPerService,
    admit(service, value) {
      if (off || value === OTHER_KEY) return true;
      const set = seen.get(service);
      if (set?.has(value)) return true;
      if ((set?.size ?? 0) >= maxPerService) return false;
      valuesOf(service).add(value);
      pairs++;
      return true;
    },
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

/** The three caps, from config.limits (each: 0 turns it off). */
export function createKeyCaps(limits: { domainsPerService: number; datacentersPerService: number; backendsPerService: number }): KeyCaps {
  return Object.freeze({
    domain: createKeyCap('domain', limits.domainsPerService),
    datacenter: createKeyCap('datacenter', limits.datacentersPerService),
    backend: createKeyCap('backend', limits.backendsPerService),
  });
}

/** True when at least one of the caps is on (else the admission need not ask them). */
export function anyCapOn(caps: KeyCaps): boolean {
  return CAPPED_KEYS.some((k) => Number.isFinite(caps[k].maxPerService));
}

/** Why a line whose value of `key` would be one past the cap is counted under OTHER_KEY. */
export function keyCapReason(key: CappedKey, service: string, value: string, max: number): string {
  return `${key} "${value}" of service "${service}": the service already has ${max} distinct ${key}s, the most one service may have (${CAP_VARIABLES[key]}); counted under the ${key} "${OTHER_KEY}"`;
}
