/**
 * `GET /rtm/v1/stream?service=a&service=b[&fields=...]`: published seconds pushed as
 * server-sent events (docs/api-native.md). This file authenticates, checks the services and the
 * per-token cap, and hands the socket to a stream session (stream-session.ts).
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Counter, Gauge } from 'prom-client';
import type { RealtimeSource } from '../../aggregate/realtime-source.ts';
import type { PublishedSeconds } from '../../query/published-seconds.ts';
import { canRead, hasScope, type TokenVerifier } from '../../http/auth.ts';
import { Errors, RtmError } from '../../http/errors.ts';
import { createStreamCounter } from '../../http/limits/concurrency.ts';
import { authenticateRequest } from '../../http/request-principal.ts';
import { formatSeconds } from '../../query/query-range.ts';
import { parseStreamFields } from './stream-fields.ts';
import { startStreamSession, type CloseReason, type StreamSession } from './stream-session.ts';
import { strictCompiler } from './strict-schema.ts';

export interface StreamLimits {
  /** Open streams per token. Default 8. `RTM_MAX_STREAMS_PER_TOKEN`. */
  perToken: number;
  /** Heartbeat comment interval, seconds. Default 15. `RTM_STREAM_HEARTBEAT_SECONDS`. */
  heartbeatSeconds: number;
  /** Unsent bytes a stream may hold before its client is dropped as too slow. Default 1 MiB. `RTM_STREAM_MAX_BUFFER_BYTES`. */
  maxBufferedBytes: number;
  /** How far back Last-Event-ID may resume, seconds (the 1 s tier's range limit). */
  maxResumeSeconds: number;
}

export interface StreamMetrics {
  open: Gauge;
  events: Counter;
  closed: Counter<'reason'>;
}

export interface StreamRouteOptions {
  tokens: TokenVerifier;
  source: RealtimeSource;
  published: PublishedSeconds;
  limits: StreamLimits;
  metrics?: StreamMetrics;
}

const SERVICE = /^[A-Za-z0-9_-]{1,64}$/;

const StreamQuery = Type.Object(
  {
    service: Type.Union([Type.String({ maxLength: 64 }), Type.Array(Type.String({ maxLength: 64 }), { minItems: 1, maxItems: 1000 })]),
    fields: Type.Optional(Type.String({ maxLength: 8000 })),
    lastEventId: Type.Optional(Type.Integer({ minimum: 0, description: 'as the Last-Event-ID header, for clients that cannot set it' })),
  },
  { additionalProperties: false },
);
type StreamQueryT = Static<typeof StreamQuery>;

export const streamRoutes: FastifyPluginAsync<StreamRouteOptions> = async (app, opts) => {
  const { source, published, limits } = opts;
  const open = createStreamCounter(limits.perToken);
  const sessions = new Set<StreamSession>();
  app.addHook('onClose', async () => {
    for (const s of [...sessions]) s.close('server_closing');
  });

  app.get<{ Querystring: StreamQueryT }>('/rtm/v1/stream', { schema: { querystring: StreamQuery, summary: 'Published seconds as server-sent events', tags: ['native'] }, validatorCompiler: strictCompiler }, async (req, reply) => {
    const principal = await authenticateRequest(req, opts.tokens);
    if (!hasScope(principal, 'read')) throw new RtmError(Errors.AUTH_FORBIDDEN, 'streams need the read scope');
    const services = [...new Set(Array.isArray(req.query.service) ? req.query.service : [req.query.service])];
    for (const service of services) {
      if (!SERVICE.test(service)) throw new RtmError(Errors.REQUEST_BAD_PARAM, 'service must match [A-Za-z0-9_-]{1,64}');
      // Same answer for a forbidden and an unknown service: do not reveal that it exists.
      if (!canRead(principal, service)) throw new RtmError(Errors.REQUEST_NOT_FOUND, `Unknown service ${service}`);
    }
    const fields = parseStreamFields(req.query.fields);
    const header = req.headers['last-event-id'];
    const rawLast = typeof header === 'string' && header !== '' ? header : req.query.lastEventId?.toString();
    let lastEventId: number | undefined;
    if (rawLast !== undefined) {
      if (!/^\d{1,12}$/.test(rawLast.trim())) throw new RtmError(Errors.REQUEST_BAD_PARAM, 'Last-Event-ID must be a second (Unix seconds) this stream sent');
      lastEventId = Number(rawLast.trim());
    }
    if (!open.tryAcquire(principal.tokenId)) {
      throw new RtmError(Errors.REQUEST_TOO_MANY_STREAMS, `At most ${limits.perToken} streams may be open at once for this token`, { 'retry-after': '5' });
    }
    const latest = source.latestPublished();
    // Without Last-Event-ID the stream starts with the newest published second, so a client has data at once.
    const next = lastEventId === undefined ? latest : lastEventId + 1;
    const behind = latest - next + 1;
    const refuse =
      behind > limits.maxResumeSeconds
        ? {
            reason: 'resume_too_old' as const,
            error: new RtmError(
              Errors.STREAM_RESUME_TOO_OLD,
              `Last-Event-ID ${lastEventId} is ${formatSeconds(behind)} behind; a stream resumes at most ${formatSeconds(limits.maxResumeSeconds)} back (RTM_MAX_QUERY_RANGE_1S). Read the gap with /rtm/v1/query and reconnect without Last-Event-ID`,
            ),
          }
        : undefined;

    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    opts.metrics?.open.inc();
    let released = false;
    const release = (reason: CloseReason): void => {
      if (released) return;
      released = true;
      open.release(principal.tokenId);
      opts.metrics?.open.dec();
      opts.metrics?.closed.inc({ reason });
    };
    const session = startStreamSession({
      out: reply.raw,
      source,
      published,
      services,
      fields,
      next,
      heartbeatMs: limits.heartbeatSeconds * 1000,
      maxBufferedBytes: limits.maxBufferedBytes,
      ...(refuse ? { refuse } : {}),
      onEvent: () => opts.metrics?.events.inc(),
      onClose: (reason) => {
        sessions.delete(session);
        release(reason);
        if (reason === 'slow_client') reply.raw.destroy();
      },
    });
    sessions.add(session);
    reply.raw.on('close', () => session.close('client_closed'));
  });
};
