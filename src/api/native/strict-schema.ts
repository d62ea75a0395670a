/**
 * Route validation with TypeBox as written, for the native query routes: Fastify's default ajv
 * drops unknown properties silently (a `groupby` typo would answer ungrouped numbers) and
 * reports a union's failure at the union. Here an unknown property is an error, and the deepest
 * error names the field. Query strings are converted first (strings to integers), nothing else.
 */
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import type { FastifySchema, FastifySchemaCompiler } from 'fastify';

/** The first problem of `data` against a compiled schema, as "path: message", or undefined. */
export function schemaProblem(check: ReturnType<typeof TypeCompiler.Compile>, data: unknown): string | undefined {
  if (check.Check(data)) return undefined;
  const errors = [...check.Errors(data)];
  const worst = errors.reduce<(typeof errors)[number] | undefined>((a, e) => (!a || e.path.length > a.path.length ? e : a), undefined);
  const where = worst?.path ? worst.path.replace(/^\//, '') : '(root)';
  return `${where}: ${worst?.message ?? 'is invalid'}`;
}

export const strictCompiler: FastifySchemaCompiler<FastifySchema> = ({ schema, httpPart }) => {
  const check = TypeCompiler.Compile(schema as TSchema);
  const convert = httpPart === 'querystring';
  return (input: unknown) => {
    const data = convert ? Value.Convert(schema as TSchema, input) : input;
    const problem = schemaProblem(check, data);
    return problem === undefined ? { value: data } : { error: new Error(`${httpPart ?? 'request'}/${problem}`) };
  };
};
