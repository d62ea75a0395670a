/**
 * One access-log line read into the fields of events.md section 1, before validation: a reusable
 * scratch record every log parser fills (no object per line). Only submit.ts turns it into an
 * event (in process through the ingest validator, or as an NDJSON line for POST /ingest), so the
 * same rules decide every line whichever way it travels.
 */

/** The event fields a log line can carry, with their JSON type (events.md section 1). */
export const EVENT_FIELDS = {
  timestamp: 'number',
  service: 'string',
  datacenter: 'string',
  domain: 'string',
  status: 'number',
  method: 'string',
  cache: 'string',
  req_header_bytes: 'number',
  req_body_bytes: 'number',
  resp_header_bytes: 'number',
  resp_body_bytes: 'number',
  time_ms: 'number',
  origin_status: 'number',
  origin_time_ms: 'number',
  bereq_header_bytes: 'number',
  bereq_body_bytes: 'number',
  beresp_header_bytes: 'number',
  beresp_body_bytes: 'number',
  backend: 'string',
  shield: 'boolean',
  compute: 'boolean',
  compute_time_ms: 'number',
  compute_cpu_ms: 'number',
  tls: 'string',
  http: 'string',
  ipv6: 'boolean',
  waf: 'string',
  product: 'string',
  path: 'string',
  client_ip: 'string',
} as const;

export type EventField = keyof typeof EVENT_FIELDS;
export type FieldType = (typeof EVENT_FIELDS)[EventField];
export type NumberField = { [K in EventField]: (typeof EVENT_FIELDS)[K] extends 'number' ? K : never }[EventField];
export type StringField = { [K in EventField]: (typeof EVENT_FIELDS)[K] extends 'string' ? K : never }[EventField];
export type BooleanField = { [K in EventField]: (typeof EVENT_FIELDS)[K] extends 'boolean' ? K : never }[EventField];

export const FIELD_LIST = Object.keys(EVENT_FIELDS) as EventField[];

/** A field's value: undefined = absent (the event's default applies). */
export type FieldValue = number | string | boolean | undefined;

/**
 * The fields of one line. A plain class with one slot per field so V8 keeps one shape; parsers
 * call reset() and then set what the line has.
 */
export class LogRecord {
  readonly values: FieldValue[] = new Array<FieldValue>(FIELD_LIST.length).fill(undefined);

  reset(): void {
    this.values.fill(undefined);
  }

  get(field: EventField): FieldValue {
    return this.values[FIELD_INDEX[field]];
  }

  setNumber(field: NumberField, value: number): void {
    this.values[FIELD_INDEX[field]] = value;
  }

  setString(field: StringField, value: string): void {
    this.values[FIELD_INDEX[field]] = value;
  }

  setBoolean(field: BooleanField, value: boolean): void {
    this.values[FIELD_INDEX[field]] = value;
  }

  /** Sets any field from a value already of its type (the JSON mapping's path). */
  set(field: EventField, value: FieldValue): void {
    this.values[FIELD_INDEX[field]] = value;
  }

  /** The record as an events.md NDJSON line (no newline): what POST /ingest is sent. */
  toJson(): string {
    let out = '{';
    for (let i = 0; i < FIELD_LIST.length; i++) {
      const v = this.values[i];
      if (v === undefined) continue;
      if (out.length > 1) out += ',';
      out += `"${FIELD_LIST[i] as string}":${typeof v === 'string' ? JSON.stringify(v) : String(v)}`;
    }
    return `${out}}`;
  }
}

/** Index of each field in LogRecord.values. */
export const FIELD_INDEX = Object.fromEntries(FIELD_LIST.map((name, i) => [name, i])) as Readonly<Record<EventField, number>>;

export const isEventField = (name: string): name is EventField => Object.hasOwn(EVENT_FIELDS, name);
