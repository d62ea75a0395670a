/**
 * `POST /ingest`: NDJSON request events (events.md section 1), optionally gzip-compressed.
 * Answers 200 `{"accepted", "rejected", "errors": [{"line", "reason"}]}` once the accepted
 * events are durable; bad lines never fail the request, only a body that cannot be decoded
 * (400), is too large (413) or has too many events (413, nothing accepted) does.
 */
import type { TopValueCounts } from '../aggregate/top-value-counts.ts';
import { constants as bufferConstants, isUtf8 } from 'node:buffer';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { canIngest, hasScope, type Principal, type TokenVerifier } from '../http/auth.ts';
import { Errors, RtmError } from '../http/errors.ts';
import type { ServiceQuota } from '../http/limits/service-quota.ts';
import { authenticateRequest } from '../http/request-principal.ts';
import type { Limits } from '../config/config.ts';
import type { Clock } from '../model/clock.ts';
import { bodyFormatOf, decodeBody, type BodyFormat } from './body.ts';
import { anyCapOn, type KeyCaps } from './key-cap.ts';
import { bodyFingerprint, scopedKey, type IdempotencyKeys } from './idempotency/idempotency-keys.ts';
import type { LineError, ParseOptions } from './ndjson-parser.ts';
import { parseInThread, type ParsedBody } from './parse-body.ts';
import type { ParsePool } from './parse-pool.ts';
import type { IngestSink } from './sink.ts';
import type { IdempotencyRecord } from './wal-payload.ts';

export interface IngestRouteOptions {
  /** Where accepted events go (a batch parsed here, or a parse worker's delta); resolves once they are durable. */
  sink: IngestSink;
  tokens: TokenVerifier;
  /** maxBodyBytes (raw and decoded), maxLineBytes, maxEventsPerRequest, servicesPerToken. */
  limits: Limits;
  /** Distinct services per token; lines beyond the quota are rejected. Default: no quota. */
  serviceQuota?: ServiceQuota;
  /**
   * Distinct domains, datacenters and backends per service; a line whose value is past a cap is
   * accepted and counted under that key's `__other__` (with a warning). Default: no cap.
   */
  keyCaps?: KeyCaps;
  /** The server clock: events more than limits.maxFutureSeconds ahead of it are rejected. Default: no check. */
  clock?: Clock;
  /** Worker threads that parse NDJSON bodies off the main thread. Default: parse on the main thread. */
  parsePool?: ParsePool | undefined;
  /** Told the outcome of every answered request (self-metrics); not told of idempotent replays. */
  onLines?: (accepted: number, rejected: number, folded: number) => void;
  /**
   * Remembered Idempotency-Keys: a request with a known key and the same body is answered again
   * without being counted again. Default: the header is ignored.
   */
  idempotency?: IdempotencyKeys | undefined;
  /** Told of each request answered from a remembered Idempotency-Key (self-metrics). */
  onReplay?: () => void;
  /** Whether parse workers record distributions (config.distributions); the pipeline's aggregate must agree. Default true. */
  distributions?: boolean;
  /** Keep paths' query strings in the top values (config.keepPathQuery). Default false. */
  keepPathQuery?: boolean;
  /** Given the paths and client addresses of each body once its events are durable (the top-values tracker). */
  onTopValues?: (counts: TopValueCounts) => void;
  /**
   * Holds back publication while an authenticated request runs (src/ingest/publication-hold.ts),
   * so its events are not late for a ts/{t} cursor. Default: no hold.
   */
  publicationHold?: { begin(): () => void } | undefined;
  /**
   * Why the node takes no new events now (the store's disk budget: StoreBacklog.writeRefusal), or
   * undefined. Asked for each body before it is parsed: a refused body answers 503
   * RTM_ERR_INGEST_UNAVAILABLE with Retry-After and nothing of it is acknowledged; an
   * Idempotency-Key replay is still answered. Default: never refused.
   */
  refusal?: () => string | undefined;
}

/** Retry-After of a body refused by `refusal` (a shard away takes seconds to minutes, not one). */
export const REFUSED_RETRY_AFTER_SECONDS = 5;

/** Longest Idempotency-Key accepted (the length of a few UUIDs; Stripe allows 255). */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/**
 * The client's key, or undefined without the header. draft-ietf-httpapi-idempotency-key-header
 * makes it a structured-field string (quoted); the unquoted form most clients send is taken too.
 */
