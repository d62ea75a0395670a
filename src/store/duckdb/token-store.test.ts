import fc from 'fast-check';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { sha256Hex } from '../../http/auth.ts';
import { createFakeClock } from '../../model/clock.ts';
import { checkTokenInput } from '../token-store.ts';
import { describeTokenStoreConformance } from '../token-store-conformance.ts';
import { reopenableOnDuckDbFile } from './reopenable-file.ts';
import { openDuckDb, queryRows, type DuckDb } from './database.ts';
import { createDuckDbTokenStore, readDuckDbTokens } from './token-store.ts';

// Spy on the constant-time comparison while keeping its behaviour.
vi.mock('../../http/auth.ts', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../http/auth.ts')>();
  return { ...actual, digestsEqual: vi.fn(actual.digestsEqual) };
});
const auth = await import('../../http/auth.ts');

let dir: string;
let db: DuckDb;
const clock = createFakeClock(Date.UTC(2025, 0, 2, 3, 4, 5));

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtm-tokens-'));
  db = await openDuckDb(path.join(dir, 'rtmetrics.duckdb'));
});
afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describeTokenStoreConformance('duckdb', (conformanceClock) => reopenableOnDuckDbFile('rtm-tokens-', (fileDb) => createDuckDbTokenStore({ db: fileDb, clock: conformanceClock })));

describe('DuckDB token store', () => {
  it('compares digests with the constant-time helper', async () => {
    const store = await createDuckDbTokenStore({ db, clock });
    const { secret } = await store.create({ name: 'a', services: 'all', scopes: ['read'] });
    const spy = vi.mocked(auth.digestsEqual);
    spy.mockClear();
    expect(await store.verify(secret)).toBeDefined();
    expect(spy).toHaveBeenCalledWith(sha256Hex(secret), sha256Hex(secret));
    await store.close?.();
  });

  it('stores the SHA-256 of the secret, never the secret', async () => {
    const store = await createDuckDbTokenStore({ db, clock });
    const { token, secret } = await store.create({ name: 'n', services: 'all', scopes: ['admin'] });
    const conn = await db.connect();
    const rows = await queryRows(conn, 'SELECT * FROM api_tokens');
    conn.closeSync();
    expect(rows).toHaveLength(1);
    const text = JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
    expect(text).not.toContain(secret);
    expect(text).not.toContain(secret.slice(4));
    expect(rows[0]!['secret_sha256']).toBe(sha256Hex(secret));
    expect(rows[0]!['id']).toBe(token.id);
    await store.close?.();
  });

  it('reads every token with its digest for the ClickHouse engine, none from a file without the table', async () => {
    expect(await readDuckDbTokens(db)).toEqual([]);
    const store = await createDuckDbTokenStore({ db, clock });
    const { token, secret } = await store.create({ name: 'old', services: ['s'], scopes: ['read'] });
    expect(await readDuckDbTokens(db)).toEqual([{ info: token, digest: sha256Hex(secret) }]);
    await store.close?.();
  });
});

describe('checkTokenInput', () => {
  it('never throws on arbitrary input and accepts only well-formed requests', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.anything(), (name, services, scopes) => {
        const r = checkTokenInput({ name, services, scopes });
        if (r.ok) {
          expect(r.value.name.length).toBeGreaterThan(0);
          expect(r.value.scopes.length).toBeGreaterThan(0);
        } else expect(r.reason).toMatch(/\w/);
      }),
    );
  });

  it.each([
    [{ name: 'a', services: 'all', scopes: ['read'] }, true],
    [{ name: 'a', services: [], scopes: ['read'] }, false],
    [{ name: 'a', services: ['ok', 'x'.repeat(65)], scopes: ['read'] }, false],
    [{ name: 'a', services: 'some', scopes: ['read'] }, false],
    [{ name: 'a', services: 'all', scopes: [] }, false],
    [{ name: 'a', services: 'all', scopes: ['root'] }, false],
    [{ name: 'a\nb', services: 'all', scopes: ['read'] }, false],
    [{ name: '   ', services: 'all', scopes: ['read'] }, false],
  ])('%j -> ok=%s', (input, ok) => {
    expect(checkTokenInput(input).ok).toBe(ok);
  });
});
