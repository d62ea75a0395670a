/**
 * How the shared catalog names things and settles their ids (docs/decisions.md, "Catalog ids on
 * ClickHouse"). An id is derived, not drawn: attempt k of a name is H(name, k) mapped into the id
 * space, so two nodes that meet the same new name compute the same candidate and their claims
 * coincide. Who holds an id follows from the claim rows alone, so every node that has read the
 * same rows agrees:
 * - the holder of an id is the claimant with the smallest canonical name;
 * - the id of a name is, among the ids it holds, the one of its lowest attempt (adopted ids,
 *   attempt -1, before derived ones), then the smallest id.
 * A node claims an id only when no row names it yet, so two claimants of one id can only be two
 * nodes that claimed at the same moment.
 */
import { createHash } from 'node:crypto';
import { CATALOG_ID_MAX, CATALOG_ID_MIN, PRODUCT_IDS } from '../catalog.ts';

/** A service (domain '') or a domain of a service. */
export interface CatalogName {
  kind: 'service' | 'domain';
  service: string;
  /** '' for a service. */
  domain: string;
}

/** One claim row: `name` asks for `id` at `attempt` (-1: an id adopted from a node's own file). */
export interface Claim extends CatalogName {
  id: number;
  attempt: number;
}

/** Attempt number of an adopted (pre-existing, random) id. */
export const ADOPTED_ATTEMPT = -1;

/** Attempts before a claim gives up (each is a hash: reaching this means a broken id space). */
export const MAX_ATTEMPTS = 64;

/** The canonical string of a name: what is hashed and what decides a tie. */
export const canonicalName = (n: CatalogName): string => (n.kind === 'service' ? `service\u0000${n.service}` : `domain\u0000${n.service}\u0000${n.domain}`);

export const serviceName = (service: string): CatalogName => ({ kind: 'service', service, domain: '' });
export const domainName = (service: string, domain: string): CatalogName => ({ kind: 'domain', service, domain });

/** Maps a canonical name and an attempt to a candidate id. */
export type IdHash = (canonical: string, attempt: number) => number;

const SPAN = CATALOG_ID_MAX - CATALOG_ID_MIN + 1;

/** The default H: the first 48 bits of SHA-256(`<canonical>\0<attempt>`) modulo the id space (bias below 1e-5). */
export const sha256CatalogId: IdHash = (canonical, attempt) => {
  const digest = createHash('sha256').update(`${canonical}\u0000${attempt}`).digest();
  return CATALOG_ID_MIN + (digest.readUIntBE(0, 6) % SPAN);
};

/** Whether an id may be claimed at all: in the id space, and not a product id. */
export const isClaimableId = (id: number): boolean => Number.isSafeInteger(id) && id >= CATALOG_ID_MIN && id <= CATALOG_ID_MAX && !PRODUCT_IDS.has(id);

/** Claim rows as a node knows them (a union of everything read: rows are never removed). */
export interface ClaimSet {
  /**
   * Adds rows; answers the names whose settled id may have changed (those of the new rows and
   * every other claimant of their ids). Identical rows (a claim sent twice) count once.
   */
  add(claims: Iterable<Claim>): Map<string, CatalogName>;
  /** The canonical names that claimed `id`. */
  claimants(id: number): ReadonlySet<string> | undefined;
  /** The claims of a name. */
  claimsOf(canonical: string): readonly Claim[];
  /** The settled id of a name, if it holds one. */
  idOf(canonical: string): number | undefined;
  /** Names with claims but none they hold: losers of a concurrent claim, owed their next attempt. */
  unsettled(): CatalogName[];
}

export function createClaimSet(): ClaimSet {
  const seen = new Set<string>();
  const byId = new Map<number, Set<string>>();
  const byName = new Map<string, Claim[]>();
  const holderOf = (id: number): string | undefined => {
    let min: string | undefined;
    for (const c of byId.get(id) ?? []) if (min === undefined || c < min) min = c;
    return min;
  };
  const idOf = (canonical: string): number | undefined => {
    let best: Claim | undefined;
    for (const c of byName.get(canonical) ?? []) {
      if (holderOf(c.id) !== canonical) continue;
      if (!best || c.attempt < best.attempt || (c.attempt === best.attempt && c.id < best.id)) best = c;
    }
    return best?.id;
  };
  return {
    add(claims) {
      const touched = new Set<number>();
      const affected = new Map<string, CatalogName>();
      for (const c of claims) {
        const canonical = canonicalName(c);
        const key = `${c.id}\u0000${c.attempt}\u0000${canonical}`;
        if (seen.has(key)) continue;
        seen.add(key);
        touched.add(c.id);
        let names = byId.get(c.id);
        if (!names) byId.set(c.id, (names = new Set()));
        names.add(canonical);
        let own = byName.get(canonical);
        if (!own) byName.set(canonical, (own = []));
        own.push({ kind: c.kind, service: c.service, domain: c.domain, id: c.id, attempt: c.attempt });
      }
      for (const id of touched) {
        for (const canonical of byId.get(id) ?? []) {
          const first = byName.get(canonical)?.[0];
          if (first) affected.set(canonical, { kind: first.kind, service: first.service, domain: first.domain });
        }
      }
      return affected;
    },
    claimants: (id) => byId.get(id),
    claimsOf: (canonical) => byName.get(canonical) ?? [],
    idOf,
    unsettled() {
      const out: CatalogName[] = [];
      for (const [canonical, claims] of byName) {
        const first = claims[0];
        if (first && idOf(canonical) === undefined) out.push({ kind: first.kind, service: first.service, domain: first.domain });
      }
      return out;
    },
  };
}

/**
 * The next id `name` should try, from what `claims` knows: the candidate of the lowest attempt
 * whose id no row names yet (an id any row names, even one its holder does not use, is never
 * given to another name). Undefined after MAX_ATTEMPTS.
 */
export function nextCandidate(claims: ClaimSet, name: CatalogName, hash: IdHash): { id: number; attempt: number } | undefined {
  const canonical = canonicalName(name);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const id = hash(canonical, attempt);
    if (!isClaimableId(id) || claims.claimants(id) !== undefined) continue;
    return { id, attempt };
  }
  return undefined;
}
