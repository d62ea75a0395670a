/**
 * Requests per token per second (@fastify/rate-limit). A request over the limit gets 429 with
 * `Retry-After`, as RTM_ERR_REQUEST_RATE_LIMITED in the envelope of its URL's dialect (the app's
 * error handler renders it).
 *
 * Registered with fastify-plugin semantics: it limits every route registered after it in the
 * same (or a child) scope, so register it before the dialect plugins.
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { Limits } from '../../config/config.ts';
import type { TokenVerifier } from '../auth.ts';
import { Errors, RtmError } from '../errors.ts';
import { createLimitKeyOf } from './limit-key.ts';

export interface RateLimitOptions {
  /** Uses `requestsPerTokenPerSecond` (0 or Infinity turns the limit off). */
  limits: Limits;
  /** When given, unverified tokens are limited by client address. Default: any token counts as itself. */
  tokens?: TokenVerifier;
  /** Paths that are never limited (e.g. health checks). Default: none. */
  skip?: (url: string) => boolean;
}

/** The 429 a limiter answers with, carrying Retry-After in whole seconds (at least 1). */
export function rateLimitedError(ttlMs: number, detail: string): RtmError {
  const seconds = Math.max(1, Math.ceil(ttlMs / 1000));
  return new RtmError(Errors.REQUEST_RATE_LIMITED, `${detail}; retry in ${seconds} s`, {
    'retry-after': String(seconds),
  });
}

const plugin: FastifyPluginAsync<RateLimitOptions> = async (app, opts) => {
  const max = opts.limits.requestsPerTokenPerSecond;
  if (!(max > 0) || !Number.isFinite(max)) return;
  const keyOf = createLimitKeyOf(opts.tokens);
  const skip = opts.skip;
  await app.register(rateLimit, {
    max: Math.floor(max),
    timeWindow: 1000,
    // Callers tracked at once (LRU); an evicted caller starts a fresh second, never a wrong 429.
    cache: 100_000,
    keyGenerator: keyOf,
    ...(skip ? { allowList: (req) => skip(req.url) } : {}),
    errorResponseBuilder: (_req, ctx) =>
      rateLimitedError(ctx.ttl, `More than ${ctx.max} requests per second for this token`),
  });
};

export const rateLimitPlugin = fp(plugin, { name: 'rtm-rate-limit', fastify: '5.x' });
