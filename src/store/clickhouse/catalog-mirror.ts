/**
 * The shared catalog as this node knows it: the union of every catalog row it has read or
 * written (rows are never removed, so a union is never wrong, only possibly behind), and the
 * catalog those rows settle to, rebuilt when a row was new. observe()'s common case, a sighting
 * already known, is two map lookups here.
 */
import type { CatalogDomain, CatalogEntry, CatalogService } from '../catalog.ts';
import { createClaimSet, type Claim, type ClaimSet } from './catalog-ids.ts';
import type { NameRow, ProductRow } from './catalog-tables.ts';

interface DomainView {
  id: number;
  domain: string;
}

interface ServiceView {
  id: number;
  service: string;
  domains: Map<string, DomainView>;
}

export interface CatalogMirror {
  readonly claims: ClaimSet;
  /** Merges rows read or written; the view follows on the next read of it. */
  add(rows: { claims?: Iterable<Claim>; products?: Iterable<ProductRow>; names?: Iterable<NameRow> }): void;
  /** Whether `service` and its `domain` hold ids and the domain was seen with `product`. */
  knows(service: string, domain: string, product: string): boolean;
  hasProduct(service: string, domain: string, product: string): boolean;
  /** The display name row that wins for `service` (highest version, then node, then name). */
  nameRow(service: string): NameRow | undefined;
  service(service: string): CatalogService | undefined;
  /** Every service by ascending id. */
  services(): CatalogService[];
  resolve(id: number): CatalogEntry | undefined;
  /** Services plus domains listed. */
  size(): number;
}

const productKey = (service: string, domain: string): string => `${service}\u0000${domain}`;
const later = (a: NameRow, b: NameRow): boolean => a.version > b.version || (a.version === b.version && (a.node > b.node || (a.node === b.node && a.name > b.name)));

export function createCatalogMirror(): CatalogMirror {
  const claims = createClaimSet();
  const products = new Map<string, Set<string>>();
  const names = new Map<string, NameRow>();
  let byKey = new Map<string, ServiceView>();
  let byId = new Map<number, { service: ServiceView; domain?: DomainView }>();
  let stale = false;

  const view = (): void => {
    if (!stale) return;
    stale = false;
    byKey = new Map();
    byId = new Map();
    const settled = [...claims.settled().values()];
    for (const { name, id } of settled) {
      if (name.kind !== 'service') continue;
      const s: ServiceView = { id, service: name.service, domains: new Map() };
      byKey.set(s.service, s);
      byId.set(id, { service: s });
    }
    // A domain is listed once its service holds an id too (a claim in progress may have one only).
    for (const { name, id } of settled) {
      const service = name.kind === 'domain' ? byKey.get(name.service) : undefined;
      if (!service) continue;
      const d: DomainView = { id, domain: name.domain };
      service.domains.set(d.domain, d);
      byId.set(id, { service, domain: d });
    }
  };

  const domainSnapshot = (service: string, d: DomainView): CatalogDomain => ({ id: d.id, domain: d.domain, products: [...(products.get(productKey(service, d.domain)) ?? [])].sort() });
  const snapshot = (s: ServiceView): CatalogService => {
    const domains = [...s.domains.values()].sort((a, b) => a.id - b.id).map((d) => domainSnapshot(s.service, d));
    return { id: s.id, service: s.service, name: names.get(s.service)?.name ?? s.service, products: [...new Set(domains.flatMap((d) => d.products))].sort(), domains };
  };
  const hasProduct = (service: string, domain: string, product: string): boolean => products.get(productKey(service, domain))?.has(product) === true;

  return {
    claims,
    add(rows) {
      if (rows.claims && claims.add(rows.claims)) stale = true;
      for (const p of rows.products ?? []) {
        const key = productKey(p.service, p.domain);
        let set = products.get(key);
        if (!set) products.set(key, (set = new Set()));
        set.add(p.product);
      }
      for (const n of rows.names ?? []) {
        const current = names.get(n.service);
        if (!current || later(n, current)) names.set(n.service, n);
      }
    },
    knows(service, domain, product) {
      view();
      return byKey.get(service)?.domains.has(domain) === true && hasProduct(service, domain, product);
    },
    hasProduct,
    nameRow: (service) => names.get(service),
    service(service) {
      view();
      const s = byKey.get(service);
      return s && snapshot(s);
    },
    services() {
      view();
      return [...byKey.values()].sort((a, b) => a.id - b.id).map(snapshot);
    },
    resolve(id) {
      view();
      const entry = byId.get(id);
      if (!entry) return undefined;
      const service = snapshot(entry.service);
      if (!entry.domain) return { kind: 'service', service };
      return { kind: 'domain', service, domain: domainSnapshot(entry.service.service, entry.domain) };
    },
    size() {
      view();
      return byId.size;
    },
  };
}
