/**
 * The behaviour every TokenStore must show, as vitest cases: DuckDB (one node's file) and
 * ClickHouse (shared by the nodes) answer create, verify, list and revoke the same way. Each
 * engine's test file calls describeTokenStoreConformance with a factory for a fresh, empty store.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../http/auth.ts';
import { createFakeClock, type Clock } from '../model/clock.ts';
import type { Reopenable } from './reopenable.ts';
import type { TokenStore } from './token-store.ts';

export type OpenedTokenStore = Reopenable<TokenStore>;

export function describeTokenStoreConformance(name: string, open: (clock: Clock) => Promise<OpenedTokenStore>): void {
  describe(`TokenStore conformance: ${name}`, () => {
    const opened: OpenedTokenStore[] = [];
    const clock = createFakeClock(Date.UTC(2025, 0, 2, 3, 4, 5));
    const fresh = async (): Promise<OpenedTokenStore> => {
      const o = await open(clock);
      opened.push(o);
      return o;
    };
    afterEach(async () => {
      for (const o of opened.splice(0)) await o.close();
      clock.set(Date.UTC(2025, 0, 2, 3, 4, 5));
    });

    it('creates a token whose secret verifies to its principal at once', async () => {
      const { current: store } = await fresh();
      const { token, secret } = await store.create({ name: 'edge logs', services: ['svc-b', 'svc-a', 'svc-a'], scopes: ['ingest', 'read'] });
      expect(secret).toMatch(/^rtm_[A-Za-z0-9_-]{32}$/);
      expect(token).toEqual({
        id: expect.stringMatching(/^tk_[0-9a-f]{12}$/) as string,
        name: 'edge logs',
        services: ['svc-a', 'svc-b'],
        scopes: ['read', 'ingest'],
        created: '2025-01-02T03:04:05.000Z',
      });
      expect(await store.verify(secret)).toEqual({ tokenId: token.id, name: 'edge logs', services: new Set(['svc-a', 'svc-b']), scopes: new Set(['read', 'ingest']) });
      expect(await store.verify(`${secret}x`)).toBeUndefined();
      expect(await store.verify('')).toBeUndefined();
    });

    it('lists tokens without secrets or hashes, oldest first', async () => {
      const { current: store } = await fresh();
      const a = await store.create({ name: 'first', services: ['s1'], scopes: ['read'] });
      clock.advance(1000);
      const b = await store.create({ name: 'second', services: 'all', scopes: ['ingest'] });
      const listed = await store.list();
      expect(listed).toEqual([a.token, { id: b.token.id, name: 'second', services: 'all', scopes: ['ingest'], created: '2025-01-02T03:04:06.000Z' }]);
      const text = JSON.stringify(listed);
      for (const s of [a.secret, b.secret, sha256Hex(a.secret), sha256Hex(b.secret)]) expect(text).not.toContain(s);
      // The caller's copy is its own.
      listed[0]?.scopes.push('admin');
      expect((await store.list())[0]?.scopes).toEqual(['read']);
    });

    it('revokes: the secret stops verifying at once, a second revoke finds nothing', async () => {
      const { current: store } = await fresh();
      const { token, secret } = await store.create({ name: 'r', services: ['x'], scopes: ['read'] });
      const other = await store.create({ name: 'stays', services: ['x'], scopes: ['read'] });
      expect(await store.revoke(token.id)).toBe(true);
      expect(await store.verify(secret)).toBeUndefined();
      expect(await store.revoke(token.id)).toBe(false);
      expect(await store.revoke('tk_nope')).toBe(false);
      expect(await store.revoke("x' OR 1 = 1 OR id = '")).toBe(false);
      expect(await store.list()).toEqual([other.token]);
      expect((await store.verify(other.secret))?.tokenId).toBe(other.token.id);
    });

    it('keeps live tokens and revocations across a restart', async () => {
      const o = await fresh();
      const kept = await o.current.create({ name: 'kept', services: ['s'], scopes: ['read', 'ingest'] });
      const gone = await o.current.create({ name: 'gone', services: 'all', scopes: ['admin'] });
      expect(await o.current.revoke(gone.token.id)).toBe(true);
      const again = await o.reopen();
      expect((await again.verify(kept.secret))?.tokenId).toBe(kept.token.id);
      expect(await again.verify(gone.secret)).toBeUndefined();
      expect(await again.list()).toEqual([kept.token]);
      expect(await again.revoke(gone.token.id)).toBe(false);
    });

    it('gives concurrent creates distinct ids and secrets, each verifying', async () => {
      const { current: store } = await fresh();
      const made = await Promise.all(Array.from({ length: 20 }, (_, i) => store.create({ name: `t${i}`, services: 'all', scopes: ['read'] })));
      expect(new Set(made.map((m) => m.token.id)).size).toBe(20);
      expect(new Set(made.map((m) => m.secret)).size).toBe(20);
      for (const m of made) expect((await store.verify(m.secret))?.name).toBe(m.token.name);
      expect((await store.list()).length).toBe(20);
    });

    it('rejects invalid input without storing anything', async () => {
      const { current: store } = await fresh();
      await expect(store.create({ name: '', services: 'all', scopes: ['read'] })).rejects.toThrow(/name/);
      await expect(store.create({ name: 'x', services: ["a'; DROP TABLE api_tokens; --"], scopes: ['read'] })).rejects.toThrow(/service id/);
      expect(await store.list()).toEqual([]);
    });
  });
}
