/**
 * Admin API for tokens (`admin` scope only), native envelope:
 *   POST   /admin/tokens      {name, services, scopes} -> 201 with the secret, shown this once
 *   GET    /admin/tokens      -> {tokens: [...]} without secrets or hashes
 *   DELETE /admin/tokens/:id  -> 204, or 404
 *
 * An admin token limited to some services manages only tokens within those services: it cannot
 * mint a token wider than itself, and other tokens look like they do not exist (404).
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { FastifyPluginAsync, FastifyRequest, FastifySchema, FastifySchemaCompiler } from 'fastify';
import { hasScope, SCOPES, type Principal, type TokenVerifier } from '../../http/auth.ts';
import { Errors, RtmError } from '../../http/errors.ts';
import { authenticateRequest } from '../../http/request-principal.ts';
import { checkTokenInput, MAX_TOKEN_NAME, type TokenInfo, type TokenStore } from '../../store/token-store.ts';

export interface AdminRouteOptions {
  /** Who is calling (the admin token composed with the store). */
  verifier: TokenVerifier;
  /** Where tokens are created, listed and revoked. */
  store: TokenStore;
  /** Called after a token is revoked (e.g. to forget its service quota). Default: nothing. */
  onRevoke?: (id: string) => void;
}

const CreateBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: MAX_TOKEN_NAME, description: `1 to ${MAX_TOKEN_NAME} characters` }),
    services: Type.Union(
      [
        Type.Literal('all'),
        Type.Array(Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }), { minItems: 1, maxItems: 10_000 }),
      ],
      { description: `"all" or a non-empty list of service ids matching [A-Za-z0-9_-]{1,64}` },
    ),
    scopes: Type.Array(Type.Union(SCOPES.map((s) => Type.Literal(s))), {
      minItems: 1,
      maxItems: SCOPES.length,
      description: `a non-empty list of ${SCOPES.join(', ')}`,
    }),
  },
  { additionalProperties: false },
);
type CreateBodyT = Static<typeof CreateBody>;

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
type IdParamsT = Static<typeof IdParams>;

/**
 * Validates bodies with TypeBox as written: Fastify's default ajv coerces (`"every"` would become
 * the service list `["every"]`) and silently drops unknown properties; an admin typo must fail.
 */
const strictCompiler: FastifySchemaCompiler<FastifySchema> = ({ schema }) => {
  const check = TypeCompiler.Compile(schema as TSchema);
  return (data: unknown) => {
    if (check.Check(data)) return { value: data };
    // The deepest error names the actual culprit (a union reports itself first).
    const errors = [...check.Errors(data)];
    const worst = errors.reduce<(typeof errors)[number] | undefined>((a, e) => (!a || e.path.length > a.path.length ? e : a), undefined);
    const where = worst?.path ? `${worst.path}: ` : '';
    const hint = typeof worst?.schema.description === 'string' ? ` (${worst.schema.description})` : '';
    return { error: new Error(`body ${where}${worst?.message ?? 'is invalid'}${hint}`) };
  };
};

/** Whether `p` covers every service of `services`. */
function covers(p: Principal, services: 'all' | readonly string[]): boolean {
  if (p.services === 'all') return true;
  if (services === 'all') return false;
  const own = p.services;
  return services.every((s) => own.has(s));
}

const kPrincipal = Symbol('rtm.admin.principal');
type AdminRequest = FastifyRequest & { [kPrincipal]?: Principal };

export const adminRoutes: FastifyPluginAsync<AdminRouteOptions> = async (app, opts) => {
  // Authenticate before the body is parsed, so an anonymous caller learns nothing of the schema.
  app.addHook('onRequest', async (req: AdminRequest) => {
    const principal = await authenticateRequest(req, opts.verifier);
    if (!hasScope(principal, 'admin')) throw new RtmError(Errors.AUTH_FORBIDDEN, 'The admin scope is required');
    req[kPrincipal] = principal;
  });
  const principalOf = (req: FastifyRequest): Principal => {
    const p = (req as AdminRequest)[kPrincipal];
    if (!p) throw new RtmError(Errors.AUTH_MISSING);
    return p;
  };
  const visible = (p: Principal, t: TokenInfo): boolean => covers(p, t.services);

  app.post<{ Body: CreateBodyT }>('/admin/tokens', { schema: { body: CreateBody }, validatorCompiler: strictCompiler }, async (req, reply) => {
    const principal = principalOf(req);
    const checked = checkTokenInput(req.body);
    if (!checked.ok) throw new RtmError(Errors.REQUEST_BAD_PARAM, checked.reason);
    if (!covers(principal, checked.value.services)) {
      throw new RtmError(Errors.AUTH_FORBIDDEN, 'A token cannot grant services its creator does not have');
    }
    const { token, secret } = await opts.store.create(checked.value);
    void reply.code(201).header('cache-control', 'no-store');
    return { ...token, token: secret };
  });

  app.get('/admin/tokens', async (req) => {
    const principal = principalOf(req);
    return { tokens: (await opts.store.list()).filter((t) => visible(principal, t)) };
  });

  app.delete<{ Params: IdParamsT }>('/admin/tokens/:id', { schema: { params: IdParams }, validatorCompiler: strictCompiler }, async (req, reply) => {
    const principal = principalOf(req);
    const { id } = req.params;
    const target = (await opts.store.list()).find((t) => t.id === id);
    if (!target || !visible(principal, target) || !(await opts.store.revoke(id))) {
      throw new RtmError(Errors.REQUEST_NOT_FOUND, `No token with id ${id}`);
    }
    opts.onRevoke?.(id);
    return reply.code(204).send();
  });
};
