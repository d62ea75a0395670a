/**
 * Record builders for tests and benchmarks: a vector from the few fields a case cares about.
 */
import { EDGE_FIELDS, edgeFieldIndex, ORIGIN_FIELDS, originFieldIndex } from '../model/fields.ts';
import type { DimensionName, DimensionRecord, EdgeRecord, OriginRecord } from '../model/record.ts';

const vector = (fields: readonly string[], index: ReadonlyMap<string, number>, set: Record<string, number>): Float64Array => {
  const v = new Float64Array(fields.length);
  for (const [name, value] of Object.entries(set)) {
    const i = index.get(name);
    if (i === undefined) throw new RangeError(`unknown field ${name}`);
    v[i] = value;
  }
  return v;
};

export const edgeRecord = (second: number, service: string, set: Record<string, number>, dc = 'FRA', domain = 'a.example', product = 'edge_application'): EdgeRecord => ({
  second,
  service,
  datacenter: dc,
  domain,
  product,
  values: vector(EDGE_FIELDS, edgeFieldIndex, set),
});

export const originRecord = (second: number, service: string, set: Record<string, number>, dc = 'FRA', backend = 'b1'): OriginRecord => ({
  second,
  service,
  datacenter: dc,
  backend,
  values: vector(ORIGIN_FIELDS, originFieldIndex, set),
});

export const dimensionRecord = (second: number, service: string, dimension: DimensionName, value: string, count: number, bytes: number): DimensionRecord => ({
  second,
  service,
  domain: 'a.example',
  product: 'edge_application',
  dimension,
  value,
  count,
  bytes,
});

