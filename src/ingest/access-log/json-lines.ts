/**
 * JSON lines of any shape, mapped to event fields by a small mapping file (docs/import.md):
 *
 *   { "fields": { "timestamp": "ts", "datacenter": "pop", "time_ms": { "from": "ttfb_s", "scale": 1000 },
 *                 "cache": { "from": "cache", "values": { "HIT": "hit", "MISS": "miss" } },
 *                 "domain": "request.host" } }
 *
 * A field maps from a key (dotted for nested objects) with an optional `scale` (numbers) and
 * `values` table (strings). An event field the mapping does not name is read from the key of
 * the same name, so lines already in the events.md format need no mapping at all.
 */
import { applyDefaults, type LineDefaults, type LineParser } from './line-parser.ts';
import { EVENT_FIELDS, FIELD_LIST, isEventField, type EventField, type LogRecord } from './log-record.ts';
import { parseJsonObject, setFromJson } from './json-values.ts';

interface FieldRule {
  field: EventField;
  key: string;
  path: readonly string[];
  scale: number;
  values: Readonly<Record<string, unknown>> | undefined;
}

export interface JsonMapping {
  fields?: Record<string, string | { from: string; scale?: number; values?: Record<string, unknown> }>;
}

/** Checks a mapping file's content; throws with the reason it cannot be used. */
export function compileMapping(mapping: unknown): FieldRule[] {
  const fields = (mapping as JsonMapping | null)?.fields ?? {};
  if (typeof mapping !== 'object' || mapping === null || typeof fields !== 'object' || fields === null) {
    throw new Error('the mapping must be an object {"fields": {"<event field>": "<key>" | {"from": "<key>", "scale": n, "values": {...}}}}');
  }
  for (const name of Object.keys(fields)) {
    if (!isEventField(name)) throw new Error(`mapping: "${name}" is not an event field (events.md section 1: ${FIELD_LIST.join(', ')})`);
  }
  return FIELD_LIST.map((field) => {
    const spec = (fields as Record<string, unknown>)[field];
    let key = field as string;
    let scale = 1;
    let values: Record<string, unknown> | undefined;
    if (typeof spec === 'string') key = spec;
    else if (spec !== undefined) {
      const s = spec as { from?: unknown; scale?: unknown; values?: unknown };
      if (typeof s.from !== 'string') throw new Error(`mapping: ${field}.from must be the name of a key`);
      key = s.from;
      if (s.scale !== undefined) {
        if (typeof s.scale !== 'number' || !Number.isFinite(s.scale) || EVENT_FIELDS[field] !== 'number') throw new Error(`mapping: ${field}.scale must be a number, on a number field`);
        scale = s.scale;
      }
      if (s.values !== undefined) {
        if (typeof s.values !== 'object' || s.values === null) throw new Error(`mapping: ${field}.values must be an object`);
        values = s.values as Record<string, unknown>;
      }
    }
    return { field, key, path: key.split('.'), scale, values };
  });
}

function lookup(obj: Record<string, unknown>, rule: FieldRule): unknown {
  const direct = obj[rule.key];
  if (direct !== undefined || rule.path.length === 1) return direct;
  let v: unknown = obj;
  for (const part of rule.path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

export function createJsonLinesParser(defaults: LineDefaults, mapping: unknown = {}): LineParser {
  const rules = compileMapping(mapping);
  return {
    parse(line: string, rec: LogRecord) {
      rec.reset();
      const obj = parseJsonObject(line);
      if (typeof obj === 'string') return obj;
      for (const rule of rules) {
        let value = lookup(obj, rule);
        if (value === undefined) continue;
        if (rule.values !== undefined && typeof value === 'string' && Object.hasOwn(rule.values, value)) value = rule.values[value];
        const reason = setFromJson(rec, rule.field, value, rule.key, rule.scale);
        if (reason !== undefined) return reason;
      }
      applyDefaults(rec, defaults);
      return undefined;
    },
  };
}
