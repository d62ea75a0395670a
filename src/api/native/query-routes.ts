/**
 * `POST /rtm/v1/query` and `GET /rtm/v1/query`: the native query API (docs/api-native.md). Both
 * parse to the shared query model (src/query/), which plans, reads and ranks; here are only the
 * schemas, the token's services and the JSON / CSV rendering.
 */
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { hasScope, type TokenVerifier } from '../../http/auth.ts';
import { Errors, RtmError } from '../../http/errors.ts';
import { authenticateRequest } from '../../http/request-principal.ts';
import { bodyFromQueryString, QueryBodySchema, QueryStringSchema, type QueryBody, type QueryString } from '../../query/query-schema.ts';
import { resolveQuery } from '../../query/resolve.ts';
import { runQuery, type QueryAnswer, type QuerySources } from '../../query/run-query.ts';
import { toCsv } from './csv.ts';
import { schemaProblem, strictCompiler } from './strict-schema.ts';

export interface QueryRouteOptions {
  tokens: TokenVerifier;
  sources: QuerySources;
}

const checkBody = TypeCompiler.Compile(QueryBodySchema);

const wantsCsv = (req: FastifyRequest): boolean => /\btext\/csv\b/i.test(req.headers.accept ?? '');

function render(req: FastifyRequest, reply: FastifyReply, body: QueryBody, answer: QueryAnswer): unknown {
  if (!wantsCsv(req)) return answer;
  const columns = [...(answer.granularity === 'all' ? [] : ['time']), ...(body.groupBy ?? []), ...body.metrics, ...(answer.rows.some((r) => r['other'] === true) ? ['other'] : [])];
  return reply
    .type('text/csv; charset=utf-8')
    .header('x-rtm-final-through', String(answer.final_through))
    .send(toCsv(columns, answer.rows));
}

export const queryRoutes: FastifyPluginAsync<QueryRouteOptions> = async (app, { tokens, sources }) => {
  // Authenticate before validation: an anonymous caller learns nothing of the schema.
  app.addHook('preValidation', async (req) => {
    const principal = await authenticateRequest(req, tokens);
    if (!hasScope(principal, 'read')) throw new RtmError(Errors.AUTH_FORBIDDEN, 'queries need the read scope');
  });
  const answer = async (req: FastifyRequest, reply: FastifyReply, body: QueryBody): Promise<unknown> => {
    const principal = req.principal;
    if (principal === undefined) throw new RtmError(Errors.AUTH_MISSING);
    const query = resolveQuery(body, sources.realtime.latestPublished() + 1);
    return render(req, reply, body, await runQuery(sources, query, principal.services));
  };

  app.post<{ Body: QueryBody }>(
    '/rtm/v1/query',
    { schema: { body: QueryBodySchema, summary: 'Any metric over any time range (docs/api-native.md#query)', tags: ['native'] }, validatorCompiler: strictCompiler },
    (req, reply) => answer(req, reply, req.body),
  );

  app.get<{ Querystring: QueryString }>(
    '/rtm/v1/query',
    { schema: { querystring: QueryStringSchema, summary: 'The query from the query string (curl, Grafana); CSV with Accept: text/csv', tags: ['native'] }, validatorCompiler: strictCompiler },
    async (req, reply) => {
      const body = bodyFromQueryString(req.query);
      const problem = schemaProblem(checkBody, body);
      if (problem !== undefined) throw new RtmError(Errors.REQUEST_BAD_PARAM, problem);
      return answer(req, reply, body as QueryBody);
    },
  );
};
