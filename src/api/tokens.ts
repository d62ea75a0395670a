/**
 * Token verification: the admin token (RTM_ADMIN_TOKEN, or generated on first start and kept in
 * the data dir, printed once) composed with the tokens created through the CLI or the admin API,
 * kept hashed in the store (src/store/token-store.ts).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import { adminPrincipal, digestsEqual, sha256Hex, type TokenVerifier } from '../http/auth.ts';

const ADMIN_TOKEN_FILE = 'admin-token';

/** The admin token's secret: from config, or read from / generated into the data dir. */
export function resolveAdminToken(config: Config, logger: Logger): string {
  if (config.adminToken) return config.adminToken;
  const file = path.join(config.dataDir, ADMIN_TOKEN_FILE);
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  const secret = `rtm_${randomBytes(24).toString('base64url')}`;
  fs.mkdirSync(config.dataDir, { recursive: true });
  fs.writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  // Printed once, on the start that generated it (stdout, not the log: it is for the operator).
  process.stdout.write(`\nrtmetrics: generated admin token (kept in ${file}):\n  ${secret}\n\n`);
  logger.info({ file }, 'generated admin token');
  return secret;
}

/** The admin token file in a data dir, read without generating one (for the CLI). */
export function readAdminTokenFile(dataDir: string): string | undefined {
  const file = path.join(dataDir, ADMIN_TOKEN_FILE);
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() || undefined : undefined;
}

export interface TokenVerifierOptions {
  config: Config;
  logger: Logger;
  /** Created tokens (the store's verifier); the admin token is checked first. */
  store: TokenVerifier;
}

export async function createTokenVerifier({ config, logger, store }: TokenVerifierOptions): Promise<TokenVerifier> {
  const adminDigest = sha256Hex(resolveAdminToken(config, logger));
  const admin = adminPrincipal();
  return {
    async verify(secret) {
      if (digestsEqual(sha256Hex(secret), adminDigest)) return admin;
      return store.verify(secret);
    },
  };
}
