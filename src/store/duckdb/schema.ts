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

/** Whether `<kind>_<tier>` keeps the vector sparse, in one BLOB column `vec` (edge and origin at 1 s). */
export const isSparse = (kind: RecordKind, tier: Tier): boolean => tier === '1s' && kind !== 'dimension';

function createTable(kind: RecordKind, tier: Tier): string {
  const cols = ['bucket BIGINT NOT NULL', ...KEY_COLUMNS[kind].map((c) => `${ident(c)} VARCHAR NOT NULL`)];
  // The 1 s tier is the log the rollup tiers are rebuilt from after a crash: write_id says
  // which rows a rollup tier already holds (store_state.rolled_up_write_id).
  if (tier === '1s') cols.push('write_id BIGINT NOT NULL');
  if (isSparse(kind, tier)) {
    // ~15 of ~265 fields are set per record: one sparse BLOB costs a fraction of a row of columns
    // to write (docs/store.md has the measurements).
    cols.push('vec BLOB NOT NULL');
  } else {
    // DOUBLE: every counter is an integer below 2^53 or a sum of milliseconds; one type keeps
    // the vector layout a plain Float64Array end to end.
    cols.push(...VALUE_COLUMNS[kind].map((c) => `${ident(c)} DOUBLE NOT NULL`));
  }
  return `CREATE TABLE IF NOT EXISTS ${tableName(kind, tier)} (${cols.join(', ')})`;
}

/** Every statement that creates the schema; idempotent. */
export function schemaStatements(): string[] {
  const out: string[] = [];
  for (const tier of TIERS) for (const kind of RECORD_KINDS) out.push(createTable(kind, tier));
  out.push('CREATE TABLE IF NOT EXISTS published_lsn (second BIGINT PRIMARY KEY, lsn BIGINT NOT NULL)');
  out.push('CREATE TABLE IF NOT EXISTS store_state (name VARCHAR PRIMARY KEY, value BIGINT NOT NULL)');
  return out;
}

/**
 * A query that returns a row when the database holds the 1 s tier in the layout before the sparse
 * one (one DOUBLE column per field): the store refuses to open it rather than misread it.
 */
export const OLD_LAYOUT_PROBE = "SELECT 1 FROM duckdb_columns() WHERE table_name = 'edge_1s' AND column_name = 'requests'";

/** `SUM("f") AS "f"` for each value column: how reads and compaction fold delta rows. */
export const sumColumns = (kind: RecordKind): string =>
  VALUE_COLUMNS[kind].map((c) => `SUM(${ident(c)}) AS ${ident(c)}`).join(', ');

export const keyColumns = (kind: RecordKind): string => KEY_COLUMNS[kind].map(ident).join(', ');
