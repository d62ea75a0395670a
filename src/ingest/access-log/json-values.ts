/**
 * JSON values of a log line put into event fields of their type: numbers may come as numeric
 * strings, booleans as "true"/"false", strings as numbers; null is absent. Shared by the Fastly
 * and the mapped JSON-lines formats.
 */
import { EVENT_FIELDS, type EventField, type LogRecord } from './log-record.ts';
import { parseIsoTime } from './log-time.ts';

const show = (v: unknown): string => {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 64 ? `${s.slice(0, 64)}...` : s;
};

/** Sets `field` from `value`; undefined, or why the value cannot be that field. `key` names the source for messages. */
export function setFromJson(rec: LogRecord, field: EventField, value: unknown, key: string, scale = 1): string | undefined {
  if (value === null || value === undefined) return undefined;
  const type = EVENT_FIELDS[field];
  if (field === 'timestamp' && typeof value === 'string' && !/^\d+(\.\d+)?$/.test(value)) {
    const t = parseIsoTime(value);
    if (Number.isNaN(t)) return `${key}: ${show(value)} is not a date-time with a zone or Unix seconds`;
    rec.set(field, t);
    return undefined;
  }
  if (type === 'number') {
    const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
    if (!Number.isFinite(n)) return `${key}: expected a number for ${field}, got ${show(value)}`;
    // Scaled values are rounded to the microsecond (ms fields) so every format gives the same number.
    rec.set(field, scale === 1 ? n : Math.round(n * scale * 1e6) / 1e6);
    return undefined;
  }
  if (type === 'boolean') {
    if (value === true || value === 'true') rec.set(field, true);
    else if (value === false || value === 'false') rec.set(field, false);
    else return `${key}: expected true or false for ${field}, got ${show(value)}`;
    return undefined;
  }
  if (typeof value === 'string') rec.set(field, value);
  else if (typeof value === 'number' && Number.isFinite(value)) rec.set(field, String(value));
  else return `${key}: expected a string for ${field}, got ${show(value)}`;
  return undefined;
}

/** JSON.parse of one line into an object, or the reason it is not one. */
export function parseJsonObject(line: string): Record<string, unknown> | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return `not valid JSON: ${message.length > 120 ? `${message.slice(0, 120)}...` : message}`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return `must be a JSON object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`}`;
  }
  return value as Record<string, unknown>;
}
