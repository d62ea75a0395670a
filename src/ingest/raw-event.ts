/**
 * The fields of one request event as read from a line, before validation: a reusable scratch
 * record that both line readers fill (the fast byte scanner and the JSON.parse fallback), so
 * one validator decides every line the same way whichever reader read it.
 */

/** The known fields of events.md section 1, in the order the validator checks them. */
export const FIELD_NAMES = [
  'timestamp',
  'service',
  'datacenter',
  'domain',
  'status',
  'method',
  'cache',
  'req_header_bytes',
  'req_body_bytes',
  'resp_header_bytes',
  'resp_body_bytes',
  'time_ms',
  'origin_status',
  'origin_time_ms',
  'bereq_header_bytes',
  'bereq_body_bytes',
  'beresp_header_bytes',
  'beresp_body_bytes',
  'backend',
  'shield',
  'compute',
  'compute_time_ms',
  'compute_cpu_ms',
  'tls',
  'http',
  'ipv6',
  'waf',
  'product',
  'path',
  'client_ip',
] as const;
export type FieldName = (typeof FIELD_NAMES)[number];
export const FIELD_COUNT = FIELD_NAMES.length;

/** Index of each field in FIELD_NAMES. */
export const F = Object.fromEntries(FIELD_NAMES.map((name, i) => [name, i])) as Readonly<Record<FieldName, number>>;

/** What a field's value was. */
export const K_ABSENT = 0;
export const K_NUMBER = 1;
export const K_STRING = 2;
export const K_TRUE = 3;
export const K_FALSE = 4;
export const K_NULL = 5;
export const K_OBJECT = 6;
export const K_ARRAY = 7;

/**
 * One line's fields. A string value is either `str[f]` (JSON.parse reader) or the byte span
 * `start[f]..end[f]` of `src` with its `hash[f]` (fast reader: plain ASCII, no escapes, so its
 * latin1 decoding is the string JSON.parse would give).
 */
export interface RawEvent {
  kind: Uint8Array;
  num: Float64Array;
  str: (string | undefined)[];
  src: Buffer | undefined;
  start: Int32Array;
  end: Int32Array;
  hash: Int32Array;
  /**
   * The fast reader's guess, per key (and before the first key, after an unknown key), of the
   * known field whose key comes next (-1: unknown). Speed only: a wrong guess costs a lookup.
   */
  keyOrder: Int8Array;
}

export function createRawEvent(): RawEvent {
  return {
    kind: new Uint8Array(FIELD_COUNT),
    num: new Float64Array(FIELD_COUNT),
    str: new Array<string | undefined>(FIELD_COUNT).fill(undefined),
    src: undefined,
    start: new Int32Array(FIELD_COUNT),
    end: new Int32Array(FIELD_COUNT),
    hash: new Int32Array(FIELD_COUNT),
    keyOrder: new Int8Array(FIELD_COUNT + 2).fill(-1),
  };
}

/** Fills `raw` from a parsed JSON object (the fallback reader). */
export function fillRawFromObject(raw: RawEvent, obj: Record<string, unknown>): void {
  raw.src = undefined;
  for (let f = 0; f < FIELD_COUNT; f++) {
    const name = FIELD_NAMES[f] as FieldName;
    raw.str[f] = undefined;
    if (!Object.hasOwn(obj, name)) {
      raw.kind[f] = K_ABSENT;
      continue;
    }
    const v = obj[name];
    if (typeof v === 'number') {
      raw.kind[f] = K_NUMBER;
      raw.num[f] = v;
    } else if (typeof v === 'string') {
      raw.kind[f] = K_STRING;
      raw.str[f] = v;
    } else if (v === true) raw.kind[f] = K_TRUE;
    else if (v === false) raw.kind[f] = K_FALSE;
    else if (v === null) raw.kind[f] = K_NULL;
    else raw.kind[f] = Array.isArray(v) ? K_ARRAY : K_OBJECT;
  }
}

/** The string value of field `f` (kind K_STRING). */
export function rawString(raw: RawEvent, f: number): string {
  const src = raw.src;
  // start -1: a string the fast reader decoded itself (an escape in a path or an address).
  if (src === undefined || (raw.start[f] as number) < 0) return raw.str[f] ?? '';
  return src.toString('latin1', raw.start[f], raw.end[f]);
}

const MAX_SHOWN = 64;

/** How a reason shows the value it rejects: `600`, `"abc"`, `null`, `an object`. */
export function describeRaw(raw: RawEvent, f: number): string {
  switch (raw.kind[f]) {
    case K_NUMBER: {
      const n = raw.num[f] ?? 0;
      return Number.isFinite(n) ? String(n) : 'a number too large to represent';
    }
    case K_STRING: {
      const s = rawString(raw, f);
      return s.length > MAX_SHOWN ? `${JSON.stringify(s.slice(0, MAX_SHOWN))}... (${s.length} characters)` : JSON.stringify(s);
    }
    case K_TRUE:
      return 'true';
    case K_FALSE:
      return 'false';
    case K_NULL:
      return 'null';
    case K_OBJECT:
      return 'an object';
    case K_ARRAY:
      return 'an array';
    default:
      return 'nothing';
  }
}