export function idempotencyKeyOf(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (Array.isArray(header)) throw new RtmError(Errors.INGEST_BAD_IDEMPOTENCY_KEY, 'send one Idempotency-Key header, not several');
  let key = header.trim();
  if (key.length >= 2 && key.startsWith('"') && key.endsWith('"')) key = key.slice(1, -1);
  if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH || !/^[\x20-\x7e]+$/.test(key)) {
    throw new RtmError(Errors.INGEST_BAD_IDEMPOTENCY_KEY, `Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters`);
  }
  return key;
}

/** Errors listed in a response; `rejected` counts them all. */
export const MAX_REPORTED_ERRORS = 100;

export interface IngestResponse {
  accepted: number;
  rejected: number;
  errors: LineError[];
  /**
   * Accepted events with a domain, datacenter or backend counted under `__other__` (their service
   * is at RTM_MAX_DOMAINS_PER_SERVICE, RTM_MAX_DATACENTERS_PER_SERVICE or RTM_MAX_BACKENDS_PER_SERVICE),
   * each event once; only when there are some.
   */
  folded?: number;
  /** The first warnings about them by line, one per folded key, with why; only with `folded`. */
  warnings?: LineError[];
}

/**
 * `application/json` may carry one pretty-printed object: if the whole body is one JSON object
 * no longer than a line may be, it is re-read as a one-line body. Anything else is NDJSON.
 */
function parseJsonBody(body: Buffer, opts: ParseOptions): ParsedBody {
  if (body.length <= opts.maxLineBytes && body.includes(10) && isUtf8(body)) {
    let value: unknown;
    try {
      value = JSON.parse(body.toString('utf8').replace(/^\uFEFF/, ''));
    } catch {
      value = undefined;
    }
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      return parseInThread(Buffer.from(JSON.stringify(value)), opts);
    }
  }
  return parseInThread(body, opts);
}

