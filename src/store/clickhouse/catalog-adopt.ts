/**
 * The upgrade from per-node catalogs: a node's DuckDB catalog (random ids, from before the
 * catalog was shared) is claimed into the shared tables at start under its own ids, where neither
 * the name nor the id is claimed yet, so existing Azion clients keep their ids. The first node to
 * start wins: a name another node claimed first keeps that node's id, and a name whose id another
 * name took gets a derived one (docs/decisions.md).
 */
import type { CatalogService } from '../catalog.ts';
import { ADOPTED_ATTEMPT, canonicalName, domainName, isClaimableId, serviceName, type CatalogName, type Claim } from './catalog-ids.ts';
import type { CatalogMirror } from './catalog-mirror.ts';
import { insertClaims, insertNames, insertProducts, type ProductRow } from './catalog-tables.ts';
import type { ClickHouseConnection } from './client.ts';

export interface AdoptContext {
  conn: ClickHouseConnection;
  mirror: CatalogMirror;
  nowMs: () => number;
  node: string;
  timeoutMs: number;
  /** Reads the tables into the mirror. */
  reload(): Promise<unknown>;
  /** Claims derived ids for sightings and writes their products. */
  register(sightings: readonly ProductRow[]): Promise<void>;
}

/** Claims the ids the node's own file had, where neither the name nor the id is claimed yet. */
export async function adoptLocalCatalog(ctx: AdoptContext, services: readonly CatalogService[]): Promise<void> {
  const { conn, mirror, timeoutMs } = ctx;
  const claims: Claim[] = [];
  const proposed = new Set<number>();
  const products: ProductRow[] = [];
  const taken = (id: number): boolean => !isClaimableId(id) || mirror.claims.claimants(id) !== undefined || proposed.has(id);
  const propose = (name: CatalogName, id: number): void => {
    if (mirror.claims.claimsOf(canonicalName(name)).length > 0 || taken(id)) return;
    proposed.add(id);
    claims.push({ ...name, id, attempt: ADOPTED_ATTEMPT });
  };
  for (const s of services) {
    propose(serviceName(s.service), s.id);
    for (const d of s.domains) {
      propose(domainName(s.service, d.domain), d.id);
      for (const product of d.products) if (!mirror.hasProduct(s.service, d.domain, product)) products.push({ service: s.service, domain: d.domain, product });
    }
  }
  await insertClaims(conn, claims, { nowMs: ctx.nowMs(), node: ctx.node }, { timeoutMs });
  await insertProducts(conn, products, { nowMs: ctx.nowMs(), node: ctx.node }, { timeoutMs });
  // Names renamed locally keep their display name unless the cluster has one already.
  const renamed = services.filter((s) => s.name !== s.service && !mirror.nameRow(s.service));
  await insertNames(conn, renamed.map((s) => ({ service: s.service, name: s.name, version: ctx.nowMs(), node: ctx.node })), { timeoutMs });
  // Read back: a node adopting at the same moment may have claimed the same name or id.
  if (claims.length > 0 || products.length > 0 || renamed.length > 0) await ctx.reload();
  // What could not keep its id (taken by another name) gets a derived one.
  const rest = services.flatMap((s) => s.domains.flatMap((d) => d.products.map((product) => ({ service: s.service, domain: d.domain, product }))));
  const unsettled = rest.filter((p) => !mirror.knows(p.service, p.domain, p.product));
  if (unsettled.length > 0) await ctx.register(unsettled);
}
