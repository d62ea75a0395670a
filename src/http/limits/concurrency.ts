/**
 * Concurrent streams per token: how many requests one token may have open at once (long queries,
 * big ingest bodies). Beyond `concurrentStreamsPerToken`, 429 RTM_ERR_REQUEST_TOO_MANY_STREAMS in
 * the dialect's envelope. A slot is taken on onRequest and given back when the response socket
 * closes, which also covers clients that hang up mid-stream (onResponse would not fire then).
 *
 * fastify-plugin semantics like rateLimitPlugin: register it before the routes it guards.
 */
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { Limits } from '../../config/config.ts';
import type { TokenVerifier } from '../auth.ts';
import { Errors, RtmError } from '../errors.ts';
import { createLimitKeyOf } from './limit-key.ts';

export interface ConcurrencyLimitOptions {
  /** Uses `concurrentStreamsPerToken` (0 or Infinity turns the limit off). */
  limits: Limits;
  /** As in rateLimitPlugin: unverified tokens count against their address. Default: none. */
  tokens?: TokenVerifier;
  /** Paths that never take a slot. Default: none. */
  skip?: (url: string) => boolean;
}

/** Open requests per key; keys at zero are removed, so the map holds only active callers. */
export interface StreamCounter {
  tryAcquire(key: string): boolean;
  release(key: string): void;
  open(key: string): number;
}

export function createStreamCounter(max: number): StreamCounter {
  const open = new Map<string, number>();
  return {
    tryAcquire(key) {
      const n = open.get(key) ?? 0;
      if (n >= max) return false;
      open.set(key, n + 1);
      return true;
    },
    release(key) {
      const n = (open.get(key) ?? 0) - 1;
      if (n > 0) open.set(key, n);
      else open.delete(key);
    },
    open: (key) => open.get(key) ?? 0,
  };
}

const plugin: FastifyPluginAsync<ConcurrencyLimitOptions> = async (app, opts) => {
  const max = opts.limits.concurrentStreamsPerToken;
  if (!(max > 0) || !Number.isFinite(max)) return;
  const counter = createStreamCounter(Math.floor(max));
  const keyOf = createLimitKeyOf(opts.tokens);
  app.addHook('onRequest', async (req, reply) => {
    if (opts.skip?.(req.url)) return;
    const key = await keyOf(req);
    if (!counter.tryAcquire(key)) {
      throw new RtmError(Errors.REQUEST_TOO_MANY_STREAMS, `At most ${max} requests may be open at once for this token`, {
        'retry-after': '1',
      });
    }
    let released = false;
    reply.raw.once('close', () => {
      if (released) return;
      released = true;
      counter.release(key);
    });
  });
};

export const concurrencyLimitPlugin = fp(plugin, { name: 'rtm-concurrency-limit', fastify: '5.x' });
