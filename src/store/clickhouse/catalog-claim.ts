/**
 * Claims ids for new names, in rounds of up to 300 names that each cost two or three requests
 * (a first burst of hundreds of domains is a round or three): read the claims around the
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

/** Names per round: a round's query names them and their candidates inline, ~100 KB for 300 of the longest hosts (253 bytes), well under the 256 KiB max_query_size. */
const NAMES_PER_ROUND = 300;

/** Settles an id for every name in `names` (in the mirror), or throws (ClickHouse away, or no free attempt). */
export async function claimIds(ctx: ClaimContext, names: readonly CatalogName[]): Promise<void> {
  const unique = [...new Map(names.map((n) => [canonicalName(n), n])).values()];
  for (let start = 0; start < unique.length; start += NAMES_PER_ROUND) await claimRounds(ctx, unique.slice(start, start + NAMES_PER_ROUND));
}

async function claimRounds(ctx: ClaimContext, names: readonly CatalogName[]): Promise<void> {
  const { conn, mirror, hash } = ctx;
  const options = { timeoutMs: ctx.timeoutMs };
  const unsettled = (list: readonly CatalogName[]): CatalogName[] => list.filter((n) => mirror.claims.idOf(canonicalName(n)) === undefined);
  let todo = unsettled(names);
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
