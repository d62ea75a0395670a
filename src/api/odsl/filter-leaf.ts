/**
 * Filter leaves with values coerced to the field's type, shared by both `_filter` forms so that
 * in-memory and SQL evaluation compare like with like.
 */
import type { FilterNode, FilterValue } from '../../model/usage.ts';
import { USAGE_FILTER_FIELDS } from '../../model/usage.ts';

/** Most comparisons (and `$in` values) in one filter. */
export const MAX_FILTER_TERMS = 512;

export type { CmpOp } from '../../model/usage.ts';
import type { CmpOp } from '../../model/usage.ts';
export type FieldType = 'string' | 'number' | 'time';

/** The usage entity's filterable fields and their types (timestamp: epoch ms, accepts ISO-8601). */
export const USAGE_FIELD_TYPES: Readonly<Record<string, FieldType>> = Object.freeze(
  Object.fromEntries(
    USAGE_FILTER_FIELDS.map((f): [string, FieldType] => [
      f,
      f === 'timestamp' ? 'time' : ['value', 'duration', 'httpstatus', 'responseSize'].includes(f) ? 'number' : 'string',
    ]),
  ),
);

/** What an operator (admin token on all services) may also filter and sort entities by: their owner. */
export const OPERATOR_USAGE_FIELD_TYPES: Readonly<Record<string, FieldType>> = Object.freeze({ ...USAGE_FIELD_TYPES, owner: 'string' });

/** Thrown inside the parsers only; parseEntityFilter turns it into a value. */
export class FilterError extends Error {}

/** Builds leaves with the value coerced to the field's type; shared by both forms. */
export class LeafBuilder {
  terms = 0;
  constructor(private readonly fields: Readonly<Record<string, FieldType>>) {}

  private typeOf(field: string): FieldType {
    const type = Object.hasOwn(this.fields, field) ? this.fields[field] : undefined;
    if (!type) throw new FilterError(`unknown field "${field}" (known: ${Object.keys(this.fields).join(', ')})`);
    return type;
  }

  private count(n: number): void {
    this.terms += n;
    if (this.terms > MAX_FILTER_TERMS) throw new FilterError(`too many terms (at most ${MAX_FILTER_TERMS})`);
  }

  coerce(field: string, raw: unknown): FilterValue {
    const type = this.typeOf(field);
    if (type === 'string') {
      if (typeof raw === 'string') return raw;
      if (typeof raw === 'number' && Number.isFinite(raw)) return String(raw);
      if (typeof raw === 'boolean') return String(raw);
      throw new FilterError(`${field} expects a string, got ${describe(raw)}`);
    }
    let n: number | undefined;
    if (typeof raw === 'number') n = raw;
    else if (typeof raw === 'string' && raw.trim() !== '' && Number.isFinite(Number(raw))) n = Number(raw);
    else if (type === 'time' && typeof raw === 'string') n = parseIsoTime(raw);
    if (n === undefined || !Number.isFinite(n)) {
      throw new FilterError(`${field} expects ${type === 'time' ? 'an ISO-8601 time or epoch ms' : 'a number'}, got ${describe(raw)}`);
    }
    return n;
  }

  leaf(op: CmpOp, field: string, raw: unknown): FilterNode {
    this.count(1);
    return { op, field, value: this.coerce(field, raw) };
  }

  list(op: 'in' | 'nin', field: string, raw: unknown): FilterNode {
    if (!Array.isArray(raw)) throw new FilterError(`$${op} of ${field} expects an array`);
    this.count(Math.max(1, raw.length));
    return { op, field, values: raw.map((v) => this.coerce(field, v)) };
  }
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  return typeof v === 'object' ? 'an object' : String(v);
}

/** ISO-8601 date or date-time (UTC when no offset is given); undefined when not one. */
export function parseIsoTime(text: string): number | undefined {
  if (!/^\d{4}-\d{2}(-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?)?$/i.test(text)) return undefined;
  let iso = text.replace(' ', 'T');
  if (/^\d{4}-\d{2}$/.test(iso)) iso += '-01';
  if (iso.includes('T') && !/(Z|[+-]\d{2}:?\d{2})$/i.test(iso)) iso += 'Z';
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : undefined;
}

