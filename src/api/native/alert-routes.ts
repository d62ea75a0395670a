/**
 * `POST/GET/DELETE /rtm/v1/alerts`: alert rules (docs/api-native.md). A rule belongs to the
 * token that made it and is evaluated with that token's grant; a token lists and deletes its
 * own rules only (an operator token, admin on all services, sees all). Another token's rule
 * answers 404, like one that does not exist.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { AlertEvaluator } from '../../alerts/evaluator.ts';
import { FilterSchema, type QueryBody } from '../../query/query-schema.ts';
import { allowedValues, resolveQuery } from '../../query/resolve.ts';
import type { AlertRule, AlertStore } from '../../store/alert-store.ts';
import { canRead, hasScope, type Principal, type TokenVerifier } from '../../http/auth.ts';
import { Errors, RtmError } from '../../http/errors.ts';
import { authenticateRequest } from '../../http/request-principal.ts';
import { strictCompiler } from './strict-schema.ts';

export interface AlertRouteOptions {
  tokens: TokenVerifier;
  store: AlertStore;
  evaluator: AlertEvaluator;
  /** Longest window a rule may use, seconds (the 1 m tier's range limit is a sensible bound). Default 86,400. */
  maxWindowSeconds?: number;
}

const AlertBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    metric: Type.String({ minLength: 1, maxLength: 100, description: 'any query-API metric' }),
    filters: Type.Optional(Type.Array(FilterSchema, { maxItems: 20 })),
    windowSeconds: Type.Integer({ minimum: 1, description: 'the metric over the last N published seconds' }),
    comparison: Type.Union([Type.Literal('>'), Type.Literal('>='), Type.Literal('<'), Type.Literal('<=')]),
    threshold: Type.Number(),
    webhook: Type.String({ minLength: 1, maxLength: 2000, description: 'http(s) URL that receives firing and resolved notifications' }),
  },
  { additionalProperties: false },
);
type AlertBodyT = Static<typeof AlertBody>;

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
type IdParamsT = Static<typeof IdParams>;

const isOperator = (p: Principal): boolean => p.services === 'all' && p.scopes.has('admin');
const visible = (p: Principal, rule: AlertRule): boolean => isOperator(p) || rule.owner === p.tokenId;

export const alertRoutes: FastifyPluginAsync<AlertRouteOptions> = async (app, opts) => {
  const maxWindow = opts.maxWindowSeconds ?? 86_400;
  const bad = (detail: string): RtmError => new RtmError(Errors.REQUEST_BAD_PARAM, detail);

  app.addHook('preValidation', async (req) => {
    const principal = await authenticateRequest(req, opts.tokens);
    if (!hasScope(principal, 'read')) throw new RtmError(Errors.AUTH_FORBIDDEN, 'alerts need the read scope');
  });
  const principalOf = (p: Principal | undefined): Principal => {
    if (p === undefined) throw new RtmError(Errors.AUTH_MISSING);
    return p;
  };
  const render = (rule: AlertRule) => {
    const { webhook, ...rest } = rule;
    return { ...rest, webhook, ...opts.evaluator.state(rule.id) };
  };

  app.post<{ Body: AlertBodyT }>('/rtm/v1/alerts', { schema: { body: AlertBody, summary: 'Create an alert rule', tags: ['native'] }, validatorCompiler: strictCompiler }, async (req, reply) => {
    const principal = principalOf(req.principal);
    const body = req.body;
    if (body.windowSeconds > maxWindow) throw bad(`windowSeconds: at most ${maxWindow}`);
    let url: URL;
    try {
      url = new URL(body.webhook);
    } catch {
      throw bad('webhook: not a URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw bad('webhook: must be an http or https URL');
    const filters = body.filters ?? [];
    // Checks the metric and filters as a query would (the same 400s, naming the field).
    const query = resolveQuery({ from: -body.windowSeconds, granularity: 'all', metrics: [body.metric], filters } as QueryBody, 1_000_000);
    for (const s of allowedValues(query.filters, 'service') ?? []) {
      // Same answer for a forbidden and an unknown service: do not reveal that it exists.
      if (!canRead(principal, s)) throw new RtmError(Errors.REQUEST_NOT_FOUND, `Unknown service ${s}`);
    }
    const services = principal.services === 'all' ? 'all' : [...principal.services];
    const rule = await opts.store.create({ ...body, filters }, { tokenId: principal.tokenId, services });
    return reply.code(201).send(render(rule));
  });

  app.get('/rtm/v1/alerts', async (req) => {
    const principal = principalOf(req.principal);
    const rules = (await opts.store.list()).filter((r) => visible(principal, r));
    return { alerts: rules.map(render) };
  });

  app.delete<{ Params: IdParamsT }>('/rtm/v1/alerts/:id', { schema: { params: IdParams, summary: 'Delete an alert rule', tags: ['native'] }, validatorCompiler: strictCompiler }, async (req, reply) => {
    const principal = principalOf(req.principal);
    const rule = (await opts.store.list()).find((r) => r.id === req.params.id);
    if (rule === undefined || !visible(principal, rule)) throw new RtmError(Errors.REQUEST_NOT_FOUND, `Unknown alert ${req.params.id}`);
    await opts.store.delete(rule.id);
    return reply.code(204).send();
  });
};
