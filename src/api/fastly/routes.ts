/**
 * The Fastly-compatible real-time APIs (docs/api-fastly.md): real-time analytics
 * (`/v1/channel`), Domain Inspector (`/v1/domains`) and Origin Inspector (`/v1/origins`), each
 * with `ts/{t}`, `ts/h` and `.../limit/{n}`. Errors are registry errors thrown as RtmError; the
 * app's error handler renders them in Fastly's `{"msg", "detail"}` envelope (dialectOf `/v1/`).
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { RealtimeSource, SecondHints } from '../../aggregate/realtime-source.ts';
import { canRead, type TokenVerifier } from '../../http/auth.ts';
import { authenticateRequest } from '../../http/request-principal.ts';
import { Errors, RtmError } from '../../http/errors.ts';
import { DEFAULT_FASTLY_LIMITS, MAX_LIMIT, planCursor, type CursorRequest, type FastlyLimits } from './cursor.ts';
import { channelApi, domainsApi, originsApi, readEntries, type Api, type Rendered } from './entries.ts';
import { createFragmentCache, type FragmentCache } from './fragment-cache.ts';
import { gzipJoin } from './gzip-join.ts';

export interface FastlyRoutesOptions {
  /** Per-second data: createRealtimeReader(window, store) in the app. */
  source: RealtimeSource;
  tokens: TokenVerifier;
  /** Reported as `AggregateDelay`; must be the delay the source publishes with (config.aggregateDelaySeconds). */
  aggregateDelaySeconds: number;
  /** Response bounds for `ts/{t}`; each defaults to DEFAULT_FASTLY_LIMITS. */
  limits?: Partial<FastlyLimits>;
  /**
   * The cache of rendered entries (fragment-cache.ts), `false` for none. Default: one of
   * DEFAULT_FRAGMENT_CACHE_BYTES. Only a source with versions (the window, through
   * createRealtimeReader) is cached.
   */
  fragmentCache?: FragmentCache | false;
  /**
   * Long-poll like rt.fastly.com: a `ts/{t}` with nothing published at or after t yet waits up
   * to `maxWaitMs` for such a second (src/query/published-seconds.ts). Default: none, answer at once.
   */
  longPoll?: { maxWaitMs: number; waitBeyond(after: number, timeoutMs: number, signal: AbortSignal): Promise<number> };
}

/** 256 MiB: at 60 POPs a channel entry is ~22 KB, so the full `ts/h` of ~95 services. */
export const DEFAULT_FRAGMENT_CACHE_BYTES = 256 * 2 ** 20;

export const NO_DATA_MESSAGE = 'No data available, please retry';

const COMMA = Buffer.from(',');
const TAIL = Buffer.from(']}');

/**
 * The answer as JSON (UTF-8): what JSON.stringify of `{Timestamp, AggregateDelay, Data, Error?}`
 * gives, with the entries' fragments pasted in (no parse, no re-serialization). With `gzip`, the
 * same text as one gzip member joined from the entries' deflated forms (which must be there).
 */
export function answerBody(timestamp: number, delay: number, entries: readonly Rendered[], gzip = false): Buffer {
  const head = `{"Timestamp":${timestamp},"AggregateDelay":${delay},"Data":[`;
  if (entries.length === 0) {
    const text = Buffer.from(`${head}],"Error":${JSON.stringify(NO_DATA_MESSAGE)}}`);
    return gzip ? gzipJoin([text]) : text;
  }
  const parts: (Buffer | NonNullable<Rendered['deflated']>)[] = [Buffer.from(head)];
  entries.forEach((e, i) => {
    if (i > 0) parts.push(COMMA);
    const piece = gzip ? e.deflated : e.json;
    if (piece === undefined) throw new Error(`entry ${e.second} has no deflated form`);
    parts.push(piece);
  });
  parts.push(TAIL);
  return gzip ? gzipJoin(parts) : Buffer.concat(parts as Buffer[]);
}

/** Whether an Accept-Encoding header takes gzip (`gzip` or `x-gzip`, q > 0; `*` is not taken as gzip). */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  const value = Array.isArray(header) ? header.join(',') : (header ?? '');
  for (const item of value.split(',')) {
    const [coding = '', ...params] = item.split(';').map((x) => x.trim().toLowerCase());
    if (coding !== 'gzip' && coding !== 'x-gzip') continue;
    const q = params.find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  }
  return false;
}

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
  const cache = opts.fragmentCache === false ? undefined : (opts.fragmentCache ?? createFragmentCache({ maxBytes: DEFAULT_FRAGMENT_CACHE_BYTES }));

  const handler =
    <S extends SecondHints>(api: Api<S>) =>
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
      const { longPoll } = opts;
      if (longPoll !== undefined && longPoll.maxWaitMs > 0 && cursor.kind === 'since' && cursor.t > source.latestPublished()) {
        // A client that hangs up stops the wait; its answer is then never sent.
        const hangUp = new AbortController();
        const onClose = (): void => hangUp.abort();
        reply.raw.once('close', onClose);
        await longPoll.waitBeyond(cursor.t - 1, longPoll.maxWaitMs, hangUp.signal);
        reply.raw.off('close', onClose);
      }
      const plan = planCursor(cursor, source.latestPublished(), delay, limits);
      const gzip = acceptsGzip(req.headers['accept-encoding']);
      const range = { from: plan.from, to: plan.to, deflated: gzip };
      const rendered = plan.to > plan.from ? await readEntries(api, source, cache, service, range) : [];
      const { entries, timestamp } = plan.pick(rendered);
      // Prebuilt JSON: Fastify sends a Buffer as it is (with the content type set here).
      void reply.header('cache-control', 'max-age=1').header('vary', 'accept-encoding').type('application/json; charset=utf-8');
      if (gzip) void reply.header('content-encoding', 'gzip');
      return answerBody(timestamp, delay, entries, gzip);
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
