/**
 * The one error registry. Every error an API can answer with is declared here once
 * (`RTM_ERR_<AREA>_<WHAT>`, HTTP status, message); each dialect renders it in its own envelope
 * (see renderers below). docs/errors.md lists every code and a test fails when one is missing.
 * 5xx bodies never carry driver or database text: `toRtmError` maps unknown errors to
 * RTM_ERR_INTERNAL with a generic message.
 */

export interface ErrorCode {
  readonly code: string;
  readonly status: number;
  readonly message: string;
  /** Seconds a client should wait before retrying (sent as Retry-After); every 503 has one. */
  readonly retryAfterSeconds?: number;
}

const registry = new Map<string, ErrorCode>();

/** Declares an error code; called once per code at module load of this file only. */
function define(code: string, status: number, message: string): ErrorCode {
  if (!/^RTM_ERR_[A-Z0-9]+_[A-Z0-9_]+$/.test(code)) throw new Error(`bad error code ${code}`);
  if (registry.has(code)) throw new Error(`duplicate error code ${code}`);
  // A 503 is "retry later": say when (RFC 9110 section 10.2.3), so clients back off instead of hammering.
  const def = Object.freeze(status === 503 ? { code, status, message, retryAfterSeconds: 1 } : { code, status, message });
  registry.set(code, def);
  return def;
}

