/**
 * What every answer to hostile input must satisfy, in every dialect: no 5xx, a 4xx body in the
 * dialect's own envelope carrying a registry code whose status is the answer's, and no database
 * text anywhere. Shared by the query and ingest fuzz tests.
 */
import type { LightMyRequestResponse } from 'fastify';
import { dialectOf } from '../../src/app.ts';
import { allErrorCodes, type Dialect } from '../../src/http/errors.ts';

const REGISTRY = new Map(allErrorCodes().map((c) => [c.code, c]));

/** Text only the database or a SQL builder would write (error classes, table names, statements). */
const DATABASE_TEXT = [
  /duckdb/i,
  /\b(?:Binder|Conversion|Parser|Catalog|Constraint|Out of Range|Invalid Input|Transaction|Serialization|INTERNAL) Error\b/,
  /\b(?:usage_entity|usage_stage|odsl_objects|catalog_services|catalog_domains|api_tokens|published_lsn|edge_1[smhd]|origin_1[smhd]|dimension_1[smhd])\b/,
  /\bSELECT\b.*\bFROM\b/,
  /\bWHERE\b.*\?/,
];

const isString = (v: unknown): v is string => typeof v === 'string';

function envelopeCode(dialect: Dialect, body: Record<string, unknown>, status: number): string | undefined {
  switch (dialect) {
    case 'fastly':
      return isString(body['msg']) && isString(body['detail']) && isString(body['code']) ? body['code'] : undefined;
    case 'azion':
      return isString(body['detail']) && isString(body['code']) ? body['code'] : undefined;
    case 'odsl':
      return body['status'] === status && isString(body['message']) && isString(body['code']) ? body['code'] : undefined;
    case 'native': {
      const e = body['error'] as Record<string, unknown> | undefined;
      return e && isString(e['code']) && isString(e['message']) && isString(e['detail']) ? e['code'] : undefined;
    }
  }
}

/**
 * The problems of one answer to a request for `url` (empty when it is fine). `sent` is the text
 * of the request (URL and body) so database-looking text the client itself sent, echoed back
 * in a 400's detail, is not blamed on the server.
 */
export function answerProblems(url: string, res: LightMyRequestResponse, sent: string): string[] {
  const problems: string[] = [];
  const status = res.statusCode;
  if (status >= 500) problems.push(`${status} answer: ${res.body.slice(0, 300)}`);
  for (const pattern of DATABASE_TEXT) {
    if (pattern.test(res.body) && !pattern.test(sent)) problems.push(`database text (${pattern}) in the body: ${res.body.slice(0, 300)}`);
  }
  if (status >= 400) {
    let body: unknown;
    try {
      body = JSON.parse(res.body);
    } catch {
      problems.push(`a ${status} body that is not JSON: ${res.body.slice(0, 200)}`);
      return problems;
    }
    const dialect = dialectOf(url);
    const code = typeof body === 'object' && body !== null ? envelopeCode(dialect, body as Record<string, unknown>, status) : undefined;
    const def = code === undefined ? undefined : REGISTRY.get(code);
    if (!def) problems.push(`a ${status} body outside the ${dialect} envelope or without a registry code: ${res.body.slice(0, 300)}`);
    else if (def.status !== status) problems.push(`${code} is declared ${def.status} but answered ${status}`);
  } else if ((res.headers['content-type'] ?? '').toString().includes('json')) {
    try {
      JSON.parse(res.body);
    } catch {
      problems.push(`a ${status} JSON answer that does not parse: ${res.body.slice(0, 200)}`);
    }
  }
  return problems;
}

/** Rejects when `promise` takes longer than `ms`: a generous guard that turns a hang into a failure. */
export async function withinMs<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, guard]);
  } finally {
    clearTimeout(timer);
  }
}
