/**
 * Reads of a rollup tier see the rows in its table plus the deltas still buffered in memory
 * (rollup-buffer.ts), as Prometheus queries merge the head block with the persisted blocks. This
 * module picks the buffered rows a query covers and adds them into the SQL results; the filters
 * mirror sql.ts's whereOf exactly. The 1 s tier's reads use it on their decoded blocks too.
 */
import { addRowInto, deltaStrings, type Delta } from '../../model/delta.ts';
import { EDGE_FIELDS, edgeFieldIndex, ORIGIN_FIELDS } from '../../model/fields.ts';
import type { DimensionRecord, EdgeRecord, OriginRecord, RecordSet } from '../../model/record.ts';
import { TIER_SECONDS, type DimensionSumQuery, type DimensionSumRow, type RecordQuery, type SumQuery, type SumRow } from '../store.ts';
import { KEY_COLUMNS, type RecordKind } from './schema.ts';
import { compareBucketGroup } from '../../model/distribution-sums.ts';
import { FILTER_COLUMNS } from './sql.ts';
import { dimensionNameOf } from '../dimension-name.ts';

type Row = EdgeRecord | OriginRecord | DimensionRecord;

type KeyOf = (r: Row) => readonly string[];

const keysOf =
  (kind: RecordKind): KeyOf =>
  (r) =>
    KEY_COLUMNS[kind].map((c) => (r as unknown as Record<string, string>)[c] as string);

/**
 * The rows of `kind` in `deltas` a query on its tier covers, as records re-bucketed to the
 * tier's width (not summed: mergeRecords and the sum mergers add them up). Filters are resolved
 * once per delta to a mask over its string table, so rows outside them cost a lookup each and
 * are never materialized.
 */
export function bufferedFor<K extends RecordKind>(kind: K, deltas: readonly Delta[], query: RecordQuery): RecordSet[K] {
  const width = TIER_SECONDS[query.tier];
  const keyColumns = KEY_COLUMNS[kind];
  const arity = keyColumns.length;
  const filters = FILTER_COLUMNS.filter(([f, column]) => query.filter[f] !== undefined && keyColumns.includes(column)).map(
    ([f, column]) => [new Set(query.filter[f]), keyColumns.indexOf(column)] as const,
  );
  const out: Row[] = [];
  for (const d of deltas) {
    const part = d[kind];
    if (part.rows === 0) continue;
    const names = deltaStrings(d);
    const masks = filters.map(([allowed, k]) => [Uint8Array.from(names, (name) => (allowed.has(name) ? 1 : 0)), k] as const);
    for (let i = 0; i < part.rows; i++) {
      const second = part.second[i] as number;
      const bucket = second - (((second % width) + width) % width);
      if (!(bucket >= query.from && bucket < query.to)) continue;
      if (!masks.every(([mask, k]) => mask[part.keys[i * arity + k] as number] === 1)) continue;
      const key = (k: number): string => names[part.keys[i * arity + k] as number] as string;
      if (kind === 'dimension') {
        const pair = new Float64Array(2);
        addRowInto(part, i, pair);
        const dimension = dimensionNameOf(key(3));
        out.push({ second: bucket, service: key(0), domain: key(1), product: key(2), dimension, value: key(4), count: pair[0] as number, bytes: pair[1] as number });
      } else if (kind === 'edge') {
        const values = new Float64Array(EDGE_FIELDS.length);
        addRowInto(part, i, values);
        out.push({ second: bucket, service: key(0), datacenter: key(1), domain: key(2), product: key(3), values });
      } else {
        const values = new Float64Array(ORIGIN_FIELDS.length);
        addRowInto(part, i, values);
        out.push({ second: bucket, service: key(0), datacenter: key(1), backend: key(2), values });
      }
    }
  }
  return out as RecordSet[K];
}

function compareRecords(keyOf: KeyOf): (a: Row, b: Row) => number {
  return (a, b) => compareBucketGroup({ bucket: a.second, group: keyOf(a) }, { bucket: b.second, group: keyOf(b) });
}

/** `stored` (summed per key, ordered) plus `extra`, summed per key and ordered the same way. */
export function mergeRecords<R extends Row>(kind: RecordKind, stored: R[], extra: readonly R[]): R[] {
  if (extra.length === 0) return stored;
  const keyOf = keysOf(kind);
  const byKey = new Map<string, R>();
  for (const r of stored) byKey.set(JSON.stringify([r.second, keyOf(r)]), r);
  for (const r of extra) {
    const key = JSON.stringify([r.second, keyOf(r)]);
    const held = byKey.get(key);
    if (held === undefined) byKey.set(key, r);
    else if ('values' in held && 'values' in r) for (let i = 0; i < held.values.length; i++) held.values[i] = (held.values[i] as number) + (r.values[i] as number);
    else if (!('values' in held) && !('values' in r)) {
      held.count += r.count;
      held.bytes += r.bytes;
    }
  }
  return [...byKey.values()].sort(compareRecords(keyOf));
}

/** sumEdge rows plus the buffered edge records' chosen fields, per bucket and group. */
export function mergeEdgeSums(query: SumQuery, stored: SumRow[], extra: readonly EdgeRecord[]): SumRow[] {
  if (extra.length === 0) return stored;
  const groupBy = query.groupBy ?? [];
  const fields = query.fields.map((f) => edgeFieldIndex.get(f) ?? -1);
  const byKey = new Map<string, { bucket: number; group: string[]; values: number[] }>();
  for (const row of stored) byKey.set(JSON.stringify([row.bucket, row.group]), { bucket: row.bucket, group: [...row.group], values: [...row.values] });
  for (const r of extra) {
    const bucket = r.second - (r.second % query.bucketSeconds);
    const group = groupBy.map((g) => r[g]);
    const key = JSON.stringify([bucket, group]);
    let row = byKey.get(key);
    if (row === undefined) byKey.set(key, (row = { bucket, group, values: fields.map(() => 0) }));
    for (let f = 0; f < fields.length; f++) row.values[f] = (row.values[f] as number) + (r.values[fields[f] as number] as number);
  }
  return [...byKey.values()].sort(compareBucketGroup);
}

/** sumDimension rows plus the buffered dimension records of the asked dimension (and values). */
export function mergeDimensionSums(query: DimensionSumQuery, stored: DimensionSumRow[], extra: readonly DimensionRecord[]): DimensionSumRow[] {
  const values = query.values === undefined ? undefined : new Set(query.values);
  const mine = extra.filter((r) => r.dimension === query.dimension && (values === undefined || values.has(r.value)));
  if (mine.length === 0) return stored;
  const byKey = new Map<string, DimensionSumRow>();
  for (const row of stored) byKey.set(JSON.stringify([row.bucket, row.value]), { ...row });
  for (const r of mine) {
    const bucket = r.second - (r.second % query.bucketSeconds);
    const key = JSON.stringify([bucket, r.value]);
    const held = byKey.get(key);
    if (held === undefined) byKey.set(key, { bucket, value: r.value, count: r.count, bytes: r.bytes });
    else byKey.set(key, { ...held, count: held.count + r.count, bytes: held.bytes + r.bytes });
  }
  return [...byKey.values()].sort((a, b) => compareBucketGroup({ bucket: a.bucket, group: [a.value] }, { bucket: b.bucket, group: [b.value] }));
}
