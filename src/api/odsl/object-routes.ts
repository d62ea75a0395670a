/**
 * ODSL objects (`/api/object/v1`): JSON objects owned by the token that stored them, whose
 * `VarMetricTimeSeries` properties are metric timeseries evaluated on read:
 *   POST   /api/object/v1                      create or replace (201 / 200), answers the object (write scope, quota)
 *   GET    /api/object/v1                      the token's objects, newest first (x-total-count)
 *   GET    /api/object/v1/{id}                 one object (404 when absent or another token's)
 *   GET    /api/object/v1/{id}/{property}      the property's timeseries (`_range` applies)
 *   DELETE /api/object/v1/{id}                 204 (write scope)
 * Any of the GETs with `_metric` answers that virtual timeseries instead (the seed's calls on
 * object paths), as GET /api/metric/v1 does.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { ObjectQuota, ObjectStore, PutResult } from '../../store/object-store.ts';
import { hasScope, usageOwnerOf, type Principal, type TokenVerifier } from '../../http/auth.ts';
import { Errors, RtmError } from '../../http/errors.ts';
import { authenticateRequest } from '../../http/request-principal.ts';
import { checkObject, METRIC_TIMESERIES_TYPE, timeseriesOf } from './object-schema.ts';
import {
  createTimeseriesEvaluator,
  createVirtualTimeseriesHandler,
  queryString,
  type VirtualTimeseriesDeps,
} from './virtual-timeseries.ts';

export interface OdslObjectRouteOptions {
  objects: ObjectStore;
  tokens: TokenVerifier;
  virtualTimeseries: VirtualTimeseriesDeps;
  /** Largest object body, bytes. Default 256 KiB. */
  maxObjectBytes?: number;
  /** Objects and bytes per token (the operator's admin token has no quota). Default: no quota. */
  quota?: ObjectQuota;
}

const Params = Type.Object({ id: Type.String({ maxLength: 200 }), property: Type.Optional(Type.String({ maxLength: 200 })) });
type ParamsT = Static<typeof Params>;

/** A whole-number query parameter within [min, max]. */
function intParam(query: unknown, name: string, min: number, max: number, fallback: number): number {
  const raw = queryString(query, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    throw new RtmError(Errors.ODSL_BAD_PARAM, `${name} must be a whole number ${min}-${max}`);
  }
  return n;
}

export const odslObjectRoutes: FastifyPluginAsync<OdslObjectRouteOptions> = async (app, opts) => {
  const { objects, tokens } = opts;
  const clock = opts.virtualTimeseries.clock;
  const timeseries = createVirtualTimeseriesHandler(opts.virtualTimeseries);
  const evaluate = createTimeseriesEvaluator(opts.virtualTimeseries);
  const bodyLimit = opts.maxObjectBytes ?? 256 * 1024;

  const caller = async (req: FastifyRequest): Promise<Principal> => {
    const principal = req.principal ?? (await authenticateRequest(req, tokens));
    if (!hasScope(principal, 'read')) throw new RtmError(Errors.AUTH_FORBIDDEN, 'objects need the read scope');
    return principal;
  };
  // Storing takes disk all tenants share: a token needs the write scope, not just read.
  const writer = async (req: FastifyRequest): Promise<Principal> => {
    const principal = req.principal ?? (await authenticateRequest(req, tokens));
    if (!hasScope(principal, 'write')) throw new RtmError(Errors.AUTH_FORBIDDEN, 'storing or deleting objects needs the write scope');
    return principal;
  };
  const hasMetric = (req: FastifyRequest): boolean => queryString(req.query, '_metric') !== undefined;
  const load = async (principal: Principal, id: string) => {
    const found = await objects.get(principal.tokenId, id);
    if (!found) throw new RtmError(Errors.ODSL_UNKNOWN_OBJECT, `no object "${id.slice(0, 128)}"`);
    return found;
  };

  app.post('/api/object/v1', { bodyLimit }, async (req, reply) => {
    const principal = await writer(req);
    const checked = checkObject(req.body);
    if (!checked.ok) throw new RtmError(Errors.ODSL_BAD_OBJECT, checked.error);
    const { id, object } = checked.value;
    const quota = usageOwnerOf(principal) === undefined ? undefined : opts.quota;
    let result: PutResult;
    try {
      result = await objects.put(principal.tokenId, id, object, clock.now(), quota);
    } catch (err) {
      req.log.error({ err }, 'object store write failed');
      throw new RtmError(Errors.STORE_UNAVAILABLE, 'the object could not be stored, retry later');
    }
    if (!result.ok) {
      throw new RtmError(
        Errors.QUOTA_OBJECTS,
        result.exceeded === 'objects'
          ? `this token already stores ${result.used} objects, the most it may (RTM_MAX_OBJECTS_PER_TOKEN); delete some first`
          : `this token stores ${result.used} bytes of objects and this one would take it past ${result.limit} (RTM_MAX_OBJECT_BYTES_PER_TOKEN); delete some first`,
      );
    }
    return reply.code(result.created ? 201 : 200).send(object);
  });

  app.get('/api/object/v1', async (req, reply) => {
    const principal = await caller(req);
    if (hasMetric(req)) return timeseries(req, principal);
    const { objects: list, total } = await objects.list(principal.tokenId, {
      limit: intParam(req.query, '_limit', 1, 1000, 100),
      skip: intParam(req.query, '_skip', 0, 1_000_000, 0),
    });
    void reply.header('x-total-count', String(total));
    return list.map((o) => o.body);
  });

  app.get<{ Params: ParamsT }>('/api/object/v1/:id', { schema: { params: Params } }, async (req) => {
    const principal = await caller(req);
    if (hasMetric(req)) return timeseries(req, principal);
    return (await load(principal, req.params.id)).body;
  });

  app.get<{ Params: ParamsT }>('/api/object/v1/:id/:property', { schema: { params: Params } }, async (req) => {
    const principal = await caller(req);
    if (hasMetric(req)) return timeseries(req, principal);
    const { body } = await load(principal, req.params.id);
    const name = req.params.property ?? '';
    const value = name !== '_id' && Object.hasOwn(body, name) ? body[name] : undefined;
    if (value === undefined) throw new RtmError(Errors.ODSL_UNKNOWN_PROPERTY, `object "${req.params.id}" has no property "${name.slice(0, 128)}"`);
    const spec = timeseriesOf(value);
    if (!spec) throw new RtmError(Errors.ODSL_NOT_A_TIMESERIES, `property "${name}" is not a ${METRIC_TIMESERIES_TYPE}`);
    const range = queryString(req.query, '_range');
    return evaluate(range === undefined ? spec : { ...spec, range }, principal);
  });

  app.delete<{ Params: ParamsT }>('/api/object/v1/:id', { schema: { params: Params } }, async (req, reply) => {
    const principal = await writer(req);
    if (!(await objects.delete(principal.tokenId, req.params.id))) {
      throw new RtmError(Errors.ODSL_UNKNOWN_OBJECT, `no object "${req.params.id.slice(0, 128)}"`);
    }
    return reply.code(204).send();
  });
};
