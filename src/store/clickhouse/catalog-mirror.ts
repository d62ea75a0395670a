/**
 * The shared catalog as this node knows it: the union of every catalog row it has read or
 * written (rows are never removed, so a union is never wrong, only possibly behind), and the
 * catalog those rows settle to, updated name by name as rows arrive. observe()'s common case, a sighting
 * already known, is two map lookups here.
 */
import type { CatalogDomain, CatalogEntry, CatalogService } from '../catalog.ts';
import { createClaimSet, type CatalogName, type Claim, type ClaimSet } from './catalog-ids.ts';
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
  /** Domains listed (every listed service holds an id too). */
  domainCount(): number;
}

const productKey = (service: string, domain: string): string => `${service}\u0000${domain}`;
const later = (a: NameRow, b: NameRow): boolean => a.version > b.version || (a.version === b.version && (a.node > b.node || (a.node === b.node && a.name > b.name)));

export function createCatalogMirror(): CatalogMirror {
  const claims = createClaimSet();
  const products = new Map<string, Set<string>>();
  const names = new Map<string, NameRow>();
  /** Settled domain ids by service, kept whether or not the service holds an id yet. */
  const domainIds = new Map<string, Map<string, number>>();
  const byKey = new Map<string, ServiceView>();
  const byId = new Map<number, { service: ServiceView; domain?: DomainView }>();

  // Updated per changed name, not rebuilt: a new name costs the same in a catalog of any size.
  // An id can pass from one name to another within one add(), so an entry is removed from byId
  // only while it is still the one there.
  const listDomain = (service: ServiceView, domain: string, id: number): void => {
    const d: DomainView = { id, domain };
    service.domains.set(domain, d);
    byId.set(id, { service, domain: d });
  };
  const setService = (service: string, id: number | undefined): void => {
    const old = byKey.get(service);
    if (old?.id === id) return;
    if (old) {
      const entry = byId.get(old.id);
      if (entry?.service === old && !entry.domain) byId.delete(old.id);
      for (const d of old.domains.values()) if (byId.get(d.id)?.domain === d) byId.delete(d.id);
      byKey.delete(service);
    }
    if (id === undefined) return;
    const s: ServiceView = { id, service, domains: new Map() };
    byKey.set(service, s);
    byId.set(id, { service: s });
    for (const [domain, did] of domainIds.get(service) ?? []) listDomain(s, domain, did);
  };
  const setDomain = (service: string, domain: string, id: number | undefined): void => {
    let ids = domainIds.get(service);
    if (id === undefined) ids?.delete(domain);
    else {
      if (!ids) domainIds.set(service, (ids = new Map()));
      ids.set(domain, id);
    }
    // A domain is listed once its service holds an id too (a claim in progress may have one only).
    const s = byKey.get(service);
    if (!s) return;
    const old = s.domains.get(domain);
    if (old?.id === id) return;
    if (old) {
      if (byId.get(old.id)?.domain === old) byId.delete(old.id);
      s.domains.delete(domain);
    }
    if (id !== undefined) listDomain(s, domain, id);
  };
  const settle = (changed: Map<string, CatalogName>): void => {
    for (const [canonical, name] of changed) {
      const id = claims.idOf(canonical);
      if (name.kind === 'service') setService(name.service, id);
      else setDomain(name.service, name.domain, id);
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
      if (rows.claims) settle(claims.add(rows.claims));
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
      return byKey.get(service)?.domains.has(domain) === true && hasProduct(service, domain, product);
    },
    hasProduct,
    nameRow: (service) => names.get(service),
    service(service) {
      const s = byKey.get(service);
      return s && snapshot(s);
    },
    services() {
      return [...byKey.values()].sort((a, b) => a.id - b.id).map(snapshot);
    },
    resolve(id) {
      const entry = byId.get(id);
      if (!entry) return undefined;
      const service = snapshot(entry.service);
      if (!entry.domain) return { kind: 'service', service };
      return { kind: 'domain', service, domain: domainSnapshot(entry.service.service, entry.domain) };
    },
    size: () => byId.size,
    domainCount: () => byId.size - byKey.size,
  };
}
