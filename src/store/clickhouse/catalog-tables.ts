/**
 * The catalog tables on the first shard (docs/store.md, "Catalog"): append-only, since 18.16 has
 * no DELETE, UPDATE or transactions to rely on (FACTS.md), and not sharded: every node reads and
 * writes them there, as it does the token tables. `catalog_claims` gets one row per claim of an
 * id by a name (./catalog-ids.ts settles who holds what), `catalog_products` one per product
 * seen with a domain, `catalog_service_names` one per rename (the highest version wins). A row
 * sent twice is read once: every read is DISTINCT over what identifies a row. Each row carries
 * the server's time of its insert (`inserted`, MATERIALIZED: set by the server, whatever the
 * writer's clock), so a node reads again only the rows inserted since its last read.
 */
import type { Claim } from './catalog-ids.ts';
import { literal, type ClickHouseConnection, type RequestOptions } from './client.ts';
import { runCreates } from './schema.ts';

export const CATALOG_CLAIMS_TABLE = 'catalog_claims';
export const CATALOG_PRODUCTS_TABLE = 'catalog_products';
export const CATALOG_NAMES_TABLE = 'catalog_service_names';

/** MATERIALIZED, not DEFAULT: 18.16 fills a column a JSONEachRow insert omits with 0, not its DEFAULT. */
const INSERTED = 'inserted DateTime MATERIALIZED now()';
const TABLES = [CATALOG_CLAIMS_TABLE, CATALOG_PRODUCTS_TABLE, CATALOG_NAMES_TABLE] as const;

/**
 * Seconds before the newest row of the last read that the next read asks for again: `inserted`
 * is taken when an insert starts, and the insert may commit (and become visible) a little later.
 */
export const REREAD_SECONDS = 60;

export function catalogTableStatements(db: string): string[] {
  return [
    `CREATE DATABASE IF NOT EXISTS ${db}`,
    // kind is 'service' (domain '') or 'domain'; attempt -1 marks an id adopted from a node's file.
    `CREATE TABLE IF NOT EXISTS ${db}.${CATALOG_CLAIMS_TABLE} (id UInt32, kind String, service String, domain String, attempt Int32, ` +
      `claimed_ms Int64, node String, ${INSERTED}) ENGINE = MergeTree ORDER BY id`,
    `CREATE TABLE IF NOT EXISTS ${db}.${CATALOG_PRODUCTS_TABLE} (service String, domain String, product String, seen_ms Int64, node String, ${INSERTED}) ` +
      'ENGINE = MergeTree ORDER BY (service, domain, product)',
    `CREATE TABLE IF NOT EXISTS ${db}.${CATALOG_NAMES_TABLE} (service String, name String, version Int64, node String, ${INSERTED}) ENGINE = MergeTree ORDER BY service`,
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

/** Where the tables stand: their row counts (they only grow) and the newest insert second. */
export interface CatalogWatermark {
  /** The three counts; equal counts mean nothing new to read. */
  counts: string;
  /** Server time (epoch seconds) of the newest row of any of them; 0 when empty. */
  newestSecond: number;
}

export async function readCatalogWatermark(conn: ClickHouseConnection, options?: RequestOptions): Promise<CatalogWatermark> {
  const db = conn.database;
  const rows = await conn.rows(`SELECT ${TABLES.map((t) => `(SELECT count() FROM ${db}.${t}), (SELECT toUInt32(max(inserted)) FROM ${db}.${t})`).join(', ')}`, options);
  const values = (rows[0] ?? []).map(Number);
  return { counts: values.filter((_, i) => i % 2 === 0).join(','), newestSecond: Math.max(0, ...values.filter((_, i) => i % 2 === 1)) };
}

/** The rows inserted at or after `sinceSecond` (server time), or every row when it is undefined. */
export async function readCatalogRows(conn: ClickHouseConnection, sinceSecond: number | undefined, options?: RequestOptions): Promise<CatalogRows> {
  const db = conn.database;
  const where = sinceSecond === undefined ? '' : ` WHERE toUInt32(inserted) >= ${Math.max(0, Math.floor(sinceSecond))}`;
  const [claims, products, names] = await Promise.all([
    conn.rows(`SELECT DISTINCT ${CLAIM_COLUMNS} FROM ${db}.${CATALOG_CLAIMS_TABLE}${where}`, options),
    conn.rows(`SELECT DISTINCT service, domain, product FROM ${db}.${CATALOG_PRODUCTS_TABLE}${where}`, options),
    conn.rows(`SELECT DISTINCT service, name, version, node FROM ${db}.${CATALOG_NAMES_TABLE}${where}`, options),
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

export async function insertNames(conn: ClickHouseConnection, rows: readonly NameRow[], options?: RequestOptions): Promise<void> {
  if (rows.length === 0) return;
  await conn.insert(`${conn.database}.${CATALOG_NAMES_TABLE}`, rows.map((r) => ({ ...r })), options);
}