export const Errors = {
  // auth
  AUTH_MISSING: define('RTM_ERR_AUTH_MISSING', 401, 'Missing API token'),
  AUTH_INVALID: define('RTM_ERR_AUTH_INVALID', 401, 'Invalid or revoked API token'),
  AUTH_FORBIDDEN: define('RTM_ERR_AUTH_FORBIDDEN', 403, 'The token is not allowed to do this'),
  // generic request errors
  REQUEST_NOT_FOUND: define('RTM_ERR_REQUEST_NOT_FOUND', 404, 'Not found'),
  REQUEST_BAD_PARAM: define('RTM_ERR_REQUEST_BAD_PARAM', 400, 'Invalid parameter'),
  REQUEST_RATE_LIMITED: define('RTM_ERR_REQUEST_RATE_LIMITED', 429, 'Too many requests'),
  REQUEST_TOO_MANY_STREAMS: define('RTM_ERR_REQUEST_TOO_MANY_STREAMS', 429, 'Too many concurrent requests for this token'),
  REQUEST_TIMEOUT: define('RTM_ERR_REQUEST_TIMEOUT', 408, 'The request was not received in time'),
  REQUEST_URI_TOO_LONG: define('RTM_ERR_REQUEST_URI_TOO_LONG', 414, 'A path segment is too long'),
  // ingest
  INGEST_BODY_TOO_LARGE: define('RTM_ERR_INGEST_BODY_TOO_LARGE', 413, 'Request body too large'),
  INGEST_CONTENT_TYPE: define('RTM_ERR_INGEST_CONTENT_TYPE', 415, 'Unsupported content type'),
  INGEST_BAD_ENCODING: define('RTM_ERR_INGEST_BAD_ENCODING', 400, 'Request body could not be decoded'),
  INGEST_TOO_MANY_EVENTS: define('RTM_ERR_INGEST_TOO_MANY_EVENTS', 413, 'Too many events in one request'),
  INGEST_UNAVAILABLE: define('RTM_ERR_INGEST_UNAVAILABLE', 503, 'Ingest is temporarily unavailable'),
  INGEST_BAD_IDEMPOTENCY_KEY: define('RTM_ERR_INGEST_BAD_IDEMPOTENCY_KEY', 400, 'Invalid Idempotency-Key'),
  INGEST_IDEMPOTENCY_MISMATCH: define('RTM_ERR_INGEST_IDEMPOTENCY_MISMATCH', 422, 'Idempotency-Key reused with a different body'),
  // store writes outside ingest (usage entities, objects)
  STORE_UNAVAILABLE: define('RTM_ERR_STORE_UNAVAILABLE', 503, 'The store is temporarily unavailable'),
  // queries
  QUERY_RANGE_TOO_LARGE: define('RTM_ERR_QUERY_RANGE_TOO_LARGE', 400, 'Query range too large'),
  QUERY_BAD_LIMIT: define('RTM_ERR_QUERY_BAD_LIMIT', 400, 'Invalid limit'),
  // native push stream (sent as an `event: error` of the stream)
  STREAM_RESUME_TOO_OLD: define('RTM_ERR_STREAM_RESUME_TOO_OLD', 400, 'Last-Event-ID is too far back to resume'),
  // Azion metrics API v3
  AZION_BAD_DATE: define('RTM_ERR_AZION_BAD_DATE', 400, 'Invalid date_from or date_to'),
  AZION_UNKNOWN_DIMENSION: define('RTM_ERR_AZION_UNKNOWN_DIMENSION', 400, 'Unknown dimension for this metric'),
  AZION_UNKNOWN_PRODUCT: define('RTM_ERR_AZION_UNKNOWN_PRODUCT', 404, 'Unknown product'),
  AZION_UNKNOWN_CONFIGURATION: define('RTM_ERR_AZION_UNKNOWN_CONFIGURATION', 404, 'Unknown configuration or domain'),
  AZION_UNKNOWN_METRIC: define('RTM_ERR_AZION_UNKNOWN_METRIC', 404, 'Unknown metric for this product'),
  // catalog (services, domains, products)
  CATALOG_UNKNOWN_SERVICE: define('RTM_ERR_CATALOG_UNKNOWN_SERVICE', 404, 'Unknown service'),
  // OpenDataDSL virtual timeseries and objects
  ODSL_BAD_METRIC: define('RTM_ERR_ODSL_BAD_METRIC', 400, 'Invalid _metric (expected provider/metric)'),
  ODSL_UNKNOWN_METRIC: define('RTM_ERR_ODSL_UNKNOWN_METRIC', 404, 'Unknown provider or metric'),
  ODSL_BAD_CALENDAR: define('RTM_ERR_ODSL_BAD_CALENDAR', 400, 'Invalid _calendar'),
  ODSL_BAD_OBSERVED: define('RTM_ERR_ODSL_BAD_OBSERVED', 400, 'Invalid _observed'),
  ODSL_BAD_RANGE: define('RTM_ERR_ODSL_BAD_RANGE', 400, 'Invalid _range'),
  ODSL_BAD_TS_FILTER: define('RTM_ERR_ODSL_BAD_TS_FILTER', 400, 'Invalid _filter for this timeseries'),
  ODSL_BAD_OBJECT: define('RTM_ERR_ODSL_BAD_OBJECT', 400, 'Invalid object'),
  ODSL_UNKNOWN_OBJECT: define('RTM_ERR_ODSL_UNKNOWN_OBJECT', 404, 'Unknown object'),
  ODSL_UNKNOWN_PROPERTY: define('RTM_ERR_ODSL_UNKNOWN_PROPERTY', 404, 'Unknown property of this object'),
  ODSL_NOT_A_TIMESERIES: define('RTM_ERR_ODSL_NOT_A_TIMESERIES', 400, 'Property is not a VarMetricTimeSeries'),
  // OpenDataDSL usage metric entities
  ODSL_BAD_FILTER: define('RTM_ERR_ODSL_BAD_FILTER', 400, 'Invalid _filter'),
  ODSL_BAD_SORT: define('RTM_ERR_ODSL_BAD_SORT', 400, 'Invalid _sort'),
  ODSL_BAD_PARAM: define('RTM_ERR_ODSL_BAD_PARAM', 400, 'Invalid query parameter'),
  ODSL_MISSING_PROVIDER: define('RTM_ERR_ODSL_MISSING_PROVIDER', 400, 'listMetrics needs a provider query parameter'),
  ODSL_UNKNOWN_FUNCTION: define('RTM_ERR_ODSL_UNKNOWN_FUNCTION', 400, 'Unknown _function'),
  ODSL_UNKNOWN_PROVIDER: define('RTM_ERR_ODSL_UNKNOWN_PROVIDER', 404, 'Unknown metric provider'),
  ODSL_UNKNOWN_ENTITY: define('RTM_ERR_ODSL_UNKNOWN_ENTITY', 404, 'Unknown metric'),
  ODSL_BAD_BODY: define('RTM_ERR_ODSL_BAD_BODY', 400, 'Invalid metric entity body'),
  // server state
  SERVER_NOT_READY: define('RTM_ERR_SERVER_NOT_READY', 503, 'The server is not ready'),
  SERVER_MUST_RESTART: define('RTM_ERR_SERVER_MUST_RESTART', 503, 'The server must be restarted'),
  // per-token storage quotas (the operator's admin token has none)
  QUOTA_OBJECTS: define('RTM_ERR_QUOTA_OBJECTS', 403, 'Object quota exceeded for this token'),
  QUOTA_USAGE_ENTITIES: define('RTM_ERR_QUOTA_USAGE_ENTITIES', 403, 'Usage entity quota exceeded for this token'),
  QUOTA_USAGE_RATE: define('RTM_ERR_QUOTA_USAGE_RATE', 429, 'Too many usage entities per second for this token'),
  // internal
  INTERNAL: define('RTM_ERR_INTERNAL_ERROR', 500, 'Internal server error'),
} as const;

