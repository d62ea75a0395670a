/**
 * The catalog in DuckDB tables, mirrored whole in memory: observe() runs after every store write,
 * and in the common case (every service, domain and product already known) it is a few map
 * lookups per record and no SQL. New entries are written in one transaction before the mirror
 * learns them, so a failed write leaves both as they were and the next write retries.
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { randomInt } from 'node:crypto';
import type { RecordSet } from '../../model/record.ts';
import { CATALOG_ID_MAX, CATALOG_ID_MIN, PRODUCT_IDS, type Catalog, type CatalogDomain, type CatalogEntry, type CatalogService } from '../catalog.ts';
import { queryRows, type DuckDb } from './database.ts';

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS catalog_services (
     id BIGINT PRIMARY KEY, service VARCHAR NOT NULL UNIQUE, name VARCHAR NOT NULL, first_seen BIGINT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS catalog_domains (
     id BIGINT PRIMARY KEY, service_id BIGINT NOT NULL, domain VARCHAR NOT NULL, first_seen BIGINT NOT NULL,
     UNIQUE (service_id, domain))`,
  `CREATE TABLE IF NOT EXISTS catalog_domain_products (
     domain_id BIGINT NOT NULL, product VARCHAR NOT NULL, PRIMARY KEY (domain_id, product))`,
];

/** Ids are drawn at random in the id space (../catalog.ts says why). */
export { CATALOG_ID_MAX, CATALOG_ID_MIN };
const randomCatalogId = (): number => randomInt(CATALOG_ID_MIN, CATALOG_ID_MAX + 1);
/** Ids 1, 2, 3, ... for tests and fixtures that name ids (taken ones are skipped, as for random ids). */
export function sequentialIds(start = 1): () => number {
  let next = start;
  return () => next++;
}

/** Rows per multi-row INSERT: keeps the parameter list bounded on a first burst of new keys. */
const INSERT_CHUNK = 300;

interface DomainState {
  id: number;
  /** Creation order: lists keep the order things were first seen, whatever their ids. */
  order: number;
  domain: string;
  products: Set<string>;
}

interface ServiceState {
  id: number;
  order: number;
  service: string;
  name: string;
  domains: Map<string, DomainState>;
}

interface Sighting {
  service: string;
  domain: string;
  product: string;
  second: number;
}

export interface DuckDbCatalogOptions {
  /** The data dir's database (the catalog opens its own connection on it). */
  db: DuckDb;
  /** Draws a candidate id (taken ones are drawn again). Default: random in [CATALOG_ID_MIN, CATALOG_ID_MAX]; tests pass a sequence. */
  newId?: () => number;
}

