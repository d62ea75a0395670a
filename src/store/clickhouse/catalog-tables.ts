/**
 * The catalog tables on the first shard (docs/store.md, "Catalog"): append-only, since 18.16 has
 * no DELETE, UPDATE or transactions to rely on (FACTS.md), and not sharded: every node reads and
 * writes them there, as it does the token tables. `catalog_claims` gets one row per claim of an
 * id by a name (./catalog-ids.ts settles who holds what), `catalog_products` one per product
 * seen with a domain, `catalog_service_names` one per rename (the highest version wins). A row
 * sent twice is read once: every read is DISTINCT over what identifies a row.
 */
import type { Claim } from './catalog-ids.ts';
import { literal, type ClickHouseConnection, type RequestOptions } from './client.ts';
import { runCreates } from './schema.ts';

export const CATALOG_CLAIMS_TABLE = 'catalog_claims';
export const CATALOG_PRODUCTS_TABLE = 'catalog_products';
export const CATALOG_NAMES_TABLE = 'catalog_service_names';

export function catalogTableStatements(db: string): string[] {
  return [
    `CREATE DATABASE IF NOT EXISTS ${db}`,
    // kind is 'service' (domain '') or 'domain'; attempt -1 marks an id adopted from a node's file.
    `CREATE TABLE IF NOT EXISTS ${db}.${CATALOG_CLAIMS_TABLE} (id UInt32, kind String, service String, domain String, attempt Int32, ` +
      'claimed_ms Int64, node String) ENGINE = MergeTree ORDER BY id',
    `CREATE TABLE IF NOT EXISTS ${db}.${CATALOG_PRODUCTS_TABLE} (service String, domain String, product String, seen_ms Int64, node String) ` +
      'ENGINE = MergeTree ORDER BY (service, domain, product)',
    `CREATE TABLE IF NOT EXISTS ${db}.${CATALOG_NAMES_TABLE} (service String, name String, version Int64, node String) ENGINE = MergeTree ORDER BY service`,
  ];
}

/** Creates what is missing; safe when several nodes start at once. */
export const ensureCatalogTables = (conn: ClickHouseConnection): Promise<void> => runCreates(conn, catalogTableStatements(conn.database));

export interface ProductRow {
  service: string;
  domain: string;
  product: string;
}

export interface NameRow {
  service: string;
  name: string;
  version: number;
  node: string;
}

export interface CatalogRows {
  claims: Claim[];
  products: ProductRow[];
  names: NameRow[];
}

const CLAIM_COLUMNS = 'id, kind, service, domain, attempt';
const toClaims = (rows: unknown[][]): Claim[] =>
  rows.map(([id, kind, service, domain, attempt]) => ({
    id: Number(id),
    kind: kind === 'service' ? 'service' : 'domain',
    service: String(service),
    domain: String(domain),
    attempt: Number(attempt),
  }));

/** Row counts of the three tables: they only grow, so equal counts mean nothing new to read. */
export async function countCatalogRows(conn: ClickHouseConnection, options?: RequestOptions): Promise<string> {
  const db = conn.database;
  const rows = await conn.rows(
    `SELECT (SELECT count() FROM ${db}.${CATALOG_CLAIMS_TABLE}), (SELECT count() FROM ${db}.${CATALOG_PRODUCTS_TABLE}), ` +
      `(SELECT count() FROM ${db}.${CATALOG_NAMES_TABLE})`,
    options,
  );
  return (rows[0] ?? []).map(Number).join(',');
}

/** Everything the tables hold. */
export async function readCatalogRows(conn: ClickHouseConnection, options?: RequestOptions): Promise<CatalogRows> {
  const db = conn.database;
  const [claims, products, names] = await Promise.all([
    conn.rows(`SELECT DISTINCT ${CLAIM_COLUMNS} FROM ${db}.${CATALOG_CLAIMS_TABLE}`, options),
    conn.rows(`SELECT DISTINCT service, domain, product FROM ${db}.${CATALOG_PRODUCTS_TABLE}`, options),
    conn.rows(`SELECT DISTINCT service, name, version, node FROM ${db}.${CATALOG_NAMES_TABLE}`, options),
  ]);
  return {
    claims: toClaims(claims),
    products: products.map(([service, domain, product]) => ({ service: String(service), domain: String(domain), product: String(product) })),
    names: names.map(([service, name, version, node]) => ({ service: String(service), name: String(name), version: Number(version), node: String(node) })),
  };
}

const nameTuple = (c: { kind: string; service: string; domain: string }): string => `(${literal(c.kind)}, ${literal(c.service)}, ${literal(c.domain)})`;

/**
 * The claims of the candidate `ids`, and every claim of every id `names` hold a claim on: all a
 * node needs to settle those names (./catalog-ids.ts).
 */
export async function readClaimsAround(
  conn: ClickHouseConnection,
  ids: readonly number[],
  names: readonly { kind: string; service: string; domain: string }[],
  options?: RequestOptions,
): Promise<Claim[]> {
  const table = `${conn.database}.${CATALOG_CLAIMS_TABLE}`;
  const where: string[] = [];
  if (ids.length > 0) where.push(`id IN (${ids.map((id) => String(Math.trunc(id))).join(', ')})`);
  if (names.length > 0) where.push(`id IN (SELECT id FROM ${table} WHERE (kind, service, domain) IN (${names.map(nameTuple).join(', ')}))`);
  if (where.length === 0) return [];
  return toClaims(await conn.rows(`SELECT DISTINCT ${CLAIM_COLUMNS} FROM ${table} WHERE ${where.join(' OR ')}`, options));
}

/** Inserts claim rows in one request (one part: all of them land or none). */
export async function insertClaims(conn: ClickHouseConnection, claims: readonly Claim[], meta: { nowMs: number; node: string }, options?: RequestOptions): Promise<void> {
  if (claims.length === 0) return;
  const rows = claims.map((c) => ({ id: c.id, kind: c.kind, service: c.service, domain: c.domain, attempt: c.attempt, claimed_ms: Math.floor(meta.nowMs), node: meta.node }));
  await conn.insert(`${conn.database}.${CATALOG_CLAIMS_TABLE}`, rows, options);
}

export async function insertProducts(conn: ClickHouseConnection, products: readonly ProductRow[], meta: { nowMs: number; node: string }, options?: RequestOptions): Promise<void> {
  if (products.length === 0) return;
  const rows = products.map((p) => ({ ...p, seen_ms: Math.floor(meta.nowMs), node: meta.node }));
  await conn.insert(`${conn.database}.${CATALOG_PRODUCTS_TABLE}`, rows, options);
}

export async function insertName(conn: ClickHouseConnection, row: NameRow, options?: RequestOptions): Promise<void> {
  await conn.insert(`${conn.database}.${CATALOG_NAMES_TABLE}`, [{ ...row }], options);
}
