/**
 * `POST /ingest`: NDJSON request events (events.md section 1), optionally gzip-compressed.
 * Answers 200 `{"accepted", "rejected", "errors": [{"line", "reason"}]}` once the accepted
 * events are durable; bad lines never fail the request, only a body that cannot be decoded
 * (400), is too large (413) or has too many events (413, nothing accepted) does.
 */
import { constants as bufferConstants, isUtf8 } from 'node:buffer';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { canIngest, hasScope, type Principal, type TokenVerifier } from '../api/auth.ts';
import { Errors, RtmError } from '../api/errors.ts';
import type { ServiceQuota } from '../api/limits/service-quota.ts';
import { authenticateRequest } from '../api/request-principal.ts';
import type { Limits } from '../config/config.ts';
import type { Clock } from '../model/clock.ts';
import { bodyFormatOf, decodeBody } from './body.ts';
import type { LineError, ParseOptions } from './ndjson-parser.ts';
import { parseInThread, type ParsedBody } from './parse-body.ts';
import type { ParsePool } from './parse-pool.ts';
import type { IngestSink } from './sink.ts';

export interface IngestRouteOptions {
  /** Where accepted events go (a batch parsed here, or a parse worker's delta); resolves once they are durable. */
  sink: IngestSink;
  tokens: TokenVerifier;
  /** maxBodyBytes (raw and decoded), maxLineBytes, maxEventsPerRequest, servicesPerToken. */
  limits: Limits;
  /** Distinct services per token; lines beyond the quota are rejected. Default: no quota. */
  serviceQuota?: ServiceQuota;
  /** The server clock: events more than limits.maxFutureSeconds ahead of it are rejected. Default: no check. */
  clock?: Clock;
  /** Worker threads that parse NDJSON bodies off the main thread. Default: parse on the main thread. */
  parsePool?: ParsePool | undefined;
  /** Told the outcome of every answered request (self-metrics). */
  onLines?: (accepted: number, rejected: number) => void;
}

/** Errors listed in a response; `rejected` counts them all. */
export const MAX_REPORTED_ERRORS = 100;

export interface IngestResponse {
  accepted: number;
  rejected: number;
  errors: LineError[];
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

export const ingestRoutes: FastifyPluginAsync<IngestRouteOptions> = async (app, { sink, tokens, limits, serviceQuota, onLines, clock, parsePool }) => {
  const principals = new WeakMap<FastifyRequest, Principal>();
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
    onRequest: async (req) => {
      const principal = await authenticateRequest(req, tokens);
      if (!hasScope(principal, 'ingest')) throw new RtmError(Errors.AUTH_FORBIDDEN, 'this token may not ingest events');
      principals.set(req, principal);
      bodyFormatOf(req.headers['content-type']);
    },
    handler: async (req, reply) => {
      const principal = principals.get(req);
      if (principal === undefined) throw new RtmError(Errors.AUTH_MISSING);
      const format = bodyFormatOf(req.headers['content-type']);
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const body = await decodeBody(raw, req.headers['content-encoding'], maxBodyBytes);

      const options: ParseOptions = {
        dictionaries: sink.dictionaries,
        maxLineBytes: limits.maxLineBytes,
        maxEvents: limits.maxEventsPerRequest,
        maxErrors: MAX_REPORTED_ERRORS,
        maxSecond: clock ? Math.floor(clock.now() / 1000) + limits.maxFutureSeconds : undefined,
        // Asked once per distinct service of the body, after parsing (admission.ts).
        acceptService: (service) => {
          if (!canIngest(principal, service)) return `service "${service}": this token may not ingest events for this service`;
          if (serviceQuota && !serviceQuota.admit(principal.tokenId, service)) {
            return `service "${service}": this token already writes ${limits.servicesPerToken} distinct services (RTM_MAX_SERVICES_PER_TOKEN)`;
          }
          return undefined;
        },
      };
      const result = format === 'json' ? parseJsonBody(body, options) : parsePool ? await parsePool.parse(body, options) : parseInThread(body, options);
      if (result.tooManyEvents) {
        throw new RtmError(
          Errors.INGEST_TOO_MANY_EVENTS,
          `the body has more than ${limits.maxEventsPerRequest} events; send at most ${limits.maxEventsPerRequest} per request (nothing of this one was accepted)`,
        );
      }
      if (result.accepted > 0) {
        try {
          // A worker's delta is aggregated already; a batch parsed here is aggregated with its commit.
          await (result.events.kind === 'delta' ? sink.ingestDelta(result.events.delta) : sink.ingest(result.events.batch));
        } catch (err) {
          req.log.error({ err }, 'ingest sink failed');
          throw new RtmError(Errors.INGEST_UNAVAILABLE, 'the events could not be stored; nothing of this request was accepted, retry later');
        }
      }
      onLines?.(result.accepted, result.rejected);
      const response: IngestResponse = { accepted: result.accepted, rejected: result.rejected, errors: result.errors };
      return reply.code(200).send(response);
    },
  });
};
