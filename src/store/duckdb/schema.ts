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

/** The table of a kind and tier, unquoted (what DuckDB's Appender takes). */
export const rawTableName = (kind: RecordKind, tier: Tier): string => `${kind}_${tier}`;
/** The table of a kind and tier, quoted for SQL. */
export const tableName = (kind: RecordKind, tier: Tier): string => ident(rawTableName(kind, tier));

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

/**
 * The record kinds whose rollup rows keep their fields sparse: two aligned lists per row, the
 * indexes (into VALUE_COLUMNS) of its non-zero fields and their values (ascending as a flush
 * writes them; compaction may reorder them, and no reader relies on the order). An edge row
 * has ~265 fields of which ~15 are non-zero: a DOUBLE column per field made every rollup flush
 * copy, compress and checkpoint 265 values a key (the biggest CPU cost of high-cardinality
 * ingest), where the lists hold 15. SQL still sums them (list_position / UNNEST). Dimension rows
 * have two fields and stay a column each.
 */
export type SparseKind = 'edge' | 'origin';
export const isSparseKind = (kind: RecordKind): kind is SparseKind => kind !== 'dimension';
export const FIELD_IDS = 'field_ids';
export const FIELD_VALUES = 'field_values';

/** The tiers kept as one table per record kind (the 1 s tier is blocks). */
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

/** Where rollup flushes staged their minute rows before they summed every tier themselves; dropped on open. */
const formerStagingTable = (kind: RecordKind): string => `${kind}_rollup_staging`;

function createTable(kind: RecordKind, tier: Tier, name = tableName(kind, tier)): string {
  const cols = ['bucket BIGINT NOT NULL', ...KEY_COLUMNS[kind].map((c) => `${ident(c)} VARCHAR NOT NULL`)];
  // DOUBLE: every counter is an integer below 2^53 or a sum of milliseconds; one type keeps
  // the vector layout a plain Float64Array end to end.
  if (isSparseKind(kind)) cols.push(`${ident(FIELD_IDS)} UINTEGER[] NOT NULL`, `${ident(FIELD_VALUES)} DOUBLE[] NOT NULL`);
  else cols.push(...VALUE_COLUMNS[kind].map((c) => `${ident(c)} DOUBLE NOT NULL`));
  return `CREATE TABLE IF NOT EXISTS ${name} (${cols.join(', ')})`;
}

/**
 * Statements that turn a sparse kind's rollup table of the earlier layout (a DOUBLE column per
 * field) into the list layout, keeping every row; run in one transaction when `denseLayoutProbe`
 * finds the old table.
 */
export function sparseMigration(kind: SparseKind, tier: Tier): string[] {
  const table = tableName(kind, tier);
  const next = ident(`${rawTableName(kind, tier)}_sparse`);
  const values = `[${VALUE_COLUMNS[kind].map(ident).join(', ')}]`;
  return [
    createTable(kind, tier, next),
    `INSERT INTO ${next} SELECT bucket, ${keyColumns(kind)}, ` +
      `CAST(list_filter(range(${VALUE_COLUMNS[kind].length}), lambda i: vals[i + 1] <> 0) AS UINTEGER[]), list_filter(vals, lambda x: x <> 0) ` +
      `FROM (SELECT bucket, ${keyColumns(kind)}, ${values} AS vals FROM ${table})`,
    `DROP TABLE ${table}`,
    `ALTER TABLE ${next} RENAME TO ${table}`,
  ];
}

/** Returns a row when `<kind>_<tier>` exists in the layout with a column per field. */
export const denseLayoutProbe = (kind: SparseKind, tier: Tier): string =>
  `SELECT 1 FROM duckdb_columns() WHERE table_name = '${rawTableName(kind, tier)}' AND column_name = '${VALUE_COLUMNS[kind][0] as string}'`;

/**
 * Returns a row when `<kind>_<tier>` still holds its field ids as USMALLINT[] (before the
 * unique-client cells took edge field ids past 65,535); widenFieldIds turns it into UINTEGER[].
 */
export const narrowFieldIdsProbe = (kind: SparseKind, tier: Tier): string =>
  `SELECT 1 FROM duckdb_columns() WHERE table_name = '${rawTableName(kind, tier)}' AND column_name = '${FIELD_IDS}' AND data_type = 'USMALLINT[]'`;

/** Widens a rollup table's field ids to UINTEGER[] in place, every row kept. */
export const widenFieldIds = (kind: SparseKind, tier: Tier): string =>
  `ALTER TABLE ${tableName(kind, tier)} ALTER ${ident(FIELD_IDS)} TYPE UINTEGER[]`;

/** Every statement that creates the schema; idempotent. */
export function schemaStatements(): string[] {
  const out: string[] = [];
  for (const tier of ROLLUP_TIERS) for (const kind of RECORD_KINDS) out.push(createTable(kind, tier));
  for (const kind of RECORD_KINDS) out.push(`DROP TABLE IF EXISTS ${ident(formerStagingTable(kind))}`);
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

/** `SUM("f") AS "f"` for each value column of a dense kind: how reads and compaction fold its delta rows. */
export const sumColumns = (kind: RecordKind): string =>
  VALUE_COLUMNS[kind].map((c) => `SUM(${ident(c)}) AS ${ident(c)}`).join(', ');

/**
 * The rows of a sparse kind's table matching `where`, summed per (bucket, key, field) in long
 * form: `bucket, <keys>, fid, s`. How reads and compaction fold its delta rows. A key whose rows
 * have no non-zero field still has a row, with `fid` and `s` NULL (UNNEST of an empty list
 * yields nothing, and the key would vanish where the other tiers keep it with zeros).
 */
export const sparseFieldSums = (kind: SparseKind, tier: Tier, where: string): string => {
  const ids = ident(FIELD_IDS);
  const values = ident(FIELD_VALUES);
  return (
    `SELECT bucket, ${keyColumns(kind)}, fid, SUM(val) AS s FROM (` +
    `SELECT bucket, ${keyColumns(kind)}, UNNEST(CASE WHEN len(${ids}) = 0 THEN [NULL::UINTEGER] ELSE ${ids} END) AS fid, ` +
    `UNNEST(CASE WHEN len(${values}) = 0 THEN [NULL::DOUBLE] ELSE ${values} END) AS val FROM ${tableName(kind, tier)} WHERE ${where}` +
    `) GROUP BY bucket, ${keyColumns(kind)}, fid`
  );
};

/** `SUM` of one field of a sparse kind's rows (0 where no row has it). */
export const sparseFieldSum = (kind: SparseKind, field: string): string => {
  const index = VALUE_COLUMNS[kind].indexOf(field);
  if (index < 0) throw new Error(`unknown ${kind} field ${JSON.stringify(field)}`);
  return `coalesce(SUM(list_extract(${ident(FIELD_VALUES)}, list_position(${ident(FIELD_IDS)}, CAST(${index} AS UINTEGER)))), 0)`;
};

export const keyColumns = (kind: RecordKind): string => KEY_COLUMNS[kind].map(ident).join(', ');
