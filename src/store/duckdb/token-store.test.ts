import fc from 'fast-check';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { sha256Hex } from '../../http/auth.ts';
import { createFakeClock } from '../../model/clock.ts';
import { checkTokenInput } from '../token-store.ts';
import { openDuckDb, queryRows, type DuckDb } from './database.ts';
import { createDuckDbTokenStore } from './token-store.ts';

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

describe('DuckDB token store', () => {
  it('creates a token whose secret verifies to its principal', async () => {
    const store = await createDuckDbTokenStore({ db, clock });
    const { token, secret } = await store.create({ name: 'edge logs', services: ['svc-b', 'svc-a', 'svc-a'], scopes: ['ingest', 'read'] });
    expect(secret).toMatch(/^rtm_[A-Za-z0-9_-]{32}$/);
    expect(token).toEqual({
      id: expect.stringMatching(/^tk_[0-9a-f]{12}$/),
      name: 'edge logs',
      services: ['svc-a', 'svc-b'],
      scopes: ['read', 'ingest'],
      created: '2025-01-02T03:04:05.000Z',
    });
    const p = await store.verify(secret);
    expect(p?.tokenId).toBe(token.id);
    expect(p?.name).toBe('edge logs');
    expect(p?.services === 'all' ? 'all' : [...p!.services]).toEqual(['svc-a', 'svc-b']);
    expect([...p!.scopes]).toEqual(['read', 'ingest']);
    expect(await store.verify(`${secret}x`)).toBeUndefined();
    expect(await store.verify('')).toBeUndefined();
    await store.close?.();
  });

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

  it('lists tokens without secrets or hashes, oldest first', async () => {
    const store = await createDuckDbTokenStore({ db, clock });
    const a = await store.create({ name: 'first', services: ['s1'], scopes: ['read'] });
    clock.advance(1000);
    const b = await store.create({ name: 'second', services: 'all', scopes: ['ingest'] });
    const listed = await store.list();
    expect(listed.map((t) => t.name)).toEqual(['first', 'second']);
    expect(listed[1]).toEqual({ id: b.token.id, name: 'second', services: 'all', scopes: ['ingest'], created: '2025-01-02T03:04:06.000Z' });
    const text = JSON.stringify(listed);
    for (const s of [a.secret, b.secret, sha256Hex(a.secret), sha256Hex(b.secret)]) expect(text).not.toContain(s);
    await store.close?.();
  });

  it('revokes: the secret stops verifying at once, a second revoke finds nothing', async () => {
    const store = await createDuckDbTokenStore({ db, clock });
    const { token, secret } = await store.create({ name: 'r', services: ['x'], scopes: ['read'] });
    expect(await store.revoke(token.id)).toBe(true);
    expect(await store.verify(secret)).toBeUndefined();
    expect(await store.revoke(token.id)).toBe(false);
    expect(await store.revoke('tk_nope')).toBe(false);
    expect(await store.list()).toEqual([]);
    await store.close?.();
  });

  it('keeps tokens across a reopen of the database file', async () => {
    const store = await createDuckDbTokenStore({ db, clock });
    const kept = await store.create({ name: 'kept', services: ['s'], scopes: ['read', 'ingest'] });
    const gone = await store.create({ name: 'gone', services: 'all', scopes: ['admin'] });
    await store.revoke(gone.token.id);
    await store.close?.();
    db.close();
    db = await openDuckDb(path.join(dir, 'rtmetrics.duckdb'));
    const reopened = await createDuckDbTokenStore({ db, clock });
    expect((await reopened.verify(kept.secret))?.tokenId).toBe(kept.token.id);
    expect(await reopened.verify(gone.secret)).toBeUndefined();
    expect(await reopened.list()).toEqual([kept.token]);
    await reopened.close?.();
  });

  it('serialises concurrent creates and gives each a distinct id and secret', async () => {
    const store = await createDuckDbTokenStore({ db, clock });
    const made = await Promise.all(Array.from({ length: 20 }, (_, i) => store.create({ name: `t${i}`, services: 'all', scopes: ['read'] })));
    expect(new Set(made.map((m) => m.token.id)).size).toBe(20);
    expect(new Set(made.map((m) => m.secret)).size).toBe(20);
    for (const m of made) expect((await store.verify(m.secret))?.name).toBe(m.token.name);
    await store.close?.();
  });

  it('rejects invalid input without storing anything', async () => {
    const store = await createDuckDbTokenStore({ db, clock });
    await expect(store.create({ name: '', services: 'all', scopes: ['read'] })).rejects.toThrow(/name/);
    await expect(store.create({ name: 'x', services: ["a'; DROP TABLE api_tokens; --"], scopes: ['read'] })).rejects.toThrow(/service id/);
    expect(await store.list()).toEqual([]);
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
