/**
 * Whom a per-token limit counts a request against: the SHA-256 of its token (never the secret,
 * so limiter state holds nothing replayable), or the client address when there is no token.
 */
import type { FastifyRequest } from 'fastify';
import { sha256Hex, tokenOf, type TokenVerifier } from '../auth.ts';

/**
 * With a verifier, a token that does not verify counts against its address: a client spraying
 * random tokens cannot mint itself a fresh allowance with each one.
 */
export type LimitKeyOf = (req: FastifyRequest) => Promise<string>;

export function createLimitKeyOf(verifier?: TokenVerifier): LimitKeyOf {
  return async (req) => {
    const secret = tokenOf(req);
    if (secret !== undefined && (!verifier || (await verifier.verify(secret)))) return `t:${sha256Hex(secret)}`;
    return `ip:${req.ip}`;
  };
}
