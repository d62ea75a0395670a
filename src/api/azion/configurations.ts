/**
 * Configurations (our services) and domains as the Azion API names them, filtered by what the
 * caller may read. A configuration the caller may not read answers exactly like one that does
 * not exist, so ids of other tenants are not revealed.
 */
import type { Product } from '../../model/event.ts';
import type { Catalog, CatalogService } from '../../store/catalog.ts';
import type { RecordFilter } from '../../store/store.ts';
import { canRead, hasScope, type Principal } from '../../http/auth.ts';
import { Errors, RtmError } from '../../http/errors.ts';

export interface AzionConfiguration {
  id: number;
  name: string;
  active: boolean;
  domains: number[];
}

/** Callers without the read scope are refused outright (403); others see what they may read. */
export function requireReadScope(principal: Principal): void {
  if (!hasScope(principal, 'read')) throw new RtmError(Errors.AUTH_FORBIDDEN, 'The token lacks the read scope');
}

/** The product's configurations the caller may read, by ascending id. */
export async function listConfigurations(catalog: Catalog, principal: Principal, product: Product): Promise<AzionConfiguration[]> {
  const services = await catalog.services();
  return services
    .filter((s) => s.products.includes(product) && canRead(principal, s.service))
    .map((s) => ({
      id: s.id,
      name: s.name,
      active: true,
      domains: s.domains.filter((d) => d.products.includes(product)).map((d) => d.id),
    }));
}

export interface ResolvedConfiguration {
  service: CatalogService;
  /** The store filter of the configuration (all its domains) or of one domain, within the product. */
  filter: RecordFilter;
}

/** Resolves `conf_id` (a configuration id or a domain id) within a product, or throws the 404. */
export async function resolveConfiguration(
  catalog: Catalog,
  principal: Principal,
  product: Product,
  confId: string,
): Promise<ResolvedConfiguration> {
  const notFound = (): RtmError => new RtmError(Errors.AZION_UNKNOWN_CONFIGURATION, `No configuration or domain ${confId} for this product`);
  if (!/^\d{1,15}$/.test(confId)) throw notFound();
  const entry = await catalog.resolve(Number(confId));
  if (!entry || !canRead(principal, entry.service.service)) throw notFound();
  const { service } = entry;
  if (entry.kind === 'service') {
    if (!service.products.includes(product)) throw notFound();
    return { service, filter: { services: [service.service], products: [product] } };
  }
  if (!entry.domain.products.includes(product)) throw notFound();
  return { service, filter: { services: [service.service], domains: [entry.domain.domain], products: [product] } };
}
