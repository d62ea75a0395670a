/**
 * The DuckDB tables of the metric store: one edge, origin and dimension table per tier, plus
 * `published_lsn`. Column names are the EDGE_FIELDS / ORIGIN_FIELDS constants; they are checked
 * against a strict pattern before they reach SQL, so no untrusted text is ever interpolated.
 */
import { EDGE_FIELDS, ORIGIN_FIELDS } from '../../model/fields.ts';
import { TIERS, type Tier } from '../store.ts';

export type RecordKind = 'edge' | 'origin' | 'dimension';

/** Quotes a constant identifier after checking it is a plain snake_case name. */
export function ident(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a safe SQL identifier: ${JSON.stringify(name)}`);
  return `"${name}"`;
}

export const tableName = (kind: RecordKind, tier: Tier): string => ident(`${kind}_${tier}`);

/** Key columns of each table after `bucket`, in table order. */
export const KEY_COLUMNS: Readonly<Record<RecordKind, readonly string[]>> = {
  edge: ['service', 'datacenter', 'domain', 'product'],
  origin: ['service', 'datacenter', 'backend'],
  dimension: ['service', 'domain', 'product', 'dimension', 'value'],
};

/** Additive columns of each table, in table order. */
export const VALUE_COLUMNS: Readonly<Record<RecordKind, readonly string[]>> = {
  edge: EDGE_FIELDS,
  origin: ORIGIN_FIELDS,
  dimension: ['count', 'bytes'],
};

export const RECORD_KINDS: readonly RecordKind[] = ['edge', 'origin', 'dimension'];

/** The tiers kept as one table per record kind with a DOUBLE column per field. */
export const ROLLUP_TIERS: readonly Tier[] = TIERS.filter((t) => t !== '1s');

/**
 * The 1 s tier: one row per (second, service) and store write, holding that service's rows of
 * the second as an encoded Delta (delta-bytes.ts) - every record kind, sparse vectors, its own
 * string table. A row per key cost the appender a row per key (4.1M rows for 5M events of the
 * peers' stream); a block per service costs one. SQL selects blocks by second and service; JS
 * decodes them and filters the other keys (second-tier.ts). write_id says which writes a rollup
 * tier already holds (store_state.rolled_up_write_id).
 */
export const SECOND_BLOCKS_TABLE = 'second_blocks';
export const SECOND_BLOCKS = ident(SECOND_BLOCKS_TABLE);

/** The tables of a tier, for the jobs that treat every table of a tier alike (expiry). */
export const tablesOf = (tier: Tier): string[] => (tier === '1s' ? [SECOND_BLOCKS] : RECORD_KINDS.map((k) => tableName(k, tier)));

/**
 * Where a rollup flush stages its minute rows (emptied in the same transaction): the hour and
 * day rows are then summed from them in SQL, so the Appender, whose work runs on the JS thread,
 * writes each row once instead of once per rollup tier.
 */
export const stagingTable = (kind: RecordKind): string => `${kind}_rollup_staging`;

function createTable(kind: RecordKind, tier: Tier, name = tableName(kind, tier)): string {
  const cols = ['bucket BIGINT NOT NULL', ...KEY_COLUMNS[kind].map((c) => `${ident(c)} VARCHAR NOT NULL`)];
  // DOUBLE: every counter is an integer below 2^53 or a sum of milliseconds; one type keeps
  // the vector layout a plain Float64Array end to end.
  cols.push(...VALUE_COLUMNS[kind].map((c) => `${ident(c)} DOUBLE NOT NULL`));
  return `CREATE TABLE IF NOT EXISTS ${name} (${cols.join(', ')})`;
}

/** Every statement that creates the schema; idempotent. */
export function schemaStatements(): string[] {
  const out: string[] = [];
  for (const tier of ROLLUP_TIERS) for (const kind of RECORD_KINDS) out.push(createTable(kind, tier));
  for (const kind of RECORD_KINDS) out.push(createTable(kind, '1m', ident(stagingTable(kind))));
  out.push(`CREATE TABLE IF NOT EXISTS ${SECOND_BLOCKS} (bucket BIGINT NOT NULL, service VARCHAR NOT NULL, write_id BIGINT NOT NULL, block BLOB NOT NULL)`);
  out.push('CREATE TABLE IF NOT EXISTS published_lsn (second BIGINT PRIMARY KEY, lsn BIGINT NOT NULL)');
  out.push('CREATE TABLE IF NOT EXISTS store_state (name VARCHAR PRIMARY KEY, value BIGINT NOT NULL)');
  return out;
}

/**
 * A query that returns a row when the database holds the 1 s tier in a layout before the block
 * one (a table per record kind): the store refuses to open it rather than misread it.
 */
export const OLD_LAYOUT_PROBE = "SELECT 1 FROM duckdb_tables() WHERE table_name IN ('edge_1s', 'origin_1s', 'dimension_1s')";

/** `SUM("f") AS "f"` for each value column: how reads and compaction fold delta rows. */
export const sumColumns = (kind: RecordKind): string =>
  VALUE_COLUMNS[kind].map((c) => `SUM(${ident(c)}) AS ${ident(c)}`).join(', ');

export const keyColumns = (kind: RecordKind): string => KEY_COLUMNS[kind].map(ident).join(', ');
