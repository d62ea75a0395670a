/**
 * A distribution read over deltas (the DuckDB 1 s blocks, the rollup buffer, a window's rows):
 * the rows of the query's kind inside its range and filters, their bucket counts added per
 * (time bucket, group) into a DistributionSums. The filters mean what the SQL stores' WHERE
 * means: a list restricts the key column of that name, when the kind has it.
 */
import { countersOf, deltaStrings, DIST_RECORD, RECORD_KEYS, visitRow, widthOf, type Delta } from '../model/delta.ts';
import type { DistributionSums } from '../model/distribution-sums.ts';
import type { DistributionQuery, RecordFilter } from './store.ts';

const FILTERS: readonly (readonly [keyof RecordFilter, string])[] = [
  ['services', 'service'],
  ['datacenters', 'datacenter'],
  ['domains', 'domain'],
  ['products', 'product'],
  ['backends', 'backend'],
];

const floorTo = (second: number, width: number): number => second - (((second % width) + width) % width);

export function addDeltaDistributions(sums: DistributionSums, deltas: readonly Delta[], query: DistributionQuery): void {
  const kind = DIST_RECORD[query.kind];
  const columns: readonly string[] = RECORD_KEYS[kind].key;
  const arity = columns.length;
  const width = widthOf(kind);
  const counters = countersOf(kind);
  const lo = counters + (query.ids?.from ?? 0);
  const hi = counters + (query.ids?.to ?? width);
  const groupAt = (query.groupBy ?? []).map((g) => columns.indexOf(g));
  if (groupAt.some((i) => i < 0)) throw new RangeError(`${query.kind} cannot be grouped by ${(query.groupBy ?? []).join(', ')}`);
  const filters = FILTERS.filter(([f, column]) => query.filter[f] !== undefined && columns.includes(column)).map(([f, column]) => [new Set(query.filter[f]), columns.indexOf(column)] as const);
  for (const delta of deltas) {
    const part = delta[kind];
    if (part.rows === 0) continue;
    const names = deltaStrings(delta);
    // Per string id: passes each filter (resolved once per delta).
    const masks = filters.map(([allowed]) => names.map((n) => allowed.has(n)));
    for (let i = 0; i < part.rows; i++) {
      const second = part.second[i] as number;
      if (second < query.from || second >= query.to) continue;
      const at = i * arity;
      let pass = true;
      for (let f = 0; f < filters.length && pass; f++) pass = (masks[f] as boolean[])[part.keys[at + (filters[f] as readonly [Set<string>, number])[1]] as number] === true;
      if (!pass) continue;
      const bucket = floorTo(second, query.bucketSeconds);
      const group = groupAt.map((k) => names[part.keys[at + k] as number] as string);
      // The buckets follow the counters (model/delta.ts).
      visitRow(part, i, width, (field, count) => {
        if (field >= lo && field < hi) sums.add(bucket, group, field - counters, count);
      });
    }
  }
}
