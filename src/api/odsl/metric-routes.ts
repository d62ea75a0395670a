/**
 * The OpenDataDSL metric service (`/api/metric`): build info, entity search, one entity,
 * listMetrics, and entities sent by other applications. Translates ODSL query parameters to the
 * store's query model (FilterNode, SortSpec); errors render in the odsl envelope of the registry.
 * A token sees only the entities it owns; the admin token sees all.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import type { Clock } from '../../model/clock.ts';
import type { UsageEntity } from '../../model/usage.ts';
import type { UsageStore } from '../../store/usage-store.ts';
import { hasScope, usageOwnerOf, type Principal, type TokenVerifier } from '../../http/auth.ts';
import { Errors, RtmError } from '../../http/errors.ts';
import { authenticateRequest } from '../../http/request-principal.ts';
import { decodeContentEncoding } from './content-encoding.ts';
import { entitiesFromJson, entitiesFromNdjson, TooManyItems, type ParsedBody } from './entity-input.ts';
import { andFilters, filterFromParams, OPERATOR_USAGE_FIELD_TYPES, parseEntityFilter, USAGE_FIELD_TYPES } from './filter.ts';
import { SELF_METRICS, SELF_PROVIDER } from './self-metering.ts';
import type { UsageQuota } from './usage-quota.ts';
import { DEFAULT_SORT, parseSort } from './sort.ts';

export interface OdslMetricRoutesOptions {
  usage: UsageStore;
  tokens: TokenVerifier;
  clock: Clock;
  build: { name: string; version: string; commit: string; startTime: string };
  /** Answers a request with `_metric` (virtual timeseries); without it such requests are a 400. */
  virtualTimeseries?: (req: FastifyRequest, principal: Principal) => Promise<unknown>;
  /** Metric names of provider CDN, for listMetrics. Default: CDN is not offered. */
  cdnMetrics?: readonly string[];
  /** Most entities in one POST. Default 100,000. */
  maxItems?: number;
  /** Longest NDJSON line, bytes. Default 64 KiB. */
  maxLineBytes?: number;
  /** Largest POST body, bytes. Default: the app's bodyLimit. */
  maxBodyBytes?: number;
  /** Per-token quota and rate of posted entities (not applied to the operator). Default: none. */
  quota?: UsageQuota;
}

export const DEFAULT_LIMIT = 100;
/** Most entities one POST may carry (the default of maxItems). */
export const DEFAULT_MAX_ITEMS = 100_000;
export const MAX_LIMIT = 10_000;
const LIST_PARAMS = new Set(['_filter', '_limit', '_skip', '_sort']);
const MAX_ERRORS_REPORTED = 1000;

/**
 * The seed's entity: timestamp as ISO-8601 UTC. `owner` (the token that stored it) only for an
 * operator, who sees every tenant's entities and must tell them apart (billing).
 */
export function renderEntity(e: UsageEntity, withOwner = false): Record<string, unknown> {
  const { owner, _id, provider, metric, timestamp, value, ...rest } = e;
  return { _id, provider, metric, timestamp: new Date(timestamp).toISOString(), value, ...rest, ...(withOwner && { owner }) };
}

function single(query: Record<string, unknown>, name: string): string | undefined {
  const v = query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new RtmError(Errors.ODSL_BAD_PARAM, `${name} given more than once`);
  return v;
}

function intParam(query: Record<string, unknown>, name: string, fallback: number, max: number, def = Errors.ODSL_BAD_PARAM): number {
  const raw = single(query, name);
  if (raw === undefined) return fallback;
  if (!/^\d{1,9}$/.test(raw.trim()) || Number(raw) > max) throw new RtmError(def, `${name} must be an integer 0..${max}, got "${raw.slice(0, 40)}"`);
  return Number(raw);
}

