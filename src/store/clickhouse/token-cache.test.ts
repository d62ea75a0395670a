import { describe, expect, it } from 'vitest';
import type { TokenInfo } from '../token-store.ts';
import { createTokenCache } from './token-cache.ts';
import type { StoredToken } from './token-tables.ts';

const info = (id: string): TokenInfo => ({ id, name: `name of ${id}`, services: ['shop'], scopes: ['read'], created: '2026-01-01T00:00:00.000Z' });
const row = (id: string, revoked = false): StoredToken => ({ info: info(id), digest: `d_${id}`, revoked });
const ids = (cache: ReturnType<typeof createTokenCache>, all: readonly string[]): string[] => all.filter((id) => cache.find(`d_${id}`)?.info.id === id);

describe('token cache', () => {
  it('holds the live rows of the last read, found by digest', () => {
    const cache = createTokenCache();
    cache.beginRefresh()([row('a'), row('b', true), row('c')]);
    expect(ids(cache, ['a', 'b', 'c'])).toEqual(['a', 'c']);
    expect(cache.find('d_a')?.principal).toEqual({ tokenId: 'a', name: 'name of a', services: new Set(['shop']), scopes: new Set(['read']) });
    expect(cache.size()).toBe(2);
    // The next read replaces the map: a row revoked elsewhere is gone, a new one is there.
    cache.beginRefresh()([row('a', true), row('c'), row('d')]);
    expect(ids(cache, ['a', 'b', 'c', 'd'])).toEqual(['c', 'd']);
    expect(cache.hasId('a')).toBe(false);
  });

  it('keeps a local create or revoke that a read begun before it did not see', () => {
    const cache = createTokenCache();
    cache.beginRefresh()([row('old')]);
    const apply = cache.beginRefresh();
    cache.created(info('new'), 'd_new');
    cache.revoked('old');
    expect(ids(cache, ['old', 'new'])).toEqual(['new']);
    // The read began before both changes and saw neither.
    apply([row('old')]);
    expect(ids(cache, ['old', 'new'])).toEqual(['new']);
    // A read begun after them sees them in the table; the overlay is no longer needed.
    cache.beginRefresh()([row('old', true)]);
    expect(ids(cache, ['old', 'new'])).toEqual([]);
  });

  it('lets a revocation from another node win over a local create the read also saw', () => {
    const cache = createTokenCache();
    const apply = cache.beginRefresh();
    cache.created(info('t'), 'd_t');
    apply([row('t', true)]);
    expect(cache.find('d_t')).toBeUndefined();
  });

  it('ignores a read that began before the one applied last (overlapping reads)', () => {
    const cache = createTokenCache();
    const older = cache.beginRefresh();
    const newer = cache.beginRefresh();
    newer([row('a', true), row('b')]);
    older([row('a')]);
    expect(ids(cache, ['a', 'b'])).toEqual(['b']);
  });

  it('does not bring back a local create once a later read no longer lists it', () => {
    const cache = createTokenCache();
    cache.created(info('t'), 'd_t');
    // Begun after the create was acknowledged: what it reads is the truth.
    cache.beginRefresh()([]);
    expect(cache.find('d_t')).toBeUndefined();
  });
});