export const ingestRoutes: FastifyPluginAsync<IngestRouteOptions> = async (app, opts) => {
  const { sink, tokens, limits, serviceQuota, keyCaps, onLines, clock, parsePool, idempotency, publicationHold } = opts;
  // All caps off: the admission need not ask per value.
  const caps = keyCaps && anyCapOn(keyCaps) ? keyCaps : undefined;
  const principals = new WeakMap<FastifyRequest, Principal>();
  /** Ends each running request's publication hold (idempotent). */
  const holds = new WeakMap<FastifyRequest, () => void>();
  const endHold = async (req: FastifyRequest): Promise<void> => holds.get(req)?.();
  app.addHook('onResponse', endHold);
  app.addHook('onRequestAbort', endHold);
  // The config allows "Infinity"; Fastify and zlib need a real byte count.
  const maxBodyBytes = Math.min(limits.maxBodyBytes, bufferConstants.MAX_LENGTH);

  // This plugin reads bodies itself: every media type arrives as a Buffer and the handler
  // decides (so an unsupported type gets a 415 that lists the accepted ones).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxBodyBytes }, (_req, body, done) => done(null, body));

  // Fastify's own 413 says only "Request body is too large": say which limit.
  app.setErrorHandler((err) => {
    if ((err as { code?: unknown }).code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      throw new RtmError(Errors.INGEST_BODY_TOO_LARGE, `the body is larger than the limit of ${maxBodyBytes} bytes; send fewer events per request`);
    }
    throw err;
  });

  app.post('/ingest', {
    bodyLimit: maxBodyBytes,
    // Authenticate and check the media type before the body is read: a refused request does
    // not cost reading up to maxBodyBytes.
    onRequest: async (req, reply) => {
      const principal = await authenticateRequest(req, tokens);
      if (!hasScope(principal, 'ingest')) throw new RtmError(Errors.AUTH_FORBIDDEN, 'this token may not ingest events');
      principals.set(req, principal);
      bodyFormatOf(req.headers['content-type']);
      if (idempotency) idempotencyKeyOf(req.headers['idempotency-key']);
      // From here until the answer (or the connection's end) the seconds this body may carry wait.
      if (publicationHold) {
        const end = publicationHold.begin();
        holds.set(req, end);
        reply.raw.once('close', end);
      }
    },
    handler: async (req, reply) => {
      const principal = principals.get(req);
      if (principal === undefined) throw new RtmError(Errors.AUTH_MISSING);
      const format = bodyFormatOf(req.headers['content-type']);
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const clientKey = idempotency ? idempotencyKeyOf(req.headers['idempotency-key']) : undefined;
      if (idempotency === undefined || clientKey === undefined) return reply.code(200).send(await ingestBody(req, principal, format, raw, undefined));

      // With a key: answer a known one again, wait for one being committed, or take it.
      const key = scopedKey(principal.tokenId, clientKey);
      const hash = bodyFingerprint(format, req.headers['content-encoding'], raw);
      for (;;) {
        const claim = idempotency.claim(key, hash);
        if (claim.kind === 'done') {
          opts.onReplay?.();
          const { accepted, rejected, errors = [] } = claim.record;
          const response: IngestResponse = { accepted, rejected, errors };
          return reply.code(200).header('idempotent-replayed', 'true').send(response);
        }
        if (claim.kind === 'mismatch') {
          throw new RtmError(
            Errors.INGEST_IDEMPOTENCY_MISMATCH,
            'this Idempotency-Key was sent before with a different body; send a new key for new events, or the same body to retry',
          );
        }
        if (claim.kind === 'wait') {
          await claim.settled;
          continue;
        }
        try {
          return reply.code(200).send(await ingestBody(req, principal, format, raw, { key, hash }));
        } finally {
          claim.release();
        }
      }
    },
  });

  /** Decodes, parses and commits one body; with `keyed`, its key and answer are made durable with the events. */
  async function ingestBody(
    req: FastifyRequest,
    principal: Principal,
    format: BodyFormat,
    raw: Buffer,
    keyed: { key: string; hash: string } | undefined,
  ): Promise<IngestResponse> {
    const refused = opts.refusal?.();
    if (refused !== undefined) {
      throw new RtmError(Errors.INGEST_UNAVAILABLE, `${refused}; nothing of this request was accepted, retry later`, { 'retry-after': String(REFUSED_RETRY_AFTER_SECONDS) });
    }
    const body = await decodeBody(raw, req.headers['content-encoding'], maxBodyBytes);
    const options: ParseOptions = {
      dictionaries: sink.dictionaries,
      maxLineBytes: limits.maxLineBytes,
      maxEvents: limits.maxEventsPerRequest,
      maxErrors: MAX_REPORTED_ERRORS,
      maxSecond: clock ? Math.floor(clock.now() / 1000) + limits.maxFutureSeconds : undefined,
      keepPathQuery: opts.keepPathQuery,
      skipTopValues: opts.onTopValues === undefined,
      skipDistributions: opts.distributions === false,
      // Asked once per distinct service of the body, after parsing (admission.ts).
      acceptService: (service) => {
        if (!canIngest(principal, service)) return `service "${service}": this token may not ingest events for this service`;
        if (serviceQuota && !serviceQuota.admit(principal.tokenId, service)) {
          return `service "${service}": this token already writes ${limits.servicesPerToken} distinct services (RTM_MAX_SERVICES_PER_TOKEN)`;
        }
        return undefined;
      },
      // Asked per distinct domain, datacenter and backend of each admitted service, after acceptService.
      acceptKey: caps && ((key, service, value) => caps[key].foldReason(service, value)),
    };
    const result = format === 'json' ? parseJsonBody(body, options) : parsePool ? await parsePool.parse(body, options) : parseInThread(body, options);
    if (result.tooManyEvents) {
      throw new RtmError(
        Errors.INGEST_TOO_MANY_EVENTS,
        `the body has more than ${limits.maxEventsPerRequest} events; send at most ${limits.maxEventsPerRequest} per request (nothing of this one was accepted)`,
      );
    }
    const record: IdempotencyRecord | undefined = keyed && {
      ...keyed,
      at: clock?.now() ?? Date.now(),
      accepted: result.accepted,
      rejected: result.rejected,
      ...(result.errors.length > 0 ? { errors: result.errors } : {}),
    };
    if (result.accepted > 0) {
      try {
        // A worker's delta is aggregated already; a batch parsed here is aggregated with its commit.
        await (result.events.kind === 'delta' ? sink.ingestDelta(result.events.delta, record) : sink.ingest(result.events.batch, record));
      } catch (err) {
        req.log.error({ err }, 'ingest sink failed');
        throw new RtmError(Errors.INGEST_UNAVAILABLE, 'the events could not be stored; nothing of this request was accepted, retry later');
      }
    }
    // Durable with the events already (the pipeline remembers it when the WAL entry is fsynced);
    // a body with nothing accepted has nothing to make durable, its answer is only remembered.
    if (record !== undefined) idempotency?.remember(record);
    if (result.accepted > 0) opts.onTopValues?.(result.topValues);
    onLines?.(result.accepted, result.rejected, result.folded);
    const response: IngestResponse = { accepted: result.accepted, rejected: result.rejected, errors: result.errors };
    if (result.folded > 0) Object.assign(response, { folded: result.folded, warnings: result.warnings });
    return response;
  }
};