async function readStream(stream: Readable, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buf.length;
    if (size > limit) throw new RtmError(Errors.INGEST_BODY_TOO_LARGE, `body larger than ${limit} bytes`);
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export const odslMetricRoutes: FastifyPluginAsync<OdslMetricRoutesOptions> = async (app, opts) => {
  const { usage, tokens } = opts;
  const maxItems = opts.maxItems ?? DEFAULT_MAX_ITEMS;
  const maxLineBytes = opts.maxLineBytes ?? 64 * 1024;
  const bodyLimit = opts.maxBodyBytes ?? app.initialConfig.bodyLimit ?? 1024 * 1024;

  if (!app.hasContentTypeParser('application/x-ndjson')) {
    app.addContentTypeParser('application/x-ndjson', { parseAs: 'string', bodyLimit }, (_req, body, done) => done(null, body));
  }

  const reader = async (req: FastifyRequest): Promise<Principal> => {
    const p = await authenticateRequest(req, tokens);
    if (!hasScope(p, 'read')) throw new RtmError(Errors.AUTH_FORBIDDEN, 'this token has no read scope');
    return p;
  };

  app.get('/api/metric', async (req) => {
    await authenticateRequest(req, tokens);
    const { name, version, commit, startTime } = opts.build;
    return { name, version, commit, startTime };
  });

  app.get('/api/metric/v1', async (req, reply) => {
    const principal = await reader(req);
    const query = req.query as Record<string, unknown>;
    const owner = usageOwnerOf(principal);
    if (query['_metric'] !== undefined) {
      if (!opts.virtualTimeseries) throw new RtmError(Errors.ODSL_BAD_PARAM, 'virtual timeseries (_metric) are not available');
      return opts.virtualTimeseries(req, principal);
    }
    const fn = single(query, '_function');
    if (fn !== undefined) {
      if (fn !== 'listMetrics') throw new RtmError(Errors.ODSL_UNKNOWN_FUNCTION, `unknown _function "${fn.slice(0, 40)}" (known: listMetrics)`);
      const provider = single(query, 'provider')?.trim();
      if (!provider) throw new RtmError(Errors.ODSL_MISSING_PROVIDER, 'listMetrics needs a provider query parameter, e.g. ?_function=listMetrics&provider=RTMRequest');
      if (provider === SELF_PROVIDER) return [...SELF_METRICS];
      if (provider === 'CDN' && opts.cdnMetrics) return [...opts.cdnMetrics];
      const names = await usage.metrics(provider, owner);
      if (names.length === 0) throw new RtmError(Errors.ODSL_UNKNOWN_PROVIDER, `no metrics for provider "${provider.slice(0, 128)}"`);
      return names;
    }
    for (const key of Object.keys(query)) {
      if (key.startsWith('_') && key !== '_id' && !LIST_PARAMS.has(key)) {
        throw new RtmError(Errors.ODSL_BAD_PARAM, `unknown parameter ${key.slice(0, 40)} (known: ${[...LIST_PARAMS].join(', ')}, _function, _metric, or a field name)`);
      }
    }
    // An operator (every owner) may also filter and sort by owner.
    const fields = owner === undefined ? OPERATOR_USAGE_FIELD_TYPES : USAGE_FIELD_TYPES;
    const plain = filterFromParams(query, { fields });
    if (plain && !plain.ok) throw new RtmError(Errors.ODSL_BAD_FILTER, plain.error);
    const filterText = single(query, '_filter');
    const parsed = filterText === undefined ? undefined : parseEntityFilter(filterText, { fields });
    if (parsed && !parsed.ok) throw new RtmError(Errors.ODSL_BAD_FILTER, parsed.error);
    const sortText = single(query, '_sort');
    const sort = sortText === undefined ? { ok: true as const, sort: DEFAULT_SORT } : parseSort(sortText, Object.keys(fields));
    if (!sort.ok) throw new RtmError(Errors.ODSL_BAD_SORT, sort.error);
    const limit = intParam(query, '_limit', DEFAULT_LIMIT, MAX_LIMIT, Errors.QUERY_BAD_LIMIT);
    const skip = intParam(query, '_skip', 0, 100_000_000);
    const filter = andFilters(plain?.ok ? plain.filter : undefined, parsed?.ok ? parsed.filter : undefined);
    const { total, items } = await usage.list({
      ...(owner !== undefined && { owner }),
      ...(filter !== undefined && { filter }),
      sort: sort.sort,
      limit,
      skip,
    });
    void reply.header('x-total-count', String(total));
    return items.map((e) => renderEntity(e, owner === undefined));
  });

  app.get<{ Params: { id: string } }>('/api/metric/v1/:id', async (req) => {
    const principal = await reader(req);
    const owner = usageOwnerOf(principal);
    const entity = await usage.get(req.params.id, owner);
    // Someone else's entity answers as an absent one: ids reveal nothing.
    if (!entity) throw new RtmError(Errors.ODSL_UNKNOWN_ENTITY, `no metric with id "${req.params.id.slice(0, 64)}"`);
    return renderEntity(entity, owner === undefined);
  });

  // gzip bodies are inflated before parsing, as /ingest accepts them.
  app.post('/api/metric/v1', { bodyLimit, preParsing: decodeContentEncoding }, async (req) => {
    const principal = await authenticateRequest(req, tokens);
    if (!hasScope(principal, 'ingest')) throw new RtmError(Errors.AUTH_FORBIDDEN, 'this token has no ingest scope');
    let parsed: ParsedBody;
    try {
      const body: unknown = req.body;
      if (typeof body === 'string' || Buffer.isBuffer(body)) parsed = entitiesFromNdjson(String(body), maxItems, maxLineBytes);
      else if (body !== null && typeof body === 'object' && typeof (body as Readable).pipe === 'function') {
        parsed = entitiesFromNdjson(await readStream(body as Readable, bodyLimit), maxItems, maxLineBytes);
      } else if (body !== null && typeof body === 'object') parsed = entitiesFromJson(body, maxItems);
      else throw new RtmError(Errors.ODSL_BAD_BODY, 'send a JSON object, a JSON array, or NDJSON (application/x-ndjson)');
    } catch (err) {
      if (err instanceof TooManyItems) throw new RtmError(Errors.INGEST_TOO_MANY_EVENTS, err.message);
      throw err;
    }
    if (parsed.entities.length > 0) {
      const admission = opts.quota && usageOwnerOf(principal) !== undefined ? await opts.quota.admit(principal.tokenId, parsed.entities) : undefined;
      if (admission && !admission.ok) throw admission.error;
      try {
        await usage.insert(parsed.entities.map((e) => ({ ...e, owner: principal.tokenId })));
      } catch (err) {
        admission?.release();
        req.log.error({ err }, 'usage entity insert failed');
        throw new RtmError(Errors.STORE_UNAVAILABLE, 'the entities could not be stored; nothing of this request was accepted, retry later');
      }
    }
    return {
      accepted: parsed.entities.length,
      rejected: parsed.errors.length,
      errors: parsed.errors.slice(0, MAX_ERRORS_REPORTED),
    };
  });
};
