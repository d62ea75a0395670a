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

function createTable(kind: RecordKind, tier: Tier): string {
  const cols = [
    'bucket BIGINT NOT NULL',
    ...KEY_COLUMNS[kind].map((c) => `${ident(c)} VARCHAR NOT NULL`),
    // DOUBLE: every counter is an integer below 2^53 or a sum of milliseconds; one type keeps
    // the vector layout a plain Float64Array end to end.
    ...VALUE_COLUMNS[kind].map((c) => `${ident(c)} DOUBLE NOT NULL`),
  ];
  return `CREATE TABLE IF NOT EXISTS ${tableName(kind, tier)} (${cols.join(', ')})`;
}

/** Every statement that creates the schema; idempotent. */
export function schemaStatements(): string[] {
  const out: string[] = [];
  for (const tier of TIERS) for (const kind of RECORD_KINDS) out.push(createTable(kind, tier));
  out.push('CREATE TABLE IF NOT EXISTS published_lsn (second BIGINT PRIMARY KEY, lsn BIGINT NOT NULL)');
  return out;
}

/** `SUM("f") AS "f"` for each value column: how reads and compaction fold delta rows. */
export const sumColumns = (kind: RecordKind): string =>
  VALUE_COLUMNS[kind].map((c) => `SUM(${ident(c)}) AS ${ident(c)}`).join(', ');

export const keyColumns = (kind: RecordKind): string => KEY_COLUMNS[kind].map(ident).join(', ');
