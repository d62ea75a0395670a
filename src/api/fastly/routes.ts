/**
 * The Fastly-compatible real-time APIs (docs/api-fastly.md): real-time analytics
 * (`/v1/channel`), Domain Inspector (`/v1/domains`) and Origin Inspector (`/v1/origins`), each
 * with `ts/{t}`, `ts/h` and `.../limit/{n}`. Errors are registry errors thrown as RtmError; the
 * app's error handler renders them in Fastly's `{"msg", "detail"}` envelope (dialectOf `/v1/`).
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { ChannelSecond, DomainSecond, OriginSecond, RealtimeSource } from '../../aggregate/realtime-source.ts';
import { canRead, type TokenVerifier } from '../auth.ts';
import { authenticateRequest } from '../request-principal.ts';
import { Errors, RtmError } from '../errors.ts';
import { DEFAULT_FASTLY_LIMITS, MAX_LIMIT, planCursor, type CursorRequest, type FastlyLimits } from './cursor.ts';
import { objectOf, renderChannel, renderDomain, renderOrigin } from './render.ts';

export interface FastlyRoutesOptions {
  /** Per-second data: createRealtimeReader(window, store) in the app. */
  source: RealtimeSource;
  tokens: TokenVerifier;
  /** Reported as `AggregateDelay`; must be the delay the source publishes with (config.aggregateDelaySeconds). */
  aggregateDelaySeconds: number;
  /** Response bounds for `ts/{t}`; each defaults to DEFAULT_FASTLY_LIMITS. */
  limits?: Partial<FastlyLimits>;
}

export const NO_DATA_MESSAGE = 'No data available, please retry';

interface Entry {
  recorded: number;
  aggregated: unknown;
  datacenter: unknown;
}

/** One API: how it reads a range and renders one second. */
interface Api<S extends { second: number }> {
  read(source: RealtimeSource, service: string, from: number, to: number): Promise<S[]>;
  entry(second: S): Entry;
}

const channelApi: Api<ChannelSecond> = {
  read: (source, service, from, to) => source.channel(service, from, to),
  entry: (s) => ({
    recorded: s.second,
    aggregated: renderChannel(s.aggregated),
    datacenter: objectOf(s.byDatacenter, renderChannel),
  }),
};

const domainsApi: Api<DomainSecond> = {
  read: (source, service, from, to) => source.domains(service, from, to),
  entry: (s) => ({
    recorded: s.second,
    aggregated: objectOf(s.byDomain, renderDomain),
    datacenter: objectOf(s.byDatacenter, (domains) => objectOf(domains, renderDomain)),
  }),
};

const originsApi: Api<OriginSecond> = {
  read: (source, service, from, to) => source.origins(service, from, to),
  entry: (s) => ({
    recorded: s.second,
    aggregated: objectOf(s.byBackend, renderOrigin),
    datacenter: objectOf(s.byDatacenter, (backends) => objectOf(backends, renderOrigin)),
  }),
};

interface Params {
  service_id: string;
  ts: string;
  n?: string;
}

const SERVICE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The path's `ts` and `limit` as a cursor request, or the registry's 400. */
export function parseCursor(ts: string, n: string | undefined): CursorRequest {
  let limit: number | undefined;
  if (n !== undefined) {
    limit = /^\d{1,4}$/.test(n) ? Number(n) : Number.NaN;
    if (!(limit >= 1 && limit <= MAX_LIMIT)) {
      throw new RtmError(Errors.QUERY_BAD_LIMIT, `limit must be an integer from 1 to ${MAX_LIMIT}, got '${n.slice(0, 32)}'`);
    }
  }
  const withLimit = <R extends CursorRequest>(r: R): R => (limit === undefined ? r : { ...r, limit });
  if (ts === 'h') return withLimit({ kind: 'history' });
  const t = /^\d{1,15}$/.test(ts) ? Number(ts) : Number.NaN;
  if (!Number.isSafeInteger(t)) {
    throw new RtmError(Errors.REQUEST_BAD_PARAM, `ts must be 'h' or Unix seconds (0 = the latest second), got '${ts.slice(0, 32)}'`);
  }
  return withLimit(t === 0 ? { kind: 'latest' } : { kind: 'since', t });
}

export const fastlyRoutes: FastifyPluginAsync<FastlyRoutesOptions> = async (app, opts) => {
  const { source, tokens, aggregateDelaySeconds: delay } = opts;
  const limits: FastlyLimits = { ...DEFAULT_FASTLY_LIMITS, ...opts.limits };

  const handler =
    <S extends { second: number }>(api: Api<S>) =>
    async (req: FastifyRequest<{ Params: Params }>, reply: FastifyReply) => {
      const principal = await authenticateRequest(req, tokens);
      const { service_id: service, ts, n } = req.params;
      if (!SERVICE_ID.test(service)) {
        throw new RtmError(Errors.REQUEST_BAD_PARAM, 'service_id must match [A-Za-z0-9_-]{1,64}');
      }
      const cursor = parseCursor(ts, n);
      if (!canRead(principal, service)) {
        throw new RtmError(Errors.AUTH_FORBIDDEN, `The token may not read service ${service}`);
      }
      const plan = planCursor(cursor, source.latestPublished(), delay, limits);
      const seconds = plan.to > plan.from ? await api.read(source, service, plan.from, plan.to) : [];
      const { entries, timestamp } = plan.pick(seconds);
      void reply.header('cache-control', 'max-age=1');
      const body = { Timestamp: timestamp, AggregateDelay: delay, Data: entries.map(api.entry) };
      return entries.length === 0 ? { ...body, Error: NO_DATA_MESSAGE } : body;
    };

  for (const [prefix, api] of [
    ['/v1/channel', handler(channelApi)],
    ['/v1/domains', handler(domainsApi)],
    ['/v1/origins', handler(originsApi)],
  ] as const) {
    app.get<{ Params: Params }>(`${prefix}/:service_id/ts/:ts`, api);
    app.get<{ Params: Params }>(`${prefix}/:service_id/ts/:ts/limit/:n`, api);
  }
};
