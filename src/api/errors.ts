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
}

const registry = new Map<string, ErrorCode>();

/** Declares an error code; called once per code at module load of this file only. */
function define(code: string, status: number, message: string): ErrorCode {
  if (!/^RTM_ERR_[A-Z0-9]+_[A-Z0-9_]+$/.test(code)) throw new Error(`bad error code ${code}`);
  if (registry.has(code)) throw new Error(`duplicate error code ${code}`);
  const def = Object.freeze({ code, status, message });
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
  // ingest
  INGEST_BODY_TOO_LARGE: define('RTM_ERR_INGEST_BODY_TOO_LARGE', 413, 'Request body too large'),
  INGEST_CONTENT_TYPE: define('RTM_ERR_INGEST_CONTENT_TYPE', 415, 'Unsupported content type'),
  INGEST_BAD_ENCODING: define('RTM_ERR_INGEST_BAD_ENCODING', 400, 'Request body could not be decoded'),
  INGEST_TOO_MANY_EVENTS: define('RTM_ERR_INGEST_TOO_MANY_EVENTS', 413, 'Too many events in one request'),
  INGEST_UNAVAILABLE: define('RTM_ERR_INGEST_UNAVAILABLE', 503, 'Ingest is temporarily unavailable'),
  // queries
  QUERY_RANGE_TOO_LARGE: define('RTM_ERR_QUERY_RANGE_TOO_LARGE', 400, 'Query range too large'),
  QUERY_BAD_LIMIT: define('RTM_ERR_QUERY_BAD_LIMIT', 400, 'Invalid limit'),
  // internal
  INTERNAL: define('RTM_ERR_INTERNAL_ERROR', 500, 'Internal server error'),
} as const;

/** Every declared code, for docs/errors.md's completeness test. */
export function allErrorCodes(): readonly ErrorCode[] {
  return [...registry.values()];
}

/** An error answered to a client: a registry code plus a detail that says what was wrong. */
export class RtmError extends Error {
  readonly def: ErrorCode;
  readonly detail: string;
  /** Extra response headers (e.g. Retry-After). */
  readonly headers: Readonly<Record<string, string>>;
  constructor(def: ErrorCode, detail?: string, headers: Readonly<Record<string, string>> = {}) {
    super(detail ? `${def.message}: ${detail}` : def.message);
    this.name = 'RtmError';
    this.def = def;
    this.detail = detail ?? def.message;
    this.headers = headers;
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
