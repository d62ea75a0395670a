/**
 * Admin API for the catalog (`admin` scope only), native envelope:
 *   GET  /admin/services                      -> {services: [...]}
 *   POST /admin/services/:service/rename {name} -> {service: {...}}, or 404
 *
 * `rtmetrics service ...` calls these while a server holds the database. An admin token limited
 * to some services sees and renames only those; the others look like they do not exist.
 */
import type { FastifyPluginAsync } from 'fastify';
import { canAccessService, hasScope } from '../../http/auth.ts';
import { Errors, RtmError } from '../../http/errors.ts';
import { authenticateRequest } from '../../http/request-principal.ts';
import { invalidServiceName, type Catalog } from '../../store/catalog.ts';
import type { TokenVerifier } from '../../http/auth.ts';

export interface ServiceAdminRouteOptions {
  catalog: Catalog;
  /** Who is calling. */
  verifier: TokenVerifier;
}

export const serviceAdminRoutes: FastifyPluginAsync<ServiceAdminRouteOptions> = async (app, { catalog, verifier }) => {
  const admin = async (req: Parameters<typeof authenticateRequest>[0]) => {
    const principal = await authenticateRequest(req, verifier);
    if (!hasScope(principal, 'admin')) throw new RtmError(Errors.AUTH_FORBIDDEN, 'The admin scope is required');
    return principal;
  };

  app.get('/admin/services', async (req) => {
    const principal = await admin(req);
    return { services: (await catalog.services()).filter((s) => canAccessService(principal, s.service)) };
  });

  app.post<{ Params: { service: string }; Body: unknown }>('/admin/services/:service/rename', async (req) => {
    const principal = await admin(req);
    const { service } = req.params;
    const name = (req.body as { name?: unknown } | null | undefined)?.name;
    if (typeof name !== 'string') throw new RtmError(Errors.REQUEST_BAD_PARAM, 'The body must be {"name": "<new name>"}');
    const invalid = invalidServiceName(name);
    if (invalid) throw new RtmError(Errors.REQUEST_BAD_PARAM, invalid);
    const renamed = canAccessService(principal, service) ? await catalog.rename(service, name) : undefined;
    if (!renamed) throw new RtmError(Errors.CATALOG_UNKNOWN_SERVICE, `No service ${service} has been seen`);
    return { service: renamed };
  });
};
