/**
 * The catalog: services, their domains and the products they were seen with, each registered
 * on its first event under a stable numeric id. Azion's API addresses configurations (our
 * services) and domains by number, and a path segment may be either, so services and domains
 * share ONE id space: an id names exactly one of them, forever (ids are never reused).
 *
 * Implementations: ./duckdb/catalog-store.ts (one node's file, random ids) and
 * ./clickhouse/catalog-store.ts (shared by the nodes of a cluster, ids derived from the names);
 * both pass ./catalog-store-conformance.ts.
 */
import { AZION_PRODUCTS } from '../model/azion-products.ts';
import type { RecordSet } from '../model/record.ts';

/**
 * Catalog ids lie in [CATALOG_ID_MIN, CATALOG_ID_MAX]: ten digits like Azion's own ids, below 2^31
 * so clients that keep them in an int32 do not break, and drawn at random (DuckDB) or derived from
 * a hash of the name (ClickHouse) so that an id says nothing about how many services or domains
 * other tenants have (a sequence would).
 */
export const CATALOG_ID_MIN = 1_000_000_000;
export const CATALOG_ID_MAX = 2_147_483_647;

/** Product ids are another path segment, but an id that is also a product would only confuse. */
export const PRODUCT_IDS: ReadonlySet<number> = new Set(Object.keys(AZION_PRODUCTS).map(Number));

export interface CatalogDomain {
  id: number;
  /** Lower-cased host. */
  domain: string;
  /** Products (PRODUCT_VALUES) this domain was seen with, sorted. */
  products: readonly string[];
}

export interface CatalogService {
  id: number;
  /** The service key of the events. */
  service: string;
  /** Display name; defaults to the service key, set with `rtmetrics service rename`. */
  name: string;
  /** Products seen with this service (the union of its domains' products), sorted. */
  products: readonly string[];
  /** Domains seen for this service, by ascending id. */
  domains: readonly CatalogDomain[];
}

/** What a catalog id names. */
export type CatalogEntry =
  | { kind: 'service'; service: CatalogService }
  | { kind: 'domain'; service: CatalogService; domain: CatalogDomain };

export interface Catalog {
  /**
   * Registers the services, domains and products of one store write. Idempotent; called after
   * every write, so the common case (everything already known) answers from memory.
   */
  observe(records: RecordSet): Promise<void>;
  /** Every service by ascending id. */
  services(): Promise<CatalogService[]>;
  /** The service or domain with this id, if any. */
  resolve(id: number): Promise<CatalogEntry | undefined>;
  /** Sets a service's display name; undefined when the service was never seen. */
  rename(service: string, name: string): Promise<CatalogService | undefined>;
  /** Services plus domains held (in memory, for the memory budget's catalog share); absent when unknown. */
  size?(): number;
  /** Domains held (in memory): the global domain bound counts them (key-cap.ts); absent when unknown. */
  domainCount?(): number;
  /** Releases the connection; the database itself belongs to its opener. */
  close(): Promise<void>;
}

/** Longest accepted display name. */
export const MAX_SERVICE_NAME_LENGTH = 200;

/** Why a display name is refused, or undefined when it is fine. */
export function invalidServiceName(name: string): string | undefined {
  if (name.trim() === '') return 'the name is empty';
  if (name.length > MAX_SERVICE_NAME_LENGTH) return `the name is longer than ${MAX_SERVICE_NAME_LENGTH} characters`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'the name contains control characters';
  return undefined;
}
