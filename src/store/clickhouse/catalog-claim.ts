/**
 * Claims ids for new names, in rounds that each cost two or three requests whatever the number
 * of names (a first burst of hundreds of domains is one round): read the claims around the
 * candidates, insert a claim for every candidate no row names yet, read them again, and settle
 * (./catalog-ids.ts). A name that lost its candidate to a concurrent claim tries its next attempt
 * in the next round.
 */
import { canonicalName, MAX_ATTEMPTS, nextCandidate, type CatalogName, type Claim, type IdHash } from './catalog-ids.ts';
import type { CatalogMirror } from './catalog-mirror.ts';
import { insertClaims, readClaimsAround } from './catalog-tables.ts';
import type { ClickHouseConnection } from './client.ts';

export interface ClaimContext {
  conn: ClickHouseConnection;
  mirror: CatalogMirror;
  hash: IdHash;
  node: string;
  nowMs: () => number;
  timeoutMs: number;
}

/** Settles an id for every name in `names` (in the mirror), or throws (ClickHouse away, or no free attempt). */
export async function claimIds(ctx: ClaimContext, names: readonly CatalogName[]): Promise<void> {
  const { conn, mirror, hash } = ctx;
  const options = { timeoutMs: ctx.timeoutMs };
  const unsettled = (list: readonly CatalogName[]): CatalogName[] => list.filter((n) => mirror.claims.idOf(canonicalName(n)) === undefined);
  const unique = new Map(names.map((n) => [canonicalName(n), n]));
  let todo = unsettled([...unique.values()]);
  for (let round = 0; round <= MAX_ATTEMPTS && todo.length > 0; round++) {
    const candidates = new Map<string, Claim>();
    for (const name of todo) {
      const next = nextCandidate(mirror.claims, name, hash);
      if (!next) throw new Error(`no free catalog id in ${MAX_ATTEMPTS} attempts for ${name.kind} ${JSON.stringify(name.domain || name.service)}`);
      candidates.set(canonicalName(name), { ...name, ...next });
    }
    mirror.add({ claims: await readClaimsAround(conn, [...candidates.values()].map((c) => c.id), todo, options) });
    todo = unsettled(todo);
    const free = todo.flatMap((n) => {
      const c = candidates.get(canonicalName(n));
      return c && mirror.claims.claimants(c.id) === undefined ? [c] : [];
    });
    if (free.length > 0) {
      // Two candidates of this round may coincide (a forced collision): the claim rows say who keeps it.
      await insertClaims(conn, free, { nowMs: ctx.nowMs(), node: ctx.node }, options);
      mirror.add({ claims: free });
      mirror.add({ claims: await readClaimsAround(conn, [], free, options) });
    }
    todo = unsettled(todo);
  }
  if (todo.length > 0) throw new Error(`catalog ids of ${todo.length} names did not settle in ${MAX_ATTEMPTS} rounds`);
}
