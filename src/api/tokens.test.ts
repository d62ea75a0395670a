import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testConfig } from '../config/config.ts';
import { createFakeClock } from '../model/clock.ts';
import { openDuckDb, type DuckDb } from '../store/duckdb/database.ts';
import { createDuckDbTokenStore } from '../store/duckdb/token-store.ts';
import { createTokenVerifier, readAdminTokenFile } from './tokens.ts';

let dir: string;
let db: DuckDb;
beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtm-verifier-'));
  db = await openDuckDb(':memory:');
});
afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('createTokenVerifier', () => {
  it('accepts the configured admin token and the stored tokens, nothing else', async () => {
    const store = await createDuckDbTokenStore({ db, clock: createFakeClock(0) });
    const { token, secret } = await store.create({ name: 'reader', services: ['a'], scopes: ['read'] });
    const verifier = await createTokenVerifier({
      config: testConfig(dir, { adminToken: 'the-admin-secret' }),
      logger: pino({ level: 'silent' }),
      store,
    });
    const admin = await verifier.verify('the-admin-secret');
    expect(admin?.tokenId).toBe('admin');
    expect(admin?.services).toBe('all');
    expect([...admin!.scopes].sort()).toEqual(['admin', 'ingest', 'read', 'write']);
    expect((await verifier.verify(secret))?.tokenId).toBe(token.id);
    expect(await verifier.verify('the-admin-secre')).toBeUndefined();
    await store.revoke(token.id);
    expect(await verifier.verify(secret)).toBeUndefined();
  });

  it('keeps working with the generated admin token file', async () => {
    const store = await createDuckDbTokenStore({ db, clock: createFakeClock(0) });
    expect(readAdminTokenFile(dir)).toBeUndefined();
    const verifier = await createTokenVerifier({ config: testConfig(dir), logger: pino({ level: 'silent' }), store });
    const generated = readAdminTokenFile(dir);
    expect(generated).toMatch(/^rtm_/);
    expect((await verifier.verify(generated!))?.tokenId).toBe('admin');
  });
});
