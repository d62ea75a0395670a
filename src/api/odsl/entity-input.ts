/**
 * Usage entities sent by other applications (`POST /api/metric/v1`): a JSON object, a JSON array
 * or NDJSON. Each item is checked on its own; a bad item is a `{ line, reason }` value and the
 * good items of the same body are kept (as for /ingest). `line` is the NDJSON line number or the
 * 1-based index of an array item.
 */
import { CDN_PROVIDER } from './cdn-provider.ts';
import { parseIsoTime } from './filter.ts';
import { SELF_PROVIDER } from './self-metering.ts';
import type { NewUsageEntity } from '../../store/usage-store.ts';

export interface ItemError {
  line: number;
  reason: string;
}

export type EntityInput = Omit<NewUsageEntity, 'owner' | '_id'>;

/** Provider and metric names: no `/` (it separates them in `_metric=provider/metric`). */
const NAME = /^[A-Za-z0-9_.:-]{1,128}$/;
const STRING_FIELDS: Readonly<Record<string, number>> = {
  type: 256, action: 256, application: 256, detail: 4096, environment: 256, invocationId: 256, method: 32,
  service: 256, user: 256,
};
const KNOWN = new Set(['provider', 'metric', 'timestamp', 'value', 'duration', 'httpstatus', 'responseSize', ...Object.keys(STRING_FIELDS)]);
/**
 * Providers rtmetrics itself answers for: its own metering (RTMRequest, which billing reads) and
 * the CDN traffic timeseries. A posted entity of these could pass as the real thing.
 */
export const RESERVED_PROVIDERS: ReadonlySet<string> = new Set([SELF_PROVIDER, CDN_PROVIDER]);

/** 9999-12-31T23:59:59.999Z: what ISO-8601 can render. */
const MAX_TIME = 253_402_300_799_999;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'string' ? JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v) : typeof v === 'object' ? 'an object' : String(v);
}

function parseTimestamp(v: unknown): number | string {
  if (typeof v === 'number') {
    return Number.isFinite(v) && v >= 0 && v <= MAX_TIME ? Math.trunc(v) : `timestamp ${v} is out of range (epoch ms)`;
  }
  if (typeof v === 'string') {
    const ms = parseIsoTime(v.trim());
    return ms !== undefined && ms >= 0 && ms <= MAX_TIME ? ms : `timestamp ${describe(v)} is not an ISO-8601 time`;
  }
  return `timestamp must be an ISO-8601 string or epoch milliseconds, got ${describe(v)}`;
}

/** One item to an entity (without owner and id), or the reason it is rejected. */
export function validateEntity(item: unknown): { ok: true; entity: EntityInput } | { ok: false; reason: string } {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return { ok: false, reason: `expected a JSON object, got ${describe(item)}` };
  const o = item as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (key === '_id') return { ok: false, reason: '_id is assigned by the server' };
    if (!KNOWN.has(key)) return { ok: false, reason: `unknown field "${key.slice(0, 64)}"` };
  }
  for (const key of ['provider', 'metric'] as const) {
    const v = o[key];
    if (v === undefined) return { ok: false, reason: `${key} is required` };
    if (typeof v !== 'string' || !NAME.test(v)) return { ok: false, reason: `${key} must be 1-128 characters of A-Z a-z 0-9 _ . : -, got ${describe(v)}` };
  }
  if (RESERVED_PROVIDERS.has(o['provider'] as string)) {
    return { ok: false, reason: `provider "${o['provider'] as string}" is reserved: rtmetrics records these entities itself` };
  }
  if (o['timestamp'] === undefined) return { ok: false, reason: 'timestamp is required' };
  const timestamp = parseTimestamp(o['timestamp']);
  if (typeof timestamp === 'string') return { ok: false, reason: timestamp };
  const value = o['value'] ?? 1;
  if (typeof value !== 'number' || !Number.isFinite(value)) return { ok: false, reason: `value must be a number, got ${describe(value)}` };
  const entity: EntityInput = { provider: o['provider'] as string, metric: o['metric'] as string, timestamp, value };
  for (const [key, max] of Object.entries(STRING_FIELDS)) {
    const v = o[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') return { ok: false, reason: `${key} must be a string, got ${describe(v)}` };
    if (v.length > max) return { ok: false, reason: `${key} is longer than ${max} characters` };
    (entity as Record<string, unknown>)[key] = v;
  }
  for (const key of ['duration', 'responseSize'] as const) {
    const v = o[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return { ok: false, reason: `${key} must be a number >= 0, got ${describe(v)}` };
    if (key === 'responseSize' && (!Number.isSafeInteger(v))) return { ok: false, reason: `responseSize must be a whole number of bytes, got ${v}` };
    entity[key] = v;
  }
  const status = o['httpstatus'];
  if (status !== undefined && status !== null) {
    if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599) {
      return { ok: false, reason: `httpstatus must be an integer 100..599, got ${describe(status)}` };
    }
    entity.httpstatus = status;
  }
  return { ok: true, entity };
}

export interface ParsedBody {
  entities: EntityInput[];
  errors: ItemError[];
  /** Items seen (good and bad). */
  items: number;
}

export class TooManyItems extends Error {}

/** Validates parsed JSON (object or array). */
export function entitiesFromJson(body: unknown, maxItems: number): ParsedBody {
  const items = Array.isArray(body) ? body : [body];
  if (items.length > maxItems) throw new TooManyItems(`${items.length} items, at most ${maxItems} per request`);
  const out: ParsedBody = { entities: [], errors: [], items: items.length };
  items.forEach((item, i) => {
    const r = validateEntity(item);
    if (r.ok) out.entities.push(r.entity);
    else out.errors.push({ line: i + 1, reason: r.reason });
  });
  return out;
}

/** Validates NDJSON text; blank lines are skipped but still counted in line numbers. */
export function entitiesFromNdjson(text: string, maxItems: number, maxLineBytes: number): ParsedBody {
  const out: ParsedBody = { entities: [], errors: [], items: 0 };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (line === '') continue;
    if (++out.items > maxItems) throw new TooManyItems(`more than ${maxItems} lines per request`);
    if (Buffer.byteLength(line) > maxLineBytes) {
      out.errors.push({ line: i + 1, reason: `line longer than ${maxLineBytes} bytes` });
      continue;
    }
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (err) {
      out.errors.push({ line: i + 1, reason: `invalid JSON: ${(err as Error).message}` });
      continue;
    }
    const r = validateEntity(json);
    if (r.ok) out.entities.push(r.entity);
    else out.errors.push({ line: i + 1, reason: r.reason });
  }
  return out;
}
