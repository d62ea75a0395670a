/**
 * Distinct services per token: a token may write at most `servicesPerToken` different services
 * (bounds what one token can make the aggregator and the catalog hold). The ingest route asks
 * admit() once per distinct service of a body (src/ingest/admission.ts); the lines of a service
 * over the quota are rejected with its reason, the others are kept.
 */
import type { Limits } from '../../config/config.ts';

export interface ServiceQuota {
  /** True when `tokenId` already wrote `service` or still has room for one more service. */
  admit(tokenId: string, service: string): boolean;
  /** Drops what is known of a token (after it is revoked). */
  forget(tokenId: string): void;
  /** How many distinct services `tokenId` has written. */
  count(tokenId: string): number;
}

/**
 * Counts services seen since the process started: after a restart a token starts again from
 * zero, which keeps the quota a memory bound rather than a lifetime allowance.
 */
export function createServiceQuota(limits: Pick<Limits, 'servicesPerToken'>): ServiceQuota {
  const max = limits.servicesPerToken;
  const seen = new Map<string, Set<string>>();
  // 0 or Infinity turns the quota off, like the other per-token limits.
  const off = !(max > 0) || !Number.isFinite(max);
  return {
    admit(tokenId, service) {
      if (off) return true;
      let set = seen.get(tokenId);
      if (set?.has(service)) return true;
      if ((set?.size ?? 0) >= max) return false;
      if (!set) seen.set(tokenId, (set = new Set()));
      set.add(service);
      return true;
    },
    forget(tokenId) {
      seen.delete(tokenId);
    },
    count: (tokenId) => seen.get(tokenId)?.size ?? 0,
  };
}