/** Every declared code, for docs/errors.md's completeness test. */
export function allErrorCodes(): readonly ErrorCode[] {
  return [...registry.values()];
}

/** An error answered to a client: a registry code plus a detail that says what was wrong. */
export class RtmError extends Error {
  declare readonly def: ErrorCode;
  readonly detail: string;
  /** Response headers: Retry-After of a 503 (from the registry) and any the thrower adds. */
  readonly headers: Readonly<Record<string, string>>;
  constructor(def: ErrorCode, detail?: string, headers: Readonly<Record<string, string>> = {}) {
    super(detail ? `${def.message}: ${detail}` : def.message);
    this.name = 'RtmError';
    // Not enumerable: pino's error serializer walks enumerable properties and tags every
    // error-like one (def has a `message`) with a symbol, which throws on the frozen def and
    // turned every logged 5xx into Fastify's own 500.
    Object.defineProperty(this, 'def', { value: def, enumerable: false, writable: false });
    this.detail = detail ?? def.message;
    this.headers = def.retryAfterSeconds === undefined ? headers : { 'retry-after': String(def.retryAfterSeconds), ...headers };
  }
  get status(): number {
    return this.def.status;
  }
  get code(): string {
    return this.def.code;
  }
}

/** Maps anything thrown to an RtmError; unknown errors become a generic 500 (no internal text). */
export function toRtmError(err: unknown): RtmError {
  if (err instanceof RtmError) return err;
  if (typeof err === 'object' && err !== null) {
    const e = err as { statusCode?: unknown; code?: unknown; message?: unknown };
    // Fastify's own 4xx errors (body too large, bad JSON, bad content type) carry a safe message.
    if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
      const message = typeof e.message === 'string' ? e.message : 'Bad request';
      if (e.statusCode === 413) return new RtmError(Errors.INGEST_BODY_TOO_LARGE, message);
      if (e.statusCode === 415) return new RtmError(Errors.INGEST_CONTENT_TYPE, message);
      if (e.statusCode === 429) return new RtmError(Errors.REQUEST_RATE_LIMITED, message);
      if (e.statusCode === 404) return new RtmError(Errors.REQUEST_NOT_FOUND, message);
      if (e.statusCode === 401) return new RtmError(Errors.AUTH_MISSING, message);
      if (e.statusCode === 403) return new RtmError(Errors.AUTH_FORBIDDEN, message);
      return new RtmError(Errors.REQUEST_BAD_PARAM, message);
    }
  }
  return new RtmError(Errors.INTERNAL);
}

/** The envelopes of each dialect. */
export const renderError = {
  /** Fastly: `{"msg": ..., "detail": ...}`. */
  fastly: (e: RtmError) => ({ msg: e.def.message, detail: e.detail, code: e.code }),
  /** Azion: `{"detail": ...}`. */
  azion: (e: RtmError) => ({ detail: e.detail, code: e.code }),
  /** OpenDataDSL: `{"status": code, "message": ...}`. */
  odsl: (e: RtmError) => ({ status: e.status, message: e.detail, code: e.code }),
  /** Native API and ingest: `{"error": {"code", "message", "detail"}}`. */
  native: (e: RtmError) => ({ error: { code: e.code, message: e.def.message, detail: e.detail } }),
} as const;

export type Dialect = keyof typeof renderError;
