/**
 * An EDGE_FIELDS vector as the native API shows it: the asked fields (stored or derived), or
 * every non-zero stored field plus the derived ones when none were asked (sparse, like Fastly's
 * records: a missing field is 0).
 */
import { derive } from '../../model/derived-fields.ts';
import { EDGE_PERCENTILE_NAMES } from '../../model/distributions.ts';
import { EDGE_FIELDS, edgeFieldIndex } from '../../model/fields.ts';
import { Errors, RtmError } from '../../http/errors.ts';

const DERIVED = ['bandwidth', 'edge_hit_ratio', 'origin_offload'] as const;
const PERCENTILE_INDEX = new Map(EDGE_PERCENTILE_NAMES.map((n, i) => [n, i]));

/** `fields=a,b` checked against the stored and derived names; undefined when not given. */
export function parseStreamFields(raw: string | undefined): readonly string[] | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const names = raw.split(',').map((f) => f.trim()).filter(Boolean);
  for (const name of names) {
    if (!edgeFieldIndex.has(name) && !(DERIVED as readonly string[]).includes(name) && !PERCENTILE_INDEX.has(name)) {
      throw new RtmError(Errors.REQUEST_BAD_PARAM, `fields: unknown field "${name}" (see docs/api-native.md)`);
    }
  }
  return names;
}

/**
 * `pct`: the group's percentile fields (EDGE_PERCENTILE_NAMES order, NaN = nothing counted), shown
 * like the other fields; a percentile with nothing counted is left out.
 */
export function renderVector(v: Float64Array, fields: readonly string[] | undefined, pct?: Float64Array): Record<string, number> {
  const d = derive(v);
  const derived: Record<string, number | undefined> = { bandwidth: d.bandwidth, edge_hit_ratio: d.edgeHitRatio, origin_offload: d.originOffload };
  const out: Record<string, number> = {};
  if (fields === undefined) {
    for (let i = 0; i < EDGE_FIELDS.length; i++) if (v[i]) out[EDGE_FIELDS[i] as string] = v[i] as number;
    for (const name of DERIVED) if (derived[name] !== undefined) out[name] = derived[name];
    if (pct !== undefined) {
      EDGE_PERCENTILE_NAMES.forEach((name, k) => {
        if (!Number.isNaN(pct[k])) out[name] = pct[k] as number;
      });
    }
    return out;
  }
  for (const f of fields) {
    const i = edgeFieldIndex.get(f);
    const p = PERCENTILE_INDEX.get(f);
    const value = i !== undefined ? v[i] : p !== undefined ? (pct === undefined || Number.isNaN(pct[p]) ? undefined : pct[p]) : derived[f];
    // A ratio with nothing to divide by is left out (events.md).
    if (value !== undefined) out[f] = value;
  }
  return out;
}
