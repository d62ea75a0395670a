/**
 * The composition of the long-lived components (store, WAL pipeline, window, tokens, ...) that
 * routes use. createServices is called by main.ts and by tests (with a temp dir and a fake clock).
 */
import type { Logger } from 'pino';
import type { Config } from './config/config.ts';
import type { Clock } from './model/clock.ts';
import type { TokenVerifier } from './api/auth.ts';
import { createTokenVerifier } from './api/tokens.ts';

export interface Services {
  config: Config;
  clock: Clock;
  logger: Logger;
  tokens: TokenVerifier;
  /** Stops background work and closes the store; idempotent. */
  close(): Promise<void>;
}

export interface ServiceOptions {
  config: Config;
  clock: Clock;
  logger: Logger;
}

export async function createServices({ config, clock, logger }: ServiceOptions): Promise<Services> {
  const tokens = await createTokenVerifier({ config, logger });
  const closers: (() => Promise<void>)[] = [];
  let closed = false;
  return {
    config,
    clock,
    logger,
    tokens,
    async close() {
      if (closed) return;
      closed = true;
      for (const close of closers.reverse()) await close();
    },
  };
}
