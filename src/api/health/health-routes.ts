/**
 * Health checks for load balancers, orchestrators and the cluster, without a token (they carry
 * no data) and outside the per-token limits:
 *   GET /healthz  liveness: 200 {"status":"ok"} whenever the process answers HTTP at all
 *   GET /readyz   readiness: 200 {"status":"ready","checks":{...}} when the store answers and the
 *                 WAL is writable, else 503 RTM_ERR_SERVER_NOT_READY (detail: the failed checks)
 */
import type { FastifyPluginAsync } from 'fastify';
import { Errors, RtmError } from '../../http/errors.ts';
import type { Readiness } from './readiness.ts';

export const HEALTH_PATHS: readonly string[] = ['/healthz', '/readyz'];

export interface HealthRouteOptions {
  readiness: Readiness;
  /** Why the process cannot go on without a restart (StoreEngine.fatal), or undefined. */
  fatal: () => Promise<string | undefined>;
}

export const healthRoutes: FastifyPluginAsync<HealthRouteOptions> = async (app, { readiness, fatal }) => {
  app.addHook('onClose', () => readiness.close());
  // No caching anywhere between the probe and the process.
  app.addHook('onSend', async (_req, reply) => {
    void reply.header('cache-control', 'no-store');
  });

  // Liveness: fails only when a restart is the cure (an orchestrator then restarts the process).
  app.get('/healthz', async () => {
    const why = await fatal();
    if (why !== undefined) throw new RtmError(Errors.SERVER_MUST_RESTART, why);
    return { status: 'ok' };
  });

  app.get('/readyz', async () => {
    const report = await readiness.check();
    if (!report.ready) {
      const failed = Object.entries(report.checks).filter(([, v]) => v !== 'ok');
      throw new RtmError(Errors.SERVER_NOT_READY, failed.map(([k, v]) => `${k}: ${v}`).join('; '));
    }
    return { status: 'ready', checks: report.checks };
  });
};