export async function createDuckDbCatalog({ db, newId = randomCatalogId }: DuckDbCatalogOptions): Promise<Catalog> {
  const connection = await db.connect();
  for (const sql of SCHEMA) await connection.run(sql);

  const byKey = new Map<string, ServiceState>();
  const byId = new Map<number, { service: ServiceState; domain?: DomainState }>();
  let nextOrder = await load(connection, byKey, byId);

  // Writes (new entries, renames) run one at a time; reads use the mirror.
  let queue: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(task: () => Promise<T>): Promise<T> => {
    const run = queue.then(task, task);
    queue = run.catch(() => undefined);
    return run;
  };

  const unknownSightings = (records: RecordSet): Map<string, Sighting> => {
    const unknown = new Map<string, Sighting>();
    const check = (r: { service: string; domain: string; product: string; second: number }): void => {
      if (byKey.get(r.service)?.domains.get(r.domain)?.products.has(r.product)) return;
      const key = `${r.service}\u0000${r.domain}\u0000${r.product}`;
      const seen = unknown.get(key);
      if (!seen || r.second < seen.second) unknown.set(key, { service: r.service, domain: r.domain, product: r.product, second: r.second });
    };
    for (const r of records.edge) check(r);
    for (const r of records.dimension) check(r);
    return unknown;
  };

  const register = async (sightings: Iterable<Sighting>): Promise<void> => {
    // Planned on new objects: the mirror changes only after COMMIT.
    const newServices = new Map<string, { state: ServiceState; second: number }>();
    const newDomains = new Map<string, { state: DomainState; service: ServiceState; second: number }>();
    const newProducts = new Map<string, { domain: DomainState; product: string }>();
    // One id space for services and domains: a candidate taken by either (or planned here) is drawn again.
    const drawn = new Set<number>();
    const allocate = (): number => {
      for (;;) {
        const candidate = newId();
        if (!Number.isSafeInteger(candidate) || byId.has(candidate) || drawn.has(candidate) || PRODUCT_IDS.has(candidate)) continue;
        drawn.add(candidate);
        return candidate;
      }
    };
    let order = nextOrder;
    for (const s of sightings) {
      let service = byKey.get(s.service);
      if (!service) {
        const planned = newServices.get(s.service) ?? { state: { id: allocate(), order: order++, service: s.service, name: s.service, domains: new Map() }, second: s.second };
        planned.second = Math.min(planned.second, s.second);
        newServices.set(s.service, planned);
        service = planned.state;
      }
      const domainKey = `${service.id}\u0000${s.domain}`;
      let domain = service.domains.get(s.domain);
      if (!domain) {
        const planned = newDomains.get(domainKey) ?? { state: { id: allocate(), order: order++, domain: s.domain, products: new Set<string>() }, service, second: s.second };
        planned.second = Math.min(planned.second, s.second);
        newDomains.set(domainKey, planned);
        domain = planned.state;
      }
      if (!domain.products.has(s.product)) newProducts.set(`${domain.id}\u0000${s.product}`, { domain, product: s.product });
    }
    if (newProducts.size === 0) return;

    await connection.run('BEGIN TRANSACTION');
    try {
      const services = [...newServices.values()].map(({ state, second }) => [state.id, state.service, state.name, second]);
      const domains = [...newDomains.values()].map(({ state, service, second }) => [state.id, service.id, state.domain, second]);
      const products = [...newProducts.values()].map(({ domain, product }) => [domain.id, product]);
      await insertRows(connection, 'catalog_services', 4, services);
      await insertRows(connection, 'catalog_domains', 4, domains);
      await insertRows(connection, 'catalog_domain_products', 2, products);
      await connection.run('COMMIT');
    } catch (err) {
      await connection.run('ROLLBACK').catch(() => undefined);
      throw err;
    }

    nextOrder = order;
    for (const { state } of newServices.values()) {
      byKey.set(state.service, state);
      byId.set(state.id, { service: state });
    }
    for (const { state, service } of newDomains.values()) {
      service.domains.set(state.domain, state);
      byId.set(state.id, { service, domain: state });
    }
    for (const { domain, product } of newProducts.values()) domain.products.add(product);
  };

  return {
    async observe(records) {
      if (unknownSightings(records).size === 0) return;
      // Re-checked inside the queue: an earlier write may have registered the same keys.
      await exclusive(() => register(unknownSightings(records).values()));
    },
    async services() {
      return [...byKey.values()].sort((a, b) => a.order - b.order).map(snapshot);
    },
    async resolve(id) {
      const entry = byId.get(id);
      if (!entry) return undefined;
      const service = snapshot(entry.service);
      if (!entry.domain) return { kind: 'service', service } satisfies CatalogEntry;
      return { kind: 'domain', service, domain: domainSnapshot(entry.domain) } satisfies CatalogEntry;
    },
    rename(serviceKey, name) {
      return exclusive(async () => {
        const service = byKey.get(serviceKey);
        if (!service) return undefined;
        await connection.run('UPDATE catalog_services SET name = $1 WHERE id = $2', [name, service.id]);
        service.name = name;
        return snapshot(service);
      });
    },
    size: () => byId.size,
    // Every service in byKey holds an id in byId; the rest of byId are domains.
    domainCount: () => byId.size - byKey.size,
    async close() {
      await exclusive(async () => connection.closeSync());
    },
  };
}

/** Fills the mirror from the tables (in insertion order); returns the next creation order. */
async function load(
  connection: DuckDBConnection,
  byKey: Map<string, ServiceState>,
  byId: Map<number, { service: ServiceState; domain?: DomainState }>,
): Promise<number> {
  let order = 0;
  // rowid is insertion order (rows are never deleted): the order lists had when ids were a sequence.
  for (const row of await queryRows(connection, 'SELECT id, service, name FROM catalog_services ORDER BY rowid')) {
    const service: ServiceState = { id: Number(row['id']), order: order++, service: String(row['service']), name: String(row['name']), domains: new Map() };
    byKey.set(service.service, service);
    byId.set(service.id, { service });
  }
  for (const row of await queryRows(connection, 'SELECT id, service_id, domain FROM catalog_domains ORDER BY rowid')) {
    const service = byId.get(Number(row['service_id']))?.service;
    const domain: DomainState = { id: Number(row['id']), order: order++, domain: String(row['domain']), products: new Set() };
    if (!service) continue;
    service.domains.set(domain.domain, domain);
    byId.set(domain.id, { service, domain });
  }
  for (const row of await queryRows(connection, 'SELECT domain_id, product FROM catalog_domain_products')) {
    byId.get(Number(row['domain_id']))?.domain?.products.add(String(row['product']));
  }
  return order;
}

async function insertRows(connection: DuckDBConnection, table: string, width: number, rows: readonly (readonly DuckDBValue[])[]): Promise<void> {
  for (let start = 0; start < rows.length; start += INSERT_CHUNK) {
    const chunk = rows.slice(start, start + INSERT_CHUNK);
    const tuples = chunk.map((_, r) => `(${Array.from({ length: width }, (_, c) => `$${r * width + c + 1}`).join(', ')})`);
    await connection.run(`INSERT INTO ${table} VALUES ${tuples.join(', ')}`, chunk.flat());
  }
}

const domainSnapshot = (d: DomainState): CatalogDomain => ({ id: d.id, domain: d.domain, products: [...d.products].sort() });

function snapshot(s: ServiceState): CatalogService {
  const domains = [...s.domains.values()].sort((a, b) => a.order - b.order).map(domainSnapshot);
  const products = [...new Set(domains.flatMap((d) => d.products))].sort();
  return { id: s.id, service: s.service, name: s.name, products, domains };
}
