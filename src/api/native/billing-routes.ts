/**
 * `GET /rtm/v1/billing/bandwidth-p95?service=s&month=YYYY-MM` (or `from`/`to`, Unix seconds): the
 * 95th-percentile bandwidth of a service over 5-minute samples (src/query/bandwidth-p95.ts), how
 * transit is billed. Default range: the current calendar month (UTC) so far.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { hasScope, type TokenVerifier } from '../../http/auth.ts';
import { Errors, RtmError } from '../../http/errors.ts';
import { authenticateRequest } from '../../http/request-principal.ts';
import type { Clock } from '../../model/clock.ts';
import { bandwidthP95, monthRange, type BandwidthP95Sources } from '../../query/bandwidth-p95.ts';
import { strictCompiler } from './strict-schema.ts';

export interface BillingRouteOptions {
  tokens: TokenVerifier;
  sources: BandwidthP95Sources;
  clock: Clock;
}

const BillingQuery = Type.Object(
  {
    service: Type.String({ minLength: 1, maxLength: 256 }),
    month: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}$', description: 'a calendar month in UTC, e.g. 2026-11' })),
    from: Type.Optional(Type.Integer({ description: 'Unix seconds, inclusive' })),
    to: Type.Optional(Type.Integer({ description: 'Unix seconds, exclusive' })),
  },
  { additionalProperties: false },
);

export const billingRoutes: FastifyPluginAsync<BillingRouteOptions> = async (app, { tokens, sources, clock }) => {
  app.get<{ Querystring: Static<typeof BillingQuery> }>(
    '/rtm/v1/billing/bandwidth-p95',
    {
      schema: { querystring: BillingQuery, summary: '95th-percentile bandwidth over 5-minute samples (docs/api-native.md#billing)', tags: ['native'] },
      validatorCompiler: strictCompiler,
      preValidation: async (req) => {
        const principal = await authenticateRequest(req, tokens);
        if (!hasScope(principal, 'read')) throw new RtmError(Errors.AUTH_FORBIDDEN, 'billing reads need the read scope');
      },
    },
    async (req) => {
      const principal = req.principal;
      if (principal === undefined) throw new RtmError(Errors.AUTH_MISSING);
      const { service } = req.query;
      // A service the token may not read answers like an unknown one.
      if (principal.services !== 'all' && !principal.services.has(service)) throw new RtmError(Errors.REQUEST_NOT_FOUND, `service "${service}" is unknown`);
      if (req.query.month !== undefined && (req.query.from !== undefined || req.query.to !== undefined)) {
        throw new RtmError(Errors.REQUEST_BAD_PARAM, 'month: give either month or from/to');
      }
      const now = new Date(clock.now());
      const current = `${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
      const month = monthRange(req.query.month ?? current);
      const from = req.query.from ?? month.from;
      const to = req.query.to ?? (req.query.from !== undefined ? Math.floor(clock.now() / 1000) : month.to);
      return bandwidthP95(sources, service, from, to);
    },
  );
};
